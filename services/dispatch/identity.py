"""Who is calling: the member behind a request.

For now the member id comes from the `X-Member-Id` header and is looked up on the roster;
signed bearer tokens replace this in the security work, behind the same dependency.
"""

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request

from services.dispatch.adapters import roster_repo
from services.dispatch.domain.lifecycle import Actor


async def current_actor(
    request: Request, x_member_id: Annotated[str | None, Header()] = None
) -> Actor:
    """The roster member making the request; 401 when unknown."""
    if not x_member_id:
        raise HTTPException(401, "say who you are: X-Member-Id header")
    async with request.app.state.dispatch.deps.sessions() as session:
        member = await roster_repo.member(session=session, member_id=x_member_id)
    if member is None:
        raise HTTPException(401, "unknown member")
    return Actor(member_id=member.id, role=member.role, grid_id=member.grid_id)


CurrentActor = Annotated[Actor, Depends(current_actor)]
