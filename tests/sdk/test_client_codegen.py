"""The client cannot drift from the API: souk_sdk/api.py is exactly what the generator makes of the live spec."""

from __future__ import annotations

import difflib
import inspect
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import souk_sdk
from souk_sdk import _codegen
from souk_sdk.api import OPERATIONS, ApiResources
from souk_sdk.client import Client

API_MODULE = Path(_codegen.__file__).with_name("api.py")
REGENERATE = "souk openapi write openapi.json && python -m souk_sdk._codegen openapi.json"


@pytest.fixture(scope="module")
def spec(app: Any) -> dict[str, Any]:
    return app.extensions["souk.api"].spec.to_dict()


def spec_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (verb.upper(), path)
        for path, item in spec["paths"].items()
        if path.startswith("/api/v1/")
        for verb in item
        if verb in ("get", "post", "put", "patch", "delete")
    }


def test_the_committed_module_is_what_the_live_spec_generates(spec):
    committed, fresh = API_MODULE.read_text(encoding="utf-8"), _codegen.render(spec)
    if committed != fresh:
        diff = difflib.unified_diff(committed.splitlines(True), fresh.splitlines(True), "committed", "from the spec")
        pytest.fail(f"souk_sdk/api.py is stale; run: {REGENERATE}\n" + "".join(list(diff)[:80]))


def test_every_api_operation_has_a_client_method_and_every_method_an_operation(spec):
    covered = {(verb, path) for verb, path, _ in OPERATIONS}
    assert covered == spec_operations(spec)
    client = Client("http://127.0.0.1")
    for _, _, method in OPERATIONS:
        group, name = method.split(".")
        assert callable(getattr(getattr(client, group), name)), method
    groups = {m.split(".")[0] for _, _, m in OPERATIONS}
    wanted = {"products", "skus", "customers", "members", "tags", "segments", "coupons", "points", "stored_value"}
    wanted |= {"carts", "orders", "payments", "refunds", "reports", "webhook_subscriptions", "webhook_deliveries"}
    wanted |= {"plugins", "plugin_activations", "plugin_invocations", "installations", "app"}
    assert wanted <= groups


def test_every_paginated_list_has_an_iterator(spec):
    methods = {m for _, _, m in OPERATIONS}
    for verb, path, method in OPERATIONS:
        operation = spec["paths"][path][verb.lower()]
        names = {p.get("name") for p in [*spec["paths"][path].get("parameters", []), *operation.get("parameters", [])]}
        if "cursor" in names:
            group, name = method.split(".")
            if not name.startswith("iter"):
                iterator = "iter" if name == "list" else "iter_" + name.removeprefix("list_")
                assert f"{group}.{iterator}" in methods, method


def test_money_moving_posts_generate_an_idempotency_key(spec):
    for verb, path, method in OPERATIONS:
        operation = spec["paths"][path][verb.lower()]
        declared = any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
        if declared and not method.split(".")[1].startswith("iter"):
            group, name = method.split(".")
            assert "idempotency_key" in inspect.signature(getattr(getattr(Client("http://x"), group), name)).parameters
    assert {"carts.checkout", "payments.create", "refunds.create", "points.adjust", "stored_value.top_up"} <= {
        m for verb, path, m in OPERATIONS if "Idempotency-Key" in str(spec["paths"][path][verb.lower()])
    }


@pytest.mark.skipif(shutil.which("ruff", path=str(Path(sys.executable).parent)) is None, reason="ruff not installed")
def test_the_generated_module_is_already_formatted_and_clean():
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent))
    source = API_MODULE.read_text(encoding="utf-8")
    formatted = subprocess.run(
        [ruff, "format", "--stdin-filename", "api.py", "-"], input=source, capture_output=True, text=True, check=True
    )
    assert formatted.stdout == source
    lint = subprocess.run(
        [ruff, "check", "--stdin-filename", "api.py", "-"], input=source, capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout


# -- the generator on a small document -------------------------------------------------------------

TINY = {
    "openapi": "3.1.0",
    "tags": [{"name": "things", "description": "Things and their parts"}],
    "paths": {
        "/api/v1/things": {
            "get": {
                "tags": ["things"],
                "summary": "The things",
                "security": [{"bearerAuth": ["read_things"]}],
                "parameters": [
                    {"in": "query", "name": "from", "required": True, "schema": {"type": "string", "format": "date"}},
                    {"in": "query", "name": "kind", "schema": {"type": ["string", "null"], "enum": ["a", "b", None]}},
                    {"in": "query", "name": "limit", "schema": {"type": "integer"}},
                    {"in": "query", "name": "cursor", "schema": {"type": ["string", "null"]}},
                ],
                "responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingPage"}}}}
                },
            },
            "post": {
                "tags": ["things"],
                "parameters": [{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}],
                "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ThingIn"}}}},
                "responses": {
                    "201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}
                },
            },
        },
        "/api/v1/things/{thing_id}/polish": {
            "parameters": [{"in": "path", "name": "thing_id", "required": True, "schema": {"type": "string"}}],
            "post": {"tags": ["things"], "responses": {"204": {"description": "Polished"}}},
        },
        "/oauth/token": {"post": {"responses": {"200": {}}}},
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "properties": {
                    "id": {"type": "string"},
                    "from": {"type": "string"},
                    "size": {"$ref": "#/components/schemas/Size"},
                },
            },
            "Size": {"type": "object", "description": "How big", "properties": {"grams": {"type": "integer"}}},
            "ThingIn": {
                "type": "object",
                "properties": {"name": {"type": "string", "description": "Shown to buyers"}},
                "required": ["name"],
            },
            "ThingPage": {
                "type": "object",
                "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Thing"}},
                    "next_cursor": {"type": ["string", "null"]},
                },
                "required": ["items", "next_cursor"],
            },
        }
    },
}


class Recorder:
    """A Requester that records calls and answers with canned pages."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.calls.append((method, path, kwargs))
        return {"items": [], "next_cursor": None}

    def iterate(self, path: str, **kwargs: Any) -> Any:
        self.calls.append(("ITER", path, kwargs))
        return iter([{"id": "thg_1"}])


def load(source: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "generated_for_test"}
    exec(compile(source, "generated.py", "exec"), namespace)
    return namespace


def test_the_generator_turns_a_document_into_typed_methods():
    module = load(_codegen.render(TINY))
    things = module["ApiResources"](recorder := Recorder()).things
    assert [m for _, _, m in module["OPERATIONS"]] == ["things.list", "things.iter", "things.create", "things.polish"]
    assert module["OPERATIONS"][0][:2] == ("GET", "/api/v1/things")

    signature = inspect.signature(things.list)
    assert list(signature.parameters) == ["from_", "kind", "limit", "cursor"]  # required first; "from" is a keyword
    assert signature.parameters["from_"].default is inspect.Parameter.empty
    assert "datetime.date" in str(signature.parameters["from_"].annotation)
    things.list(from_="2026-03-01", kind="a")
    assert recorder.calls[-1] == (
        "GET",
        "/api/v1/things",
        {"query": {"from": "2026-03-01", "kind": "a", "limit": None, "cursor": None}},
    )
    assert list(things.iter(from_="2026-03-01")) == [{"id": "thg_1"}]
    assert recorder.calls[-1][2] == {"query": {"from": "2026-03-01", "kind": None, "limit": None}}

    things.create({"name": "Teapot"})
    assert recorder.calls[-1][2] == {"body": {"name": "Teapot"}, "idempotency_key": None, "auto_idempotency_key": True}
    assert things.polish("thg_1") is None
    assert recorder.calls[-1][2] == {"path_params": {"thing_id": "thg_1"}}


def test_schemas_become_typed_dicts_even_with_keyword_fields():
    source = _codegen.render(TINY)
    module = load(source)
    assert "    name: Required[str]" in source and module["ThingIn"].__total__ is False
    assert module["Thing"].__optional_keys__ == frozenset({"id", "from", "size"})  # functional syntax for "from"
    assert '"""How big"""' in source and "#: Shown to buyers" in source
    assert 'kind: Literal["a", "b"] | None = None' in source


def test_operations_without_a_chosen_name_are_listed():
    assert _codegen.unnamed_operations(TINY) == [
        "GET /api/v1/things → things.list",
        "POST /api/v1/things → things.create",
        "POST /api/v1/things/{thing_id}/polish → things.polish",
    ]


def test_a_schema_named_like_the_modules_own_names_is_refused():
    clashing = {**TINY, "components": {"schemas": {"Requester": {"type": "object"}}}}
    with pytest.raises(_codegen.SpecError, match="Requester"):
        _codegen.render(clashing)


def test_the_command_writes_the_module(tmp_path, capsys):
    import json

    spec_file, output = tmp_path / "openapi.json", tmp_path / "api.py"
    spec_file.write_text(json.dumps(TINY), encoding="utf-8")
    assert _codegen.main([str(spec_file), "-o", str(output)]) == 0
    assert output.read_text(encoding="utf-8") == _codegen.render(TINY)
    assert "things.polish" in capsys.readouterr().err


def test_the_public_surface_is_small():
    assert "Client" in souk_sdk.__all__ and "SoukError" in souk_sdk.__all__
    assert all(not name.startswith("_") for name in souk_sdk.__all__)
    assert issubclass(Client, ApiResources)
