"""The app manifest: YAML or JSON, one schema, and every error pointing at its line and column."""

from __future__ import annotations

import json
import textwrap

import pytest

from souk_platform.apps.errors import InvalidManifest
from souk_platform.apps.manifest import MANIFEST_SCHEMA, parse_manifest

GOOD_YAML = textwrap.dedent(
    """\
    name: Loyalty Boost
    description: Double points on rainy days.
    redirect_uris:
      - https://boost.example.com/oauth/callback
      - http://localhost:8765/callback
    scopes:
      - read_orders
      - read_customers
    webhooks:
      - topic: order.paid
        uri: https://boost.example.com/hooks
    plugins:
      - point: points.earn
        module: plugins/earn.wasm
        config_schema:
          type: object
          properties:
            multiplier: {type: integer, minimum: 1}
    pricing:
      - id: free
        kind: free
      - id: pro
        kind: recurring
        price: 9900
        currency: CNY
        interval: month
        trial_days: 14
        rate_limit: {requests_per_second: 5, burst: 20}
      - id: metered
        kind: usage
        price: 1
        currency: CNY
        usage_cap: 50000
    """
)


def problems_of(text: str) -> list[dict]:
    with pytest.raises(InvalidManifest) as caught:
        parse_manifest(text)
    return caught.value.problems


def only_problem(text: str) -> dict:
    found = problems_of(text)
    assert len(found) == 1, found
    return found[0]


def minimal(**extra: object) -> dict:
    manifest: dict = {"name": "Boost", "redirect_uris": ["https://boost.example.com/cb"], "scopes": ["read_orders"]}
    manifest.update(extra)
    return manifest


def test_good_yaml_is_normalised_with_defaults_and_sorted_scopes():
    manifest = parse_manifest(GOOD_YAML)
    assert manifest["name"] == "Loyalty Boost"
    assert manifest["client_type"] == "confidential"
    assert manifest["scopes"] == ["read_customers", "read_orders"]
    assert manifest["plugins"][0]["config_schema"]["properties"]["multiplier"] == {"type": "integer", "minimum": 1}
    assert [plan["id"] for plan in manifest["pricing"]] == ["free", "pro", "metered"]


def test_the_same_manifest_as_json_normalises_to_the_same_thing():
    as_yaml = parse_manifest(GOOD_YAML)
    as_json = parse_manifest(json.dumps(as_yaml, indent=2))
    assert as_json == as_yaml


def test_defaults_are_filled_in_for_a_minimal_public_client():
    manifest = parse_manifest(json.dumps(minimal(client_type="public")))
    assert manifest == {
        "name": "Boost",
        "description": "",
        "client_type": "public",
        "redirect_uris": ["https://boost.example.com/cb"],
        "scopes": ["read_orders"],
        "webhooks": [],
        "plugins": [],
        "pricing": [],
    }


def test_the_schema_is_itself_a_valid_draft_2020_12_schema():
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(MANIFEST_SCHEMA)


def test_yaml_syntax_error_gives_the_line():
    text = "name: Boost\nscopes:\n  - read_orders\nredirect_uris: [https://a.example/cb\n"
    problem = only_problem(text)
    assert problem["line"] == 5 and problem["path"] == ""
    assert "expected" in problem["message"]


def test_json_syntax_error_gives_the_line():
    text = '{\n  "name": "Boost",\n  "scopes": ["read_orders"],,\n  "redirect_uris": []\n}'
    problem = only_problem(text)
    assert (problem["line"], problem["column"]) == (3, 29)


def test_bad_scope_points_at_its_list_item():
    text = "name: Boost\nredirect_uris:\n  - https://a.example/cb\nscopes:\n  - read_orders\n  - read_orders_plus\n"
    problem = only_problem(text)
    assert problem == {
        "path": "scopes.1",
        "line": 6,
        "column": 5,
        "message": "'read_orders_plus' is not a known scope (scopes look like read_orders or write_products)",
    }


def test_unknown_key_points_at_the_key_itself_even_when_nested():
    text = GOOD_YAML.replace(
        "    uri: https://boost.example.com/hooks\n", "    uri: https://boost.example.com/hooks\n    secret: x\n"
    )
    text += "colour: blue\n"
    found = problems_of(text)
    assert [(p["path"], p["line"], p["column"], p["message"]) for p in found] == [
        ("webhooks.0.secret", 12, 5, "unknown key 'secret'"),
        ("colour", 35, 1, "unknown key 'colour'"),
    ]


def test_http_redirect_is_refused_except_on_loopback():
    text = json.dumps(minimal(redirect_uris=["http://127.0.0.1:9000/cb", "http://boost.example.com/cb"]), indent=1)
    problem = only_problem(text)
    assert problem["path"] == "redirect_uris.1"
    assert problem["line"] == 5  # "{", "name", "redirect_uris": [, the first uri, then this one
    assert "only https is allowed" in problem["message"]
    assert parse_manifest(json.dumps(minimal(redirect_uris=["http://localhost/cb", "http://127.0.0.1:1/cb"])))


@pytest.mark.parametrize(
    ("uri", "says"),
    [
        ("https://boost.example.com/cb#frag", "fragment"),
        ("https://boost.example.com/cb#", "fragment"),
        ("ftp://boost.example.com/cb", "https"),
        ("/relative/cb", "absolute URL"),
        ("https://user:pw@boost.example.com/cb", "user name or password"),
        ("https://boost.example.com:99999/cb", "not a valid URL"),
        ("https://boost.example.com/c b", "spaces"),
    ],
)
def test_bad_redirect_uris_are_explained(uri, says):
    problem = only_problem(f"name: Boost\nscopes: [read_orders]\nredirect_uris:\n  - '{uri}'\n")
    assert problem["line"] == 4 and problem["path"] == "redirect_uris.0"
    assert says in problem["message"]


def test_redirect_uris_count_is_bounded():
    assert "should be non-empty" in only_problem(json.dumps(minimal(redirect_uris=[])))["message"]
    many = [f"https://a.example/{n}" for n in range(11)]
    assert "is too long" in only_problem(json.dumps(minimal(redirect_uris=many)))["message"]


def test_bad_extension_point_and_module_path():
    text = textwrap.dedent(
        """\
        name: Boost
        redirect_uris: [https://a.example/cb]
        scopes: [read_orders]
        plugins:
          - point: checkout.magic
            module: ../../etc/passwd.wasm
          - point: cart.validate
            module: /abs/plugin.wasm
          - point: cart.validate
            module: plugin.js
        """
    )
    found = problems_of(text)
    assert [(p["path"], p["line"]) for p in found] == [
        ("plugins.0.point", 5),
        ("plugins.0.module", 6),
        ("plugins.1.module", 8),
        ("plugins.2.module", 10),
    ]
    assert "is not an extension point" in found[0]["message"] and "cart.discounts" in found[0]["message"]
    assert "relative path to a .wasm file" in found[1]["message"]


def test_invalid_config_schema_points_inside_it():
    text = textwrap.dedent(
        """\
        name: Boost
        redirect_uris: [https://a.example/cb]
        scopes: [read_orders]
        plugins:
          - point: cart.discounts
            module: discounts.wasm
            config_schema:
              type: object
              properties:
                percent:
                  type: percentage
        """
    )
    problem = only_problem(text)
    assert problem["path"] == "plugins.0.config_schema.properties.percent.type"
    assert problem["line"] == 11
    assert problem["message"].startswith("not a valid JSON Schema")


def test_same_plugin_twice_is_refused():
    plugin = {"point": "cart.validate", "module": "v.wasm"}
    problem = only_problem(json.dumps(minimal(plugins=[plugin, plugin]), indent=1))
    assert problem["path"] == "plugins.1.module" and "already listed" in problem["message"]


def test_webhooks_need_an_event_topic_and_https():
    hooks = [{"topic": "paid", "uri": "http://a.example/h"}]
    found = problems_of(json.dumps(minimal(webhooks=hooks), indent=1))
    assert {p["path"] for p in found} == {"webhooks.0.topic", "webhooks.0.uri"}


@pytest.mark.parametrize("uri", ["http://127.0.0.1:8000/hooks", "http://localhost/h", "https://a.example/h"])
def test_webhooks_may_use_http_on_this_computer_for_development(uri):
    manifest = parse_manifest(json.dumps(minimal(webhooks=[{"topic": "order.paid", "uri": uri}]), indent=1))
    assert manifest["webhooks"] == [{"topic": "order.paid", "uri": uri}]


@pytest.mark.parametrize("uri", ["ftp://a.example/h", "https://a.example/h#frag", "http://10.0.0.1/h"])
def test_other_webhook_uris_are_refused(uri):
    found = problems_of(json.dumps(minimal(webhooks=[{"topic": "order.paid", "uri": uri}]), indent=1))
    assert [p["path"] for p in found] == ["webhooks.0.uri"]


@pytest.mark.parametrize(
    "uri",
    [
        "https://10.0.0.1/h",
        "https://169.254.169.254/latest/meta-data/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[fd00::1]/h",
        "https://0.0.0.0/h",
        "https://167772161/h",  # 10.0.0.1
    ],
)
def test_webhook_uris_at_internal_addresses_are_refused_even_over_https(uri):
    # They become subscriptions when a shop installs the app: the SSRF guard refuses them here too.
    (problem,) = problems_of(json.dumps(minimal(webhooks=[{"topic": "order.paid", "uri": uri}]), indent=1))
    assert problem["path"] == "webhooks.0.uri" and "public addresses" in problem["message"], problem


@pytest.mark.parametrize(
    ("plan", "path", "says"),
    [
        ({"id": "pro", "kind": "recurring", "price": 100, "currency": "CNY"}, "pricing.0", "'interval' is a required"),
        ({"id": "pro", "kind": "free", "price": 100}, "pricing.0.price", "a free plan's price is 0"),
        (
            {"id": "pro", "kind": "one_time", "price": 1, "currency": "CNY", "interval": "month"},
            "pricing.0.interval",
            "only for recurring",
        ),
        (
            {"id": "pro", "kind": "one_time", "price": 9.5, "currency": "CNY"},
            "pricing.0.price",
            "not of type 'integer'",
        ),
        (
            {"id": "pro", "kind": "one_time", "price": 100.0, "currency": "CNY"},
            "pricing.0.price",
            "not of type 'integer'",
        ),
        ({"id": "pro", "kind": "one_time", "price": -1, "currency": "CNY"}, "pricing.0.price", "less than the minimum"),
        ({"id": "pro", "kind": "one_time", "price": 1, "currency": "yuan"}, "pricing.0.currency", "ISO 4217"),
        ({"id": "pro", "kind": "usage", "price": 1, "currency": "CNY"}, "pricing.0", "'usage_cap' is a required"),
        ({"id": "pro", "kind": "rental"}, "pricing.0.kind", "kind must be one of"),
        ({"id": "Pro Plan", "kind": "free"}, "pricing.0.id", "a plan id is"),
        (
            {"id": "p", "kind": "free", "rate_limit": {"requests_per_second": 0, "burst": 1}},
            "pricing.0.rate_limit.requests_per_second",
            "minimum",
        ),
    ],
)
def test_pricing_plan_rules(plan, path, says):
    problem = only_problem(json.dumps(minimal(pricing=[plan]), indent=1))
    assert problem["path"] == path
    assert says in problem["message"]


def test_duplicate_plan_ids_are_refused():
    plan = {"id": "free", "kind": "free"}
    problem = only_problem(json.dumps(minimal(pricing=[plan, plan]), indent=1))
    assert problem["path"] == "pricing.1.id"


def test_missing_fields_and_blank_name():
    found = problems_of("name: '   '\n")
    messages = {p["message"] for p in found}
    assert "'redirect_uris' is a required property" in messages
    assert "'scopes' is a required property" in messages
    assert "the name cannot be blank" in messages
    assert "is too long" in only_problem(json.dumps(minimal(name="x" * 101)))["message"]


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("", 1, "empty"),
        ("- a list\n", 1, "is not of type 'object'"),
        ("name: Boost\nname: Again\n", 2, "duplicate key"),
        ("name: &n Boost\ndescription: *n\n", 1, "anchors and aliases"),
        ("name: Boost\nreleased: 2026-01-01\n", 2, "timestamp"),
        ("name: !!python/object:os.system x\n", 1, "tag"),
        ("name: Boost\n1: one\n", 2, "keys must be plain strings"),
        ("---\nname: a\n---\nname: b\n", 3, "single document"),
        ("[" * 2000, 1, "nested"),
    ],
)
def test_yaml_features_json_cannot_say_are_refused(text, line, says):
    found = problems_of(text)
    assert found[0]["line"] == line
    assert says in found[0]["message"]


def test_an_oversized_manifest_is_refused_before_parsing():
    assert "longer than" in only_problem("description: " + "x" * 70_000)["message"]


def test_error_detail_names_the_first_line():
    with pytest.raises(InvalidManifest) as caught:
        parse_manifest("name: Boost\nscopes: [nope]\nredirect_uris: [https://a.example/cb]\n")
    assert caught.value.status == 422
    assert "line 2" in caught.value.detail
    assert caught.value.to_problem()["errors"]["manifest"][0]["line"] == 2
