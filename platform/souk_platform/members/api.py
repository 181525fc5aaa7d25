"""The member-levels API: the shop's level rules and perks, member prices, and each customer's level and history."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask.views import MethodView

from souk_platform.api import (
    PageArgs,
    current_principal,
    etag,
    expected_version,
    page_of,
    page_schema,
    paginated,
    requires,
    row_page_of,
    transactional,
)
from souk_platform.api.parsing import Blueprint
from souk_platform.core.clock import app_now
from souk_platform.customers.services import get_customer
from souk_platform.db import db
from souk_platform.members import perks, services
from souk_platform.members.models import MemberLevelChange, MemberPrice
from souk_platform.members.schemas import (
    LevelChangeSchema,
    LevelConfigInputSchema,
    LevelConfigSchema,
    LevelResultSchema,
    MemberPriceCreateSchema,
    MemberPriceQuerySchema,
    MemberPriceSchema,
    MemberPriceUpdateSchema,
    SetLevelSchema,
)

blp = Blueprint(
    "members",
    __name__,
    url_prefix="",
    description="Member levels V1–V5: their rules, perks and member prices, and history",
)


def _result(
    customer_id: str, change: services.LevelChange | None, stats: services.MemberStats | None
) -> dict[str, Any]:
    level = (
        change.to_level
        if change
        else get_customer(db.session, shop_id=current_principal().shop_id, customer_id=customer_id).level
    )
    return {
        "customer_id": customer_id,
        "changed": change is not None,
        "level": level,
        "from_level": change.from_level if change else None,
        "to_level": change.to_level if change else None,
        "reason": change.reason if change else None,
        "stats": asdict(stats) if stats else None,
    }


@blp.route("/member-levels")
class MemberLevels(MethodView):
    @requires("read_members")
    @blp.response(200, LevelConfigSchema)
    def get(self) -> Any:
        """The shop's level names, upgrade/keep rules and perks (defaults until set)"""
        config = services.get_level_config(db.session, shop_id=current_principal().shop_id)
        return config, 200, etag(config["version"])

    @requires("write_members")
    @transactional
    @blp.arguments(LevelConfigInputSchema)
    @blp.response(200, LevelConfigSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def put(self, fields: dict[str, Any]) -> Any:
        """Replace the level names, rules and perks (thresholds must not fall as levels rise)"""
        config = services.save_level_config(
            db.session, shop_id=current_principal().shop_id, expected_version=expected_version(), **fields
        )
        return config, 200, etag(config["version"])


@blp.route("/customers/<customer_id>/level-history")
class LevelHistory(MethodView):
    @requires("read_members")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, page_schema(LevelChangeSchema))
    def get(self, args: dict[str, Any], customer_id: str) -> Any:
        """A customer's level changes, newest first"""
        shop_id = current_principal().shop_id
        get_customer(db.session, shop_id=shop_id, customer_id=customer_id)
        stmt = services.level_history_stmt(shop_id, customer_id)
        return paginated(page_of(db.session, stmt, MemberLevelChange.id, **args))


@blp.route("/customers/<customer_id>/level")
class CustomerLevel(MethodView):
    @requires("write_members")
    @transactional
    @blp.arguments(SetLevelSchema)
    @blp.response(200, LevelResultSchema)
    def post(self, fields: dict[str, Any], customer_id: str) -> Any:
        """Set a customer's level by hand, with a reason (kept in the history)"""
        change = services.set_customer_level(
            db.session, shop_id=current_principal().shop_id, customer_id=customer_id, now=app_now(), **fields
        )
        return _result(customer_id, change, None)


@blp.route("/customers/<customer_id>/level/evaluate")
class CustomerLevelEvaluation(MethodView):
    @requires("write_members")
    @transactional
    @blp.response(200, LevelResultSchema)
    def post(self, customer_id: str) -> Any:
        """Apply the level rules to a customer now and say what they saw and did"""
        change, stats = services.evaluate_with_stats(
            db.session, shop_id=current_principal().shop_id, customer_id=customer_id, now=app_now()
        )
        return _result(customer_id, change, stats)


@blp.route("/member-prices")
class MemberPrices(MethodView):
    @requires("read_members")
    @blp.arguments(MemberPriceQuerySchema, location="query")
    @blp.response(200, page_schema(MemberPriceSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Member prices (会员价) per SKU and level, newest first; filter by SKU, product or level"""
        stmt = perks.member_prices_stmt(
            current_principal().shop_id,
            sku_id=args.pop("sku_id"),
            product_id=args.pop("product_id"),
            level=args.pop("level"),
        )
        return paginated(row_page_of(db.session, stmt, MemberPrice.id, **args))

    @requires("write_members")
    @transactional
    @blp.arguments(MemberPriceCreateSchema)
    @blp.response(201, MemberPriceSchema)
    @blp.alt_response(409, description="The SKU already has a member price for this level")
    def post(self, fields: dict[str, Any]) -> Any:
        """Set the price members of one level pay for one SKU (wins over the level's discount)"""
        price = perks.create_member_price(db.session, shop_id=current_principal().shop_id, **fields)
        return price, 201, etag(price.version)


@blp.route("/member-prices/<member_price_id>")
class MemberPriceResource(MethodView):
    @requires("read_members")
    @blp.response(200, MemberPriceSchema)
    def get(self, member_price_id: str) -> Any:
        """One member price"""
        price = perks.get_member_price(db.session, shop_id=current_principal().shop_id, member_price_id=member_price_id)
        return price, 200, etag(price.version)

    @requires("write_members")
    @transactional
    @blp.arguments(MemberPriceUpdateSchema)
    @blp.response(200, MemberPriceSchema)
    @blp.alt_response(412, description="If-Match names a stale version")
    def patch(self, fields: dict[str, Any], member_price_id: str) -> Any:
        """Change a member price (send If-Match with the version you read)"""
        price = perks.update_member_price(
            db.session,
            shop_id=current_principal().shop_id,
            member_price_id=member_price_id,
            expected_version=expected_version(),
            **fields,
        )
        return price, 200, etag(price.version)

    @requires("write_members")
    @transactional
    @blp.response(204)
    @blp.alt_response(412, description="If-Match names a stale version")
    def delete(self, member_price_id: str) -> Any:
        """Remove a member price: the SKU falls back to the level's discount"""
        perks.delete_member_price(
            db.session,
            shop_id=current_principal().shop_id,
            member_price_id=member_price_id,
            expected_version=expected_version(),
        )
        return None
