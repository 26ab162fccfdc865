"""Sign-in: OAuth2 password and refresh-token grants, sign-out, the public keys, accounts."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from services.common import auth
from services.dispatch.accounts import service
from services.dispatch.identity import CurrentPrincipal

router = APIRouter(tags=["auth"])


class TokenAnswer(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None = None


class AccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(pattern=r"^[A-Za-z0-9._-]{2,64}$")
    password: str = Field(min_length=12, max_length=256)
    role: auth.Role
    member_id: str | None = Field(default=None, max_length=64)


class AccountPublic(BaseModel):
    username: str
    role: str
    member_id: str | None


@router.post(
    "/v1/auth/token",
    response_model=TokenAnswer,
    responses={400: {"description": "unsupported grant"}, 401: {"description": "refused"}},
)
async def token(
    request: Request,
    grant_type: Annotated[str, Form()] = "password",
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
) -> TokenAnswer:
    """OAuth2 token endpoint: `password` grant to sign in, `refresh_token` grant to stay in,
    `client_credentials` for a gridloop service (an access token only)."""
    dispatch = request.app.state.dispatch
    now = datetime.now(UTC)
    try:
        async with dispatch.deps.sessions() as session, session.begin():
            if grant_type == "password" and username and password:
                tokens = await service.sign_in(
                    session=session,
                    username=username,
                    password=password,
                    signer=dispatch.signer,
                    now=now,
                    hasher=dispatch.hasher,
                )
            elif grant_type == "refresh_token" and refresh_token:
                tokens = await service.refresh(
                    session=session, refresh_token=refresh_token, signer=dispatch.signer, now=now
                )
            elif grant_type == "client_credentials" and client_id and client_secret:
                tokens = await service.sign_in_service(
                    session=session,
                    client_id=client_id,
                    client_secret=client_secret,
                    signer=dispatch.signer,
                    now=now,
                    hasher=dispatch.hasher,
                )
            else:
                raise HTTPException(
                    400,
                    "use grant_type password (with username and password), "
                    "refresh_token (with refresh_token) "
                    "or client_credentials (with client_id and client_secret)",
                )
    except service.SignInRefused as refusal:
        if isinstance(refusal, service.RefreshTokenReused):
            async with dispatch.deps.sessions() as session, session.begin():
                await service.revoke_all(session=session, username=refusal.username, now=now)
        raise HTTPException(401, str(refusal), headers={"WWW-Authenticate": "Bearer"}) from refusal
    return TokenAnswer(
        access_token=tokens.access_token,
        expires_in=tokens.expires_in,
        refresh_token=tokens.refresh_token,
    )


@router.post("/v1/auth/revoke", status_code=204)
async def revoke(request: Request, refresh_token: Annotated[str, Form()]) -> None:
    """Sign out: the refresh token stops working (the access token expires on its own)."""
    async with request.app.state.dispatch.deps.sessions() as session, session.begin():
        await service.revoke(session=session, refresh_token=refresh_token, now=datetime.now(UTC))


@router.get("/.well-known/jwks.json")
async def jwks(request: Request) -> dict[str, Any]:
    """The public keys that verify people's tokens (old and new during a rotation)."""
    return request.app.state.dispatch.jwks_document()


def _operator(principal: CurrentPrincipal) -> auth.Principal:
    return auth.require(auth.Role.OPERATOR)(principal)


@router.post(
    "/v1/auth/accounts",
    status_code=201,
    response_model=AccountPublic,
    responses={**auth.GUARDED, 409: {"description": "username taken"}},
)
async def create_account(
    body: AccountCreate,
    request: Request,
    operator: Annotated[auth.Principal, Depends(_operator)],
) -> AccountPublic:
    """An operator creates an account for a person."""
    dispatch = request.app.state.dispatch
    account = service.new_account(
        username=body.username,
        password=body.password,
        role=body.role,
        member_id=body.member_id,
        now=datetime.now(UTC),
        hasher=dispatch.hasher,
    )
    try:
        async with dispatch.deps.sessions() as session, session.begin():
            session.add(account)
    except IntegrityError as taken:
        raise HTTPException(409, "that username is taken") from taken
    return AccountPublic(username=account.username, role=account.role, member_id=account.member_id)
