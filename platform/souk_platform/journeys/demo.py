"""Demo journeys for ``souk demo`` (docs/architecture.md §5.12): two drafts from the template gallery, one of
them filled in with the demo's own objects and active."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from souk_platform.benefits.models import BenefitPackage
from souk_platform.core.clock import SystemClock
from souk_platform.db import DbSession
from souk_platform.journeys import canvas, services
from souk_platform.journeys.models import Journey
from souk_platform.messaging.models import MessageChannel, MessageTemplate
from souk_platform.shops.models import Shop


def _messages(session: DbSession, shop_id: str) -> tuple[str, str] | None:
    """The shop's inbox channel and its first inbox template (the messaging demo's 生日关怀), if seeded."""
    channel_id = session.scalar(
        sa.select(MessageChannel.id).where(
            MessageChannel.shop_id == shop_id, MessageChannel.kind == "inbox", MessageChannel.status == "active"
        )
    )
    template_id = session.scalar(
        sa.select(MessageTemplate.id)
        .where(MessageTemplate.shop_id == shop_id, MessageTemplate.channel_kind == "inbox")
        .order_by(MessageTemplate.created_at, MessageTemplate.id)
        .limit(1)
    )
    return (channel_id, template_id) if channel_id and template_id else None


def _birthday_graph(session: DbSession, shop_id: str, graph: dict[str, Any]) -> dict[str, Any]:
    package_id = session.scalar(
        sa.select(BenefitPackage.id)
        .where(BenefitPackage.shop_id == shop_id, BenefitPackage.trigger == "birthday")
        .order_by(BenefitPackage.id)
        .limit(1)
    )
    graph["nodes"]["gift"]["params"]["package_id"] = package_id
    messages = _messages(session, shop_id)
    if messages is None:
        return canvas.remove_node(graph, "greet")  # no channel to greet through yet: the gift alone
    graph["nodes"]["greet"]["params"].update(channel_id=messages[0], template_id=messages[1])
    return graph


def seed(session: DbSession, shop: Shop) -> None:
    """会员生日关怀 active with the demo's 生日礼, and 沉睡唤醒 as a draft still to fill (once per shop)."""
    if session.scalar(sa.select(Journey.id).where(Journey.shop_id == shop.id).limit(1)) is not None:
        return
    birthday = services.create_from_template(session, shop_id=shop.id, key="birthday_care", language="zh")
    services.update_journey(
        session,
        shop_id=shop.id,
        journey_id=birthday.id,
        changes={"graph": _birthday_graph(session, shop.id, dict(birthday.graph))},
        expected_version=birthday.version,
    )
    if not services.validate_graph(session, shop_id=shop.id, graph=birthday.graph)["problems"]:
        services.change_status(
            session,
            shop_id=shop.id,
            journey_id=birthday.id,
            action="activate",
            expected_version=None,
            now=SystemClock().now(),
        )
    services.create_from_template(session, shop_id=shop.id, key="dormant_winback", language="zh")
