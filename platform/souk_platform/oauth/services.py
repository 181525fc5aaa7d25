"""The token lifecycle behind the authorization server, with no OAuth library in sight.

Codes are one-use and live 10 minutes; access tokens are ``AccessToken`` rows bound to the installation
and live 1 hour; refresh tokens rotate on every use, and presenting a rotated one again revokes its whole
family (every refresh and access token descended from the same code). Client-credentials tokens belong
to the app, not to a shop, and are kept apart in ``AppToken``. Every secret is stored as its SHA-256.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from souk_platform.apps.models import App, Installation
from souk_platform.auth.models import AccessToken
from souk_platform.auth.services import create_access_token, hash_token
from souk_platform.db import DbSession
from souk_platform.oauth import errors
from souk_platform.oauth.models import AppToken, AuthorizationCode, DeviceAuthorization, RefreshToken

CODE_LIFETIME = dt.timedelta(minutes=10)
ACCESS_TOKEN_LIFETIME = dt.timedelta(hours=1)
REFRESH_TOKEN_LIFETIME = dt.timedelta(days=90)
APP_TOKEN_LIFETIME = dt.timedelta(hours=1)

REFRESH_TOKEN_PREFIX = "souk_rt_"
APP_TOKEN_PREFIX = "souk_apt_"


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    """What the token endpoint hands out: plaintexts shown once, and the scopes they carry."""

    access_token: str
    refresh_token: str
    scopes: list[str]
    expires_in: int
    access_token_id: str
    refresh_token_id: str


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """Any token this server issued, as introspection and revocation see it."""

    kind: str  # "access_token" | "refresh_token" | "app_token"
    id: str
    app_id: str
    client_id: str
    shop_id: str | None
    installation_id: str | None
    scopes: tuple[str, ...]
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    revoked: bool


# --- authorization codes ----------------------------------------------------------------------


def issue_code(
    session: DbSession,
    *,
    plaintext: str,
    installation: Installation,
    user_id: str,
    redirect_uri: str | None,
    scopes: Iterable[str],
    code_challenge: str | None,
    code_challenge_method: str | None,
    now: dt.datetime,
) -> AuthorizationCode:
    """Remember a code (by its hash) bound to the client, redirect URI, user, shop and PKCE challenge."""
    code = AuthorizationCode(
        code_hash=hash_token(plaintext),
        app_id=installation.app_id,
        shop_id=installation.shop_id,
        user_id=user_id,
        installation_id=installation.id,
        redirect_uri=redirect_uri,
        scopes=sorted(set(scopes)),
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        expires_at=now + CODE_LIFETIME,
    )
    session.add(code)
    session.flush()
    return code


def claim_code(session: DbSession, *, plaintext: str, app_id: str, now: dt.datetime) -> AuthorizationCode | None:
    """The code if it can be exchanged now by ``app_id``, else None.

    A code presented a second time is refused AND every token issued from it is revoked (RFC 6749
    §4.1.2); the caller must commit even though the exchange fails. The row is locked, so two
    concurrent exchanges cannot both succeed.
    """
    code = session.scalar(
        sa.select(AuthorizationCode)
        .where(AuthorizationCode.code_hash == hash_token(plaintext), AuthorizationCode.app_id == app_id)
        .with_for_update()
    )
    if code is None:
        return None
    if code.used_at is not None:
        revoke_family(session, family_id=code.id, now=now)
        return None
    if code.expires_at <= now or not _installation_active(session, code.installation_id):
        return None
    return code


def mark_code_used(code: AuthorizationCode, *, now: dt.datetime) -> None:
    code.used_at = now


# --- installation tokens (access + refresh) ---------------------------------------------------


def issue_installation_tokens(
    session: DbSession,
    *,
    installation: Installation,
    app_name: str,
    scopes: Iterable[str],
    family_id: str,
    now: dt.datetime,
) -> IssuedTokens:
    """Mint an access token (an ``AccessToken`` bound to the installation) and its refresh token.

    The tokens carry the asked ``scopes`` narrowed to what the merchant granted: a scope a newer app
    version asks for is not carried until the merchant consents to it.
    """
    carried = sorted(set(scopes) & set(installation.granted_scopes))
    access, access_plaintext = create_access_token(
        session,
        shop_id=installation.shop_id,
        name=f"OAuth · {app_name}"[:200],
        scopes=carried,
        created_by=None,
        installation_id=installation.id,
        expires_at=now + ACCESS_TOKEN_LIFETIME,
    )
    refresh_plaintext = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    refresh = RefreshToken(
        token_hash=hash_token(refresh_plaintext),
        app_id=installation.app_id,
        shop_id=installation.shop_id,
        installation_id=installation.id,
        family_id=family_id,
        access_token_id=access.id,
        scopes=carried,
        expires_at=now + REFRESH_TOKEN_LIFETIME,
    )
    session.add(refresh)
    session.flush()
    return IssuedTokens(
        access_token=access_plaintext,
        refresh_token=refresh_plaintext,
        scopes=carried,
        expires_in=int(ACCESS_TOKEN_LIFETIME.total_seconds()),
        access_token_id=access.id,
        refresh_token_id=refresh.id,
    )


def claim_refresh_token(session: DbSession, *, plaintext: str, app_id: str, now: dt.datetime) -> RefreshToken | None:
    """The refresh token if ``app_id`` may rotate it now, else None.

    A refresh token that was already rotated is a sign of theft: its whole family is revoked and the
    caller must commit even though the request fails.
    """
    token = session.scalar(
        sa.select(RefreshToken).where(RefreshToken.token_hash == hash_token(plaintext)).with_for_update()
    )
    if token is None or token.app_id != app_id:
        return None
    if token.rotated_at is not None:
        revoke_family(session, family_id=token.family_id, now=now)
        return None
    if token.revoked_at is not None or token.expires_at <= now:
        return None
    if not _installation_active(session, token.installation_id):
        return None
    return token


def mark_rotated(token: RefreshToken, *, now: dt.datetime) -> None:
    token.rotated_at = now


def revoke_family(session: DbSession, *, family_id: str, now: dt.datetime) -> int:
    """Revoke every refresh token of a grant chain and every access token issued with them."""
    issued_with = sa.select(RefreshToken.access_token_id).where(RefreshToken.family_id == family_id)
    session.execute(
        sa.update(AccessToken)
        .where(AccessToken.id.in_(issued_with), AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    result = session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def revoke_installation_tokens(session: DbSession, *, installation_id: str, now: dt.datetime) -> None:
    """Revoke every access and refresh token of an installation, and its unused codes (uninstall)."""
    session.execute(
        sa.update(AccessToken)
        .where(AccessToken.installation_id == installation_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(
        sa.update(RefreshToken)
        .where(RefreshToken.installation_id == installation_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    session.execute(
        sa.update(AuthorizationCode)
        .where(AuthorizationCode.installation_id == installation_id, AuthorizationCode.used_at.is_(None))
        .values(expires_at=now)
    )


def _installation_active(session: DbSession, installation_id: str) -> bool:
    status = session.scalar(sa.select(Installation.status).where(Installation.id == installation_id))
    return status == "active"


# --- app tokens (client credentials) ----------------------------------------------------------


def issue_app_token(
    session: DbSession,
    *,
    app_id: str,
    now: dt.datetime,
    lifetime: dt.timedelta = APP_TOKEN_LIFETIME,
    approved_by: str | None = None,
) -> tuple[AppToken, str]:
    """Mint a developer-level token for the app itself (no shop); the plaintext is shown once.

    ``approved_by``: the developer who approved a device login (``souk-dev login``), whose tokens live
    ``lifetime`` (longer than client-credentials ones) and are listed in the console to sign out.
    """
    plaintext = APP_TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = AppToken(
        app_id=app_id,
        token_hash=hash_token(plaintext),
        token_hint=plaintext[-4:],
        approved_by=approved_by,
        expires_at=now + lifetime,
    )
    session.add(token)
    session.flush()
    return token, plaintext


def resolve_app_token(session: DbSession, plaintext: str, *, now: dt.datetime) -> App:
    """The app a live client-credentials token belongs to, or ``InvalidAppToken``."""
    token = session.scalar(sa.select(AppToken).where(AppToken.token_hash == hash_token(plaintext)))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        raise errors.InvalidAppToken("The app token is missing, unknown, expired or revoked.")
    app = session.get(App, token.app_id)
    if app is None or app.status != "active":
        raise errors.InvalidAppToken("The app behind this token is not active.")
    return app


def revoke_app_token(session: DbSession, plaintext: str, *, now: dt.datetime) -> None:
    """Revoke an app token by its plaintext (nothing happens for an unknown or already revoked one)."""
    session.execute(
        sa.update(AppToken)
        .where(AppToken.token_hash == hash_token(plaintext), AppToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


# --- introspection and revocation -------------------------------------------------------------


def find_token(session: DbSession, plaintext: str, *, hint: str | None = None) -> TokenRecord | None:
    """Look a presented token up among everything OAuth issued (``hint`` only orders the search)."""
    digest = hash_token(plaintext)
    lookups = [_find_access, _find_refresh, _find_app_token]
    if hint == "refresh_token":
        lookups = [_find_refresh, _find_access, _find_app_token]
    for lookup in lookups:
        record = lookup(session, digest)
        if record is not None:
            return record
    return None


def revoke_token(session: DbSession, record: TokenRecord, *, now: dt.datetime) -> None:
    """Revoke one token; a refresh token takes its whole family with it (RFC 7009 §2.1)."""
    if record.kind == "access_token":
        session.execute(
            sa.update(AccessToken)
            .where(AccessToken.id == record.id, AccessToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    elif record.kind == "refresh_token":
        family_id = session.scalar(sa.select(RefreshToken.family_id).where(RefreshToken.id == record.id))
        if family_id is not None:
            revoke_family(session, family_id=family_id, now=now)
    else:
        session.execute(
            sa.update(AppToken).where(AppToken.id == record.id, AppToken.revoked_at.is_(None)).values(revoked_at=now)
        )


def _find_access(session: DbSession, digest: str) -> TokenRecord | None:
    row = session.execute(
        sa.select(AccessToken, App.id, App.client_id)
        .join(Installation, Installation.id == AccessToken.installation_id)
        .join(App, App.id == Installation.app_id)
        .where(AccessToken.token_hash == digest)
    ).first()
    if row is None:  # unknown, or a staff token: not ours to introspect
        return None
    token, app_id, client_id = row
    return TokenRecord(
        kind="access_token",
        id=token.id,
        app_id=app_id,
        client_id=client_id,
        shop_id=token.shop_id,
        installation_id=token.installation_id,
        scopes=tuple(token.scopes),
        issued_at=token.created_at,
        expires_at=token.expires_at,
        revoked=token.revoked_at is not None,
    )


def _find_refresh(session: DbSession, digest: str) -> TokenRecord | None:
    row = session.execute(
        sa.select(RefreshToken, App.client_id)
        .join(App, App.id == RefreshToken.app_id)
        .where(RefreshToken.token_hash == digest)
    ).first()
    if row is None:
        return None
    token, client_id = row
    return TokenRecord(
        kind="refresh_token",
        id=token.id,
        app_id=token.app_id,
        client_id=client_id,
        shop_id=token.shop_id,
        installation_id=token.installation_id,
        scopes=tuple(token.scopes),
        issued_at=token.created_at,
        expires_at=token.expires_at,
        revoked=token.revoked_at is not None or token.rotated_at is not None,
    )


def _find_app_token(session: DbSession, digest: str) -> TokenRecord | None:
    row = session.execute(
        sa.select(AppToken, App.client_id).join(App, App.id == AppToken.app_id).where(AppToken.token_hash == digest)
    ).first()
    if row is None:
        return None
    token, client_id = row
    return TokenRecord(
        kind="app_token",
        id=token.id,
        app_id=token.app_id,
        client_id=client_id,
        shop_id=None,
        installation_id=None,
        scopes=(),
        issued_at=token.created_at,
        expires_at=token.expires_at,
        revoked=token.revoked_at is not None,
    )


# --- purging what can no longer be used -------------------------------------------------------

PURGE_AFTER = dt.timedelta(days=1)  # dead codes and tokens stay this long, for introspection and audit


def purge_expired(session: DbSession, *, now: dt.datetime) -> dict[str, int]:
    """Delete codes and OAuth-issued tokens that expired or were revoked more than ``PURGE_AFTER`` ago;
    return how many of each kind went.

    A refresh token goes only with its whole family: while any token of a grant chain can still be
    used, its rotated ancestors stay, so presenting one of them still revokes the chain. Access tokens
    a shop owner made by hand are never purged (the owner's token list shows them, revoked or not).
    """
    cutoff = now - PURGE_AFTER
    still_alive = sa.or_(
        sa.and_(RefreshToken.revoked_at.is_(None), RefreshToken.expires_at > cutoff),
        RefreshToken.revoked_at > cutoff,
    )
    live_families = sa.select(RefreshToken.family_id).where(still_alive)
    counts = {
        "codes": session.execute(sa.delete(AuthorizationCode).where(AuthorizationCode.expires_at < cutoff)),
        "refresh_tokens": session.execute(sa.delete(RefreshToken).where(RefreshToken.family_id.not_in(live_families))),
        "access_tokens": session.execute(
            sa.delete(AccessToken).where(
                AccessToken.installation_id.is_not(None),
                sa.or_(AccessToken.expires_at < cutoff, AccessToken.revoked_at < cutoff),
            )
        ),
        "app_tokens": session.execute(
            sa.delete(AppToken).where(sa.or_(AppToken.expires_at < cutoff, AppToken.revoked_at < cutoff))
        ),
        "device_authorizations": session.execute(
            sa.delete(DeviceAuthorization).where(DeviceAuthorization.expires_at < cutoff)
        ),
    }
    return {kind: int(getattr(result, "rowcount", 0) or 0) for kind, result in counts.items()}
