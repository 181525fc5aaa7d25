"""One unit of work per write request, and ``Idempotency-Key`` replays (docs/architecture.md §4.4).

Views never commit: ``transactional`` commits when the view returns a non-5xx response and rolls
back on any exception, so a failed request changes nothing. ``idempotent`` does the same and
records the response under the caller's key in the same transaction. ``idempotency_required`` is
``idempotent`` for writes that must never run twice by accident (a points task's completion, a sign-in,
a coupon claim): a request without the key is 400 ``idempotency-key-required``, as the IETF
Idempotency-Key draft says.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, TypeVar, cast

import marshmallow as ma
import sqlalchemy as sa
from flask import Response, make_response, request
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from souk_platform.api.guard import current_principal
from souk_platform.api.models import IdempotencyRecord
from souk_platform.api.parsing import request_json
from souk_platform.core.clock import app_now
from souk_platform.core.errors import Conflict, SoukError, Unprocessable
from souk_platform.db import db

F = TypeVar("F", bound=Callable[..., Any])

REPLAY_WINDOW = dt.timedelta(hours=24)
_KEPT_HEADERS = ("Location", "Content-Type", "ETag")
_IDEMPOTENCY_KEY = re.compile(r"[ -~]{1,255}")  # what the OpenAPI parameter below says: printable ASCII


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency-key-reused"
    title = "This Idempotency-Key was used with a different request"


class IdempotencyKeyInvalid(Unprocessable):
    code = "idempotency-key-invalid"
    title = "Invalid Idempotency-Key"


class IdempotencyKeyRequired(SoukError):
    status = 400
    code = "idempotency-key-required"
    title = "Send an Idempotency-Key"


def _finish(response: Response) -> Response:
    if response.status_code >= 500:
        db.session.rollback()
    else:
        db.session.commit()
    return response


def transactional(view: F) -> F:
    """Commit the request's work once, after the view succeeds; roll back otherwise."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            raise
        return _finish(response)

    return cast(F, wrapper)


def idempotent(view: F) -> F:
    """Like ``transactional``, and a replayed ``Idempotency-Key`` returns the first response.

    Two requests are the same when they mean the same: their bodies are compared as the view's
    schema loads them (defaults filled in), so whitespace, key order, ``429.0`` for ``429`` or a
    field sent with its default value do not make a retry "different".
    """
    return _idempotent(view, required=False)


def idempotency_required(view: F) -> F:
    """``idempotent``, and a request without an ``Idempotency-Key`` is refused (400) before any work."""
    return _idempotent(view, required=True)


def _idempotent(view: F, *, required: bool) -> F:
    body_schema = _json_body_schema(view)

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None and required:
            raise IdempotencyKeyRequired("This request moves points or coupons: send an Idempotency-Key header.")
        if key is None:
            return transactional(view)(*args, **kwargs)
        if not _IDEMPOTENCY_KEY.fullmatch(key):
            raise IdempotencyKeyInvalid("Idempotency-Key must be 1 to 255 printable ASCII characters.")
        principal = current_principal()
        owner = f"{principal.shop_id}:{principal.installation_id or principal.token_id}"
        digest = _request_digest(body_schema)
        now = app_now()

        record = IdempotencyRecord(
            owner=owner, key=key, method=request.method, path=request.path, request_hash=digest, created_at=now
        )
        db.session.add(record)
        try:
            db.session.flush()  # blocks while a concurrent twin holds the key, then fails
        except IntegrityError:
            db.session.rollback()
            return _replay(owner, key, digest, now, args, kwargs, view)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            db.session.rollback()
            raise
        if response.status_code < 500:
            record.status_code = response.status_code
            record.response_body = response.get_data(as_text=True)
            record.response_headers = {h: response.headers[h] for h in _KEPT_HEADERS if h in response.headers}
        return _finish(response)

    documented = Blueprint.doc(
        parameters=[
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": required,
                "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[ -~]+$"},
                "description": ("Required. " if required else "")
                + "Send the same key to retry safely: a replay within 24 h returns the first "
                "response; the same key with a different body is 422.",
            }
        ]
    )(wrapper)
    return cast(F, documented)


def _json_body_schema(view: Callable[..., Any]) -> ma.Schema | None:
    """The schema ``@blp.arguments`` declared for the view's JSON body (flask-smorest keeps it in ``_apidoc``)."""
    parameters = getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    for parameter in parameters:
        if parameter.get("in") == "json":
            schema = parameter["schema"]
            return schema() if isinstance(schema, type) else schema
    return None


def _request_digest(body_schema: ma.Schema | None) -> str:
    """A hash of what the request asks for: method, path and the canonical form of its body."""
    return hashlib.sha256(
        request.method.encode() + b" " + request.path.encode() + b"\n" + _canonical_body(body_schema)
    ).hexdigest()


def _canonical_body(body_schema: ma.Schema | None) -> bytes:
    raw = request.get_data()
    if not (request.is_json and raw):
        return raw
    try:
        body = request_json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw  # the view answers 400; the bytes are all there is to compare
    if body_schema is not None:
        try:
            body = body_schema.load(body)
        except ma.ValidationError:
            return raw  # the view answers 422
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _replay(
    owner: str, key: str, digest: str, now: dt.datetime, args: Any, kwargs: Any, view: Callable[..., Any]
) -> Response:
    stored = db.session.scalar(
        sa.select(IdempotencyRecord).where(IdempotencyRecord.owner == owner, IdempotencyRecord.key == key)
    )
    if stored is None or stored.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still being processed; retry shortly.")
    if stored.created_at < now - REPLAY_WINDOW:
        # Expired: forget it and run the request as new.
        db.session.delete(stored)
        db.session.commit()
        return idempotent(view)(*args, **kwargs)
    if stored.request_hash != digest:
        raise IdempotencyKeyReused(
            f"The Idempotency-Key '{key}' was first used for a different request; use a new key."
        )
    response = Response(stored.response_body or "", status=stored.status_code)
    for name, value in stored.response_headers.items():
        response.headers[name] = value
    response.headers["Idempotent-Replayed"] = "true"
    return response


def purge_idempotency_records(session: Any, now: dt.datetime) -> int:
    """Delete records past the replay window (run by a periodic job)."""
    result = session.execute(sa.delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - REPLAY_WINDOW))
    return int(result.rowcount or 0)
