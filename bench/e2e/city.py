"""A generated city for the scale check: 10,000 grids, 100,000 party members, 1,000,000
households, written straight into dispatch's roster tables with INSERT … SELECT.

Each grid holds ten party members (the first leads it) and a hundred households, ten linked
to each member (the 1+10 rule at its cap); a committee member looks after twenty grids, and
the city has a police officer and a legal adviser per hundred grids. Grids are 0.004° squares
on a 100 × 100 lattice, with their GeoJSON boundary; three cameras per grid.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

GRIDS = 10_000
MEMBERS_PER_GRID = 10
HOUSEHOLDS_PER_GRID = 100
CELL = 0.004

STATEMENTS = (
    """insert into dispatch_grid
        (id, name, leader_id, committee_member_id, min_lat, min_lon, max_lat, max_lon)
    select 'G' || lpad(g::text, 5, '0'), 'grid ' || g,
        'M' || lpad(((g - 1) * {members} + 1)::text, 6, '0'),
        'C' || lpad(((g - 1) / 20 + 1)::text, 3, '0'),
        26.0 + (g - 1) / 100 * {cell}, 106.0 + (g - 1) % 100 * {cell},
        26.0 + ((g - 1) / 100 + 1) * {cell}, 106.0 + ((g - 1) % 100 + 1) * {cell}
    from generate_series(1, {grids}) as g""",
    """insert into dispatch_grid_boundary (grid_id, geometry)
    select id, json_build_object('type', 'Polygon', 'coordinates', json_build_array(
        json_build_array(json_build_array(min_lon, min_lat), json_build_array(max_lon, min_lat),
            json_build_array(max_lon, max_lat), json_build_array(min_lon, max_lat),
            json_build_array(min_lon, min_lat))))
    from dispatch_grid""",
    """insert into dispatch_member (id, name, role, grid_id, skills, case_capacity)
    select 'M' || lpad(m::text, 6, '0'), 'member ' || m,
        case when (m - 1) % {members} = 0 then 'grid_leader' else 'party_member' end,
        'G' || lpad(((m - 1) / {members} + 1)::text, 5, '0'),
        (array['["legal", "mediation"]', '["mediation", "safety"]', '["mediation", "services"]',
            '["legal", "safety"]', '["legal", "services"]', '["safety", "services"]'])[m % 6 + 1]
            ::json, 20
    from generate_series(1, {grids} * {members}) as m""",
    """insert into dispatch_member (id, name, role, grid_id, skills, case_capacity)
    select 'C' || lpad(c::text, 3, '0'), 'committee ' || c, 'committee', null,
        '["coordination", "mediation"]'::json, 20
    from generate_series(1, {grids} / 20) as c
    union all
    select 'POL' || lpad(p::text, 3, '0'), 'police ' || p, 'police', null,
        '["public_order"]'::json, 20
    from generate_series(1, {grids} / 100) as p
    union all
    select 'LAW' || lpad(p::text, 3, '0'), 'adviser ' || p, 'legal_adviser', null,
        '["legal"]'::json, 20
    from generate_series(1, {grids} / 100) as p""",
    """insert into dispatch_household
        (id, grid_id, address, village, village_group, linked_member_id, lat, lon,
         elderly_alone, disabled)
    select 'H' || lpad(h::text, 7, '0'), 'G' || lpad(g::text, 5, '0'),
        'block ' || g || ' unit ' || h, 'village ' || (g - 1) / 100, 'group ' || (g - 1) / 10,
        'M' || lpad(((g - 1) * {members} + (h - 1) % {households} / 10 + 1)::text, 6, '0'),
        26.0 + (g - 1) / 100 * {cell} + (h % 97 + 1) * {cell} / 100,
        106.0 + (g - 1) % 100 * {cell} + (h % 89 + 1) * {cell} / 100,
        h % 13 = 0, h % 31 = 0
    from generate_series(1, {grids} * {households}) as h
    cross join lateral (select (h - 1) / {households} + 1 as g) as home""",
    """insert into dispatch_camera (id, grid_id, place, lat, lon)
    select 'CAM' || lpad(k::text, 6, '0'), id, 'camera ' || k,
        min_lat + {cell} / 2, min_lon + {cell} / 2
    from (select id, min_lat, min_lon, row_number() over (order by id) as n
          from dispatch_grid) as grid
    cross join lateral generate_series((n - 1) * 3 + 1, n * 3) as k""",
)


async def generate(engine: AsyncEngine) -> None:
    """Fill the (empty) roster tables with the city, then refresh the planner's statistics."""
    values = {
        "grids": GRIDS,
        "members": MEMBERS_PER_GRID,
        "households": HOUSEHOLDS_PER_GRID,
        "cell": CELL,
    }
    async with engine.begin() as connection:
        for statement in STATEMENTS:
            # Constants of this module, not input: written into the SQL so every type is known.
            await connection.execute(text(statement.format(**values)))
    async with engine.connect() as connection:
        await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("analyze"))


def household_id(n: int) -> str:
    """The n-th household of the city (1-based)."""
    return f"H{n:07d}"


def point_in_grid(n: int) -> tuple[float, float]:
    """A point inside the n-th grid (1-based), away from its edges."""
    row, column = divmod(n - 1, 100)
    return 26.0 + (row + 0.37) * CELL, 106.0 + (column + 0.61) * CELL
