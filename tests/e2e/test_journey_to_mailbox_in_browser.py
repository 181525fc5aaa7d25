"""Issue 17's walk in the browser (docs/architecture.md §5.12, §5.11): the owner builds a journey from a template
on the canvas — 首单复购, a first order, a week's wait, a coupon and an email — fills its placeholders in the side
forms and activates it; a new customer with an email address places and pays a first order through the API, the
canvas's node counts follow them, and the email with the coupon code lands in a real SMTP server's mailbox
(aiosmtpd), once. In English, then in Chinese.

The live app runs on a clock that can jump: the journey's wait is a week, and the test skips it rather than
sleeping. The clock starts at 10:00 in Shanghai, outside the shop's and the template's quiet hours.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from e2e.harness import LiveServer, log_in, new_page
from playwright.sync_api import expect

from souk_platform.auth.models import User
from souk_platform.auth.scopes import all_scopes
from souk_platform.auth.services import create_access_token
from souk_platform.coupons.models import Coupon
from souk_platform.db import db
from souk_platform.demo import demo_shop
from souk_platform.journeys.engine.enrol import ADVANCE_JOB
from souk_platform.messaging.models import MessageChannel
from souk_platform.messaging.services import create_template

OWNER = ("owner@demo.souk.dev", "souk-demo-owner")
COUPON = "会员专享 满199减30 / Members: ¥30 off ¥199"  # the demo's issued coupon
TIMEOUT = 30.0


class JumpingClock:
    """Wall-clock time moved by an offset the test can grow (so a week's wait passes at once)."""

    def __init__(self, start: dt.datetime) -> None:
        self._offset = start - dt.datetime.now(dt.UTC)
        self._lock = threading.Lock()

    def now(self) -> dt.datetime:
        with self._lock:
            return dt.datetime.now(dt.UTC) + self._offset

    def jump(self, delta: dt.timedelta) -> None:
        with self._lock:
            self._offset += delta


class Mailbox:
    """What a real SMTP server (aiosmtpd, on a free loopback port) received."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"

    def to(self, address: str, subject: str = "") -> list[EmailMessage]:
        return [m for m in list(self.messages) if m["To"] == address and m["Subject"].startswith(subject)]


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def clock() -> JumpingClock:
    tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
    return JumpingClock(dt.datetime.combine(tomorrow, dt.time(2, 0), tzinfo=dt.UTC))  # 10:00 in Shanghai


@pytest.fixture(scope="module")
def souk_options(mailbox: tuple[Mailbox, int], clock: JumpingClock) -> dict[str, Any]:
    """The live Souk of this module sends email to the mailbox and reads the jumping clock."""
    return {"config": {"SOUK_SMTP_HOST": "127.0.0.1", "SOUK_SMTP_PORT": mailbox[1]}, "clock": clock}


def _until(check: Callable[[], Any], what: str, timeout: float = TIMEOUT) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting for {what}")
        time.sleep(0.2)


def _badge(page: Any, node: str) -> tuple[int, int]:
    badge = page.locator(f"[data-node={node}] g.badge")
    return int(badge.get_attribute("data-count-current")), int(badge.get_attribute("data-count-steps"))


def _until_counts(page: Any, expected: dict[str, tuple[int, int]]) -> None:
    """Reload the canvas until each node's badge shows ``(customers here now, steps taken there)``."""

    def shown() -> bool:
        page.reload()
        return all(_badge(page, node) == counts for node, counts in expected.items())

    _until(shown, f"the canvas to show {expected}")


def _set_up(souk: LiveServer, language: str) -> dict[str, str]:
    """The shop's side, through the services: an API token and an email template using the coupon's code."""
    with souk.app.app_context():
        session = db.session
        shop = demo_shop(session)
        assert shop is not None
        owner = session.scalars(sa.select(User).where(User.email == OWNER[0])).one()
        _token, secret = create_access_token(
            session, shop_id=shop.id, name=f"Journey walk {language}", scopes=all_scopes(), created_by=owner.id
        )
        subject = (
            "{{ customer_name }}，您的复购券已到账"
            if language == "zh"
            else "{{ customer_name }}, your coupon for the next order"
        )
        body = (
            "<p>{{ customer_name }}，送您一张{{ coupon_name }}，下单时输入券码 {{ coupon_code }}。</p>"
            if language == "zh"
            else "<p>Dear {{ customer_name }}, here is {{ coupon_name }}: use the code {{ coupon_code }}.</p>"
        )
        template = create_template(
            session,
            shop_id=shop.id,
            fields={"name": f"复购券邮件 {language}", "channel_kind": "email", "subject": subject, "body": body},
        )
        email = session.scalars(
            sa.select(MessageChannel).where(MessageChannel.shop_id == shop.id, MessageChannel.kind == "email")
        ).first()
        coupon = session.scalars(sa.select(Coupon).where(Coupon.shop_id == shop.id, Coupon.name == COUPON)).one()
        found = {
            "secret": secret,
            "template": template.name,
            "channel": email.name,
            "code": coupon.code or "",
            "shop_id": shop.id,
        }
        session.commit()
        db.session.remove()
    return found


def _first_order(souk: LiveServer, secret: str, name: str, address: str) -> None:
    """A new customer with an email address places and pays their first order, through the API."""
    client, auth = souk.app.test_client(), {"Authorization": f"Bearer {secret}"}

    def post(path: str, body: dict[str, Any], *, key: bool = False) -> dict[str, Any]:
        headers = {**auth, "Idempotency-Key": uuid.uuid4().hex} if key else auth
        response = client.post(f"/api/v1{path}", json=body, headers=headers)
        assert response.status_code in (200, 201), (path, response.get_json())
        found: dict[str, Any] = response.get_json()
        return found

    customer = post("/customers", {"name": name, "email": address})
    products = client.get("/api/v1/products?limit=50", headers=auth).get_json()["items"]
    sku = next(s for p in products if p["status"] == "active" for s in p["skus"] if s["available"] > 0)
    cart = post("/carts", {"customer_id": customer["id"], "lines": [{"sku_id": sku["id"], "quantity": 1}]})
    order = post(f"/carts/{cart['id']}/checkout", {}, key=True)
    payment = post(f"/orders/{order['id']}/payments", {}, key=True)
    post(f"/payments/{payment['id']}/callback", {"outcome": "succeeded"})


WORDS = {
    "en": {
        "journeys": ("Your shops", "Journeys"),
        "gallery": "Start from a template",
        "use": "Use this template",
        "save": "Save the node",
        "activate": "Activate",
        "running": "Running",
        "draft": "Draft",
        "saved": "Saved.",
    },
    "zh": {
        "journeys": ("您的店铺", "营销画布"),
        "gallery": "从模板开始",
        "use": "使用此模板",
        "save": "保存节点",
        "activate": "启用",
        "running": "运行中",
        "draft": "草稿",
        "saved": "已保存。",
    },
}


def _walk(souk: LiveServer, browser: Any, shots: Any, mailbox: Mailbox, clock: JumpingClock, language: str) -> None:
    words = WORDS[language]
    shop = _set_up(souk, language)
    page = new_page(browser, locale="zh-CN" if language == "zh" else "en-US")
    log_in(page, souk.url, *OWNER)
    if language == "zh":
        page.get_by_role("link", name="简体中文").click()
    section, link = words["journeys"]
    page.locator("section.card", has_text=section).get_by_role("link", name=link, exact=True).click()
    journeys_url = page.url
    if language == "zh":
        # The English walk's journey gives the same coupon on the same trigger: paused, it lets new customers by.
        page.get_by_role("link", name="From the first order to the second").click()
        page.get_by_role("button", name="暂停").click()
        expect(page.locator("#journey-status")).to_have_text("已暂停")
        page.goto(journeys_url)
    page.get_by_role("link", name=words["gallery"]).click()
    page.locator("[data-template=first_order_repurchase]").get_by_role("button", name=words["use"]).click()
    expect(page.locator("#journey-status")).to_have_text(words["draft"])
    shots.take(page, f"draft-{language}")

    page.locator("[data-node=coupon]").click()
    page.select_option("#node-form select[name=p_coupon_id]", label=COUPON)
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_text(words["saved"])).to_be_visible()
    page.locator("[data-node=tell]").click()
    page.select_option("#node-form select[name=p_channel_id]", label=shop["channel"])
    page.select_option("#node-form select[name=p_template_id]", label=shop["template"])
    page.get_by_role("button", name=words["save"]).click()
    expect(page.get_by_text(words["saved"])).to_be_visible()
    expect(page.locator("#problems")).to_have_count(0)
    page.get_by_role("button", name=words["activate"]).click()
    expect(page.locator("#journey-status")).to_have_text(words["running"])
    shots.take(page, f"active-{language}")

    name = "林小满" if language == "zh" else "Lin Xiaoman"
    address = f"first-order-{language}-{uuid.uuid4().hex[:8]}@example.com"
    _first_order(souk, shop["secret"], name, address)
    _until_counts(page, {"start": (0, 1), "first": (0, 1), "wait": (1, 0), "tell": (0, 0)})  # a week to wait
    shots.take(page, f"waiting-{language}")
    assert mailbox.to(address) == []  # nothing before the week is over

    clock.jump(dt.timedelta(days=7, minutes=1))
    souk.app.extensions["souk.jobs"].enqueue_once(ADVANCE_JOB)  # the 5-second tick, in production
    # The other test's journey (also on a paid order) may write to this customer too: its subject differs.
    subject = f"{name}，您的复购券已到账" if language == "zh" else f"{name}, your coupon for the next order"
    (mail,) = _until(lambda: mailbox.to(address, subject), f"an email to {address}")
    _until_counts(page, {"wait": (0, 1), "coupon": (0, 1), "tell": (0, 1), "end": (0, 1)})
    shots.take(page, f"done-{language}")

    content = mail.get_body(("html",)).get_content()
    if language == "zh":
        assert f"{name}，送您一张{COUPON}，下单时输入券码 {shop['code']}。" in content
    else:
        assert f"Dear {name}, here is {COUPON}: use the code {shop['code']}." in content
    souk.app.extensions["souk.jobs"].enqueue_once(ADVANCE_JOB)  # running again sends nothing more
    time.sleep(1.0)
    assert len(mailbox.to(address, subject)) == 1


def test_a_journey_from_a_template_takes_a_first_order_to_an_email_in_the_mailbox(souk, browser, shots, mailbox, clock):
    _walk(souk, browser, shots, mailbox[0], clock, "en")


def test_the_same_walk_in_chinese(souk, browser, shots, mailbox, clock):
    _walk(souk, browser, shots, mailbox[0], clock, "zh")
