"""The service-market pages: browse and order, the order page for each party, provider sign-up and
dashboard, the admin's disputes, translations and CSRF."""

from __future__ import annotations

import io
import re
from typing import Any

import sqlalchemy as sa
from marketplace.service_market.builders import FUNDS, assert_ledger_sound, fund, make_offer

from factories import ShopFactory, form_key
from souk_marketplace.service_market.models import Service, ServiceFile, ServiceOrder, ServiceProvider
from souk_marketplace.service_market.tasks import run_service_order_timers
from souk_platform.auth.services import create_user
from souk_platform.ledger.services import balance_of
from souk_platform.shops.services import add_staff

PASSWORD = "correct horse battery"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _user(session: Any, email: str, **flags: Any) -> Any:
    user = create_user(session, email=email, name=email.split("@")[0].title(), password=PASSWORD)
    for name, value in flags.items():
        setattr(user, name, value)
    session.commit()
    return user


def _login(client: Any, email: str) -> None:
    client.post("/logout")
    r = client.post("/login", data={"email": email, "password": PASSWORD})
    assert r.status_code == 302, r.get_data(as_text=True)


def _world(session: Any, clock: Any) -> dict[str, Any]:
    owner = _user(session, "owner@tea.example")
    shop = ShopFactory(name="Tea House", owner=owner)
    fund(session, shop, FUNDS)
    provider_user = _user(session, "pro@ops.example")
    offer = make_offer(session, clock.now(), user=provider_user)
    return {"shop_id": shop.id, "offer": offer}


def _order_via_page(client: Any, world: dict[str, Any], package: str, requirements: str = "Our brand book") -> str:
    offer = world["offer"]
    r = client.post(
        f"/services/{offer.service_id}/order",
        data={"shop_id": world["shop_id"], "package_id": package, "requirements": requirements, "form_key": form_key()},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    match = re.search(r"/service-orders/(svo_\w+)", r.headers["Location"])
    assert match
    return match.group(1)


def _act(client: Any, order_id: str, role: str, action: str, **data: Any) -> Any:
    return client.post(f"/service-orders/{order_id}/{role}/{action}", data=data)


def test_anyone_browses_the_catalogue_and_compares_packages(client, session, clock):
    world = _world(session, clock)
    page = client.get("/services?q=代运营").get_data(as_text=True)
    assert "天猫店铺代运营" in page and "From ¥300.00" in page
    assert "天猫店铺代运营" not in client.get("/services?category=design").get_data(as_text=True)
    service = client.get(f"/services/{world['offer'].service_id}").get_data(as_text=True)
    assert "Compare packages" in service and "¥300.00" in service and "¥1,000.00" in service
    assert "Launch · ¥99.99" in service
    assert "Log in as a shop owner to order." in service
    provider = client.get(f"/services/providers/{world['offer'].provider_id}").get_data(as_text=True)
    assert "杭州小二运营" in provider and "No ratings yet" in provider
    assert client.get("/services/svc_missing").status_code == 404


def test_the_whole_order_on_pages(client, session, clock):
    world = _world(session, clock)
    offer = world["offer"]
    _login(client, "owner@tea.example")
    order_id = _order_via_page(client, world, offer.small_package)
    page = client.get(f"/service-orders/{order_id}").get_data(as_text=True)
    assert "Order placed: the price is held in escrow" in page and "In progress" in page
    assert order_id in client.get(f"/shops/{world['shop_id']}/service-orders").get_data(as_text=True)

    _login(client, "pro@ops.example")
    page = client.get(f"/service-orders/{order_id}").get_data(as_text=True)
    assert "Deliver" in page and "Ask for more time" in page
    r = client.post(
        f"/service-orders/{order_id}/provider/files",
        data={"file": (io.BytesIO(PNG), "logo.png")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    assert _act(client, order_id, "provider", "deliver", note="Logo attached").status_code == 302
    assert "Work delivered" in client.get(f"/service-orders/{order_id}").get_data(as_text=True)
    assert order_id in client.get("/provider?state=delivered").get_data(as_text=True)
    assert order_id not in client.get("/provider?state=settled").get_data(as_text=True)

    _login(client, "owner@tea.example")
    page = client.get(f"/service-orders/{order_id}").get_data(as_text=True)
    assert "logo.png" in page and "Accept the delivery" in page and "added the file logo.png" in page
    file_id = session.scalar(sa.select(ServiceFile.id).where(ServiceFile.order_id == order_id))
    got = client.get(f"/service-orders/{order_id}/files/{file_id}")
    assert got.status_code == 200 and got.data == PNG and got.headers["Content-Type"] == "image/png"
    r = _act(client, order_id, "buyer", "message", body="谢谢！")
    assert r.status_code == 302
    assert _act(client, order_id, "buyer", "accept").status_code == 302
    page = client.get(f"/service-orders/{order_id}").get_data(as_text=True)
    assert "Clearing" in page and "谢谢！" in page and "Rate the provider" in page
    assert _act(client, order_id, "buyer", "rate", stars="5", text="Great").status_code == 302
    provider_page = client.get(f"/services/providers/{offer.provider_id}").get_data(as_text=True)
    assert "(1 ratings)" in provider_page and "Great" in provider_page

    clock.advance(days=14)
    run_service_order_timers()
    _login(client, "pro@ops.example")
    dashboard = client.get("/provider").get_data(as_text=True)
    assert "¥240.00" in dashboard and "¥60.00" in dashboard  # paid after the 20 % fee, and the fee
    assert "Settled (1)" in dashboard

    # Anyone else: the order, its files and the other party's buttons do not exist.
    _user(session, "nosy@else.example")
    _login(client, "nosy@else.example")
    assert client.get(f"/service-orders/{order_id}").status_code == 404
    assert client.get(f"/service-orders/{order_id}/files/{file_id}").status_code == 404
    assert _act(client, order_id, "buyer", "accept").status_code == 404


def test_a_party_cannot_use_the_others_buttons(client, session, clock):
    world = _world(session, clock)
    _login(client, "owner@tea.example")
    order_id = _order_via_page(client, world, world["offer"].small_package)
    assert _act(client, order_id, "provider", "deliver", note="x").status_code == 404
    assert _act(client, order_id, "buyer", "launch_rockets").status_code == 404
    r = _act(client, order_id, "buyer", "accept")  # nothing delivered: the page says why, nothing changes
    assert r.status_code == 302
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert "cannot become accepted" in page
    assert session.get(ServiceOrder, order_id).state == "in_progress"


def test_form_errors_show_next_to_their_fields(client, session, clock):
    world = _world(session, clock)
    _login(client, "owner@tea.example")
    r = client.post(
        f"/services/{world['offer'].service_id}/order", data={"shop_id": world["shop_id"], "form_key": form_key()}
    )
    assert r.status_code == 200 and "Choose a package." in r.get_data(as_text=True)
    order_id = _order_via_page(client, world, world["offer"].small_package)
    r = _act(client, order_id, "buyer", "message", body="")
    assert r.status_code == 200 and 'class="field-error">This field is required.' in r.get_data(as_text=True)


def test_a_poor_shop_is_told_on_the_page_and_nothing_moves(client, session, clock):
    world = _world(session, clock)
    owner = _user(session, "poor@shop.example")
    poor = ShopFactory(name="Poor", owner=owner)
    poor_id = poor.id
    _login(client, "poor@shop.example")
    r = client.post(
        f"/services/{world['offer'].service_id}/order",
        data={"shop_id": poor_id, "package_id": world["offer"].small_package, "form_key": form_key()},
    )
    assert r.status_code == 200 and "The shop.balance balance is 0 CNY" in r.get_data(as_text=True)
    assert (
        session.scalar(sa.select(sa.func.count()).select_from(ServiceOrder).where(ServiceOrder.shop_id == poor_id)) == 0
    )


def test_mediation_and_arbitration_on_pages(client, session, clock):
    world = _world(session, clock)
    _user(session, "admin@souk.example", is_platform_admin=True)
    _login(client, "owner@tea.example")
    order_id = _order_via_page(client, world, world["offer"].small_package)
    _login(client, "pro@ops.example")
    _act(client, order_id, "provider", "deliver", note="Done")
    _login(client, "owner@tea.example")
    assert _act(client, order_id, "buyer", "dispute", reason="Wrong shop name").status_code == 302
    _login(client, "pro@ops.example")
    assert _act(client, order_id, "provider", "answer", answer="Typo fixed in v2").status_code == 302
    r = _act(client, order_id, "provider", "offer", refund="50.505")
    assert r.status_code == 200 and "Use at most two decimals." in r.get_data(as_text=True)
    assert _act(client, order_id, "provider", "offer", refund="100.00").status_code == 302
    _login(client, "owner@tea.example")
    page = client.get(f"/service-orders/{order_id}").get_data(as_text=True)
    assert "Standing offer: ¥100.00 back to the buyer, ¥200.00 to the provider." in page
    assert _act(client, order_id, "buyer", "escalate").status_code == 302

    assert client.get("/admin/service-disputes").status_code == 403
    _login(client, "admin@souk.example")
    queue = client.get("/admin/service-disputes").get_data(as_text=True)
    assert order_id in queue and "In arbitration" in queue
    r = _act(client, order_id, "admin", "arbitrate", decision="partial_refund", refund="123.45", note="Half fixed")
    assert r.status_code == 302, r.get_data(as_text=True)
    order = session.get(ServiceOrder, order_id)
    session.refresh(order)
    assert (order.state, order.refunded_total, order.released_total) == ("settled", 12_345, 17_655)
    assert balance_of(
        session, shop_id=world["shop_id"], kind="shop.balance", owner_id=world["shop_id"], unit="CNY"
    ) == (FUNDS - 30_000 + 12_345)
    assert_ledger_sound(session)


def test_a_visitor_signs_up_as_a_provider_and_lists_a_service(client, session, clock):
    r = client.post(
        "/services/providers/signup", data={"name": "", "email": "bad", "password": "x", "display_name": ""}
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and page.count('class="field-error"') >= 4 and "Choose at least one category." in page
    r = client.post(
        "/services/providers/signup",
        data={
            "name": "Zhou",
            "email": "zhou@cs.example",
            "password": PASSWORD,
            "display_name": "周到客服",
            "bio": "7×24 customer service",
            "categories": ["customer_service"],
        },
    )
    assert r.status_code == 302 and r.headers["Location"].endswith("/provider")
    assert "周到客服" in client.get("/provider").get_data(as_text=True)

    form = {
        "category": "customer_service",
        "title": "双十一客服外包 Singles' Day customer service",
        "description": "Chat agents for your peak days.",
        "packages-0-name": "Peak week",
        "packages-0-kind": "project",
        "packages-0-price": "1000.00",
        "packages-0-delivery_days": "7",
        "packages-0-revisions": "0",
        "packages-0-milestones": "Training | 300 | 2\nPeak | 600 | 5",
    }
    r = client.post("/provider/services/new", data=form)
    assert r.status_code == 200 and "The milestones add up to 90000 fen, not the price 100000." in r.get_data(
        as_text=True
    )
    r = client.post("/provider/services/new", data={**form, "packages-0-milestones": "Training | 3x0 | 2"})
    assert "Line 1 is not" in r.get_data(as_text=True)
    r = client.post(
        "/provider/services/new", data={**form, "packages-0-milestones": "Training | 400 | 2\nPeak | 600 | 5"}
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    service = session.scalars(sa.select(Service).where(Service.title.like("双十一%"))).one()
    assert [(p.price, [m["amount"] for m in p.milestones]) for p in service.packages] == [(100_000, [40_000, 60_000])]
    edit = client.get(f"/provider/services/{service.id}/edit").get_data(as_text=True)
    assert "Training | 400.00 | 2" in edit and 'value="1000.00"' in edit
    r = client.post(
        f"/provider/services/{service.id}/edit",
        data={**form, "status": "hidden", "packages-0-milestones": "Training | 400 | 2\nPeak | 600 | 5"},
    )
    assert r.status_code == 302
    assert "双十一" not in client.get("/services").get_data(as_text=True)
    assert client.get(f"/services/{service.id}").status_code == 404

    r = client.post(
        "/provider/portfolio",
        data={"title": "Shop A", "link": "https://a.example", "image": (io.BytesIO(PNG), "a.png")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    provider = session.scalars(sa.select(ServiceProvider).where(ServiceProvider.display_name == "周到客服")).one()
    page = client.get(f"/services/providers/{provider.id}").get_data(as_text=True)
    image = re.search(r'src="(/services/portfolio/pfi_\w+/image)"', page)
    assert image and client.get(image.group(1)).data == PNG


def test_a_logged_in_developer_becomes_a_provider(client, session):
    _user(session, "dev@apps.example", is_developer=True)
    _login(client, "dev@apps.example")
    assert client.get("/provider").headers["Location"].endswith("/services/providers/signup")
    page = client.get("/services/providers/signup").get_data(as_text=True)
    assert 'name="email"' not in page  # the account exists: only the profile is asked for
    r = client.post("/services/providers/signup", data={"display_name": "Dev Studio", "categories": ["development"]})
    assert r.status_code == 302
    assert client.get("/services/providers/signup").headers["Location"].endswith("/provider")


def test_pages_speak_chinese_too(client, session, clock):
    _world(session, clock)
    page = client.get("/services", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "登录" in page and "天猫店铺代运营" in page


def test_forms_need_their_csrf_token(app, client, session, clock):
    world = _world(session, clock)
    _login(client, "owner@tea.example")
    order_id = _order_via_page(client, world, world["offer"].small_package)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert _act(client, order_id, "buyer", "message", body="hi").status_code == 400
        r = client.post(
            f"/service-orders/{order_id}/buyer/files",
            data={"file": (io.BytesIO(PNG), "x.png")},
            content_type="multipart/form-data",
        )
        assert r.status_code == 200 and "CSRF" in r.get_data(as_text=True)
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert session.scalar(sa.select(sa.func.count()).select_from(ServiceFile)) == 0


def test_staff_and_shop_pages_are_owner_only(client, session, clock):
    world = _world(session, clock)
    staff = _user(session, "staff@tea.example")
    add_staff(session, shop_id=world["shop_id"], user=staff, role="staff")
    session.commit()
    _login(client, "staff@tea.example")
    assert client.get(f"/shops/{world['shop_id']}/service-orders").status_code == 403
