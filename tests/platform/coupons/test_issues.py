"""Issuing a coupon to a list or a segment: the job, its progress and per-customer results, re-runs."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from factories import ShopFactory, token_for
from souk_platform.coupons import issues, services
from souk_platform.coupons.errors import CouponNotIssuable, InvalidIssue
from souk_platform.coupons.models import CouponIssueResult, CustomerCoupon
from souk_platform.customers.models import Customer
from souk_platform.events.models import OutboxEvent
from souk_platform.tags.services import create_segment, create_tag, tag_customers
from souk_platform.tags.snapshots import delete_snapshot, take_snapshot

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def _customers(session, shop, n):
    customers = [Customer(shop_id=shop.id, name=f"c{i}") for i in range(n)]
    session.add_all(customers)
    session.commit()
    return customers


def _issued(session, shop, **fields):
    base = {"code": "GIFT", "name": "Gift ¥10", "kind": "fixed", "value": 1000, "distribution": "issued"}
    coupon = services.create_coupon(session, shop_id=shop.id, fields={**base, **fields})
    session.commit()
    return coupon


def _outcomes(session, issue_id):
    rows = session.execute(
        sa.select(CouponIssueResult.customer_id, CouponIssueResult.outcome, CouponIssueResult.reason).where(
            CouponIssueResult.issue_id == issue_id
        )
    )
    return {customer_id: (outcome, reason) for customer_id, outcome, reason in rows}


def _wallet_count(session, coupon_id):
    return session.scalar(
        sa.select(sa.func.count()).select_from(CustomerCoupon).where(CustomerCoupon.coupon_id == coupon_id)
    )


def test_a_list_is_issued_once_each_with_skips_explained(session):
    shop, other = ShopFactory(), ShopFactory()
    a, b, c = _customers(session, shop, 3)
    (stranger,) = _customers(session, other, 1)
    coupon = _issued(session, shop, total_limit=2)
    issue = issues.create_issue(
        session,
        shop_id=shop.id,
        coupon_id=coupon.id,
        customer_ids=[a.id, b.id, a.id, stranger.id, c.id],
        segment_id=None,
        now=NOW,
    )
    session.commit()
    assert issue.customer_ids == [a.id, b.id, stranger.id, c.id]  # duplicates dropped, order kept
    assert issues.run_issue(session, issue_id=issue.id, now=NOW) == "done"
    session.expire_all()
    assert (issue.status, issue.total, issue.done, issue.issued, issue.skipped) == ("done", 4, 4, 2, 2)
    outcomes = _outcomes(session, issue.id)
    assert outcomes[stranger.id] == ("skipped", "No such customer in this shop.")
    assert sorted(o for o, _ in outcomes.values()) == ["issued", "issued", "skipped", "skipped"]
    assert any("All 2" in (r or "") for o, r in outcomes.values() if o == "skipped")
    # A second run finds it done; issuing again by hand with the same source gives the same entries.
    assert issues.run_issue(session, issue_id=issue.id, now=NOW) == "done"
    assert _wallet_count(session, coupon.id) == 2
    events = session.scalars(sa.select(OutboxEvent).where(OutboxEvent.type == "coupon.issued")).all()
    assert len(events) == 2


def test_a_segment_is_read_when_the_job_starts_and_a_crashed_run_continues(session, monkeypatch):
    shop = ShopFactory()
    customers = _customers(session, shop, 7)
    tag = create_tag(session, shop_id=shop.id, name="VIP", now=NOW)
    tag_customers(session, shop_id=shop.id, tag_id=tag.id, customer_ids=[c.id for c in customers[:5]])
    segment = create_segment(
        session,
        shop_id=shop.id,
        name="VIPs",
        description=None,
        condition={"op": "and", "conditions": [{"field": "tag", "cmp": "has", "value": tag.id}]},
    )
    coupon = _issued(session, shop)
    issue = issues.create_issue(
        session, shop_id=shop.id, coupon_id=coupon.id, customer_ids=None, segment_id=segment.id, now=NOW
    )
    session.commit()
    monkeypatch.setattr(issues, "BATCH", 2)
    assert issues.run_issue(session, issue_id=issue.id, now=NOW, max_batches=1) == "running"  # then "crashes"
    session.expire_all()
    assert (issue.status, issue.total, issue.done) == ("running", 5, 2)
    # The segment changes after the target was fixed: the issue keeps to the members it started with.
    tag_customers(session, shop_id=shop.id, tag_id=tag.id, customer_ids=[customers[6].id])
    session.commit()
    assert issues.resume_issues(session, now=NOW) == 1
    session.expire_all()
    assert (issue.status, issue.total, issue.done, issue.issued) == ("done", 5, 5, 5)
    assert _wallet_count(session, coupon.id) == 5
    assert set(_outcomes(session, issue.id)) == {c.id for c in customers[:5]}


def test_bad_issue_requests_are_refused_before_anything_is_written(session):
    shop = ShopFactory()
    (a,) = _customers(session, shop, 1)
    coupon = _issued(session, shop)
    public = services.create_coupon(
        session, shop_id=shop.id, fields={"code": "PUB", "name": "p", "kind": "fixed", "value": 1}
    )
    for customer_ids, segment_id in ((None, None), ([a.id], "seg_x")):
        with pytest.raises(InvalidIssue):
            issues.create_issue(
                session, shop_id=shop.id, coupon_id=coupon.id, customer_ids=customer_ids, segment_id=segment_id, now=NOW
            )
    with pytest.raises(CouponNotIssuable, match="public code"):
        issues.create_issue(
            session, shop_id=shop.id, coupon_id=public.id, customer_ids=[a.id], segment_id=None, now=NOW
        )


def test_issuing_over_http_with_progress_and_results(client, session):
    shop, other = ShopFactory(), ShopFactory()
    a, b = _customers(session, shop, 2)
    coupon = _issued(session, shop, per_customer_limit=1)
    headers = {**token_for(shop), "Idempotency-Key": "issue-1"}
    body = {"customer_ids": [a.id, b.id, "cus_nobody"]}
    r = client.post(f"/api/v1/coupons/{coupon.id}/issues", json=body, headers=headers)
    assert r.status_code == 202, r.get_json()
    issue = r.get_json()
    assert (issue["status"], issue["total"], issue["done"]) == ("pending", None, 0)
    replay = client.post(f"/api/v1/coupons/{coupon.id}/issues", json=body, headers=headers)
    assert replay.get_json()["id"] == issue["id"]
    issues.run_issue(session, issue_id=issue["id"], now=NOW)
    r = client.get(f"/api/v1/coupons/{coupon.id}/issues/{issue['id']}", headers=token_for(shop))
    got = r.get_json()
    assert (got["status"], got["total"], got["done"], got["issued"], got["skipped"]) == ("done", 3, 3, 2, 1)
    r = client.get(f"/api/v1/coupons/{coupon.id}/issues/{issue['id']}/results?outcome=skipped", headers=token_for(shop))
    assert [(i["customer_id"], i["reason"], i["reason_code"]) for i in r.get_json()["items"]] == [
        ("cus_nobody", "No such customer in this shop.", "no_customer")
    ]
    r = client.get(f"/api/v1/coupons/{coupon.id}/issues", headers=token_for(shop))
    assert [i["id"] for i in r.get_json()["items"]] == [issue["id"]]
    # A second issue to the same customers: each already holds the one allowed.
    r = client.post(
        f"/api/v1/coupons/{coupon.id}/issues",
        json={"customer_ids": [a.id]},
        headers={**token_for(shop), "Idempotency-Key": "issue-2"},
    )
    issues.run_issue(session, issue_id=r.get_json()["id"], now=NOW)
    assert _outcomes(session, r.get_json()["id"])[a.id][0] == "skipped"
    codes = session.scalars(
        sa.select(CouponIssueResult.reason_code).where(CouponIssueResult.issue_id == r.get_json()["id"])
    ).all()
    assert codes == ["per_customer_limit"]
    # Refusals: no target, both targets, an empty list, a public coupon, another shop's issue.
    for bad in ({}, {"customer_ids": [a.id], "segment_id": "seg_x"}, {"customer_ids": []}):
        r = client.post(
            f"/api/v1/coupons/{coupon.id}/issues", json=bad, headers={**token_for(shop), "Idempotency-Key": str(bad)}
        )
        assert r.status_code == 422, (bad, r.get_json())
    r = client.post(
        f"/api/v1/coupons/{coupon.id}/issues",
        json={"segment_id": "seg_nope"},
        headers={**token_for(shop), "Idempotency-Key": "k404"},
    )
    assert r.status_code == 404
    r = client.get(f"/api/v1/coupons/{coupon.id}/issues/{issue['id']}", headers=token_for(other))
    assert r.status_code == 404


def test_a_snapshot_is_issued_to_its_frozen_members_and_a_deleted_target_to_nobody(session):
    shop = ShopFactory()
    customers = _customers(session, shop, 3)
    tag = create_tag(session, shop_id=shop.id, name="VIP", now=NOW)
    tag_customers(session, shop_id=shop.id, tag_id=tag.id, customer_ids=[customers[0].id, customers[1].id])
    segment = create_segment(
        session,
        shop_id=shop.id,
        name="VIPs",
        description=None,
        condition={"op": "and", "conditions": [{"field": "tag", "cmp": "has", "value": tag.id}]},
    )
    snapshot = take_snapshot(session, shop_id=shop.id, segment_id=segment.id, name="六一", now=NOW)
    coupon = _issued(session, shop)
    # Tagged after the snapshot: not in it.
    tag_customers(session, shop_id=shop.id, tag_id=tag.id, customer_ids=[customers[2].id])
    issue = issues.create_issue(
        session,
        shop_id=shop.id,
        coupon_id=coupon.id,
        customer_ids=None,
        segment_id=None,
        snapshot_id=snapshot.id,
        now=NOW,
    )
    session.commit()
    issues.run_issue(session, issue_id=issue.id, now=NOW)
    session.expire_all()
    assert (issue.total, issue.issued) == (2, 2)
    assert set(_outcomes(session, issue.id)) == {customers[0].id, customers[1].id}
    with pytest.raises(InvalidIssue):
        issues.create_issue(
            session,
            shop_id=shop.id,
            coupon_id=coupon.id,
            customer_ids=None,
            segment_id=segment.id,
            snapshot_id=snapshot.id,
            now=NOW,
        )
    # A target deleted before the job started: the issue finishes with nobody.
    later = issues.create_issue(
        session,
        shop_id=shop.id,
        coupon_id=coupon.id,
        customer_ids=None,
        segment_id=None,
        snapshot_id=snapshot.id,
        now=NOW,
    )
    session.commit()
    delete_snapshot(session, shop_id=shop.id, snapshot_id=snapshot.id)
    session.commit()
    assert issues.run_issue(session, issue_id=later.id, now=NOW) == "done"
    session.expire_all()
    assert (later.status, later.total) == ("done", 0)
