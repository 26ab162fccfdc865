"""The indicator rows, brought up to date with the case states before an indicator query.

A cohort count asks whether times such as a case's first resolution are at or before the
period's `as_of`. Once every such time of a case is at or before a moment (`settled_at`), the
case adds to the same counts at that moment and at any later one; so each case row keeps them
(`counted`, one bit per count, see kpi_conditions.BITS) with its two measured durations, and a
query judges afresh only the cases not settled by its `as_of`. A closed case also keeps when
it recurred (`came_back_at`), from its recurrence link; coverage reads the households'
rows (`indicator_households`).

The rows are derived from the case states in SQL, with the same conditions as the queries,
and kept on the read side, not at ingest. Between replays only an appended entry changes a
case state, and a batch's states and links commit with its entries under the chain lock
that orders `seq`. So, in one snapshot, the rows of the incidents with entries after the
last sync (`ledger_indicator_sync.seq`) are derived again, with when the other closures at
their places before and after came back (their links can move), and their households before
and after. A replay
drops the sync row (`clear`), and so does a change of the derivation's settings or code (its
`basis`): the next query derives every row again.
"""

import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from services.ledger.adapters import indicator_households
from services.ledger.adapters.kpi_conditions import FOREVER, MOMENTS, counted_in, timings
from services.ledger.adapters.tables import INDICATOR_CASE

TABLES = ("ledger_indicator_case", "ledger_indicator_household", "ledger_indicator_link")
LOCK = {"id": 7_203_115_042}  # one derivation at a time (advisory lock)
BASIS_BINDS = ("ack_limit", "resolve_limit", "grace", "window", "disputes", "timezone")


def _came_back(case: str) -> str:
    """When a closed case came back: reopened, or the first later report of another case at
    its place and category (its link `r`) if within the window."""
    return (
        f"least({case}.reopened_after_close_at, case when r.next_report_at"
        f" <= {case}.first_closed_at + :window then r.next_report_at end)"
    )


DERIVED = {
    "settled_at": f"coalesce(greatest({', '.join(f's.{m}' for m in MOMENTS)}), '-infinity')",
    "open_until": "coalesce(least(s.first_resolved_at, s.cancelled_at), 'infinity')",
    "counted": counted_in(FOREVER),
    "month": "to_char(s.sort_at at time zone :timezone, 'YYYYMM')::integer",
    "acknowledge_s": timings(FOREVER)["acknowledge"],
    "resolve_s": timings(FOREVER)["resolve"],
    "came_back_at": _came_back("s"),
    "first_member": "s.member_ids[1]",
}
COLUMNS = tuple(column.name for column in INDICATOR_CASE.columns)
DERIVATION = f"""
    insert into ledger_indicator_case ({", ".join(COLUMNS)})
    select {", ".join(DERIVED.get(name, f"s.{name}") for name in COLUMNS)}
    from ledger_incident_state s left join ledger_recurrence r on r.incident_id = s.incident_id
"""
_CHANGED = "select e.incident_id from ledger_entry e where e.seq > :since and e.seq <= :head"
_DERIVE_SINCE = f"""
    {DERIVATION} where s.incident_id in ({_CHANGED})
    on conflict (incident_id) do update set
    {", ".join(f"{name} = excluded.{name}" for name in COLUMNS if name != "incident_id")}
"""
# The other closures at those places: a link moves only if it was, or becomes, a report
# at or after the earliest report time changed there (as in recurrence.follow).
_COME_BACK_SINCE = f"""
    update ledger_indicator_case c set came_back_at = {_came_back("c")}
    from unnest(
        cast(:place_keys as text[]), cast(:categories as text[]), cast(:since as timestamptz[])
    ) as p(key, category, since)
    cross join lateral (
        select * from ledger_recurrence r where r.place_key = p.key and r.category = p.category
            and r.next_report_at >= p.since
        union all
        select * from ledger_recurrence r where r.place_key = p.key and r.category = p.category
            and r.next_report_at is null) as r
    where c.incident_id = r.incident_id and c.came_back_at is distinct from {_came_back("c")}
"""
# Where the changed incidents were as of the last sync (their rows) and are now (states).
_BEFORE_AND_NOW = " union all ".join(
    f"select {{columns}} from {table} where incident_id in ({_CHANGED}) and {{present}}"
    for table in ("ledger_indicator_case", "ledger_incident_state")
)
_PLACES = (
    "select place_key, category, min(sort_at) from ("
    + _BEFORE_AND_NOW.format(
        columns="place_key, category, sort_at",
        present="place_key is not null and category is not null",
    )
    + ") as reports group by 1, 2"
)
_HOUSEHOLDS = _BEFORE_AND_NOW.format(columns="household_id", present="household_id is not null")


async def catch_up(*, engine: AsyncEngine, binds: Mapping[str, Any]) -> None:
    """Bring the indicator rows up to date with the case states, on these settings."""
    async with engine.connect() as connection:
        zone, synced, head = await _sync_state(connection)
        basis = _basis(zone, binds)
        if synced == (basis, head):
            return
        await connection.commit()
        # Taken before the snapshot of the transaction below, so that it sees what the
        # derivation before it wrote.
        await connection.execute(text("select pg_advisory_lock(:id)"), LOCK)
        await connection.commit()
        try:
            await connection.execution_options(isolation_level="REPEATABLE READ")
            async with connection.begin():
                await _follow(connection, basis, binds)
        finally:
            await connection.execute(text("select pg_advisory_unlock(:id)"), LOCK)
            await connection.commit()


async def clear(*, connection: AsyncConnection) -> None:
    """Have the next query derive every row again (after a replay rewrote the states)."""
    await connection.execute(text("select pg_advisory_xact_lock(:id)"), LOCK)
    await connection.execute(text("delete from ledger_indicator_sync"))


async def derive_all(*, connection: AsyncConnection, binds: Mapping[str, Any]) -> None:
    """Every row again, from the case states and links."""
    await connection.execute(text("delete from ledger_indicator_case"))
    await connection.execute(text(DERIVATION), dict(binds))
    await indicator_households.derive_all(connection=connection)


async def _follow(connection: AsyncConnection, basis: str, binds: Mapping[str, Any]) -> None:
    """Derive what changed since the sync row, all from this transaction's one snapshot."""
    _, synced, head = await _sync_state(connection)
    if synced is None or synced[0] != basis:
        await derive_all(connection=connection, binds=binds)
        for table in TABLES:
            await connection.execute(text(f"analyze {table}"))
    elif synced[1] < head:
        marks = {"since": synced[1], "head": head}
        places = (await connection.execute(text(_PLACES), marks)).all()
        households = set((await connection.execute(text(_HOUSEHOLDS), marks)).scalars())
        await connection.execute(text(_DERIVE_SINCE), {**binds, **marks})
        at_places = {
            "place_keys": [place for place, _, _ in places],
            "categories": [category for _, category, _ in places],
            "since": [since for _, _, since in places],
        }
        await connection.execute(text(_COME_BACK_SINCE), {**binds, **at_places})
        await indicator_households.derive(connection=connection, households=sorted(households))
    else:
        return
    await connection.execute(text("delete from ledger_indicator_sync"))
    await connection.execute(
        text("insert into ledger_indicator_sync (basis, seq) values (:basis, :seq)"),
        {"basis": basis, "seq": head},
    )


# What the rows depend on besides the states and the settings: the derivations themselves.
_DERIVATIONS = hashlib.sha256(
    "\n".join((DERIVATION, indicator_households.DERIVATION)).encode()
).hexdigest()


def _basis(zone: str, binds: Mapping[str, Any]) -> str:
    """A digest of what the rows depend on besides the states: the derivation, its settings,
    and the session's time zone (in which `+ interval` adds days)."""
    settings = repr([binds[name] for name in BASIS_BINDS])
    return hashlib.sha256("\n".join((_DERIVATIONS, settings, zone)).encode()).hexdigest()


async def _sync_state(connection: AsyncConnection) -> tuple[str, tuple[str, int] | None, int]:
    """In one round trip: the session's time zone, the sync row (basis, seq) if any, and the
    ledger's head."""
    row = (
        await connection.execute(
            text(
                "select current_setting('TimeZone') as zone,"
                " (select basis from ledger_indicator_sync) as basis,"
                " (select seq from ledger_indicator_sync) as seq,"
                " (select coalesce(max(seq), 0) from ledger_entry) as head"
            )
        )
    ).one()
    synced = None if row.basis is None else (row.basis, int(row.seq))
    return row.zone, synced, int(row.head)
