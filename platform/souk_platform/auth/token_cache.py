"""Resolved bearer tokens kept in the process for a few seconds, revoked everywhere at once.

The hot path of every API call is "which shop and scopes does this token stand for?". A process keeps the
answer (token hash → principal and its rate-limit policy) for ``SOUK_TOKEN_CACHE_SECONDS``, tagged with the
revocation stamp it saw *before* it read the database. The rate-limit store gives the current stamp with
every charge (read in its round trip, or vouched for by its watch on the stamp key without one), and an
entry is used only while the stamp is unchanged and the token has not expired. Any commit that changes an
access token, an installation or an app version, or deletes a shop, changes the stamp
(``install_invalidation_hooks``), so every process goes back to the database on its next request. See
docs/architecture.md §4.2.
"""

from __future__ import annotations

import datetime as dt
import functools
import threading
from dataclasses import dataclass, field
from typing import Any

import redis
import structlog
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from souk_platform.auth.services import Principal
from souk_platform.ratelimit.buckets import Policy
from souk_platform.ratelimit.limiter import bucket_store

log = structlog.get_logger("souk.auth")

_CHANGED = "souk.auth_changed"


@dataclass(frozen=True, slots=True)
class CachedPrincipal:
    principal: Principal
    policy: Policy | None  # an app plan's own limit; None: the platform default
    stamp: str  # the revocation stamp seen before the database was read
    cached_until: dt.datetime
    # Values about the token's shop read after the stamp (``api.guard.kept_with_token``): valid while the
    # entry is, since any change to them changes the stamp too.
    kept: dict[str, Any] = field(default_factory=dict)


class TokenCache:
    """Token hash → ``CachedPrincipal`` for one process, bounded in size and age; thread-safe."""

    def __init__(self, *, seconds: float, max_entries: int = 50_000) -> None:
        self._lifetime = dt.timedelta(seconds=seconds)
        self._max_entries = max_entries
        self._entries: dict[str, CachedPrincipal] = {}
        self._lock = threading.Lock()
        # The latest stamp this process saw; an entry cached now is tagged with it, not with a stamp
        # read after the database, or a revocation committed in between could be missed.
        self.last_stamp: str | None = None

    @property
    def enabled(self) -> bool:
        return self._lifetime > dt.timedelta(0)

    def get(self, token_hash: str, now: dt.datetime) -> CachedPrincipal | None:
        """The entry for ``token_hash`` unless it is too old or its token has expired by ``now``."""
        entry = self._entries.get(token_hash)
        if entry is None:
            return None
        expires_at = entry.principal.expires_at
        if entry.cached_until <= now or (expires_at is not None and expires_at <= now):
            self._entries.pop(token_hash, None)
            return None
        return entry

    def put(
        self, token_hash: str, principal: Principal, policy: Policy | None, stamp: str, now: dt.datetime
    ) -> CachedPrincipal | None:
        if not self.enabled:
            return None
        entry = CachedPrincipal(principal, policy, stamp, now + self._lifetime)
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()  # rare: a cold cache costs one lookup per token, nothing more
            self._entries[token_hash] = entry
        return entry

    def forget(self, token_hash: str) -> None:
        self._entries.pop(token_hash, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.last_stamp = None


def init_token_cache(app: Flask) -> None:
    """Give the app its token cache (after ``init_rate_limits``: the stamp lives in the rate-limit store)."""
    app.extensions["souk.token_cache"] = TokenCache(seconds=float(app.config["SOUK_TOKEN_CACHE_SECONDS"]))
    install_invalidation_hooks()


def token_cache(app: Flask) -> TokenCache:
    cache: TokenCache = app.extensions["souk.token_cache"]
    return cache


def revoke_cached_tokens(app: Flask) -> None:
    """Make every process resolve its tokens from the database again (this one at once)."""
    token_cache(app).clear()
    try:
        bucket_store(app).bump_stamp()
    except redis.RedisError as exc:
        # Other processes then trust their entries for at most SOUK_TOKEN_CACHE_SECONDS.
        log.error("auth.stamp_unavailable", error=str(exc))


# What a cached entry is made of: a change to any of these rows may change who a token stands for, its
# rate limit, or the shop row kept with it (``kept``: ``GET /shop`` answers from it). Shops change rarely
# (a settings form), so a shop's change may send every process back to the database once.
# Cached: the hooks ask on every flush and bulk statement, and the models import lazily (no import cycle).
@functools.cache
def _watched() -> tuple[type, ...]:
    from souk_platform.apps.models import AppVersion, Installation
    from souk_platform.auth.models import AccessToken
    from souk_platform.shops.models import Shop

    return (AccessToken, Installation, AppVersion, Shop)


def _note_changed_rows(session: Session, flush_context: UOWTransaction) -> None:
    if any(isinstance(row, _watched()) for row in (*session.dirty, *session.deleted)):
        session.info[_CHANGED] = True


def _note_bulk_statement(state: ORMExecuteState) -> None:
    # Bulk UPDATE/DELETE (refresh-family revocation, uninstall, the purge job) bypass the flush.
    mapper = state.bind_mapper
    if mapper is None:
        return
    if (state.is_update or state.is_delete) and issubclass(mapper.class_, _watched()):
        state.session.info[_CHANGED] = True


def _bump_after_commit(session: Session) -> None:
    from flask import current_app, has_app_context

    if session.info.pop(_CHANGED, False) and has_app_context():
        revoke_cached_tokens(current_app._get_current_object())  # type: ignore[attr-defined]


def _forget_on_rollback(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:  # a SAVEPOINT rolling back may leave other changes standing
        session.info.pop(_CHANGED, None)


def install_invalidation_hooks() -> None:
    """Bump the revocation stamp after every commit that touched a token, installation or shop."""
    if not event.contains(Session, "after_commit", _bump_after_commit):
        event.listen(Session, "after_flush", _note_changed_rows)
        event.listen(Session, "do_orm_execute", _note_bulk_statement)
        event.listen(Session, "after_commit", _bump_after_commit)
        event.listen(Session, "after_soft_rollback", _forget_on_rollback)
