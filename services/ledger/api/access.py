"""Who may read what in the ledger: the caller's token turned into the cases they may see.

Members see their own cases (lead or co-handler), grid leaders their grid's, the committee
and intake's service account every case. Viewers read indicators and reports only; operators
manage the roster and integrators, not cases. A case outside the caller's reach answers 404,
exactly like a case that does not exist.
"""

from dataclasses import dataclass, replace
from typing import Annotated

from fastapi import Depends, HTTPException

from services.common import auth
from services.ledger.adapters.case_queries import CaseFilter
from services.ledger.domain.state import CaseState

Role = auth.Role
CurrentPrincipal = Annotated[
    auth.Principal, Depends(auth.bearer(lambda request: request.app.state.ledger.keys))
]


@dataclass(frozen=True)
class Reach:
    """The cases one caller may see: every case, one grid's, or one member's."""

    grid: str | None = None
    member: str | None = None

    def admits(self, state: CaseState) -> bool:
        """Whether this case is within reach."""
        if self.grid is not None and state.grid_id != self.grid:
            return False
        return self.member is None or self.member in state.member_ids

    def confine(self, grid: str | None, member: str | None) -> tuple[str | None, str | None]:
        """The (grid, member) filters within this reach; 403 when they ask for another."""
        if self.grid is not None and grid not in (None, self.grid):
            raise HTTPException(403, "you may only read the cases of your own grid")
        if self.member is not None and member not in (None, self.member):
            raise HTTPException(403, "you may only read your own cases")
        return self.grid or grid, self.member or member

    def narrow(self, wanted: CaseFilter) -> CaseFilter:
        """The case filter restricted to this reach."""
        grid, member = self.confine(wanted.grid, wanted.member)
        return replace(wanted, grid=grid, member=member)


EVERYTHING = Reach()


def reach_of(principal: auth.Principal, *, allowed: tuple[Role, ...]) -> Reach:
    """The reach of a caller whose role is in `allowed` (403 for other roles)."""
    if principal.role not in allowed:
        raise HTTPException(403, "your role may not read this")
    if principal.role == Role.GRID_LEADER:
        if principal.grid_id is None:
            raise HTTPException(403, "your account is not linked to a grid")
        return Reach(grid=principal.grid_id)
    if principal.role == Role.MEMBER:
        if principal.member_id is None:
            raise HTTPException(403, "your account is not linked to a roster member")
        return Reach(member=principal.member_id)
    return EVERYTHING


def readers(*roles: Role) -> object:
    """A dependency: the reach of a caller whose role is one of `roles`."""

    def dependency(principal: CurrentPrincipal) -> Reach:
        return reach_of(principal, allowed=roles)

    return Depends(dependency)


CASE_READERS = (Role.MEMBER, Role.GRID_LEADER, Role.COMMITTEE, Role.SERVICE)
INDICATOR_READERS = (Role.MEMBER, Role.GRID_LEADER, Role.COMMITTEE, Role.VIEWER)
CaseReach = Annotated[Reach, readers(*CASE_READERS)]
HouseholdReach = Annotated[Reach, readers(Role.MEMBER, Role.GRID_LEADER, Role.COMMITTEE)]
IndicatorReach = Annotated[Reach, readers(*INDICATOR_READERS)]
ExportReach = Annotated[Reach, readers(Role.GRID_LEADER, Role.COMMITTEE)]
Auditor = Annotated[Reach, readers(Role.COMMITTEE)]
