"""Message engagement reports (docs/architecture.md §5.11): counts and rates per channel, template and journey over
a period, figures worked out by hand, in three statements whatever the data, and a clear 422 for a bad period."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from factories import ShopFactory, log_in_to_shop, token_for
from souk_platform.customers.models import Customer
from souk_platform.db import db
from souk_platform.journeys.models import Journey, JourneyEnrollment, JourneyVersion
from souk_platform.messaging.models import Message, MessageChannel, MessageTemplate
from souk_platform.messaging.services import ensure_built_in_channels, message_report, report_period

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)  # the `clock` fixture's instant: 18:00 in Shanghai


class Shop:
    """One shop's built-in channels, an app's SMS channel, three templates and an enrolment of a journey."""

    def __init__(self, session: Any) -> None:
        self.shop = ShopFactory()
        channels = {c.key: c for c in ensure_built_in_channels(session, shop_id=self.shop.id)}
        self.email, self.inbox = channels["email"], channels["inbox"]
        self.sms = MessageChannel(shop_id=self.shop.id, kind="app", name="短信", key="sms", installation_id="ins_x")
        self.customer = Customer(shop_id=self.shop.id, name="王小明", email="wang@example.com")
        session.add_all([self.sms, self.customer])
        session.flush()
        self.welcome = self.template(session, "新客欢迎", "email")
        self.care = self.template(session, "生日关怀", "inbox")
        self.remind = self.template(session, "短信提醒", "app")
        graph = {"entry": "start", "nodes": {}}
        self.journey = Journey(shop_id=self.shop.id, name="首单复购", status="active", graph=graph)
        session.add(self.journey)
        session.flush()
        version = JourneyVersion(shop_id=self.shop.id, journey_id=self.journey.id, number=1, graph=graph)
        session.add(version)
        session.flush()
        self.enrollment = JourneyEnrollment(
            shop_id=self.shop.id,
            journey_id=self.journey.id,
            version_id=version.id,
            customer_id=self.customer.id,
            entry_key="once",
            status="completed",
            current_node="start",
            entered_at=NOW,
        )
        session.add(self.enrollment)
        session.flush()
        self.made = 0

    def template(self, session: Any, name: str, kind: str) -> MessageTemplate:
        template = MessageTemplate(shop_id=self.shop.id, name=name, channel_kind=kind, subject="s", body="b")
        session.add(template)
        session.flush()
        return template

    def message(
        self,
        session: Any,
        channel: MessageChannel,
        template: MessageTemplate | None,
        status: str,
        *,
        journey: bool = False,
        read: bool = False,
        at: dt.datetime = NOW - dt.timedelta(hours=1),
    ) -> None:
        self.made += 1
        session.add(
            Message(
                shop_id=self.shop.id,
                customer_id=self.customer.id,
                channel_id=channel.id,
                template_id=template.id if template else None,
                channel_kind=channel.kind,
                body="b",
                status=status,
                source="journey" if journey else "api",
                source_id=self.enrollment.id if journey else None,
                idempotency_key=f"k{self.made}",
                read_at=at if read else None,
                created_at=at,
            )
        )


@pytest.fixture
def shop(session: Any) -> Shop:
    shop = Shop(session)
    email, inbox, sms = shop.email, shop.inbox, shop.sms
    for status, journey in [
        ("delivered", True),
        ("delivered", False),
        ("failed", True),
        ("queued", False),
        ("suppressed", False),
    ]:
        shop.message(session, email, shop.welcome, status, journey=journey)
    for status, read in [("delivered", True), ("delivered", False), ("delivered", False), ("scheduled", False)]:
        shop.message(session, inbox, shop.care, status, read=read)
    shop.message(session, inbox, None, "delivered", read=True)  # written by hand, no template
    shop.message(session, sms, shop.remind, "sent")  # the app has not reported back
    shop.message(session, sms, shop.remind, "clicked", journey=True)
    shop.message(session, sms, shop.remind, "delivered")
    # Outside the period (the 7 local days from 24 February) or another shop's: never counted
    shop.message(session, email, shop.welcome, "delivered", at=dt.datetime(2026, 2, 23, 15, 59, tzinfo=dt.UTC))
    other = Shop(session)
    other.message(session, other.email, other.welcome, "failed", journey=True)
    session.commit()
    return shop


def figures(total: int, **counts: Any) -> dict[str, Any]:
    statuses = ("scheduled", "queued", "sent", "delivered", "failed", "clicked", "suppressed", "read")
    return {"total": total, **dict.fromkeys(statuses, 0), **counts}


# Worked out by hand from the messages above (rates rounded to 4 places).
TOTALS = figures(
    13,
    scheduled=1,
    queued=1,
    sent=1,
    delivered=7,
    failed=1,
    clicked=1,
    suppressed=1,
    read=2,
    delivery_rate=0.8,  # (7 + 1) / (1 + 7 + 1 + 1)
    click_rate=0.125,  # 1 / 8
    failure_rate=0.1,  # 1 / 10
    suppression_rate=0.0769,  # 1 / 13
)
EMAIL = figures(
    5,
    delivered=2,
    failed=1,
    queued=1,
    suppressed=1,
    delivery_rate=0.6667,  # 2 / 3 handed on (the queued and the suppressed were not)
    click_rate=0.0,
    failure_rate=0.3333,
    suppression_rate=0.2,
)
INBOX = figures(
    5, delivered=4, scheduled=1, read=2, delivery_rate=1.0, click_rate=0.0, failure_rate=0.0, suppression_rate=0.0
)
SMS = figures(
    3, sent=1, clicked=1, delivered=1, delivery_rate=0.6667, click_rate=0.5, failure_rate=0.0, suppression_rate=0.0
)
CARE = figures(
    4, delivered=3, scheduled=1, read=1, delivery_rate=1.0, click_rate=0.0, failure_rate=0.0, suppression_rate=0.0
)
BY_HAND = figures(1, delivered=1, read=1, delivery_rate=1.0, click_rate=0.0, failure_rate=0.0, suppression_rate=0.0)
JOURNEY = figures(
    3,
    delivered=1,
    failed=1,
    clicked=1,
    delivery_rate=0.6667,  # (1 + 1) / 3
    click_rate=0.5,
    failure_rate=0.3333,
    suppression_rate=0.0,
)


def _strip(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


def test_the_report_counts_each_message_once_per_channel_template_and_journey(session, shop) -> None:
    start, end = report_period(shop.shop, now=NOW, days=7)
    assert (start, end) == (
        dt.datetime(2026, 2, 23, 16, 0, tzinfo=dt.UTC),  # 24 February 00:00 in Shanghai
        dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC),
    )
    report = message_report(session, shop_id=shop.shop.id, start=start, end=end)
    assert report["totals"] == TOTALS
    channels = {row["channel_id"]: row for row in report["channels"]}
    assert _strip(channels[shop.email.id], "channel_id") == {"name": "Email", "kind": "email", "key": "email", **EMAIL}
    assert _strip(channels[shop.inbox.id], "channel_id", "name", "kind", "key") == INBOX
    assert _strip(channels[shop.sms.id], "channel_id") == {"name": "短信", "kind": "app", "key": "sms", **SMS}
    assert [row["total"] for row in report["channels"]] == [5, 5, 3]  # busiest first
    templates = {row["template_id"]: row for row in report["templates"]}
    assert set(templates) == {shop.welcome.id, shop.care.id, shop.remind.id, None}
    assert _strip(templates[shop.welcome.id], "template_id") == {"name": "新客欢迎", **EMAIL}
    assert _strip(templates[shop.care.id], "template_id") == {"name": "生日关怀", **CARE}
    assert _strip(templates[None], "template_id") == {"name": None, **BY_HAND}
    assert report["journeys"] == [{"journey_id": shop.journey.id, "name": "首单复购", **JOURNEY}]


def test_the_report_takes_three_statements_however_much_there_is(session, shop) -> None:
    start, end = report_period(shop.shop, now=NOW, days=7)
    shop_id = shop.shop.id
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    def count() -> int:
        sent.clear()
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            message_report(session, shop_id=shop_id, start=start, end=end)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
        return len([s for s in sent if not s.startswith("SAVEPOINT")])  # the test's own savepoint is not the report's

    assert count() == 3
    for i in range(4):  # more channels, templates, journeys and messages: still three
        channel = MessageChannel(shop_id=shop.shop.id, kind="app", name=f"渠道{i}", key=f"k{i}", installation_id="i")
        session.add(channel)
        session.flush()
        for status in ("delivered", "failed", "clicked"):
            shop.message(session, channel, shop.template(session, f"模板{i}{status}", "app"), status, journey=True)
    session.commit()
    assert count() == 3


def test_the_api_reports_the_period_asked_for_and_refuses_a_bad_one(client, session, shop, clock) -> None:
    headers = token_for(shop.shop)
    r = client.get("/api/v1/message-reports", headers=headers)  # the last 7 local days by default
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert body["totals"] == TOTALS
    assert (body["from"], body["to"]) == ("2026-02-23T16:00:00+00:00", "2026-03-02T16:00:00+00:00")
    assert body["journeys"][0]["journey_id"] == shop.journey.id

    r = client.get("/api/v1/message-reports", query_string={"days": 1}, headers=headers)
    assert r.get_json()["totals"]["total"] == 13  # all made an hour ago, in today's local day
    window = {"from": "2026-02-23T15:00:00Z", "to": "2026-02-23T16:30:00Z"}
    r = client.get("/api/v1/message-reports", query_string=window, headers=headers)
    assert r.status_code == 200 and r.get_json()["totals"] == figures(
        1, delivered=1, delivery_rate=1.0, click_rate=0.0, failure_rate=0.0, suppression_rate=0.0
    )
    empty = client.get(
        "/api/v1/message-reports", query_string={"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}
    )
    assert empty.status_code == 401  # no token

    for query, field in [
        ({"days": 0}, "days"),
        ({"days": 367}, "days"),
        ({"from": "2026-03-01T00:00:00Z"}, "to"),
        ({"to": "2026-03-01T00:00:00Z"}, "from"),
        ({"from": "2026-03-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}, "to"),
        ({"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to"),
        ({"days": 7, "from": "2026-03-01T00:00:00Z", "to": "2026-03-02T00:00:00Z"}, "days"),
        ({"from": "yesterday", "to": "2026-03-02T00:00:00Z"}, "from"),
        ({"channel": "email"}, "channel"),  # unknown parameters are refused, not ignored
    ]:
        r = client.get("/api/v1/message-reports", query_string=query, headers=headers)
        body = r.get_json()
        assert r.status_code == 422, (query, body)
        assert r.headers["Content-Type"].startswith("application/problem+json")
        assert field in str(body["errors"]), (query, body)

    nothing = client.get(
        "/api/v1/message-reports",
        query_string={"from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"},
        headers=headers,
    ).get_json()
    assert nothing["totals"]["total"] == 0 and nothing["totals"]["delivery_rate"] is None
    assert nothing["channels"] == nothing["templates"] == nothing["journeys"] == []

    r = client.get(f"/api/v1/journeys/{shop.journey.id}/report", headers=headers)  # the journey's own report
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["messages"] == JOURNEY

    r = client.get("/api/v1/message-reports", headers=token_for(shop.shop, scopes=["read_orders"]))
    assert r.status_code == 403 and "read_messages" in r.get_json()["detail"]


def test_the_report_page_draws_the_channels_and_lists_templates_and_journeys(client, session, shop, clock) -> None:
    shop_id = shop.shop.id
    ids = {"email": shop.email.id, "sms": shop.sms.id, "care": shop.care.id, "journey": shop.journey.id}
    log_in_to_shop(client, shop_id)
    r = client.get(f"/shops/{shop_id}/message-reports")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'data-totals="13"' in page and "80.0 %" in page  # the shop's delivery rate
    assert f'<g data-channel="{ids["email"]}" data-total="5">' in page  # one bar per channel
    assert page.count('<g data-channel="') == 3
    assert f'data-template-row="{ids["care"]}"' in page and "生日关怀" in page
    assert f'data-journey-row="{ids["journey"]}"' in page and "首单复购" in page
    assert "2026-02-24" in page and "2026-03-02" in page  # the period in the shop's days
    assert f"/shops/{shop_id}/message-reports" in client.get(f"/shops/{shop_id}/messages").get_data(as_text=True)

    chinese = client.get(f"/shops/{shop_id}/message-reports", headers={"Accept-Language": "zh-CN"})
    assert "触达效果" in chinese.get_data(as_text=True)

    assert client.get(f"/shops/{shop_id}/message-reports?days=400").status_code == 400
    assert client.get(f"/shops/{shop_id}/message-reports?days=x").status_code == 400
    assert client.get(f"/shops/{shop_id}/message-reports?days=²").status_code == 400
    assert client.get(f"/shops/{ShopFactory().id}/message-reports").status_code == 404  # another shop
