"""The app manifest: one JSON Schema (draft 2020-12) and a parser whose errors name the line.

A manifest is YAML or JSON text (JSON parses as YAML). It is composed with PyYAML's safe loader
into nodes that remember where they start, so every schema error's JSON path maps back to the
line and column of the node at fault. ``parse_manifest`` returns the normalised manifest (defaults
filled in, scopes and webhooks sorted) or raises ``InvalidManifest`` listing every problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import yaml
from jsonschema import Draft202012Validator, FormatChecker, ValidationError
from jsonschema.exceptions import SchemaError
from jsonschema.validators import extend

from souk_platform.apps.errors import InvalidManifest
from souk_platform.auth import scopes as scope_registry
from souk_platform.extensions.services import EXTENSION_POINTS
from souk_platform.webhooks.ssrf import registration_problem

MAX_MANIFEST_CHARS = 64 * 1024
MAX_DEPTH = 32
MAX_REPORTED_ERRORS = 50
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})
PLAN_KINDS = ("free", "one_time", "recurring", "usage")
MAX_PLUGIN_TESTS = 10

_Path = Sequence[str | int]


def _only_for(field: str, kinds: Iterable[str], message: str) -> dict[str, Any]:
    """Schema rule: ``field`` may appear only on plans of one of ``kinds``."""
    return {
        "if": {"required": ["kind"], "properties": {"kind": {"not": {"enum": list(kinds)}}}},
        "then": {"properties": {field: {"not": {}, "x-messages": {"not": message}}}},
    }


def _required_for(kinds: Iterable[str], fields: list[str]) -> dict[str, Any]:
    return {"if": {"required": ["kind"], "properties": {"kind": {"enum": list(kinds)}}}, "then": {"required": fields}}


# The one manifest schema. ``x-messages`` (ignored by validators) holds friendlier wording for a
# keyword's failure; ``format`` names are checked by ``_FORMATS`` below.
MANIFEST_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://souk.dev/schemas/app-manifest.json",
    "title": "Souk app manifest",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "redirect_uris", "scopes"],
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 100,
            "pattern": r"\S",
            "x-messages": {"pattern": "the name cannot be blank"},
        },
        "description": {"type": "string", "maxLength": 2000},
        "client_type": {
            "enum": ["confidential", "public"],
            "x-messages": {"enum": "client_type must be 'confidential' or 'public'"},
        },
        "redirect_uris": {
            "type": "array",
            "minItems": 1,
            "maxItems": 10,
            "uniqueItems": True,
            "items": {"type": "string", "maxLength": 2000, "format": "redirect-uri"},
        },
        "scopes": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {
                "type": "string",
                # A format, not an enum: extensions add scopes after this module is imported.
                "format": "scope",
                "x-messages": {"format": "is not a known scope (scopes look like read_orders or write_products)"},
            },
        },
        "webhooks": {
            "type": "array",
            "maxItems": 50,
            "uniqueItems": True,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["topic", "uri"],
                "properties": {
                    "topic": {
                        "type": "string",
                        "maxLength": 100,
                        "pattern": r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$",
                        "x-messages": {"pattern": "is not an event type (they look like order.paid)"},
                    },
                    "uri": {"type": "string", "maxLength": 2000, "format": "webhook-uri"},
                },
            },
        },
        "plugins": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["point", "module"],
                "properties": {
                    "point": {
                        "enum": list(EXTENSION_POINTS),
                        "x-messages": {
                            "enum": "is not an extension point (one of: " + ", ".join(EXTENSION_POINTS) + ")"
                        },
                    },
                    "module": {
                        "type": "string",
                        "maxLength": 200,
                        # A relative path inside the app's bundle: no leading slash, no . or .. segment.
                        "pattern": r"^(?!/)(?!(.*/)?\.\.?(/|$))[A-Za-z0-9_./-]+\.wasm$",
                        "x-messages": {
                            "pattern": "must be a relative path to a .wasm file (letters, digits, _ - . /; no ..)"
                        },
                    },
                    "config_schema": {"type": "object", "format": "json-schema"},
                    "tests": {
                        "type": "array",
                        "maxItems": MAX_PLUGIN_TESTS,
                        "items": {"$ref": "#/$defs/plugin_test"},
                        "x-messages": {"maxItems": f"a plugin declares at most {MAX_PLUGIN_TESTS} tests"},
                    },
                },
            },
        },
        "pricing": {"type": "array", "maxItems": 10, "items": {"$ref": "#/$defs/plan"}},
        # Ways to reach customers the app provides (docs/architecture.md §5.11): each becomes a message
        # channel of the shops that install it; Souk hands each message to the app as message.send_requested.
        "message_channels": {
            "type": "array",
            "maxItems": 10,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["key", "name"],
                "properties": {
                    "key": {
                        "type": "string",
                        "pattern": r"^[a-z0-9][a-z0-9_-]{0,39}$",
                        "x-messages": {"pattern": "a channel key is 1-40 lowercase letters, digits, _ or -"},
                    },
                    "name": {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": 100,
                        "pattern": r"\S",
                        "x-messages": {"pattern": "a channel name cannot be blank"},
                    },
                    "kinds": {
                        "type": "array",
                        "maxItems": 10,
                        "uniqueItems": True,
                        "items": {
                            "type": "string",
                            "pattern": r"^[a-z][a-z0-9_]{0,39}$",
                            "x-messages": {"pattern": "a kind looks like sms or wechat_template"},
                        },
                    },
                },
            },
        },
    },
    "$defs": {
        # A plugin's own example: run at listing review through the sandbox with production limits.
        # ``input`` is the point's input (``config`` defaults to {}); ``expect``, when given, must
        # equal the output exactly.
        "plugin_test": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "input"],
            "properties": {
                "name": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": 100,
                    "pattern": r"\S",
                    "x-messages": {"pattern": "a test name cannot be blank"},
                },
                "input": {"type": "object", "x-messages": {"type": "a test's input is an object (the point's input)"}},
                "expect": {"type": "object", "x-messages": {"type": "expect is an object (the exact output)"}},
            },
        },
        "plan": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "kind"],
            "properties": {
                "id": {
                    "type": "string",
                    "pattern": r"^[a-z0-9][a-z0-9_-]{0,39}$",
                    "x-messages": {"pattern": "a plan id is 1-40 lowercase letters, digits, _ or -"},
                },
                "kind": {
                    "enum": list(PLAN_KINDS),
                    "x-messages": {"enum": "kind must be one of: " + ", ".join(PLAN_KINDS)},
                },
                "price": {"type": "integer", "minimum": 0, "maximum": 10**12},
                "currency": {
                    "type": "string",
                    "pattern": r"^[A-Z]{3}$",
                    "x-messages": {"pattern": "a currency is a three-letter ISO 4217 code such as CNY"},
                },
                "interval": {"enum": ["month", "year"], "x-messages": {"enum": "interval must be 'month' or 'year'"}},
                "trial_days": {"type": "integer", "minimum": 0, "maximum": 365},
                "usage_cap": {"type": "integer", "minimum": 1, "maximum": 10**12},
                "rate_limit": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["requests_per_second", "burst"],
                    "properties": {
                        "requests_per_second": {"type": "integer", "minimum": 1, "maximum": 10000},
                        "burst": {"type": "integer", "minimum": 1, "maximum": 100000},
                    },
                },
            },
            "allOf": [
                _required_for(["one_time", "recurring", "usage"], ["price", "currency"]),
                _required_for(["recurring"], ["interval"]),
                _required_for(["usage"], ["usage_cap"]),
                {
                    "if": {"required": ["kind"], "properties": {"kind": {"const": "free"}}},
                    "then": {
                        "properties": {"price": {"const": 0, "x-messages": {"const": "a free plan's price is 0"}}}
                    },
                },
                _only_for("interval", ["recurring"], "interval is only for recurring plans"),
                _only_for("trial_days", ["recurring", "usage"], "trial_days is only for recurring and usage plans"),
                _only_for("usage_cap", ["usage"], "usage_cap is only for usage plans"),
            ],
        },
    },
}


class _ConfigSchemaError(ValueError):
    """A plugin's config_schema is not a valid JSON Schema; ``path`` is where, inside it."""

    def __init__(self, message: str, path: _Path) -> None:
        super().__init__(message)
        self.path = list(path)


_FORMATS = FormatChecker(formats=())


def check_redirect_uri(uri: str) -> None:
    """Raise ValueError unless ``uri`` is https (or http on localhost/127.0.0.1) without a fragment."""
    parts = _split_url(uri)
    if "#" in uri:
        raise ValueError(f"{uri!r} has a fragment (#…); redirect URIs cannot")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ValueError(f"{uri!r} uses http; only https is allowed, or http for localhost and 127.0.0.1")
    if parts.scheme not in ("https", "http"):
        raise ValueError(f"{uri!r} must be an https URL")


def _split_url(uri: str) -> Any:
    if any(ch.isspace() or ord(ch) < 32 for ch in uri):
        raise ValueError(f"{uri!r} contains spaces or control characters")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"{uri!r} is not a valid URL ({exc})") from exc
    if not parts.scheme or not parts.hostname:
        raise ValueError(f"{uri!r} is not an absolute URL with a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{uri!r} contains a user name or password")
    return parts


@_FORMATS.checks("redirect-uri", raises=ValueError)
def _is_redirect_uri(instance: object) -> bool:
    if isinstance(instance, str):
        check_redirect_uri(instance)
    return True


@_FORMATS.checks("scope")
def _is_scope(instance: object) -> bool:
    return not isinstance(instance, str) or scope_registry.is_known(instance)


@_FORMATS.checks("webhook-uri", raises=ValueError)
def _is_webhook_uri(instance: object) -> bool:
    # http only on this computer, for development: Souk's SSRF guard refuses loopback endpoints unless
    # SOUK_WEBHOOKS_ALLOW_LOOPBACK is on, and the listing checks do the same.
    if isinstance(instance, str):
        parts = _split_url(instance)
        if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ValueError(f"{instance!r} uses http; only https is allowed, or http for localhost and 127.0.0.1")
        if parts.scheme not in ("https", "http"):
            raise ValueError(f"{instance!r} must be an https URL")
        if "#" in instance:
            raise ValueError(f"{instance!r} has a fragment (#…)")
        # Each endpoint becomes a subscription at install: the guard that checks subscriptions checks it
        # too. Loopback passes here (a manifest does not know the deployment's setting); delivery decides.
        problem = registration_problem(instance, allow_loopback=True)
        if problem:
            raise ValueError(f"{instance!r}: {problem}")
    return True


@_FORMATS.checks("json-schema", raises=ValueError)
def _is_json_schema(instance: object) -> bool:
    if isinstance(instance, dict):
        try:
            Draft202012Validator.check_schema(instance)
        except SchemaError as exc:
            raise _ConfigSchemaError(f"not a valid JSON Schema: {exc.message}", exc.absolute_path) from exc
    return True


def _is_integer(checker: Any, instance: object) -> bool:
    # Money and counts are integers: 100.0 is not accepted where an integer is expected.
    return isinstance(instance, int) and not isinstance(instance, bool)


_Validator = extend(
    Draft202012Validator, type_checker=Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer)
)
_VALIDATOR = _Validator(MANIFEST_SCHEMA, format_checker=_FORMATS)

_STR, _INT, _FLOAT, _BOOL, _NULL = (f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP = "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map"
_TIMESTAMP, _BINARY = "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary"


class _ManifestLoader(yaml.SafeLoader):
    """The safe loader, refusing anchors and aliases where they appear (no "billion laughs")."""

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (*) are not allowed", event.start_mark)
        event = self.peek_event()
        if getattr(event, "anchor", None) is not None:
            raise yaml.composer.ComposerError(None, None, "anchors and aliases (&) are not allowed", event.start_mark)
        return super().compose_node(parent, index)  # type: ignore[arg-type]


def _problem(node: yaml.Node | None, path: _Path, message: str) -> dict[str, Any]:
    mark = node.start_mark if node is not None else None
    return {
        "path": ".".join(str(part) for part in path),
        "line": mark.line + 1 if mark else 1,
        "column": mark.column + 1 if mark else 1,
        "message": message,
    }


def _locate(root: yaml.Node, path: _Path, *, key: bool = False) -> yaml.Node:
    """The node at ``path`` (or, with ``key``, the key node of its last part); the deepest found."""
    node = root
    for index, part in enumerate(path):
        last = index == len(path) - 1
        if isinstance(node, yaml.MappingNode):
            match = next((pair for pair in node.value if pair[0].value == part), None)
            if match is None:
                return node
            node = match[0] if key and last else match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


def _check_plain_json(node: yaml.Node, path: list[str | int], problems: list[dict[str, Any]]) -> None:
    """Only what JSON can say: string keys, no dates, sets or custom tags, finite numbers."""
    if len(path) > MAX_DEPTH:
        problems.append(_problem(node, path, f"nested deeper than {MAX_DEPTH} levels"))
        return
    if isinstance(node, yaml.MappingNode):
        if node.tag != _MAP:
            problems.append(_problem(node, path, f"the tag {node.tag} is not allowed"))
            return
        keys: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR:
                problems.append(_problem(key_node, path, "keys must be plain strings (quote them)"))
                continue
            if key_node.value in keys:
                problems.append(_problem(key_node, [*path, key_node.value], f"duplicate key {key_node.value!r}"))
            keys.add(key_node.value)
            _check_plain_json(value_node, [*path, key_node.value], problems)
    elif isinstance(node, yaml.SequenceNode):
        if node.tag != _SEQ:
            problems.append(_problem(node, path, f"the tag {node.tag} is not allowed"))
            return
        for index, item in enumerate(node.value):
            _check_plain_json(item, [*path, index], problems)
    elif node.tag in (_TIMESTAMP, _BINARY):
        kind = node.tag.rsplit(":", 1)[-1]
        problems.append(_problem(node, path, f"a {kind} value is not allowed here; quote it to make it a string"))
    elif node.tag not in (_STR, _INT, _FLOAT, _BOOL, _NULL):
        problems.append(_problem(node, path, f"the tag {node.tag} is not allowed"))
    elif "\x00" in node.value:
        problems.append(_problem(node, path, "NUL characters are not allowed"))
    elif node.tag == _FLOAT and node.value.lower().lstrip("+-") in (".inf", ".nan"):
        problems.append(_problem(node, path, "numbers must be finite"))


def _message(error: ValidationError) -> str:
    custom = error.schema.get("x-messages", {}) if isinstance(error.schema, dict) else {}
    if error.validator in custom:
        text = str(custom[error.validator])
        return f"{error.instance!r} {text}" if text.startswith("is ") else text
    if error.validator == "format" and error.cause is not None:
        return str(error.cause)
    return error.message


def _schema_problems(root: yaml.Node, data: Any) -> list[dict[str, Any]]:
    problems = []
    for error in _VALIDATOR.iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            allowed = error.schema.get("properties", {})
            for extra in (name for name in error.instance if name not in allowed):
                node = _locate(root, [*path, extra], key=True)
                problems.append(_problem(node, [*path, extra], f"unknown key {extra!r}"))
            continue
        if isinstance(error.cause, _ConfigSchemaError):
            path += error.cause.path
        problems.append(_problem(_locate(root, path), path, _message(error)))
    return problems


def _duplicates(root: yaml.Node, data: dict[str, Any]) -> list[dict[str, Any]]:
    """What the schema cannot say: plan ids are unique, so is each plugin's (point, module), and so
    are the test names within one plugin."""
    problems: list[dict[str, Any]] = []
    plan_ids: set[str] = set()
    for index, plan in enumerate(data.get("pricing", [])):
        if plan["id"] in plan_ids:
            path: list[str | int] = ["pricing", index, "id"]
            problems.append(_problem(_locate(root, path), path, f"another plan already has the id {plan['id']!r}"))
        plan_ids.add(plan["id"])
    plugins: set[tuple[str, str]] = set()
    for index, plugin in enumerate(data.get("plugins", [])):
        key = (plugin["point"], plugin["module"])
        if key in plugins:
            path = ["plugins", index, "module"]
            message = f"{plugin['module']!r} is already listed for {plugin['point']}"
            problems.append(_problem(_locate(root, path), path, message))
        plugins.add(key)
        test_names: set[str] = set()
        for number, test in enumerate(plugin.get("tests", [])):
            if test["name"] in test_names:
                path = ["plugins", index, "tests", number, "name"]
                message = f"another test of this plugin is already named {test['name']!r}"
                problems.append(_problem(_locate(root, path), path, message))
            test_names.add(test["name"])
    channel_keys: set[str] = set()
    for index, channel in enumerate(data.get("message_channels", [])):
        if channel["key"] in channel_keys:
            path = ["message_channels", index, "key"]
            message = f"another message channel already has the key {channel['key']!r}"
            problems.append(_problem(_locate(root, path), path, message))
        channel_keys.add(channel["key"])
    if data.get("message_channels"):
        if "read_messages" not in data["scopes"] and "write_messages" not in data["scopes"]:
            path = ["scopes"]
            message = "an app providing message_channels asks for read_messages (to receive and report messages)"
            problems.append(_problem(_locate(root, path), path, message))
        if not any(hook["topic"] == "message.send_requested" for hook in data.get("webhooks", [])):
            path = ["message_channels"]
            message = "an app providing message_channels declares a webhook for message.send_requested"
            problems.append(_problem(_locate(root, path), path, message))
    return problems


def _normalise_plugin(plugin: dict[str, Any]) -> dict[str, Any]:
    entry = {"point": plugin["point"], "module": plugin["module"], "config_schema": plugin.get("config_schema", {})}
    if "tests" in plugin:  # only when declared: manifests without tests keep their stored form
        entry["tests"] = list(plugin["tests"])
    return entry


def normalise(data: dict[str, Any]) -> dict[str, Any]:
    """The canonical form stored on a version: defaults filled in, order-free lists sorted."""
    normalised: dict[str, Any] = {
        "name": data["name"],
        "description": data.get("description", ""),
        "client_type": data.get("client_type", "confidential"),
        "redirect_uris": list(data["redirect_uris"]),
        "scopes": sorted(data["scopes"]),
        "webhooks": sorted(data.get("webhooks", []), key=lambda hook: (hook["topic"], hook["uri"])),
        "plugins": [_normalise_plugin(plugin) for plugin in data.get("plugins", [])],
        "pricing": list(data.get("pricing", [])),
    }
    if "message_channels" in data:  # only when declared: other manifests keep their stored form
        normalised["message_channels"] = [
            {"key": c["key"], "name": c["name"], "kinds": sorted(c.get("kinds", []))} for c in data["message_channels"]
        ]
    return normalised


def parse_manifest(text: str) -> dict[str, Any]:
    """Parse and validate manifest ``text`` (YAML or JSON); return it normalised.

    Raises ``InvalidManifest`` whose ``problems`` give ``path``, 1-based ``line`` and ``column``,
    and ``message`` for every error found (syntax errors stop at the first).
    """
    if len(text) > MAX_MANIFEST_CHARS:
        raise InvalidManifest([_problem(None, [], f"the manifest is longer than {MAX_MANIFEST_CHARS} characters")])
    loader = _ManifestLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise InvalidManifest([_problem(None, [], "the manifest is empty")])
        problems: list[dict[str, Any]] = []
        _check_plain_json(root, [], problems)
        if problems:
            raise InvalidManifest(problems[:MAX_REPORTED_ERRORS])
        data = loader.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = "; ".join(part for part in (exc.context, exc.problem) if part) or "not valid YAML or JSON"
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise InvalidManifest([{"path": "", "line": line, "column": column, "message": message}]) from exc
    except yaml.YAMLError as exc:
        raise InvalidManifest([_problem(None, [], f"syntax error: {exc}")]) from exc
    except RecursionError as exc:
        raise InvalidManifest([_problem(None, [], "the manifest is nested too deeply")]) from exc
    finally:
        loader.dispose()
    problems = _schema_problems(root, data)
    if not problems:
        problems = _duplicates(root, data)
    if problems:
        problems.sort(key=lambda problem: (problem["line"], problem["column"]))
        raise InvalidManifest(problems[:MAX_REPORTED_ERRORS])
    return normalise(data)
