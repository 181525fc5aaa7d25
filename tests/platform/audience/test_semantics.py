"""Exact answers of representative fields of every group over the hand-built shop of conftest.build_rich_shop.

ann: 2 orders (10 days ago: 2 × formula at 200 yuan less 10 + a phone at 1000, 5 points; 40 days ago in
store: 1 formula, 50 yuan of stored value), 1000 points 30 days ago, the coupon TEN, VIP, viewed formula
2 days ago. bob: 1 phone 200 days ago (100 yuan off, 10 yuan fee, 200 yuan refunded 150 days ago), 500
yuan topped up 60 days ago, up to V3 10 days ago. ann is a woman born 1990-03-05 who came through a
store, bob a man born 2000-02-29, dan has a WeChat openid. cat: joined 5 days ago, viewed formula, carted 2
phones, searched "Milk powder". dan: an unpaid and a cancelled order, 3000 points expiring in 20 days,
visited store S1 (campaign C1). eve: V5, VIP, a 2-star review and one each of the other events.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from souk_platform.audience.schemas import load_condition_group
from souk_platform.audience.services import compile_condition
from souk_platform.customers.models import Customer

from .conftest import NOW, Shop


def who(session: Any, shop: Shop, *leaves: dict[str, Any], op: str = "and") -> set[str]:
    condition = load_condition_group({"op": op, "conditions": list(leaves)})
    where = compile_condition(condition, shop_id=shop.shop_id, now=NOW)
    names = {v: k for k, v in shop.customers.items()}
    return {names[i] for i in session.scalars(sa.select(Customer.id).where(Customer.shop_id == shop.shop_id, where))}


def L(field: str, cmp: str, value: Any, **params: Any) -> dict[str, Any]:
    return {"field": field, "cmp": cmp, "value": value, **({"params": params} if params else {})}


CASES = [
    # profile
    (L("profile.has_phone", "is", True), {"ann", "dan"}),
    (L("profile.email_domain", "eq", "EXAMPLE.cn"), {"ann"}),
    (L("profile.days_since_joined", "lte", 5), {"cat"}),
    (L("profile.days_since_joined", "eq", 4), set()),
    (L("profile.gender", "eq", "female"), {"ann"}),
    (L("profile.gender", "ne", "female"), {"bob", "cat", "dan", "eve"}),
    (L("profile.source_channel", "eq", "store"), {"ann"}),
    (L("profile.source_channel", "ne", "store"), set()),  # no source channel: never matches
    (L("profile.has_birthday", "is", True), {"ann", "bob"}),
    (L("profile.birth_month", "in", [2, 3]), {"ann", "bob"}),
    (L("profile.age", "eq", 35), {"ann"}),  # born 1990-03-05: 35 until 5 March 2026
    (L("profile.age", "eq", 26), {"bob"}),  # born 29 February 2000: 26 since 28 February 2026
    (L("profile.age", "between", [30, 40]), {"ann"}),
    (L("profile.birthday_within_days", "lte", 3), {"ann"}),
    (L("profile.birthday_within_days", "lte", 2), set()),
    (L("profile.has_identity", "eq", "wechat_openid"), {"dan"}),
    (L("profile.identities_count", "eq", 1), {"dan"}),
    # trade
    (L("trade.spend", "eq", 139_000, window_days=30), {"ann"}),
    (L("trade.spend", "eq", 20_000, window_days=90, channel="store"), {"ann"}),
    (L("trade.spend", "eq", 139_000, payment_method="points"), {"ann"}),
    (L("trade.spend", "eq", 20_000, payment_method="stored_value"), {"ann"}),
    (L("trade.orders_count", "lte", 0), {"cat", "dan", "eve"}),
    (L("trade.orders_count", "eq", 0, window_days=30), {"bob", "cat", "dan", "eve"}),
    (L("trade.items_count", "eq", 3, category_id="母婴"), {"ann"}),
    (L("trade.spend", "gte", 150_000, product_tag="hot"), {"ann"}),
    (L("trade.spend", "eq", 59_000, product_tag="baby"), {"ann"}),
    (L("trade.distinct_categories", "eq", 2), {"ann"}),
    (L("trade.refunds_count", "gte", 1, window_days=180), {"bob"}),
    (L("trade.refunds_count", "gte", 1, window_days=100), set()),
    (L("trade.refund_rate", "gt", 0.14), {"bob"}),
    (L("trade.refund_rate", "gt", 0.15), set()),
    (L("trade.net_paid", "eq", 121_000), {"bob"}),
    (L("trade.days_since_last_order", "eq", 10), {"ann"}),
    (L("trade.days_since_last_order", "gte", 11), {"bob"}),
    (L("trade.avg_order_value", "eq", 79_500), {"ann"}),
    (L("trade.unpaid_orders_count", "gte", 1), {"dan"}),
    (L("trade.cancelled_orders_count", "gte", 1, window_days=7), {"dan"}),
    (L("trade.paid_with", "eq", "stored_value"), {"ann"}),
    (L("trade.bought_through", "ne", "store"), {"bob", "cat", "dan", "eve"}),
    (L("trade.last_order_channel", "eq", "online"), {"ann", "bob"}),
    (L("trade.first_order_channel", "eq", "store"), {"ann"}),
    (L("total_spent", "gte", 0), {"ann", "bob", "cat", "dan", "eve"}),
    # loyalty
    (L("loyalty.points_balance", "gte", 1_000), {"ann", "dan"}),
    (L("loyalty.points_earned", "eq", 3_000, window_days=7), {"dan"}),
    (L("loyalty.points_expiring", "gte", 1, next_days=30), {"dan"}),
    (L("loyalty.points_expiring", "gte", 1, next_days=10), set()),
    (L("loyalty.stored_value_recharged", "gte", 50_000), {"bob"}),
    (L("loyalty.stored_value_recharged", "gte", 1, window_days=30), set()),
    (L("loyalty.days_at_level", "eq", 10), {"bob"}),
    (L("loyalty.upgrades_count", "gte", 1), {"bob"}),
    (L("loyalty.level", "in", [2, 3]), {"ann", "bob"}),
    # behaviour
    (L("behaviour.product_viewed_count", "gte", 1, product_id="formula"), {"ann", "cat"}),
    (L("behaviour.product_viewed_count", "gte", 1, channel="web"), set()),
    (L("behaviour.product_viewed_count", "gte", 1, category_id="母婴"), {"ann", "cat"}),
    (L("behaviour.product_viewed_count", "gte", 1, category_id="数码"), set()),
    (L("behaviour.product_viewed_not_bought", "is", True), {"ann", "cat"}),
    (L("behaviour.product_viewed_not_bought", "is", False), {"bob", "dan", "eve"}),
    (L("behaviour.cart_added_not_bought", "is", True, window_days=7), {"cat"}),
    (L("behaviour.searched_count", "gte", 1, keyword="MILK pow"), {"cat"}),
    (L("behaviour.searched_count", "gte", 1, keyword="phone"), set()),
    (L("behaviour.cart_added_quantity", "eq", 2), {"cat"}),
    (L("behaviour.store_visited_count", "eq", 1, store="S1"), {"dan"}),
    (L("behaviour.distinct_campaigns", "gte", 1), {"dan"}),
    (L("behaviour.avg_review_rating", "lte", 2), {"eve"}),
    (L("behaviour.days_since_last_active", "lte", 2), {"ann", "cat"}),
    # marketing
    (L("marketing.coupons_used_count", "gte", 1, coupon_id="TEN"), {"ann"}),
    (L("marketing.coupon_discount_amount", "eq", 1_000), {"ann"}),
    # marketing: the wallet (GIFT: ann used, bob expired, cat holds, dan past expiry, eve reserved)
    (L("marketing.wallet_received_count", "gte", 1), {"ann", "bob", "cat", "dan", "eve"}),
    (L("marketing.wallet_received_count", "gte", 1, window_days=30), {"ann", "cat", "dan", "eve"}),
    (L("marketing.wallet_received_count", "gte", 1, coupon_id="TEN"), set()),
    (L("marketing.wallet_received_count", "eq", 1, coupon_id="GIFT"), {"ann", "bob", "cat", "dan", "eve"}),
    (L("marketing.wallet_used_count", "gte", 1), {"ann"}),
    (L("marketing.wallet_expired_count", "gte", 1), {"bob", "dan"}),
    (L("marketing.wallet_unused_count", "gte", 1), {"cat"}),
    (L("marketing.wallet_unused_count", "eq", 0), {"ann", "bob", "dan", "eve"}),
    (L("marketing.days_since_coupon_received", "lte", 3), {"cat", "eve"}),
    (L("marketing.last_coupon_received_at", "within_days", 10), {"cat", "eve"}),
    # marketing: benefits (BIRTHDAY: ann active, bob used, eve active but expired)
    (L("marketing.benefit_grants_count", "gte", 1), {"ann", "bob", "eve"}),
    (L("marketing.benefit_grants_count", "gte", 1, window_days=30), {"ann"}),
    (L("marketing.distinct_benefit_packages", "eq", 0), {"cat", "dan"}),
    (L("marketing.last_benefit_granted_at", "within_days", 55), {"ann", "bob"}),
    (L("marketing.has_active_benefit", "is", True), {"ann"}),
    (L("marketing.has_active_benefit", "is", True, package_id="BIRTHDAY"), {"ann"}),
    (L("marketing.has_active_benefit", "is", True, window_days=3), set()),
    (L("marketing.has_active_benefit", "is", False), {"bob", "cat", "dan", "eve"}),
    # tags
    (L("tags.has_any", "in", ["VIP"]), {"ann", "eve"}),
    (L("tags.has_any", "not_in", ["VIP"]), {"bob", "cat", "dan"}),
    (L("tags.count", "gte", 1), {"ann", "eve"}),
]


def _resolve(shop: Shop, leaf: dict[str, Any]) -> dict[str, Any]:
    """Names in a case (a category, product, coupon or tag) become the shop's ids."""
    names = {**shop.categories, **shop.products, **shop.coupons, **shop.packages, **shop.tags}
    params = {k: names.get(v, v) if k.endswith("_id") else v for k, v in leaf.get("params", {}).items()}
    value = leaf["value"]
    if isinstance(value, list):
        value = [names.get(v, v) if isinstance(v, str) else v for v in value]
    return {**leaf, "value": value, **({"params": params} if params else {})}


@pytest.mark.parametrize(("leaf", "expected"), CASES, ids=[f"{c[0]['field']}-{i}" for i, c in enumerate(CASES)])
def test_a_field_matches_exactly_the_customers_its_definition_names(rich: Shop, session: Any, leaf, expected) -> None:
    assert who(session, rich, _resolve(rich, leaf)) == expected


def test_or_merged_siblings_on_one_source_match_either_test(rich: Shop, session: Any) -> None:
    either = who(session, rich, L("trade.orders_count", "gte", 2), L("trade.spend", "gte", 140_000), op="or")
    assert either == {"ann", "bob"}
    both = who(session, rich, L("trade.orders_count", "gte", 2), L("trade.spend", "gte", 140_000))
    assert both == {"ann"}


def test_a_test_customers_without_rows_pass_is_not_merged_with_one_they_fail(rich: Shop, session: Any) -> None:
    # "fewer than 2 orders OR spent over 1000 yuan": the never-buyers pass the first test.
    assert who(session, rich, L("trade.orders_count", "lt", 2), L("trade.spend", "gt", 100_000), op="or") == {
        "ann",
        "bob",
        "cat",
        "dan",
        "eve",
    }
