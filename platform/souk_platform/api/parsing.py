"""How ``/api/v1`` reads a request: one JSON reader, one argument parser, one Blueprint class.

Every API module builds its blueprint with this module's ``Blueprint``, so every JSON body goes
through ``read_json`` once (docs/architecture.md §4.1):

- a body nested deeper than ``MAX_JSON_DEPTH`` is a 400 naming the limit (the standard parser would
  recurse until Python gives up, and our schemas would recurse after it);
- a string holding a lone surrogate (``"\\ud800"`` is valid JSON but not Unicode text) is a 422
  naming the field: no database column, log line or response could hold it;
- a number with a zero fraction (``429.0``) is the integer it equals, as JSON Schema reads it, so
  the OpenAPI ``integer`` fields accept what the document says they accept.

A request body is required exactly when its schema has a required field; an absent body reads as
``{}``. The OpenAPI document says the same, because both come from ``Blueprint.arguments``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import flask
import flask_smorest
import marshmallow as ma
from flask import g
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from souk_platform.core.errors import SoukError, Unprocessable

__all__ = ["MAX_JSON_DEPTH", "Blueprint", "JsonTooDeep", "TextNotUnicode", "read_json", "request_json"]

MAX_JSON_DEPTH = 32
_BODY_LOCATIONS = ("json", "form", "files", "json_or_form")
# Only a \u escape can smuggle a surrogate in: raw surrogate bytes are not valid UTF-8 and fail decoding.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_EXACT_FLOAT_INTEGERS = 2**53  # beyond this a double no longer stands for one integer


class JsonTooDeep(SoukError):
    status = 400
    code = "json-too-deep"
    title = "The JSON body nests too deeply"


class TextNotUnicode(Unprocessable):
    code = "validation-failed"
    title = "Unprocessable Entity"


def _number(text: str) -> int | float:
    value = float(text)
    if value.is_integer() and abs(value) <= _EXACT_FLOAT_INTEGERS:
        return int(value)
    return value


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(key: str) -> str:
    return key.encode("utf-8", "backslashreplace").decode("utf-8")


def _too_deep() -> JsonTooDeep:
    return JsonTooDeep(
        f"The JSON body nests objects and arrays more than {MAX_JSON_DEPTH} levels deep.", max_depth=MAX_JSON_DEPTH
    )


def _not_unicode(path: list[str]) -> TextNotUnicode:
    field = ".".join(path) or "_schema"
    return TextNotUnicode(
        f"The request has invalid fields: {field}.",
        errors={field: ["Must be valid Unicode text (a lone surrogate such as \\ud800 is not)."]},
    )


def _check(value: Any, *, depth: bool, text: bool) -> None:
    """Walk the parsed body without recursion: its depth, and every key and string's encoding."""
    pending: list[tuple[Any, list[str], int]] = [(value, [], 1)]
    while pending:
        node, path, level = pending.pop()
        if isinstance(node, dict):
            if depth and level > MAX_JSON_DEPTH:
                raise _too_deep()
            for key, child in node.items():
                if text and not _is_unicode(key):
                    raise _not_unicode([*path, _printable(key)])
                pending.append((child, [*path, key], level + 1))
        elif isinstance(node, list):
            if depth and level > MAX_JSON_DEPTH:
                raise _too_deep()
            pending.extend((child, [*path, str(i)], level + 1) for i, child in enumerate(node))
        elif text and isinstance(node, str) and not _is_unicode(node):
            raise _not_unicode(path)


def read_json(raw: bytes) -> Any:
    """Parse a JSON request body; raises ``JsonTooDeep``, ``TextNotUnicode`` or ``json.JSONDecodeError``."""
    decoded = raw.decode("utf-8")
    try:
        value = json.loads(decoded, parse_float=_number)
    except RecursionError:
        raise _too_deep() from None
    _check(
        value,
        # Cheap tests first: a body with few brackets cannot be deep; one without \uD8.. has no surrogate.
        depth=decoded.count("[") + decoded.count("{") > MAX_JSON_DEPTH,
        text=_SURROGATE_ESCAPE.search(decoded) is not None,
    )
    return value


def request_json() -> Any:
    """The current request's JSON body, parsed once per request (``core.missing`` when it is empty)."""
    if "souk_json_body" not in g:
        raw = flask.request.get_data(cache=True)
        g.souk_json_body = read_json(raw) if raw else core.missing
    return g.souk_json_body


class _Parser(FlaskParser):
    """webargs' Flask parser reading JSON bodies with ``read_json``; its errors stay webargs' own.

    An unknown query parameter is refused like an unknown body field (422 naming it), so a typo such
    as ``?limt=5`` does not silently return the default page.

    ``@blp.arguments(SomeSchema)`` names a class, which webargs would instantiate on every request (65–85 µs
    here: marshmallow deep-copies the declared fields); one instance per class is made and reused instead.
    Souk's schemas keep no state between loads (no ``context``, no hooks that store on ``self``).
    """

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": ma.RAISE}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._schemas: dict[type[ma.Schema], ma.Schema] = {}

    def _get_schema(self, argmap: Any, req: flask.Request) -> ma.Schema:
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._schemas.get(argmap)
            if schema is None:
                schema = self._schemas[argmap] = argmap()
            return schema
        return super()._get_schema(argmap, req)

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return request_json()


def _has_required_field(schema: type[ma.Schema] | ma.Schema) -> bool:
    instance = schema() if isinstance(schema, type) else schema
    return any(field.required for field in instance.load_fields.values())


class Blueprint(flask_smorest.Blueprint):
    """The flask-smorest Blueprint of every API module: the parser above, and bodies required only when needed."""

    ARGUMENTS_PARSER = _Parser()

    def arguments(
        self,
        schema: type[ma.Schema] | ma.Schema,
        *,
        location: str = "json",
        required: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        if required is None:
            # An absent body loads as {}: it can only be refused when the schema has a required field.
            required = location not in _BODY_LOCATIONS or _has_required_field(schema)
        return super().arguments(schema, location=location, required=required, **kwargs)
