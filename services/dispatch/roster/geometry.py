"""Grid boundaries as GeoJSON Polygon or MultiPolygon, and whether a point lies in one. Pure.

Positions follow GeoJSON order, [longitude, latitude]. A point on an edge or a vertex counts as
inside, and so does a point on the edge of a hole: a boundary is a closed set. The test uses
exact rational arithmetic, so the answer for a point on an edge never depends on rounding.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

Position = tuple[float, float]  # (lon, lat)
Ring = tuple[Position, ...]  # closed: the last position repeats the first
Polygon = tuple[Ring, ...]  # the outer ring, then its holes
MAX_POSITIONS = 10_000  # per boundary; keeps a locate call cheap


class GeometryError(ValueError):
    """A boundary that is not a usable GeoJSON Polygon or MultiPolygon."""


@dataclass(frozen=True)
class Area:
    """One or more polygons with holes; `multi` remembers whether it came as a MultiPolygon."""

    polygons: tuple[Polygon, ...]
    multi: bool = False

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(min_lat, min_lon, max_lat, max_lon) of the outer rings."""
        lons = [lon for polygon in self.polygons for lon, _ in polygon[0]]
        lats = [lat for polygon in self.polygons for _, lat in polygon[0]]
        return min(lats), min(lons), max(lats), max(lons)


def rectangle(min_lat: float, min_lon: float, max_lat: float, max_lon: float) -> Area:
    """An axis-aligned box as a one-ring polygon (counter-clockwise, as GeoJSON prefers)."""
    ring = (
        (min_lon, min_lat),
        (max_lon, min_lat),
        (max_lon, max_lat),
        (min_lon, max_lat),
        (min_lon, min_lat),
    )
    return Area(polygons=((ring,),))


def parse(geojson: Any) -> Area:
    """Read a GeoJSON Polygon or MultiPolygon (or a Feature of one); GeometryError says why not."""
    if isinstance(geojson, dict) and geojson.get("type") == "Feature":
        geojson = geojson.get("geometry")
    if not isinstance(geojson, dict):
        raise GeometryError("a boundary must be a GeoJSON Polygon or MultiPolygon object")
    kind, coordinates = geojson.get("type"), geojson.get("coordinates")
    depth = {"Polygon": 3, "MultiPolygon": 4}.get(str(kind))
    if depth is None:
        raise GeometryError(f"type must be Polygon or MultiPolygon, not {kind!r}")
    positions = _count_positions(coordinates, depth)
    if positions > MAX_POSITIONS:  # counted before the exact (and costlier) checks
        raise GeometryError(f"{positions} positions; at most {MAX_POSITIONS} are allowed")
    if kind == "Polygon":
        return Area(polygons=(_polygon(coordinates, "coordinates"),))
    if not isinstance(coordinates, list) or not coordinates:
        raise GeometryError("coordinates: a MultiPolygon needs a list of polygons")
    polygons = tuple(
        _polygon(polygon, f"coordinates[{n}]") for n, polygon in enumerate(coordinates)
    )
    return Area(polygons=polygons, multi=True)


def to_geojson(area: Area) -> dict[str, Any]:
    """The area as a GeoJSON geometry object."""
    polygons = [
        [[list(position) for position in ring] for ring in polygon] for polygon in area.polygons
    ]
    if area.multi:
        return {"type": "MultiPolygon", "coordinates": polygons}
    return {"type": "Polygon", "coordinates": polygons[0]}


def contains(area: Area, *, lat: float, lon: float) -> bool:
    """Whether the point lies in the area: inside, or on any edge."""
    return any(_in_polygon(polygon, lon, lat) for polygon in area.polygons)


def _in_polygon(polygon: Polygon, lon: float, lat: float) -> bool:
    outer, *holes = polygon
    if not _in_box(outer, lon, lat):
        return False
    x, y = Fraction(lon), Fraction(lat)
    if _side(outer, x, y) < 0:
        return False
    return all(_side(hole, x, y) <= 0 for hole in holes)


def _in_box(ring: Ring, lon: float, lat: float) -> bool:
    lons = [position[0] for position in ring]
    lats = [position[1] for position in ring]
    return min(lons) <= lon <= max(lons) and min(lats) <= lat <= max(lats)


def _side(ring: Ring, x: Fraction, y: Fraction) -> int:
    """1 inside the ring, 0 on its boundary, -1 outside (even-odd ray casting, exact)."""
    inside = False
    for (a_lon, a_lat), (b_lon, b_lat) in zip(ring, ring[1:], strict=False):
        ax, ay, bx, by = Fraction(a_lon), Fraction(a_lat), Fraction(b_lon), Fraction(b_lat)
        cross = (bx - ax) * (y - ay) - (by - ay) * (x - ax)
        if cross == 0 and min(ax, bx) <= x <= max(ax, bx) and min(ay, by) <= y <= max(ay, by):
            return 0
        # The edge straddles the horizontal through the point; count it when it lies to the right.
        if (ay > y) != (by > y) and (cross > 0) == (by > ay):
            inside = not inside
    return 1 if inside else -1


def _count_positions(coordinates: Any, depth: int) -> int:
    """Positions in nested lists `depth` deep (a Polygon's are 3 deep); 0 for anything else."""
    if not isinstance(coordinates, list):
        return 0
    if depth == 1:
        return 1
    return sum(_count_positions(inner, depth - 1) for inner in coordinates)


def _polygon(coordinates: Any, path: str) -> Polygon:
    if not isinstance(coordinates, list) or not coordinates:
        raise GeometryError(f"{path}: a polygon needs a list of rings (the outer ring first)")
    return tuple(_ring(ring, f"{path}[{n}]") for n, ring in enumerate(coordinates))


def _ring(coordinates: Any, path: str) -> Ring:
    if not isinstance(coordinates, list) or len(coordinates) < 4:
        raise GeometryError(f"{path}: a ring needs at least 4 positions")
    ring = tuple(_position(position, f"{path}[{n}]") for n, position in enumerate(coordinates))
    if ring[0] != ring[-1]:
        raise GeometryError(f"{path}: a ring must end where it starts")
    if _twice_area(ring) == 0:
        raise GeometryError(f"{path}: the ring encloses no area")
    return ring


def _position(coordinates: Any, path: str) -> Position:
    if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
        raise GeometryError(f"{path}: a position is [longitude, latitude]")
    if not all(_is_number(value) for value in coordinates):
        raise GeometryError(f"{path}: a position holds finite numbers")
    lon, lat = float(coordinates[0]), float(coordinates[1])
    if not -180 <= lon <= 180:
        raise GeometryError(f"{path}: longitude {lon} is outside -180..180")
    if not -90 <= lat <= 90:
        raise GeometryError(f"{path}: latitude {lat} is outside -90..90")
    return lon, lat


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _twice_area(ring: Sequence[Position]) -> Fraction:
    return sum(
        (
            Fraction(a_lon) * Fraction(b_lat) - Fraction(b_lon) * Fraction(a_lat)
            for (a_lon, a_lat), (b_lon, b_lat) in zip(ring, ring[1:], strict=False)
        ),
        start=Fraction(0),
    )
