"""Who is calling: the person behind the request's bearer token, and what they may see."""

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from services.common import auth
from services.dispatch.adapters.tables import CaseRow
from services.dispatch.domain.lifecycle import Actor

CurrentPrincipal = Annotated[
    auth.Principal, Depends(auth.bearer(lambda request: request.app.state.dispatch.keys))
]
CASE_ROLES = (auth.Role.MEMBER, auth.Role.GRID_LEADER, auth.Role.COMMITTEE)


async def current_actor(principal: CurrentPrincipal) -> Actor:
    """A roster member acting on cases; operators and viewers do not handle cases (403)."""
    if principal.role not in CASE_ROLES or principal.member_id is None:
        raise HTTPException(403, "only officers, grid leaders and the committee act on cases")
    return Actor(
        member_id=principal.member_id, role=principal.role.value, grid_id=principal.grid_id
    )


CurrentActor = Annotated[Actor, Depends(current_actor)]


def may_see(actor: Actor, case: CaseRow) -> bool:
    """Members see their own cases, grid leaders their grid's, the committee all."""
    if actor.role == auth.Role.COMMITTEE:
        return True
    if actor.role == auth.Role.GRID_LEADER and case.grid_id == actor.grid_id:
        return True
    return actor.member_id == case.assignee_id or actor.member_id in case.co_handler_ids


def roster_access(principal: CurrentPrincipal, request: Request) -> auth.Principal:
    """Operators manage the roster; the committee may read it. The roster names every
    resident and household, so nobody whose reach is one grid or one member reads it here."""
    readers = (auth.Role.OPERATOR, auth.Role.COMMITTEE)
    allowed = readers if request.method in ("GET", "HEAD") else (auth.Role.OPERATOR,)
    if principal.role not in allowed:
        raise HTTPException(403, "your role may not do this")
    return principal
