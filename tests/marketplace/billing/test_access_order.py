"""Who may call a billing endpoint is settled first: a token without the right gets 403, whether or
not the object exists and whatever the body holds (a 404 or 422 first would tell it what exists)."""

from __future__ import annotations

from factories import token_for
from souk_platform.auth.services import create_access_token
from souk_platform.shops.models import Shop

MISSING_SUBSCRIPTION = "/api/v1/billing/subscriptions/asub_00000000000000000000000000"
MISSING_CHARGE = "/api/v1/billing/charges/achg_00000000000000000000000000"
MISSING_INVOICE = "/api/v1/billing/invoices/binv_00000000000000000000000000"


def _refused(response, problem: str) -> None:
    assert response.status_code == 403, response.get_json()
    assert response.get_json()["type"].endswith("/" + problem)


def test_a_staff_token_without_the_billing_scope_gets_403_before_any_lookup(client, session, world):
    no_billing = token_for(session.get(Shop, world.shop_id), ["read_orders"])
    _refused(client.get(MISSING_SUBSCRIPTION, headers=no_billing), "insufficient-scope")
    _refused(client.get(MISSING_CHARGE, headers=no_billing), "insufficient-scope")
    _refused(client.post(MISSING_SUBSCRIPTION + "/cancel", headers=no_billing), "insufficient-scope")
    read_only = token_for(session.get(Shop, world.shop_id), ["read_billing"])
    _refused(client.post(MISSING_SUBSCRIPTION + "/cancel", headers=read_only), "insufficient-scope")
    # With the scope, the same requests reach the lookup.
    assert client.get(MISSING_CHARGE, headers=read_only).status_code == 404


def test_a_staff_token_cannot_refund_even_with_a_bad_body_or_an_unknown_charge(client, session, world):
    staff = token_for(session.get(Shop, world.shop_id))
    _refused(client.post(MISSING_CHARGE + "/refunds", headers=staff, json={}), "not-the-apps-charge")
    _refused(client.post(MISSING_CHARGE + "/refunds", headers=staff, json={"amount": 1}), "not-the-apps-charge")


def test_an_apps_token_gets_403_on_invoices_before_any_lookup_or_query_check(client, session, world):
    # An installation token that carries read_billing (the merchant granted it): still not staff.
    _, token = create_access_token(
        session,
        shop_id=world.shop_id,
        name="boost",
        scopes=["read_billing"],
        created_by=None,
        installation_id=world.installation_id,
    )
    session.commit()
    app_token = {"Authorization": f"Bearer {token}"}
    _refused(client.get(MISSING_INVOICE, headers=app_token), "staff-token-required")
    _refused(client.get("/api/v1/billing/invoices?limit=0", headers=app_token), "staff-token-required")
