"""Triage: which grid an incident belongs to, and how that was found. Pure.

The order: the household's grid; else a grid named by the report, when it exists; else the grid
whose boundary holds the reported point; else the camera's grid; else no grid (the committee's
unlocated queue). A point on the edge shared by two grids goes to the grid with the smaller id.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

from services.dispatch.roster import geometry


class How(StrEnum):
    HOUSEHOLD = "household"
    REPORTED_GRID = "reported_grid"
    BOUNDARY = "boundary"
    CAMERA = "camera"
    UNLOCATED = "unlocated"


@dataclass(frozen=True)
class GridArea:
    """A grid and its boundary (None when the grid has none)."""

    grid_id: str
    boundary: geometry.Area | None


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float


class Location(NamedTuple):
    grid_id: str | None
    how: How


def locate(
    *,
    household_grid_id: str | None,
    reported_grid_id: str | None = None,
    point: Point | None,
    camera_grid_id: str | None,
    grids: Sequence[GridArea],
) -> Location:
    """The incident's grid and how it was found; (None, UNLOCATED) when nothing places it.

    `household_grid_id` and `camera_grid_id` are the grids of the household and camera the
    report names (None when it names none or an unknown one); `grids` are the grids that may
    be chosen: every grid, or at least the named one and those that may hold the point.
    """
    if household_grid_id is not None:
        return Location(household_grid_id, How.HOUSEHOLD)
    known = {grid.grid_id for grid in grids}
    if reported_grid_id is not None and reported_grid_id in known:
        return Location(reported_grid_id, How.REPORTED_GRID)
    if point is not None:
        found = grid_at(point, grids)
        if found is not None:
            return Location(found, How.BOUNDARY)
    if camera_grid_id is not None:
        return Location(camera_grid_id, How.CAMERA)
    return Location(None, How.UNLOCATED)


def grid_at(point: Point, grids: Sequence[GridArea]) -> str | None:
    """The grid whose boundary holds the point (the smallest id when several do), or None."""
    for grid in sorted(grids, key=lambda grid: grid.grid_id):
        if grid.boundary is not None and geometry.contains(
            grid.boundary, lat=point.lat, lon=point.lon
        ):
            return grid.grid_id
    return None
