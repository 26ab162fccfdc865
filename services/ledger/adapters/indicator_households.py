"""The indicator households: what 1+10 coverage reads, one row per household and linked member.

Coverage looks at every case of a household, whenever reported: its first report (on record),
the largest grid among the cases reported by `as_of`, the members linked to it by assignments
at the linked-member rung, and when each of them resolved or reported one of its cases (a
visit). Kept per household, a query reads a few rows per household instead of every case.
Derived from the case states in one pass, for every household or for those given.
"""

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection


def _derivation(only: bool) -> str:
    chosen = " and household_id = any(:households)" if only else ""
    return f"""
        with cases as materialized (
            select household_id, grid_id, sort_at, linked_member_id, resolved_by, resolved_at,
                reported_by, reported_at
            from ledger_incident_state where household_id is not null{chosen}),
        households as (
            insert into ledger_indicator_household
                (household_id, first_reported_at, grid_ids, grid_since)
            select household_id, min(since),
                coalesce(array_agg(grid_id order by grid_id) filter (where grid_id is not null),
                    '{{}}'),
                coalesce(array_agg(since order by grid_id) filter (where grid_id is not null),
                    '{{}}')
            from (select household_id, grid_id, min(sort_at) as since from cases
                  group by 1, 2) as grids
            group by 1)
        insert into ledger_indicator_link (household_id, member_id, visited_at)
        select l.household_id, l.member_id,
            coalesce(array_agg(v.at order by v.at) filter (where v.at is not null), '{{}}')
        from (select distinct household_id, linked_member_id as member_id from cases
              where linked_member_id is not null) as l
        left join (
            select household_id, resolved_by as member_id, resolved_at as at from cases
            union all
            select household_id, reported_by, reported_at from cases) as v
          on v.household_id = l.household_id and v.member_id = l.member_id
        group by 1, 2
    """


DERIVATION = _derivation(only=False)
_DERIVE_CHOSEN = _derivation(only=True)


async def derive_all(*, connection: AsyncConnection) -> None:
    """Every household again."""
    await connection.execute(text("delete from ledger_indicator_link"))
    await connection.execute(text("delete from ledger_indicator_household"))
    await connection.execute(text(DERIVATION))


async def derive(*, connection: AsyncConnection, households: list[str]) -> None:
    """These households again (those without cases any more are left out)."""
    if not households:
        return
    chosen = {"households": households}
    for table in ("ledger_indicator_link", "ledger_indicator_household"):
        await connection.execute(
            text(f"delete from {table} where household_id = any(:households)"), chosen
        )
    await connection.execute(text(_DERIVE_CHOSEN), chosen)
