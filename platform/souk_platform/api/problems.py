"""One error handler: every error under /api is RFC 9457 ``application/problem+json``."""

from __future__ import annotations

import http
import json
from typing import Any

import marshmallow as ma
import structlog
from apispec import BasePlugin
from flask import Flask, Response, g, render_template, request
from flask_smorest import Api
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from souk_platform.core.errors import PROBLEM_MIMETYPE, SoukError, problem

log = structlog.get_logger("souk.errors")

API_PREFIXES = ("/api/", "/oauth/")

_HTTP_CODES = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "version-mismatch",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-failed",
    428: "precondition-required",
    429: "rate-limited",
    500: "internal-error",
}


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation only).

    Problems may carry extension members (``required_scope``, ``max_depth``…), so the schema allows them.
    """

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(metadata={"description": "URI naming the kind of problem"})
    title = ma.fields.String(metadata={"description": "Short summary of the kind of problem"})
    status = ma.fields.Integer()
    detail = ma.fields.String(metadata={"description": "What went wrong in this request"})
    instance = ma.fields.String(metadata={"description": "The request path and its request id"})
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Messages per field; query fields are prefixed with 'query.'"},
    )


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIXES) or request.path == "/api"


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    body.setdefault("instance", f"{request.path}#{g.get('request_id', '')}")
    response = Response(json.dumps(body), status=body["status"], mimetype=PROBLEM_MIMETYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _flatten(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn webargs/marshmallow nested messages into ``{"lines.0.quantity": ["…"]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "_schema"] = list(messages)
    elif isinstance(messages, list):
        for i, value in enumerate(messages):
            out.update(_flatten(value, f"{prefix}.{i}"))
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


def _validation_errors(data: dict[str, Any]) -> dict[str, list[str]]:
    messages = data.get("errors") or data.get("messages") or {}
    out: dict[str, list[str]] = {}
    for location, fields in messages.items():
        prefix = "" if location in ("json", "form") else location
        out.update(_flatten(fields, prefix))
    return out


class ProblemResponsesPlugin(BasePlugin):
    """Every error response in the OpenAPI document is ``application/problem+json``, as served.

    Responses a view declares with ``alt_response(409, description=...)`` get the problem schema;
    the shared ones (401, 403, 422, 429, default) are registered that way by ``SoukApi``.
    """

    def operation_helper(
        self, path: str | None = None, operations: dict[Any, Any] | None = None, **kwargs: Any
    ) -> None:
        for operation in (operations or {}).values():
            for status, response in operation.get("responses", {}).items():
                if _is_error(status) and isinstance(response, dict) and "$ref" not in response:
                    content = response.pop("content", None) or {}
                    declared = content.get(PROBLEM_MIMETYPE) or content.get("application/json") or {}
                    response["content"] = {PROBLEM_MIMETYPE: {"schema": declared.get("schema", "Problem")}}


def _is_error(status: int | str) -> bool:
    return str(status) == "default" or str(status)[:1] in ("4", "5")


class SoukApi(Api):
    """flask-smorest ``Api`` whose errors are problem+json, on /api paths only."""

    ERROR_SCHEMA = ProblemSchema

    def _init_spec(self, *, extra_plugins: Any = None, **kwargs: Any) -> None:
        super()._init_spec(extra_plugins=[*(extra_plugins or ()), ProblemResponsesPlugin()], **kwargs)

    def _register_responses(self) -> None:
        """flask-smorest's shared responses, with errors documented as problem+json."""
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["content"] = {PROBLEM_MIMETYPE: {"schema": self.ERROR_SCHEMA}}
            self.spec.components.response(status.name, response, lazy=True)
        default = {"description": "Any other error", "content": {PROBLEM_MIMETYPE: {"schema": self.ERROR_SCHEMA}}}
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def _register_error_handlers(self) -> None:
        app: Flask = self._app
        app.register_error_handler(HTTPException, self.handle_http_exception)
        app.register_error_handler(SoukError, _handle_domain_error)
        app.register_error_handler(StaleDataError, _handle_stale)
        app.register_error_handler(IntegrityError, _handle_integrity)
        app.register_error_handler(DataError, _handle_unstorable)
        app.register_error_handler(Exception, _handle_unexpected)

    def handle_http_exception(self, error: HTTPException) -> Any:
        code = error.code or 500
        if not is_api_request():
            # Werkzeug's stock description is English and only repeats the page's heading; a view's own
            # (translated) description is shown.
            own = error.description if error.description != type(error).description else ""
            return _html_error(code, own or "")
        data = getattr(error, "data", None) or {}
        errors = _validation_errors(data) if code in (400, 422) and data else None
        detail = data.get("message") or error.description
        if code == 422 and errors:
            detail = "The request has invalid fields: " + ", ".join(sorted(errors)) + "."
        if code == 400 and "json" in (data.get("messages") or {}):
            detail, errors = "The request body is not valid JSON.", None
        headers = dict(data.get("headers") or {})
        valid_methods = getattr(error, "valid_methods", None)
        if code == 405 and valid_methods:
            headers["Allow"] = ", ".join(valid_methods)
        body = problem(code, _HTTP_CODES.get(code, "http-error"), error.name, detail, errors=errors)
        return problem_response(body, headers)


def _handle_domain_error(error: SoukError) -> Any:
    if not is_api_request():
        return _html_error(error.status, error.detail)
    return problem_response(error.to_problem(), error.headers)


def _handle_stale(error: StaleDataError) -> Any:
    from souk_platform.db import db

    db.session.rollback()
    body = problem(409, "concurrent-update", "Conflict", "Someone else changed this object at the same time; retry.")
    return problem_response(body) if is_api_request() else _html_error(409, body["detail"])


def _handle_integrity(error: IntegrityError) -> Any:
    from souk_platform.db import db

    db.session.rollback()
    log.info("integrity.conflict", error=str(error.orig)[:300])
    body = problem(409, "conflict", "Conflict", "The change conflicts with existing data (a duplicate?).")
    return problem_response(body) if is_api_request() else _html_error(409, body["detail"])


def _handle_unstorable(error: DataError) -> Any:
    """The database refused a value (a NUL character, a number out of range): the input's fault."""
    from souk_platform.db import db

    db.session.rollback()
    log.info("data.refused", error=str(error.orig)[:300])
    body = problem(
        422,
        "unstorable-value",
        "A value cannot be stored",
        "The request contains a value that cannot be stored, such as a NUL character or a number out of range.",
    )
    return problem_response(body) if is_api_request() else _html_error(422, body["detail"])


def _handle_unexpected(error: Exception) -> Any:
    from souk_platform.db import db

    db.session.rollback()
    log.exception("request.crashed", path=request.path, method=request.method)
    if not is_api_request():
        return _html_error(500, "")
    body = problem(
        500,
        "internal-error",
        "Internal error",
        f"Something went wrong on our side. Quote request id {g.get('request_id', '')} when you report it.",
    )
    return problem_response(body)


def _html_error(status: int, detail: str) -> Any:
    try:
        return render_template("error.html", status=status, detail=detail), status
    except Exception:  # a broken template must not hide the original error
        return Response(f"Error {status}", status=status, mimetype="text/plain")
