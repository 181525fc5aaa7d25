"""Users, passwords and shop access tokens. Plain functions: session and arguments in."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from souk_platform.auth import errors
from souk_platform.auth.models import AccessToken, User
from souk_platform.auth.scopes import UnknownScope, validate_scopes
from souk_platform.core.clock import Clock
from souk_platform.core.errors import Conflict, NotFound
from souk_platform.db import DbSession

TOKEN_PREFIX = "souk_at_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling the API: one shop, a set of scopes, and the token that proved it."""

    shop_id: str
    scopes: tuple[str, ...]
    token_id: str
    installation_id: str | None = None
    expires_at: dt.datetime | None = None  # the token's own expiry, so a cached copy is refused on time


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def create_user(session: DbSession, *, email: str, name: str, password: str, is_platform_admin: bool = False) -> User:
    email = email.strip().lower()
    if session.scalar(sa.select(User.id).where(User.email == email)):
        raise Conflict(f"An account with the email {email} already exists.")
    user = User(
        email=email,
        name=name,
        password_hash=generate_password_hash(password, method="scrypt"),
        is_platform_admin=is_platform_admin,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(session: DbSession, email: str, password: str) -> User:
    user = session.scalar(sa.select(User).where(User.email == email.strip().lower()))
    if user is None or not check_password_hash(user.password_hash, password):
        raise errors.BadCredentials("The email or password is not right.")
    return user


def create_access_token(
    session: DbSession,
    *,
    shop_id: str,
    name: str,
    scopes: Iterable[str],
    created_by: str | None,
    installation_id: str | None = None,
    expires_at: dt.datetime | None = None,
) -> tuple[AccessToken, str]:
    """Create a token and return it with its plaintext, which is shown once and never stored."""
    try:
        granted = validate_scopes(scopes)
    except UnknownScope as exc:
        raise errors.UnknownScopes(f"Unknown scope(s): {exc}.", errors={"scopes": [f"Unknown: {exc}"]}) from exc
    if not granted:
        raise errors.UnknownScopes("Choose at least one scope.", errors={"scopes": ["At least one scope."]})
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(
        shop_id=shop_id,
        name=name,
        scopes=granted,
        token_hash=hash_token(plaintext),
        token_hint=plaintext[-4:],
        created_by=created_by,
        installation_id=installation_id,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, plaintext


def revoke_access_token(session: DbSession, *, shop_id: str, token_id: str, clock: Clock) -> AccessToken:
    token = session.scalar(sa.select(AccessToken).where(AccessToken.id == token_id, AccessToken.shop_id == shop_id))
    if token is None:
        raise NotFound(f"No access token {token_id} in this shop.")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
    return token


def resolve_token(session: DbSession, plaintext: str, clock: Clock) -> Principal:
    """Map a presented bearer token to a ``Principal`` or raise ``InvalidToken``."""
    token = session.scalar(sa.select(AccessToken).where(AccessToken.token_hash == hash_token(plaintext)))
    now = clock.now()
    if token is None or token.revoked_at is not None or (token.expires_at and token.expires_at <= now):
        raise errors.InvalidToken("The access token is missing, unknown, expired or revoked.")
    return Principal(
        shop_id=token.shop_id,
        scopes=tuple(token.scopes),
        token_id=token.id,
        installation_id=token.installation_id,
        expires_at=token.expires_at,
    )
