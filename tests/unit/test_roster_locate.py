"""Triage: household → reported grid → boundary → camera → unlocated, as a pure function."""

from services.dispatch import demo_community
from services.dispatch.roster import geometry
from services.dispatch.roster.locate import GridArea, How, Location, Point, grid_at, locate

WEST = GridArea("G01", geometry.rectangle(0, 0, 1, 1))
EAST = GridArea("G02", geometry.rectangle(0, 1, 1, 2))
NO_SHAPE = GridArea("G03", None)
GRIDS = [EAST, WEST, NO_SHAPE]
IN_EAST = Point(lat=0.5, lon=1.5)
NOWHERE = Point(lat=5, lon=5)


def test_the_household_decides_before_anything_else() -> None:
    found = locate(household_grid_id="G03", point=IN_EAST, camera_grid_id="G01", grids=GRIDS)
    assert found == Location("G03", How.HOUSEHOLD)


def test_a_reported_grid_that_exists_comes_next() -> None:
    found = locate(
        household_grid_id=None,
        reported_grid_id="G03",
        point=IN_EAST,
        camera_grid_id="G01",
        grids=GRIDS,
    )
    assert found == Location("G03", How.REPORTED_GRID)


def test_an_unknown_reported_grid_is_ignored() -> None:
    found = locate(
        household_grid_id=None,
        reported_grid_id="G99",
        point=IN_EAST,
        camera_grid_id=None,
        grids=GRIDS,
    )
    assert found == Location("G02", How.BOUNDARY)


def test_the_point_decides_before_the_camera() -> None:
    found = locate(household_grid_id=None, point=IN_EAST, camera_grid_id="G01", grids=GRIDS)
    assert found == ("G02", How.BOUNDARY)


def test_the_camera_places_a_report_whose_point_is_in_no_grid() -> None:
    found = locate(household_grid_id=None, point=NOWHERE, camera_grid_id="G01", grids=GRIDS)
    assert found == Location("G01", How.CAMERA)


def test_with_nothing_to_go_on_the_report_waits_in_the_committee_queue() -> None:
    assert locate(household_grid_id=None, point=NOWHERE, camera_grid_id=None, grids=GRIDS) == (
        None,
        How.UNLOCATED,
    )
    assert locate(household_grid_id=None, point=None, camera_grid_id=None, grids=[]) == (
        None,
        How.UNLOCATED,
    )


def test_a_point_on_a_shared_edge_goes_to_the_smaller_grid_id() -> None:
    assert grid_at(Point(lat=0.5, lon=1.0), GRIDS) == "G01"
    assert grid_at(Point(lat=0.5, lon=2.0), GRIDS) == "G02"


def test_every_demo_household_point_lies_in_its_own_grid_boundary() -> None:
    community = demo_community.generate()
    grids = [GridArea(g.id, geometry.parse(g.boundary)) for g in community.grids]
    for household in community.households:
        assert grid_at(Point(household.lat, household.lon), grids) == household.grid_id
    for camera in community.cameras:
        assert grid_at(Point(camera.lat, camera.lon), grids) == camera.grid_id
