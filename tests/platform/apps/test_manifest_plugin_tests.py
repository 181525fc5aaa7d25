"""A plugin's declared test inputs in the manifest (``tests``): shape, limits, and errors at their line."""

from __future__ import annotations

import json
import textwrap

import pytest

from souk_platform.apps.errors import InvalidManifest
from souk_platform.apps.manifest import MAX_PLUGIN_TESTS, parse_manifest


def manifest_with(tests: object) -> dict:
    return {
        "name": "Boost",
        "redirect_uris": ["https://boost.example.com/cb"],
        "scopes": ["read_orders"],
        "plugins": [{"point": "cart.discounts", "module": "plugins/discount.wasm", "tests": tests}],
    }


def problems(text: str) -> list[dict]:
    with pytest.raises(InvalidManifest) as caught:
        parse_manifest(text)
    return caught.value.problems


def test_tests_are_kept_in_the_normalised_manifest_and_absent_ones_stay_absent():
    tests = [{"name": "big cart", "input": {"lines": [], "subtotal": 0}, "expect": {"discounts": []}}]
    parsed = parse_manifest(json.dumps(manifest_with(tests)))
    assert parsed["plugins"][0]["tests"] == tests
    without = manifest_with(tests)
    del without["plugins"][0]["tests"]
    assert "tests" not in parse_manifest(json.dumps(without))["plugins"][0]


@pytest.mark.parametrize(
    ("tests", "path", "message"),
    [
        ([{"name": "t", "input": [1]}], "plugins.0.tests.0.input", "a test's input is an object (the point's input)"),
        (
            [{"name": "t", "input": {}, "expect": "ok"}],
            "plugins.0.tests.0.expect",
            "expect is an object (the exact output)",
        ),
        ([{"name": "  ", "input": {}}], "plugins.0.tests.0.name", "a test name cannot be blank"),
        ([{"name": "t", "input": {}, "stdin": "x"}], "plugins.0.tests.0.stdin", "unknown key 'stdin'"),
        ([{"name": "t"}], "plugins.0.tests.0", "'input' is a required property"),
        (
            [{"name": f"t{n}", "input": {}} for n in range(MAX_PLUGIN_TESTS + 1)],
            "plugins.0.tests",
            "a plugin declares at most 10 tests",
        ),
        (
            [{"name": "same", "input": {}}, {"name": "same", "input": {}}],
            "plugins.0.tests.1.name",
            "another test of this plugin is already named 'same'",
        ),
    ],
)
def test_bad_tests_are_named_with_their_path(tests, path, message):
    found = problems(json.dumps(manifest_with(tests), indent=1))
    assert [(p["path"], p["message"]) for p in found] == [(path, message)]


def test_a_yaml_error_in_a_test_points_at_its_line():
    text = textwrap.dedent(
        """\
        name: Boost
        redirect_uris: [https://boost.example.com/cb]
        scopes: [read_orders]
        plugins:
          - point: cart.discounts
            module: plugins/discount.wasm
            tests:
              - name: small cart
                input: not an object
        """
    )
    (problem,) = problems(text)
    assert (problem["path"], problem["line"]) == ("plugins.0.tests.0.input", 9)
