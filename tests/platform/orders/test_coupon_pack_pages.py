"""The merchant's coupon-pack pages (docs/architecture.md §5.9, §14): a pack made with its price typed in yuan
and its issued coupons, its sale edited and put off sale, its sales listed, and an unused pack refunded once.

Here beside the pack API's tests, whose shop (products, a customer with money) and HTTP flow they share."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from factories import ShopFactory, form_key
from souk_platform.auth.services import create_user
from souk_platform.coupons.models import CouponPack, CouponPackPurchase, CustomerCoupon
from souk_platform.coupons.services import create_coupon
from souk_platform.orders.models import Order, Refund
from souk_platform.shops.services import add_staff

from .conftest import Flow, World


def _log_in(client: Any, session: Any, world: World, role: str = "owner") -> None:
    user = create_user(session, email=f"{role}@tea.example", name=role.title(), password="correct horse")
    add_staff(session, shop_id=world.shop_id, user=user, role=role)
    session.commit()
    r = client.post("/login", data={"email": f"{role}@tea.example", "password": "correct horse"})
    assert r.status_code == 302


def _coupons(session: Any, shop_id: str) -> dict[str, str]:
    made = {}
    for code, distribution in (("PACK5", "issued"), ("PACK20", "issued"), ("OPEN", "public")):
        coupon = create_coupon(
            session,
            shop_id=shop_id,
            fields={"code": code, "name": f"券 {code}", "kind": "fixed", "value": 500, "distribution": distribution},
        )
        made[code] = coupon.id
    session.commit()
    return made


def _pack_form(coupons: dict[str, str], **fields: Any) -> dict[str, Any]:
    form = {
        "name": "超值券包",
        "price": "9.9",
        "items-0-coupon_id": coupons["PACK5"],
        "items-0-quantity": "2",
        "items-1-coupon_id": coupons["PACK20"],
        "items-1-quantity": "1",
        "stock": "10",
        "per_customer_limit": "",
        "refund_days": "7",
        "status": "active",
    }
    return {**form, **fields}


def _packs(session: Any, shop_id: str) -> list[CouponPack]:
    session.expire_all()
    return list(session.scalars(sa.select(CouponPack).where(CouponPack.shop_id == shop_id)))


def test_a_pack_is_created_with_its_price_in_yuan_and_listed(client, session, world):
    coupons = _coupons(session, world.shop_id)
    _log_in(client, session, world)
    page = client.get(f"/shops/{world.shop_id}/coupon-packs/new").get_data(as_text=True)
    assert "券 PACK5 (PACK5)" in page and "券 OPEN" not in page  # only issued coupons are offered
    r = client.post(f"/shops/{world.shop_id}/coupon-packs/new", data=_pack_form(coupons))
    assert r.status_code == 302, r.get_data(as_text=True)
    (pack,) = _packs(session, world.shop_id)
    assert (pack.name, pack.price, pack.stock, pack.refund_days, pack.status) == ("超值券包", 990, 10, 7, "active")
    assert pack.items == [
        {"coupon_id": coupons["PACK5"], "quantity": 2},
        {"coupon_id": coupons["PACK20"], "quantity": 1},
    ]
    listing = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "Coupon pack created." in listing and "¥9.90" in listing and "券 PACK5 × 2" in listing
    assert "On sale" in listing
    zh = client.get(f"/shops/{world.shop_id}/coupon-packs", headers={"Accept-Language": "zh-CN"})
    assert "付费券包" in zh.get_data(as_text=True) and "在售" in zh.get_data(as_text=True)
    coupons_page = client.get(f"/shops/{world.shop_id}/coupons").get_data(as_text=True)
    assert f"/shops/{world.shop_id}/coupon-packs" in coupons_page


def test_bad_pack_forms_say_why_and_create_nothing(client, session, world):
    coupons = _coupons(session, world.shop_id)
    other_shop_coupon = create_coupon(
        session,
        shop_id=ShopFactory().id,
        fields={"code": "THEIRS", "name": "theirs", "kind": "fixed", "value": 100, "distribution": "issued"},
    ).id
    session.commit()
    _log_in(client, session, world)
    for bad, words in (
        ({"price": "0"}, "The price must be more than 0."),
        ({"price": "1e3"}, "Enter an amount like 5 or 5.00"),
        ({"price": "9.999"}, "Enter an amount like 5 or 5.00"),
        ({"price": ""}, "This field is required."),
        ({"name": ""}, "This field is required."),
        ({"items-0-coupon_id": "", "items-1-coupon_id": ""}, "Choose at least one coupon for the pack."),
        ({"items-0-coupon_id": coupons["OPEN"]}, "A pack holds issued coupons"),
        ({"items-1-coupon_id": other_shop_coupon}, f"No coupon {other_shop_coupon} in this shop."),
        ({"items-1-coupon_id": coupons["PACK5"]}, "Name each coupon once"),
        ({"items-0-quantity": "101"}, "Number must be between 1 and 100."),
        ({"refund_days": "400"}, "Number must be between 0 and 365."),
        ({"stock": "-1"}, "Number must be between 0 and 10000000."),
    ):
        r = client.post(f"/shops/{world.shop_id}/coupon-packs/new", data=_pack_form(coupons, **bad))
        assert r.status_code == 200, bad
        assert words in r.get_data(as_text=True), (bad, r.get_data(as_text=True))
        assert _packs(session, world.shop_id) == []


def test_a_packs_sale_is_edited_with_its_version_and_taken_off_sale(client, session, world):
    coupons = _coupons(session, world.shop_id)
    _log_in(client, session, world)
    client.post(f"/shops/{world.shop_id}/coupon-packs/new", data=_pack_form(coupons))
    (pack,) = _packs(session, world.shop_id)
    edit = f"/shops/{world.shop_id}/coupon-packs/{pack.id}/edit"
    page = client.get(edit).get_data(as_text=True)
    assert 'value="超值券包"' in page and "¥9.90" in page and "fixed once a pack is created" in page
    form = {"name": "春季券包", "stock": "", "per_customer_limit": "2", "refund_days": "3", "status": "active"}
    r = client.post(edit, data={**form, "version": str(pack.version)})
    assert r.status_code == 302
    (saved,) = _packs(session, world.shop_id)
    assert (saved.name, saved.stock, saved.per_customer_limit, saved.refund_days) == ("春季券包", None, 2, 3)
    assert saved.price == 990  # the price and contents cannot be changed here
    # A form rendered before that change is stale: refused, nothing written.
    r = client.post(edit, data={**form, "name": "旧名字", "version": str(pack.version)})
    assert r.status_code == 200 and "Someone changed this since you opened the page" in r.get_data(as_text=True)
    assert _packs(session, world.shop_id)[0].name == "春季券包"

    r = client.post(f"/shops/{world.shop_id}/coupon-packs/{pack.id}/status", data={"status": "disabled"})
    assert r.status_code == 302 and _packs(session, world.shop_id)[0].status == "disabled"
    assert "春季券包 is off sale." in client.get(r.headers["Location"]).get_data(as_text=True)
    r = client.post(f"/shops/{world.shop_id}/coupon-packs/{pack.id}/status", data={"status": "gone"})
    assert _packs(session, world.shop_id)[0].status == "disabled"
    client.post(f"/shops/{world.shop_id}/coupon-packs/{pack.id}/status", data={"status": "active"})
    assert _packs(session, world.shop_id)[0].status == "active"


def _bought_and_paid(client: Any, session: Any, world: World, flow: Flow) -> tuple[CouponPack, str]:
    coupons = _coupons(session, world.shop_id)
    client.post(f"/shops/{world.shop_id}/coupon-packs/new", data=_pack_form(coupons))
    (pack,) = _packs(session, world.shop_id)
    r = flow.post(f"/coupon-packs/{pack.id}/purchases", {"customer_id": world.customer_id}, {"Idempotency-Key": "b1"})
    assert r.status_code == 201, r.get_json()
    order_id = r.get_json()["order_id"]
    flow.pay(order_id)
    return pack, order_id


def test_the_sales_list_refunds_an_unused_pack_once(client, session, world, flow):
    _log_in(client, session, world)
    pack, order_id = _bought_and_paid(client, session, world, flow)
    sales = f"/shops/{world.shop_id}/coupon-packs/{pack.id}/sales"
    page = client.get(sales).get_data(as_text=True)
    assert "王小明" in page and order_id in page and "Paid" in page and "Refund ¥9.90" in page
    (purchase,) = session.scalars(sa.select(CouponPackPurchase).where(CouponPackPurchase.pack_id == pack.id))
    refund = f"{sales}/{purchase.id}/refund"
    key = form_key()
    r = client.post(refund, data={"form_key": key})
    assert r.status_code == 302 and r.headers["Location"].endswith(sales)
    again = client.post(refund, data={"form_key": key}, follow_redirects=True)  # a double click
    assert "it was done once, not twice" in again.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(sa.select(sa.func.count()).select_from(Refund).where(Refund.order_id == order_id)) == 1
    assert session.get(CouponPackPurchase, purchase.id).status == "refunded"
    statuses = session.scalars(sa.select(CustomerCoupon.status).where(CustomerCoupon.customer_id == world.customer_id))
    assert set(statuses) == {"revoked"}
    page = client.get(sales).get_data(as_text=True)
    assert "Refunded" in page and "Refund ¥9.90" not in page
    # Sent again with a fresh key, the refund is refused by the service and writes nothing.
    r = client.post(refund, data={"form_key": form_key()}, follow_redirects=True)
    assert "The pack was not refunded" in r.get_data(as_text=True)
    assert session.scalar(sa.select(sa.func.count()).select_from(Refund).where(Refund.order_id == order_id)) == 1


def test_a_used_pack_shows_no_refund_button_and_a_forged_refund_is_refused(client, session, world, flow):
    _log_in(client, session, world)
    pack, order_id = _bought_and_paid(client, session, world, flow)
    entry = session.scalars(sa.select(CustomerCoupon).where(CustomerCoupon.customer_id == world.customer_id)).first()
    entry.status = "used"
    session.commit()
    sales = f"/shops/{world.shop_id}/coupon-packs/{pack.id}/sales"
    page = client.get(sales).get_data(as_text=True)
    assert "Refund ¥9.90" not in page and "Not refundable" in page
    (purchase,) = session.scalars(sa.select(CouponPackPurchase).where(CouponPackPurchase.pack_id == pack.id))
    r = client.post(f"{sales}/{purchase.id}/refund", data={"form_key": form_key()}, follow_redirects=True)
    assert "The pack was not refunded" in r.get_data(as_text=True) and "have been used" in r.get_data(as_text=True)
    session.expire_all()
    assert session.get(Order, order_id).refunded_total == 0
    assert session.get(CouponPackPurchase, purchase.id).status == "paid"


def test_staff_cannot_refund_and_another_shops_pack_is_unreachable(client, session, world, flow):
    _log_in(client, session, world)
    pack, _order_id = _bought_and_paid(client, session, world, flow)
    (purchase,) = session.scalars(sa.select(CouponPackPurchase).where(CouponPackPurchase.pack_id == pack.id))
    nobody = f"/shops/{world.shop_id}/coupon-packs/{pack.id}/sales/cpp_nope/refund"
    assert client.post(nobody, data={"form_key": form_key()}).status_code == 404
    client.post("/logout")
    _log_in(client, session, world, role="staff")
    sales = f"/shops/{world.shop_id}/coupon-packs/{pack.id}/sales"
    assert client.get(sales).status_code == 200
    assert client.post(f"{sales}/{purchase.id}/refund", data={"form_key": form_key()}).status_code in (403, 404)
    session.expire_all()
    assert session.get(CouponPackPurchase, purchase.id).status == "paid"

    other = ShopFactory()
    session.commit()
    for path in ("sales", "edit"):
        assert client.get(f"/shops/{world.shop_id}/coupon-packs/cpk_nope/{path}").status_code == 404
        assert client.get(f"/shops/{other.id}/coupon-packs/{pack.id}/{path}").status_code == 404


def test_a_shop_without_issued_coupons_is_told_where_to_make_one(client, session, world):
    _log_in(client, session, world)
    page = client.get(f"/shops/{world.shop_id}/coupon-packs/new").get_data(as_text=True)
    assert 'id="no-issued-coupons"' in page and f"/shops/{world.shop_id}/coupons/new" in page
    zh = client.get(f"/shops/{world.shop_id}/coupon-packs/new", headers={"Accept-Language": "zh-CN"})
    assert "本店还没有可用的定向券" in zh.get_data(as_text=True)
