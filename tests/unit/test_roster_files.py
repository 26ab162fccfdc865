"""Reading import files: JSON documents and CSV files, every bad row with its number and reason."""

import pytest

from services.dispatch import demo_community
from services.dispatch.roster import csv_format, documents
from services.dispatch.roster.entities import Household, Kind, Member, Role

HEADER = "id,grid_id,address,village,village_group,linked_member_id,lat,lon,elderly_alone,disabled"


def errors(document: documents.Document) -> list[tuple[int | None, str | None, str | None]]:
    return [(p.row, p.id, p.field) for p in document.errors]


def test_a_good_household_file_gives_its_households() -> None:
    text = "\r\n".join(
        [
            HEADER,
            "H1,G1,Building 1,Dongshan,Dongshan-01,P1,26.58,106.71,yes,0",
            "H2,G1,Building 2,,,P1,,,,",
        ]
    )
    document = csv_format.parse(Kind.HOUSEHOLD, text)
    assert document.errors == []
    rows = document.entities[Kind.HOUSEHOLD]
    assert rows["H1"] == (
        2,
        Household("H1", "G1", "Building 1", "P1", "Dongshan", "Dongshan-01", 26.58, 106.71, True),
    )
    assert rows["H2"] == (3, Household("H2", "G1", "Building 2", "P1"))


def test_columns_may_come_in_any_order_and_optional_ones_may_be_left_out() -> None:
    document = csv_format.parse(
        Kind.MEMBER, "role,name,id,skills\ngrid_leader,Wang,P1,mediation; legal\n"
    )
    assert document.errors == []
    assert document.entities[Kind.MEMBER]["P1"][1] == Member(
        "P1", "Wang", Role.GRID_LEADER, None, ("mediation", "legal")
    )


def test_every_bad_row_is_reported_with_its_spreadsheet_row_number() -> None:
    text = "\n".join(
        [
            HEADER,
            "H1,G1,Building 1,,,P1,26.58,106.71,,",
            "H2,G1,,,,P1,,,,",  # row 3: no address
            "",  # row 4: blank, skipped but counted
            "H3,G1,Building 3,,,P1,95,106.71,,",  # row 5: latitude out of range
            "H4,G1,Building 4,,,P1,26.5,,,",  # row 6: lat without lon
            "H1,G1,Building 1 again,,,P1,,,,",  # row 7: duplicate id
            "H5,G1,Building 5,,,P1,,,maybe,",  # row 8: not a boolean
            "H6,G1,Building 6,,,P1,,,,,extra",  # row 9: too many cells
            "bad id!,G1,Building 7,,,P1,,,,",  # row 10: id pattern
        ]
    )
    document = csv_format.parse(Kind.HOUSEHOLD, text)
    assert errors(document) == [
        (3, "H2", "address"),
        (5, "H3", "lat"),
        (6, "H4", None),
        (7, "H1", "id"),
        (8, "H5", "elderly_alone"),
        (9, "H6", None),
        (10, "bad id!", "id"),
    ]
    reasons = [problem.reason for problem in document.errors]
    assert reasons[0] == "required"
    assert "less than or equal to 90" in reasons[1]
    assert reasons[2] == "give both lat and lon, or neither"
    assert reasons[3] == "duplicate id H1 (first on row 2)"
    assert reasons[5] == "11 cells but the header names 10 columns"
    assert sorted(document.entities[Kind.HOUSEHOLD]) == ["H1"]


def test_a_quoted_cell_over_two_lines_is_still_one_row() -> None:
    text = 'id,grid_id,place,lat,lon\nCAM1,G1,"north\ngate",26.5,106.7\nCAM2,G1,square,x,106.7\n'
    document = csv_format.parse(Kind.CAMERA, text)
    assert document.entities[Kind.CAMERA]["CAM1"][1].place == "north\ngate"
    assert errors(document) == [(3, "CAM2", "lat")]


def test_a_bad_header_is_reported_on_row_1_and_no_row_is_read() -> None:
    document = csv_format.parse(Kind.CAMERA, "id,grid_id,place,lat,colour,id\nCAM1,G1,x,1,2,3\n")
    assert errors(document) == [(1, None, "colour"), (1, None, "id"), (1, None, "lon")]
    assert [p.reason for p in document.errors][1:] == [
        "column given twice",
        "required column missing",
    ]
    assert document.entities == {Kind.CAMERA: {}}


def test_an_empty_file_is_reported() -> None:
    document = csv_format.parse(Kind.GRID, "")
    assert errors(document) == [(1, None, None)]
    assert "the file is empty" in document.errors[0].reason


def test_a_boundary_cell_must_hold_a_geojson_polygon() -> None:
    text = "\n".join(
        [
            "id,name,boundary",
            'G1,one,"{""type"": ""Polygon"", ""coordinates"": [[[0,0],[1,0],[1,1],[0,0]]]}"',
            "G2,two,{not json",
            'G3,three,"{""type"": ""Point"", ""coordinates"": [0, 0]}"',
        ]
    )
    document = csv_format.parse(Kind.GRID, text)
    assert errors(document) == [(3, "G2", "boundary"), (4, "G3", "boundary")]
    assert document.errors[0].reason.startswith("not JSON")
    assert document.errors[1].reason == "type must be Polygon or MultiPolygon, not 'Point'"
    assert document.entities[Kind.GRID]["G1"][1].boundary is not None


def test_broken_quoting_is_reported_at_its_row() -> None:
    document = csv_format.parse(Kind.CAMERA, 'id,grid_id,place,lat,lon\nCAM1,G1,"gate"x,1,2\n')
    assert errors(document) == [(2, None, None)]
    assert "not readable as CSV" in document.errors[0].reason


@pytest.mark.parametrize("kind", list(Kind))
def test_the_demo_community_survives_a_csv_round_trip(kind: Kind) -> None:
    document = documents.from_json(demo_community.import_document(demo_community.generate()))
    entities = [entity for _, entity in document.entities[kind].values()]
    back = csv_format.parse(kind, csv_format.write(kind, entities))
    assert back.errors == []
    assert [entity for _, entity in back.entities[kind].values()] == entities


def test_a_json_document_reports_every_bad_row_and_key() -> None:
    document = documents.from_json(
        {
            "grids": [{"id": "G1", "name": "one"}, "G2", {"id": "G3"}],
            "members": {"id": "P1"},
            "residents": [],
            "cameras": [
                {"id": "CAM1", "grid_id": "G1", "place": "gate", "lat": 1, "lon": 2, "x": 0}
            ],
        }
    )
    assert [(p.kind, p.row, p.id, p.field, p.reason) for p in document.errors] == [
        ("grid", 2, None, None, "a row must be an object"),
        ("grid", 3, "G3", "name", "required"),
        ("member", None, None, None, "members must be a list"),
        (
            "document",
            None,
            None,
            "residents",
            "unknown key 'residents'; expected some of grids, members, households, cameras",
        ),
        ("camera", 1, "CAM1", "x", "unknown field"),
    ]
    assert sorted(document.entities[Kind.GRID]) == ["G1"]


def test_a_null_list_in_a_json_document_means_the_kind_is_not_given() -> None:
    document = documents.from_json({"grids": None, "cameras": []})
    assert document.errors == []
    assert document.entities == {Kind.CAMERA: {}}


def test_a_json_document_must_be_an_object() -> None:
    assert [p.reason for p in documents.from_json([1, 2]).errors] == ["expected a JSON object"]
