"""Resolved tokens are cached per process, yet a revocation made in one process holds in every other at once.

Two apps stand for two processes: each has its own token cache, both share the database and Redis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import redis as redis_lib
import sqlalchemy as sa
from conftest import IsolatedClient, make_test_app
from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from factories import ShopFactory, install_app, oauth_token, token_for
from souk_platform.auth.models import AccessToken
from souk_platform.auth.services import create_access_token, hash_token, revoke_access_token
from souk_platform.core.clock import FrozenClock
from souk_platform.db import db
from souk_platform.shops.models import Shop


class CountingConnection(redis_lib.Connection):
    """Records the name of every command sent: one entry is one round trip."""

    sent: list[str] = []

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        # Every command goes out here, packed by redis-py (send_command) or by the caller: RESP
        # ``*<n>\r\n$<len>\r\n<NAME>\r\n…``.
        packed = command if isinstance(command, bytes | str) else b"".join(command)
        packed = packed.encode() if isinstance(packed, str) else packed
        CountingConnection.sent.append(packed.split(b"\r\n")[2].decode().upper())
        super().send_packed_command(command, check_health)


@pytest.fixture(scope="module")
def app_b(app: Flask, database_url: str, redis_url: str) -> Iterator[Flask]:
    """A second process's worth of Souk on the same database and Redis, its Redis commands counted."""
    other = make_test_app(database_url, redis_url)
    pool = other.extensions["souk.redis"].connection_pool
    pool.disconnect()
    pool.connection_class = CountingConnection
    other.test_client_class = IsolatedClient
    yield other
    with other.app_context():
        db.engine.dispose()


@pytest.fixture
def client_b(app_b: Flask, session: Any, redis: redis_lib.Redis) -> Any:
    return app_b.test_client()


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every SQL statement any engine sends while the test runs."""
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(Engine, "before_cursor_execute", record)
    yield sent
    event.remove(Engine, "before_cursor_execute", record)


def auth_queries(sent: list[str]) -> list[str]:
    return [s for s in sent if "access_tokens" in s or "app_versions" in s]


def test_a_token_revoked_in_one_process_is_refused_by_another_on_its_next_request(
    app: Flask, client_b: Any, session: Any
) -> None:
    shop = ShopFactory()
    token, plaintext = create_access_token(session, shop_id=shop.id, name="ci", scopes=["read_shop"], created_by=None)
    session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert [client_b.get("/api/v1/shop", headers=headers).status_code for _ in range(3)] == [200, 200, 200]

    with app.app_context():  # process A revokes it
        revoke_access_token(db.session, shop_id=shop.id, token_id=token.id, clock=app.extensions["souk.clock"])
        db.session.commit()

    refused = client_b.get("/api/v1/shop", headers=headers)
    assert refused.status_code == 401
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert "RateLimit-Limit" not in refused.headers  # as before the cache: a refused token is not charged


def test_uninstalling_through_one_process_locks_the_app_out_of_another(
    client: Any, client_b: Any, session: Any
) -> None:
    shop = ShopFactory()
    installation_id = install_app(shop)
    app_headers = oauth_token(shop, installation_id)
    assert client_b.get("/api/v1/shop", headers=app_headers).status_code == 200
    assert client_b.get("/api/v1/shop", headers=app_headers).status_code == 200

    owner = token_for(shop, ["write_shop"])
    assert client.delete(f"/api/v1/installations/{installation_id}", headers=owner).status_code == 200

    assert client_b.get("/api/v1/shop", headers=app_headers).status_code == 401


def test_narrowing_a_tokens_scopes_in_one_process_applies_in_another_at_once(
    app: Flask, client_b: Any, session: Any
) -> None:
    shop = ShopFactory()
    token, plaintext = create_access_token(
        session, shop_id=shop.id, name="ci", scopes=["read_shop", "read_products"], created_by=None
    )
    session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert client_b.get("/api/v1/products", headers=headers).status_code == 200
    assert client_b.get("/api/v1/products", headers=headers).status_code == 200

    with app.app_context():  # a bulk UPDATE, which never goes through the ORM's flush
        db.session.execute(sa.update(AccessToken).where(AccessToken.id == token.id).values(scopes=["read_shop"]))
        db.session.commit()

    assert client_b.get("/api/v1/products", headers=headers).status_code == 403
    assert client_b.get("/api/v1/shop", headers=headers).status_code == 200


def test_a_cached_token_is_refused_the_moment_it_expires(app_b: Flask, client_b: Any, session: Any) -> None:
    clock = FrozenClock(dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC))
    original, app_b.extensions["souk.clock"] = app_b.extensions["souk.clock"], clock
    try:
        shop = ShopFactory()
        _, plaintext = create_access_token(
            session,
            shop_id=shop.id,
            name="short",
            scopes=["read_shop"],
            created_by=None,
            expires_at=clock.now() + dt.timedelta(seconds=5),
        )
        session.commit()
        headers = {"Authorization": f"Bearer {plaintext}"}
        assert client_b.get("/api/v1/shop", headers=headers).status_code == 200
        assert client_b.get("/api/v1/shop", headers=headers).status_code == 200
        clock.advance(seconds=5)
        assert client_b.get("/api/v1/shop", headers=headers).status_code == 401
    finally:
        app_b.extensions["souk.clock"] = original


def test_a_cache_hit_reads_no_token_from_the_database_and_asks_redis_nothing(
    app_b: Flask, client_b: Any, session: Any, statements: list[str]
) -> None:
    """Served from the cached token and a lease of its bucket, under a stamp the watch vouches for (§4.2, §4.6).

    A flush of any Redis db on the server (other test processes flush theirs) tells every watch that the
    stamp may have changed; a request after one asks Redis once. Such a request is checked for exactly that."""
    shop = ShopFactory()
    plan = {"rate_limit": {"requests_per_second": 500, "burst": 1000}}  # leases of up to 62 tokens
    installation_id = install_app(shop, {"name": "Helper", "pricing": [plan]})
    headers = oauth_token(shop, installation_id)
    client_b.get("/api/v1/shop", headers=headers)  # resolves from the database and learns the stamp
    client_b.get("/api/v1/shop", headers=headers)  # cached under that stamp
    watch = app_b.extensions["souk.ratelimit"].watch
    assert watch.watching

    quiet_hits = 0
    for _ in range(6):
        statements.clear()
        CountingConnection.sent.clear()
        epoch = watch.epoch
        hit = client_b.get("/api/v1/shop", headers=headers)
        assert hit.status_code == 200
        assert hit.headers["RateLimit-Limit"] == "1000"  # the plan's limit, cached with the token
        assert auth_queries(statements) == []
        assert CountingConnection.sent in ([], ["EVALSHA"])
        if CountingConnection.sent == []:
            assert watch.epoch == epoch  # nothing happened to the stamp: no reason to ask
            quiet_hits += 1
    assert quiet_hits >= 3  # six in a quiet run; each flush elsewhere during the loop costs one


def test_a_cold_token_is_read_from_the_database(client_b: Any, session: Any, statements: list[str]) -> None:
    """The other side of the test above: the counter does see a lookup when there is one to see."""
    shop = ShopFactory()
    headers = token_for(shop, ["read_shop"])
    statements.clear()
    assert client_b.get("/api/v1/shop", headers=headers).status_code == 200
    assert len(auth_queries(statements)) == 1


def test_the_cache_is_keyed_by_the_tokens_hash_never_its_plaintext(app_b: Flask, client_b: Any, session: Any) -> None:
    shop = ShopFactory()
    headers = token_for(shop, ["read_shop"])
    client_b.get("/api/v1/shop", headers=headers)
    client_b.get("/api/v1/shop", headers=headers)
    plaintext = headers["Authorization"].removeprefix("Bearer ")
    cache = app_b.extensions["souk.token_cache"]
    assert cache.get(plaintext, dt.datetime.now(dt.UTC)) is None
    assert cache.get(hash_token(plaintext), dt.datetime.now(dt.UTC)) is not None


def test_a_flushed_redis_trusts_no_token_cached_before(
    app_b: Flask, client_b: Any, session: Any, redis: redis_lib.Redis
) -> None:
    """Losing the stamp (Redis restarted) must not let an old stamp value come back and match stale entries."""
    shop = ShopFactory()
    token, plaintext = create_access_token(session, shop_id=shop.id, name="ci", scopes=["read_shop"], created_by=None)
    session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    client_b.get("/api/v1/shop", headers=headers)
    assert client_b.get("/api/v1/shop", headers=headers).status_code == 200

    redis.flushdb()
    # Revoked behind every cache's back (no commit hook runs for this connection's raw SQL).
    session.execute(sa.text("UPDATE access_tokens SET revoked_at = now() WHERE id = :id"), {"id": token.id})

    assert client_b.get("/api/v1/shop", headers=headers).status_code == 401


def test_embedded_mode_revokes_at_once_too(embedded_app: Flask) -> None:
    with embedded_app.app_context():
        shop = ShopFactory()
        token, plaintext = create_access_token(
            db.session, shop_id=shop.id, name="ci", scopes=["read_shop"], created_by=None
        )
        db.session.commit()
        shop_id, token_id = shop.id, token.id
    embedded_app.test_client_class = IsolatedClient
    client = embedded_app.test_client()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert [client.get("/api/v1/shop", headers=headers).status_code for _ in range(3)] == [200, 200, 200]

    with embedded_app.app_context():
        revoke_access_token(db.session, shop_id=shop_id, token_id=token_id, clock=embedded_app.extensions["souk.clock"])
        db.session.commit()

    assert client.get("/api/v1/shop", headers=headers).status_code == 401


def test_the_platform_default_limit_is_read_at_each_request_not_frozen_with_a_cached_token(
    app_b: Flask, client_b: Any, session: Any
) -> None:
    headers = token_for(ShopFactory(), ["read_shop"])
    client_b.get("/api/v1/shop", headers=headers)
    client_b.get("/api/v1/shop", headers=headers)
    saved = app_b.config["SOUK_RATE_LIMIT_RPS"], app_b.config["SOUK_RATE_LIMIT_BURST"]
    app_b.config["SOUK_RATE_LIMIT_RPS"], app_b.config["SOUK_RATE_LIMIT_BURST"] = 1.0, 7
    try:
        assert client_b.get("/api/v1/shop", headers=headers).headers["RateLimit-Limit"] == "7"
    finally:
        app_b.config["SOUK_RATE_LIMIT_RPS"], app_b.config["SOUK_RATE_LIMIT_BURST"] = saved


def test_a_shop_changed_through_one_process_is_read_fresh_by_another(app: Flask, client_b: Any, session: Any) -> None:
    """``GET /shop`` answers from the row kept with the cached token (§4.9); a change to the shop anywhere
    changes the stamp, so the next request in every process reads it again."""
    shop = ShopFactory(name="Before")
    _, plaintext = create_access_token(session, shop_id=shop.id, name="ci", scopes=["read_shop"], created_by=None)
    session.commit()
    headers = {"Authorization": f"Bearer {plaintext}"}
    assert [client_b.get("/api/v1/shop", headers=headers).json["name"] for _ in range(3)] == ["Before"] * 3

    with app.app_context():  # process A renames it
        db.session.get(Shop, shop.id).name = "After"
        db.session.commit()

    assert client_b.get("/api/v1/shop", headers=headers).json["name"] == "After"
