"""Settings read once, from ``SOUK_*`` environment variables, by the app factory."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def settings_from_env(environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
    """Translate ``SOUK_*`` variables into Flask config keys.

    With no ``SOUK_DATABASE_URL`` Souk runs embedded: a SQLite file in the instance folder,
    in-process jobs and in-memory caches (docs/architecture.md §2).
    """
    db_url = environ.get("SOUK_DATABASE_URL") or "sqlite:///" + str(Path(instance_path) / "souk.sqlite3")
    redis_url = environ.get("SOUK_REDIS_URL") or None
    return {
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SOUK_REDIS_URL": redis_url,
        "SOUK_JOBS": environ.get("SOUK_JOBS") or ("rq" if redis_url else "inline"),
        "SECRET_KEY": environ.get("SOUK_SECRET_KEY") or _instance_secret(instance_path),
        "SOUK_LOG_FORMAT": environ.get("SOUK_LOG_FORMAT") or ("json" if redis_url else "console"),
        "SOUK_PUBLIC_URL": environ.get("SOUK_PUBLIC_URL") or "http://127.0.0.1:5000",
        "MAX_CONTENT_LENGTH": int(environ.get("SOUK_MAX_BODY_BYTES") or 1024 * 1024),
        # Token bucket per installation (OAuth) or per access token (staff); an app's plan may set its own.
        "SOUK_RATE_LIMIT_RPS": float(environ.get("SOUK_RATE_LIMIT_RPS") or 40),
        "SOUK_RATE_LIMIT_BURST": int(environ.get("SOUK_RATE_LIMIT_BURST") or 80),
        # How long customers' behaviour events are kept, in days (docs/architecture.md §5.4).
        "SOUK_CUSTOMER_EVENTS_DAYS": int(environ.get("SOUK_CUSTOMER_EVENTS_DAYS") or 400),
        # How long a process trusts a token it resolved (0: never cache); revocation still applies at once.
        "SOUK_TOKEN_CACHE_SECONDS": float(environ.get("SOUK_TOKEN_CACHE_SECONDS") or 30),
        # A pooled connection idle longer than this is pinged before use (a restarted database or a dropped
        # idle connection is replaced instead of failing a request); busier ones are trusted.
        "SOUK_DB_PING_AFTER_IDLE_SECONDS": float(environ.get("SOUK_DB_PING_AFTER_IDLE_SECONDS") or 10),
        # Seals webhook signing secrets at rest (defaults to SECRET_KEY; changing it needs secret rotation).
        "SOUK_WEBHOOK_SECRETS_KEY": environ.get("SOUK_WEBHOOK_SECRETS_KEY") or None,
        # Local development only: lets webhook endpoints on 127.0.0.1 through the SSRF guard.
        "SOUK_WEBHOOKS_ALLOW_LOOPBACK": environ.get("SOUK_WEBHOOKS_ALLOW_LOOPBACK", "").lower() in ("1", "true", "yes"),
        # A PEM file of extra CA certificates webhook endpoints may present (a company's private CA),
        # trusted besides the usual ones.
        "SOUK_WEBHOOKS_CA_FILE": environ.get("SOUK_WEBHOOKS_CA_FILE") or None,
        # Email channels (docs/architecture.md §5.11): the SMTP server Souk hands mail to; without a host,
        # email messages fail with that reason. TLS: "none", "starttls" or "ssl".
        "SOUK_SMTP_HOST": environ.get("SOUK_SMTP_HOST") or None,
        "SOUK_SMTP_PORT": int(environ.get("SOUK_SMTP_PORT") or 25),
        "SOUK_SMTP_USER": environ.get("SOUK_SMTP_USER") or None,
        "SOUK_SMTP_PASSWORD": environ.get("SOUK_SMTP_PASSWORD") or None,
        "SOUK_SMTP_TLS": (environ.get("SOUK_SMTP_TLS") or "none").lower(),
        "SOUK_SMTP_FROM": environ.get("SOUK_SMTP_FROM") or "no-reply@souk.localhost",
        # Who may read /metrics: with a token, a bearer of it; without, clients on this machine only.
        "SOUK_METRICS_TOKEN": environ.get("SOUK_METRICS_TOKEN") or None,
        # Set by `souk serve` (prometheus_client reads it too): every process of the host counts into it.
        "SOUK_METRICS_MULTIPROC_DIR": environ.get("PROMETHEUS_MULTIPROC_DIR") or None,
    }


def _instance_secret(instance_path: str) -> str:
    """A per-instance secret kept in the instance folder, so the demo needs no setup."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    os.makedirs(instance_path, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


DEFAULTS: dict[str, Any] = {
    "API_TITLE": "Souk API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.1.0",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": "/static/swagger-ui/",
    # No ping per checkout (a round trip on every request): connections are replaced after 30 minutes and
    # pinged only after sitting idle (SOUK_DB_PING_AFTER_IDLE_SECONDS; docs/architecture.md §4.9).
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
    "BABEL_DEFAULT_LOCALE": "en",
    "BABEL_DEFAULT_TIMEZONE": "UTC",
    "SOUK_LOCALES": ("en", "zh_CN"),
    "WTF_CSRF_TIME_LIMIT": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SOUK_PAGE_LIMIT_DEFAULT": 50,
    "SOUK_PAGE_LIMIT_MAX": 250,
}
