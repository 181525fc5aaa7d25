"""Fast serialization for hot reads: JSON-native dicts encoded by orjson (docs/architecture.md §4.8).

A hot read endpoint declares its response with ``fast_response(blp, 200, Schema)`` instead of
``@blp.response(200, Schema)``. The schema stays the OpenAPI contract (the decorator documents it through
``blp.response``, so the document does not change), but the view builds the body itself — a dict of str,
int, float, bool, None, lists and dicts, and timezone-aware datetimes left as they are — usually straight
from Core rows, and no marshmallow dump runs. The body is encoded with orjson into exactly the bytes
Flask's ``jsonify`` writes (sorted keys, compact, ASCII with ``\\uXXXX`` escapes, a trailing newline);
orjson writes an aware datetime as ``isoformat()`` does (what marshmallow's ``DateTime`` dumps), ~10× faster
than calling it (2.6 µs a call here, 150 calls on a 50-product page).

Every view declared this way is found by ``fast_views(app)``; the proof test
(``tests/reliability/test_fast_serialization.py``) iterates over them and checks each one's bytes against
``Schema().dump`` of the same resource through the ORM. ``fast_response_sent`` fires for every response
the fast path builds, so the test also proves each endpoint is really served by it.
"""

from __future__ import annotations

import codecs
import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import marshmallow as ma
import orjson
from blinker import Namespace
from flask import Flask, Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Blueprint

F = TypeVar("F", bound=Callable[..., Any])

_FAST_SCHEMA = "__souk_fast_schema__"
_signals = Namespace()
#: Sent with ``endpoint`` and ``schema`` for every response built by the fast path.
fast_response_sent = _signals.signal("souk.fast-response-sent")


def _json_escape(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: non-ASCII as JSON ``\\uXXXX`` escapes (astral characters as surrogate pairs),
    exactly as ``json.dumps(ensure_ascii=True)`` writes them."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    escaped = []
    for char in error.object[error.start : error.end]:
        code = ord(char)
        if code > 0xFFFF:
            code -= 0x10000
            escaped.append(f"\\u{0xD800 | (code >> 10):04x}\\u{0xDC00 | (code & 0x3FF):04x}")
        else:
            escaped.append(f"\\u{code:04x}")
    return "".join(escaped), error.end


codecs.register_error("souk-json-ascii", _json_escape)


def encode_json(body: Any) -> bytes:
    """``body`` (JSON-native values and aware datetimes) as the bytes Flask's default JSON provider writes for
    the same body with its datetimes as ``isoformat()`` strings, newline included.

    orjson writes UTF-8 and leaves DEL (0x7f) raw; the stdlib escapes both, so those rare bodies are
    re-escaped (one codec pass over the text, not a second encoding).
    """
    data = orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE)
    if data.isascii() and b"\x7f" not in data:
        return data
    text = data.decode().replace("\x7f", "\\u007f")  # 0x7f only ever appears inside a JSON string
    return text.encode("ascii", "souk-json-ascii")


def _writes_like_default(app: Flask) -> bool:
    """Whether the app's JSON provider writes what ``encode_json`` writes (compact, sorted, ASCII)."""
    provider = app.json
    return (
        isinstance(provider, DefaultJSONProvider)
        and provider.sort_keys
        and provider.ensure_ascii
        and (provider.compact if provider.compact is not None else not app.debug)
    )


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A ``Response`` carrying ``body`` exactly as ``jsonify`` would (same bytes, ``application/json``)."""
    app = current_app
    if _writes_like_default(app):
        response = app.response_class(encode_json(body), status=status, mimetype="application/json")
    else:  # debug's indented output, or a provider of the app's own: let it write (datetimes as strings first)
        response = cast(Response, app.json.response(orjson.loads(orjson.dumps(body))))
        response.status_code = status
    if headers:
        response.headers.update(headers)
    return response


def fast_response(blp: Blueprint, status_code: int, schema: type[ma.Schema], **doc: Any) -> Callable[[F], F]:
    """``@blp.response(status_code, schema)`` for a view that returns a JSON-native body itself.

    The view returns ``body`` or ``(body, status)`` or ``(body, status, headers)`` like any flask-smorest
    view; ``body`` must be what ``schema().dump`` of the resource would give. Errors raised by the view
    take the usual problem+json path.
    """

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def encoded(*args: Any, **kwargs: Any) -> Response:
            result = view(*args, **kwargs)
            body, status, headers = (*result, None)[:3] if isinstance(result, tuple) else (result, status_code, None)
            response = json_response(body, status, headers)
            fast_response_sent.send(current_app._get_current_object(), endpoint=request.endpoint, schema=schema)  # type: ignore[attr-defined]
            return response

        setattr(encoded, _FAST_SCHEMA, schema)
        return cast(F, blp.response(status_code, schema, **doc)(encoded))

    return decorator


@dataclass(frozen=True, slots=True)
class FastView:
    """One view method served by the fast path: its endpoint, HTTP method, URL rule and documented schema."""

    endpoint: str
    method: str
    rule: str
    schema: type[ma.Schema]


def fast_views(app: Flask) -> Iterator[FastView]:
    """Every view method of ``app`` declared with ``fast_response``, in URL-map order."""
    for rule in app.url_map.iter_rules():
        view_class = getattr(app.view_functions[rule.endpoint], "view_class", None)
        for method in sorted(rule.methods or ()):
            schema = getattr(getattr(view_class, method.lower(), None), _FAST_SCHEMA, None)
            if schema is not None:
                yield FastView(rule.endpoint, method, rule.rule, schema)
