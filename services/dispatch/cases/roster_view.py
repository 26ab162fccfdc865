"""What a unit of work reads of the roster and of live state, each thing read once.

A batch of reports shares one view: its households are fetched in one query, each grid's
team once, each member's load and duty once; the load the batch itself moved is added on
top, so the second report of a grid sees the first one's assignment before Redis does.
"""

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.dispatch.adapters import roster_repo, tables
from services.dispatch.adapters.live_state import LiveState
from services.dispatch.domain import policy

Team = tuple[policy.GridTeam, list[tables.MemberRow]]


@dataclass
class RosterView:
    session: AsyncSession
    live: LiveState
    now: datetime
    pending_load: Counter[str] = field(default_factory=Counter)
    _teams: dict[str, Team | None] = field(default_factory=dict)
    _with_roles: dict[tuple[str, ...], list[tables.MemberRow]] = field(default_factory=dict)
    _officers: dict[str, policy.Officer] = field(default_factory=dict)  # as of the start
    _moved: dict[tuple[str, int], policy.Officer] = field(default_factory=dict)
    _held: list[object] = field(default_factory=list)

    async def prefetch(
        self,
        *,
        household_ids: Collection[str],
        camera_ids: Collection[str],
        grid_ids: Collection[str],
    ) -> None:
        """Load these roster rows in one query per table; later lookups find them in the session.

        The session keeps loaded rows only while something refers to them, so the view does.
        """
        for table, ids in (
            (tables.HouseholdRow, household_ids),
            (tables.CameraRow, camera_ids),
            (tables.GridRow, grid_ids),
        ):
            if ids:
                query = select(table).where(col(table.id).in_(list(ids)))
                self._held += (await self.session.execute(query)).scalars().all()

    async def household(self, household_id: str) -> tables.HouseholdRow | None:
        return await roster_repo.household(session=self.session, household_id=household_id)

    async def grid_team(self, grid_id: str) -> Team | None:
        if grid_id not in self._teams:
            self._teams[grid_id] = await roster_repo.grid_team(
                session=self.session, grid_id=grid_id
            )
        return self._teams[grid_id]

    async def members_with_roles(self, roles: Sequence[str]) -> list[tables.MemberRow]:
        key = tuple(sorted(roles))
        if key not in self._with_roles:
            self._with_roles[key] = await roster_repo.members_with_roles(
                session=self.session, roles=key
            )
        return self._with_roles[key]

    async def officers(self, people: Sequence[tables.MemberRow]) -> dict[str, policy.Officer]:
        """Roster members with their live load (plus what this work moved) and duty."""
        unseen = [person for person in people if person.id not in self._officers]
        if unseen:
            ids = list(dict.fromkeys(person.id for person in unseen))
            loads, off_duty = await self.live.standing(ids, now=self.now)
            for person in unseen:
                self._officers[person.id] = policy.Officer(
                    id=person.id,
                    role=person.role,
                    grid_id=person.grid_id,
                    on_duty=person.id not in off_duty,
                    open_cases=loads[person.id],
                    case_capacity=person.case_capacity,
                    skills=frozenset(person.skills),
                )
        officers = {person.id: self._officers[person.id] for person in people}
        # Only these people's moved load matters, and each (person, load) is made once: a
        # large batch moves the load of many members, and asks for a team at every report.
        pending = self.pending_load
        for member_id, officer in officers.items():
            moved = pending.get(member_id)
            if moved:
                officers[member_id] = self._with_moved(officer, moved)
        return officers

    def _with_moved(self, officer: policy.Officer, moved: int) -> policy.Officer:
        key = (officer.id, moved)
        loaded = self._moved.get(key)
        if loaded is None:
            loaded = self._moved[key] = replace(officer, open_cases=officer.open_cases + moved)
        return loaded
