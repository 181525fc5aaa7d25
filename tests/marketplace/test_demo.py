"""The marketplace's demo seed, walked as a newcomer would: a lived-in board and service market, a
submission in the review queue, drawn images, and README tour step 9 from the market to an approved
paid plan whose money moved through the ledger."""

from __future__ import annotations

import html
import re
import struct
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.embedded

OWNER = {"email": "owner@demo.souk.dev", "password": "souk-demo-owner"}
ADMIN = {"email": "admin@demo.souk.dev", "password": "souk-demo-admin"}


@pytest.fixture(scope="module")
def demo(embedded_app):  # type: ignore[no-untyped-def]
    from souk_platform.db import db
    from souk_platform.demo import seed_demo

    with embedded_app.app_context():
        seed_demo(db.session, echo=lambda _line: None)
    return embedded_app


def _logged_in(app, who):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.post("/login", data=who).status_code == 302
    return client


def test_the_board_and_the_service_market_are_lived_in(demo):  # type: ignore[no-untyped-def]
    client = demo.test_client()
    # The embedded app is shared by the session's tests: requirements/test_embedded.py posts "SQLite …" ones.
    everything = client.get("/api/v1/requirements?limit=50").get_json()["items"]
    board = [item for item in everything if not item["title"].startswith("SQLite ")]
    assert len(board) == 3 and all(item["pledged_total"] > 0 for item in board)
    assert {item["backers_count"] for item in board} == {3, 2, 1}  # other merchants pledged too
    page = client.get("/requirements").get_data(as_text=True)
    assert "生日自动发券" in page and "小程序订单同步" in page
    birthday = next(item for item in board if "Birthday" in item["title"])
    detail = client.get(f"/requirements/{birthday['id']}").get_data(as_text=True)
    assert "¥2,800.00" in detail and "¥2,400.00" in detail  # the demo developer's and the studio's proposals
    services = client.get("/services").get_data(as_text=True)
    assert "杭州茶数字工作室" in services or "Tea Digital Studio" in services
    assert "Seasonal shop banners" in services
    owner = _logged_in(demo, OWNER)
    shop_id = re.search(r"/shops/(shp_\w+)/", owner.get("/").get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    orders = owner.get(f"/shops/{shop_id}/service-orders").get_data(as_text=True)
    assert "Shop set-up and product photos" in orders


def test_a_submission_waits_in_the_review_queue(demo):  # type: ignore[no-untyped-def]
    queue = _logged_in(demo, ADMIN).get("/admin/listings").get_data(as_text=True)
    assert "Order Cashback" in queue


def test_the_market_lists_four_sample_apps_including_the_journey_split_one(demo):  # type: ignore[no-untyped-def]
    listed = demo.test_client().get("/api/v1/market/apps?limit=20").get_json()["items"]
    names = {item["texts"]["en"]["name"] for item in listed}
    assert {"Tiered Discount", "Member Price", "Risk Guard", "Next Best Offer"} <= names  # each passed its checks
    assert "Order Cashback" not in names  # still in the review queue


def test_icons_and_screenshots_are_drawn_not_flat(demo):  # type: ignore[no-untyped-def]
    import zlib

    client = demo.test_client()
    listed = client.get("/api/v1/market/apps?limit=10").get_json()["items"]
    slug = next(item["slug"] for item in listed if item["texts"]["en"]["name"] == "Tiered Discount")
    entry = client.get(f"/api/v1/market/apps/{slug}").get_json()
    for url in [entry["icon_url"], *entry["screenshot_urls"]]:
        png = client.get(url).get_data()
        width, height = struct.unpack(">II", png[16:24])
        idat = b"".join(
            png[i + 8 : i + 8 + struct.unpack(">I", png[i : i + 4])[0]]
            for i in (m.start() - 4 for m in re.finditer(b"IDAT", png))
        )
        raw = zlib.decompress(idat)
        colours = {raw[i : i + 3] for i in range(1, len(raw), 4 * 7 + 1)}  # a sample of pixels
        assert width >= 64 and height >= 64 and len(colours) > 20, url  # a gradient, text and shapes


def test_tour_step_9_install_from_the_market_lands_on_the_app_and_its_paid_plan_is_approved(demo):  # type: ignore[no-untyped-def]
    from souk_platform.db import db
    from souk_platform.ledger.services import check_invariants

    owner = _logged_in(demo, OWNER)
    found = owner.get("/market?q=满减").get_data(as_text=True)
    app_page = owner.get(re.search(r'href="(/market/[^"?]+)"', found).group(1)).get_data(as_text=True)  # type: ignore[union-attr]
    install = urlsplit(html.unescape(re.search(r'id="install" href="([^"]+)"', app_page).group(1)))  # type: ignore[union-attr]
    query = {key: values[0] for key, values in parse_qs(install.query).items()}
    assert owner.get("/oauth/authorize", query_string=query).status_code == 200  # the consent page
    approved = owner.post("/oauth/authorize", query_string=query, data={"decision": "approve"})
    landing = urlsplit(approved.headers["Location"])
    assert landing.path == "/demo-apps/tiered-discount/callback"  # on this Souk, not a made-up host

    page = owner.get(landing.path + "?" + landing.query)
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="installed"' in text and "Souk Demo Tea House" in text
    assert "read_orders" in text and "choose-plan" in text
    stranger = demo.test_client().get(landing.path + "?" + landing.query).get_data(as_text=True)
    assert "Souk Demo Tea House" not in stranger and 'id="no-install"' in stranger  # only the shop's staff see it
    shop_id = re.search(r'id="shop">(shp_\w+)<', text).group(1)  # type: ignore[union-attr]
    plan_form = re.search(r'<form id="plan-form" method="post" action="([^"]+)"', text).group(1)  # type: ignore[union-attr]
    to_approval = owner.post(html.unescape(plan_form))
    assert to_approval.status_code == 302, to_approval.get_data(as_text=True)[:300]
    assert "/billing/approve/" in to_approval.headers["Location"], to_approval.headers["Location"]
    approval_page = owner.get(to_approval.headers["Location"])
    assert approval_page.status_code == 200 and "¥99.00" in approval_page.get_data(as_text=True)
    decided = owner.post(to_approval.headers["Location"], data={"approve": "Approve"})
    back = urlsplit(decided.headers["Location"])
    assert back.path == "/demo-apps/tiered-discount/callback" and "status=active" in back.query
    assert "Plan pro: active" in owner.get(back.path + "?" + back.query).get_data(as_text=True)

    charges = owner.get(f"/shops/{shop_id}/billing").get_data(as_text=True)
    assert "Tiered Discount" in charges and "¥99.00" in charges
    with demo.app_context():
        assert check_invariants(db.session) == []
