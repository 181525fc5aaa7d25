"""The marketplace's scopes reach every reader of the scope registry (docs/architecture.md §3).

The platform's modules are imported before the marketplace registers, so anything that copied the registry
at import time would miss billing, requirements and services. Each reader here must offer them.
"""

from __future__ import annotations

import pytest

from souk_platform.apps.errors import InvalidManifest
from souk_platform.apps.manifest import parse_manifest
from souk_platform.web.forms import TokenForm

MARKETPLACE_SCOPES = {"read_billing", "write_billing", "read_requirements", "write_requirements", "read_services"}
MANIFEST = """
name: Helper
redirect_uris: [https://helper.example/callback]
scopes: [read_orders, {scope}]
"""


def test_oauth_metadata_and_authorization_server_support_the_marketplace_scopes(app, client):
    metadata = client.get("/.well-known/oauth-authorization-server").get_json()
    assert set(metadata["scopes_supported"]) >= MARKETPLACE_SCOPES | {"read_orders"}
    assert set(app.extensions["souk.oauth"].scopes_supported) >= MARKETPLACE_SCOPES  # authlib checks requests here


def test_the_token_form_offers_and_describes_the_marketplace_scopes(app):
    with app.test_request_context():
        form = TokenForm(formdata=None)
        assert {value for value, _ in form.scopes.choices} >= MARKETPLACE_SCOPES
        assert form.scope_descriptions()["read_billing"] == "See app charges, subscriptions and invoices"


def test_an_app_manifest_may_ask_for_a_marketplace_scope_but_not_an_unknown_one():
    assert "read_billing" in parse_manifest(MANIFEST.format(scope="read_billing"))["scopes"]
    with pytest.raises(InvalidManifest) as refused:
        parse_manifest(MANIFEST.format(scope="read_everything"))
    assert "is not a known scope" in refused.value.problems[0]["message"]
