"""The hourly purge of dead OAuth codes and tokens keeps what still protects the shop."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from factories import ShopFactory, UserFactory
from souk_platform.apps.services import register_app
from souk_platform.auth.models import AccessToken
from souk_platform.auth.services import create_access_token, create_user, revoke_access_token
from souk_platform.installations.services import install_app
from souk_platform.jobs.runner import PERIODIC_JOBS
from souk_platform.oauth import services as oauth
from souk_platform.oauth import tasks
from souk_platform.oauth.models import AppToken, AuthorizationCode, DeviceAuthorization, RefreshToken

MANIFEST = """\
name: Purgeable
redirect_uris: [https://purge.example.com/cb]
scopes: [read_shop]
"""


def _ids(session, model, *where):
    return set(session.scalars(sa.select(model.id).where(*where)))


def test_dead_codes_and_tokens_go_while_a_live_grant_chain_keeps_its_history(app, session, clock):
    owner = create_user(session, email="owner@example.com", name="Olive Owner", password="correct horse")
    shop = ShopFactory(owner=owner)
    registered, _version, _secret = register_app(session, developer=UserFactory(), manifest_text=MANIFEST)
    start = clock.now()
    installation = install_app(
        session, app=registered, shop_id=shop.id, user_id=owner.id, scopes=["read_shop"], now=start
    )
    oauth.issue_code(
        session,
        plaintext="code-1",
        installation=installation,
        user_id=owner.id,
        redirect_uri=None,
        scopes=["read_shop"],
        code_challenge=None,
        code_challenge_method=None,
        now=start,
    )

    def issue(family: str, at: dt.datetime) -> oauth.IssuedTokens:
        return oauth.issue_installation_tokens(
            session, installation=installation, app_name="Purgeable", scopes=["read_shop"], family_id=family, now=at
        )

    kept_first = issue("oac_kept", start)  # rotated an hour later: the chain lives on in its successor
    rotated = session.get(RefreshToken, kept_first.refresh_token_id)
    oauth.mark_rotated(rotated, now=start + dt.timedelta(hours=1))
    kept_second = issue("oac_kept", start + dt.timedelta(hours=1))
    issue("oac_revoked", start)
    oauth.revoke_family(session, family_id="oac_revoked", now=start + dt.timedelta(hours=1))
    oauth.issue_app_token(session, app_id=registered.id, now=start)
    session.add(  # a souk-dev device login nobody approved
        DeviceAuthorization(
            app_id=registered.id,
            device_code_hash="d" * 64,
            user_code="PRGTSTCD",
            created_at=start,
            expires_at=start + dt.timedelta(minutes=10),
        )
    )
    by_hand, _ = create_access_token(session, shop_id=shop.id, name="ERP", scopes=["read_shop"], created_by=owner.id)
    revoke_access_token(session, shop_id=shop.id, token_id=by_hand.id, clock=clock)
    session.commit()
    app_id, shop_id = registered.id, shop.id

    clock.advance(days=2)
    removed = tasks.purge_expired_tokens()

    assert removed["codes"] >= 1 and removed["refresh_tokens"] >= 1 and removed["access_tokens"] >= 3
    assert removed["device_authorizations"] >= 1
    assert _ids(session, AuthorizationCode, AuthorizationCode.app_id == app_id) == set()
    assert _ids(session, AppToken, AppToken.app_id == app_id) == set()
    kept = {kept_first.refresh_token_id, kept_second.refresh_token_id}
    assert _ids(session, RefreshToken, RefreshToken.app_id == app_id) == kept
    assert _ids(session, AccessToken, AccessToken.shop_id == shop_id) == {by_hand.id}  # the owner's own stays

    # The live refresh token still works, and replaying the rotated one still revokes the chain.
    now = clock.now()
    assert oauth.claim_refresh_token(session, plaintext=kept_second.refresh_token, app_id=app_id, now=now)
    assert oauth.claim_refresh_token(session, plaintext=kept_first.refresh_token, app_id=app_id, now=now) is None
    assert session.get(RefreshToken, kept_second.refresh_token_id).revoked_at == now

    nothing = {"codes": 0, "refresh_tokens": 0, "access_tokens": 0, "app_tokens": 0, "device_authorizations": 0}
    assert tasks.purge_expired_tokens() == nothing


def test_the_purge_runs_every_hour():
    (job,) = [job for job in PERIODIC_JOBS if job.path == "souk_platform.oauth.tasks.purge_expired_tokens"]
    assert job.every_seconds == 3600
