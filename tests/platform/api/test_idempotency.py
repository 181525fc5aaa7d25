"""Idempotency-Key on a real money-moving endpoint: replays, misuse, and concurrent duplicates."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.ledger.models import LedgerTransfer
from souk_platform.ledger.services import check_invariants
from souk_platform.stored_value.services import stored_value_balance


def _top_up_url(customer_id: str) -> str:
    return f"/api/v1/customers/{customer_id}/stored-value/top-ups"


def _shop_with_customer(session):
    shop = ShopFactory()
    customer = Customer(shop_id=shop.id, name="Li Lei")
    session.add(customer)
    session.commit()
    return shop, customer


def test_replay_returns_the_first_response_and_moves_money_once(client, session):
    shop, customer = _shop_with_customer(session)
    headers = {**token_for(shop), "Idempotency-Key": "till-7-0001"}
    first = client.post(_top_up_url(customer.id), headers=headers, json={"amount": 10_000})
    again = client.post(_top_up_url(customer.id), headers=headers, json={"amount": 10_000})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert stored_value_balance(session, shop_id=shop.id, customer_id=customer.id) == 10_000


def test_same_key_with_another_body_is_422_and_changes_nothing(client, session):
    shop, customer = _shop_with_customer(session)
    headers = {**token_for(shop), "Idempotency-Key": "till-7-0002"}
    client.post(_top_up_url(customer.id), headers=headers, json={"amount": 10_000})
    r = client.post(_top_up_url(customer.id), headers=headers, json={"amount": 99_999})
    assert r.status_code == 422 and r.get_json()["type"].endswith("/idempotency-key-reused")
    assert stored_value_balance(session, shop_id=shop.id, customer_id=customer.id) == 10_000


def test_keys_belong_to_one_caller(client, session):
    shop, customer = _shop_with_customer(session)
    other_shop, other_customer = _shop_with_customer(session)
    key = {"Idempotency-Key": "shared-key"}
    a = client.post(_top_up_url(customer.id), headers={**token_for(shop), **key}, json={"amount": 100})
    b = client.post(_top_up_url(other_customer.id), headers={**token_for(other_shop), **key}, json={"amount": 200})
    assert a.status_code == b.status_code == 201
    assert stored_value_balance(session, shop_id=other_shop.id, customer_id=other_customer.id) == 200


def test_a_failed_request_does_not_burn_its_key(client, session):
    shop, customer = _shop_with_customer(session)
    url = _top_up_url(customer.id)  # a failed request rolls back and expires the test's objects
    headers = {**token_for(shop), "Idempotency-Key": "till-7-0003"}
    bad = client.post(url, headers=headers, json={"amount": -5})
    assert bad.status_code == 422
    again = client.post(url, headers=headers, json={"amount": -5})
    assert again.status_code == 422 and "Idempotent-Replayed" not in again.headers
    invalid = client.post(url, headers={**headers, "Idempotency-Key": ""}, json={"amount": 5})
    assert invalid.status_code == 422 and invalid.get_json()["type"].endswith("/idempotency-key-invalid")


def test_the_same_request_written_differently_is_replayed(client, session):
    """Retries compare what the request means (the body as the schema loads it), not its bytes."""
    shop, customer = _shop_with_customer(session)
    url = _top_up_url(customer.id)
    headers = {**token_for(shop), "Idempotency-Key": "till-7-0004"}
    first = client.post(
        url, headers=headers, data='{"amount": 10000, "reference": "R-1"}', content_type="application/json"
    )
    assert first.status_code == 201
    for same in [
        '{"reference":"R-1","amount":10000}',  # key order, whitespace
        '{\n  "amount": 10000.0,\n  "reference": "R-1"\n}',  # 10000.0 is the integer 10000
    ]:
        again = client.post(url, headers=headers, data=same, content_type="application/json")
        assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true", again.get_json()
        assert again.get_json() == first.get_json()
    # Leaving a field out and sending its default are the same request too.
    headers = {**headers, "Idempotency-Key": "till-7-0005"}
    assert client.post(url, headers=headers, json={"amount": 500}).status_code == 201
    again = client.post(url, headers=headers, json={"amount": 500, "reference": None})
    assert again.headers.get("Idempotent-Replayed") == "true", again.get_json()
    different = client.post(url, headers=headers, json={"amount": 500, "reference": "R-2"})
    assert different.status_code == 422 and different.get_json()["type"].endswith("/idempotency-key-reused")
    assert stored_value_balance(session, shop_id=shop.id, customer_id=customer.id) == 10_500


def test_an_idempotency_key_outside_the_documented_schema_is_refused(client, session):
    shop, customer = _shop_with_customer(session)
    url = _top_up_url(customer.id)
    for key in ["", "x" * 256, "tab\there", "caf\u00e9"]:
        r = client.post(
            url, headers={**token_for(shop), "Idempotency-Key": key.encode().decode("latin-1")}, json={"amount": 5}
        )
        assert r.status_code == 422 and r.get_json()["type"].endswith("/idempotency-key-invalid"), key
    assert stored_value_balance(session, shop_id=shop.id, customer_id=customer.id) == 0


@pytest.mark.concurrency
def test_concurrent_duplicates_create_one_top_up(app):
    with app.app_context():
        shop = ShopFactory()
        customer = Customer(shop_id=shop.id, name="Han Meimei")
        db.session.add(customer)
        db.session.commit()
        headers = {**token_for(shop), "Idempotency-Key": "burst-1"}
        shop_id, customer_id = shop.id, customer.id
        db.session.remove()
    results, crashed = [], []
    start = threading.Barrier(8)

    def send() -> None:
        try:
            start.wait()
            r = app.test_client().post(_top_up_url(customer_id), headers=headers, json={"amount": 5_000})
            results.append((r.status_code, r.get_data(as_text=True)))
        except Exception as exc:  # surfaced below
            crashed.append(repr(exc))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert crashed == []
    assert {status for status, _ in results} == {201}
    assert len({body for _, body in results}) == 1  # every caller saw the first response
    with app.app_context():
        assert stored_value_balance(db.session, shop_id=shop_id, customer_id=customer_id) == 5_000
        transfers = db.session.scalar(
            sa.select(sa.func.count()).select_from(LedgerTransfer).where(LedgerTransfer.shop_id == shop_id)
        )
        assert transfers == 1
        assert check_invariants(db.session) == []
        db.session.remove()
