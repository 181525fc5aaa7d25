"""The merchant's segment builder: fields from the registry, AND/OR groups, the reach as the condition changes.

The page posts the condition it builds (the API's shape) to two JSON endpoints of the signed-in session
(CSRF-checked like every form): one estimates the reach, one saves the segment. Validation, reference
checks and counting are the API's own (docs/architecture.md §5.8).
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import Blueprint, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from souk_platform.api.problems import _flatten
from souk_platform.audience.fields import GROUPS, PARAMS, REGISTRY, SCENE, Field
from souk_platform.audience.schemas import load_condition_group
from souk_platform.audience.sources import ORDER_CHANNELS, PAYMENT_METHODS
from souk_platform.behaviour.models import CustomerEvent
from souk_platform.benefits.models import BenefitPackage
from souk_platform.catalog.categories import category_tree
from souk_platform.catalog.models import Product, ProductTag
from souk_platform.core.clock import app_now
from souk_platform.core.errors import SoukError
from souk_platform.coupons.models import Coupon
from souk_platform.db import db
from souk_platform.orders.forms import CHANNEL_WORDS
from souk_platform.shops.services import get_shop
from souk_platform.tags import services as tag_services
from souk_platform.tags.models import Segment, Tag
from souk_platform.web.auth import shop_role_required
from souk_platform.web.links import add_link

bp = Blueprint("shop_segments", __name__)


@bp.record_once
def _link(state: Any) -> None:
    add_link(state.app, "shop", "shop_segments.builder", _l("Segment builder"))


def _chinese() -> bool:
    return str(get_locale() or "").startswith("zh")


# How the page asks for each kind of parameter (``PARAMS[…].kind``): a choice among the shop's objects
# (``select:<lookup>``, the lookups below), or typed (``days``, ``date``, ``text``, ``text:<suggestions>``).
_INPUT_OF_KIND = {
    "days": "days",
    "date": "date",
    "category": "select:categories",
    "product": "select:products",
    "product_tag": "select:product_tags",
    "payment_method": "select:payment_methods",
    "channel": "select:order_channels",
    "keyword": "text",
    "coupon": "select:coupons",
    "benefit_package": "select:benefit_packages",
    "tag": "select:tags",
}
_SCENE_SUGGESTIONS = {"channel": "text:event_channels", "store": "text:stores", "campaign": "text:campaigns"}
LOOKUP_LIMIT = 500
SCENE_SAMPLE = 5000  # the shop's latest behaviour events whose scenes are suggested


def _param_input(field: Field, key: str) -> str:
    # A behaviour event's scene (channel, store, campaign) is whatever its sender wrote: typed, with the
    # values seen suggested; an order's channel is one of ORDER_CHANNELS.
    if key in SCENE and "store" in field.params:
        return _SCENE_SUGGESTIONS[key]
    return _INPUT_OF_KIND.get(PARAMS[key].kind, "text")


def _fields() -> list[dict[str, Any]]:
    zh = _chinese()
    return [
        {
            "key": f.key,
            "group": GROUPS[f.group][0 if zh else 1],
            "name": f.name_zh if zh else f.name_en,
            "definition": f.definition_zh if zh else f.definition_en,
            "type": f.type,
            "cmps": [[cmp, kind] for cmp, kind in f.cmps.items()],
            "params": [
                [key, _param_input(f, key), PARAMS[key].name_zh if zh else PARAMS[key].name_en] for key in f.params
            ],
            "choices": list(f.choices),
        }
        for f in REGISTRY.values()
        if not f.legacy
    ]


def _scene_values(shop_id: str, column: Any) -> list[list[str]]:
    latest = (
        sa.select(column.label("value"))
        .where(CustomerEvent.shop_id == shop_id)
        .order_by(CustomerEvent.id.desc())
        .limit(SCENE_SAMPLE)
        .subquery()
    )
    rows = db.session.scalars(
        sa.select(latest.c.value).where(latest.c.value.is_not(None)).distinct().order_by(latest.c.value).limit(100)
    )
    return [[value, value] for value in rows]


def _pairs(stmt: sa.Select[str, str]) -> list[list[str]]:
    return [[str(row[0]), str(row[1])] for row in db.session.execute(stmt.limit(LOOKUP_LIMIT))]


def _lookups(shop_id: str) -> dict[str, list[list[str]]]:
    """The shop's objects a parameter may name, as [value, label] pairs for the page's selects."""
    words = {"cash": _("Cash"), "points": _("Points"), "stored_value": _("Stored value")}
    return {
        "categories": [[node.id, " / ".join(node.path)] for node in category_tree(db.session, shop_id=shop_id)],
        "products": _pairs(
            sa.select(Product.id, Product.title)
            .where(Product.shop_id == shop_id, Product.status != "archived")
            .order_by(Product.title)
        ),
        "product_tags": _pairs(
            sa.select(ProductTag.tag, ProductTag.tag)
            .where(ProductTag.shop_id == shop_id)
            .distinct()
            .order_by(ProductTag.tag)
        ),
        "payment_methods": [[method, words[method]] for method in PAYMENT_METHODS],
        "order_channels": [[channel, str(CHANNEL_WORDS[channel])] for channel in ORDER_CHANNELS],
        "coupons": _pairs(sa.select(Coupon.id, Coupon.name).where(Coupon.shop_id == shop_id).order_by(Coupon.name)),
        "benefit_packages": _pairs(
            sa.select(BenefitPackage.id, BenefitPackage.name)
            .where(BenefitPackage.shop_id == shop_id)
            .order_by(BenefitPackage.name)
        ),
        "tags": _pairs(sa.select(Tag.id, Tag.name).where(Tag.shop_id == shop_id).order_by(Tag.name)),
        "event_channels": _scene_values(shop_id, CustomerEvent.channel),
        "stores": _scene_values(shop_id, CustomerEvent.store),
        "campaigns": _scene_values(shop_id, CustomerEvent.campaign),
    }


@bp.get("/shops/<shop_id>/segments/builder")
@shop_role_required("owner", "staff")
def builder(shop_id: str) -> str:
    shop = get_shop(db.session, shop_id)
    segments = db.session.scalars(
        sa.select(Segment).where(Segment.shop_id == shop_id).order_by(Segment.id.desc()).limit(50)
    ).all()
    return render_template(
        "audience/builder.html", shop=shop, fields=_fields(), lookups=_lookups(shop_id), segments=segments
    )


def _condition() -> tuple[dict[str, Any] | None, Any]:
    body = request.get_json(silent=True) or {}
    try:
        return load_condition_group(body.get("condition")), None
    except ma.ValidationError as err:
        return None, (jsonify(errors=_flatten(err.messages, "condition")), 422)


@bp.post("/shops/<shop_id>/segments/builder/estimate")
@shop_role_required("owner", "staff")
def estimate(shop_id: str) -> Any:
    condition, problem = _condition()
    if condition is None:
        return problem
    now = app_now()
    try:
        count = tag_services.estimate_reach(db.session, shop_id=shop_id, condition=condition, now=now)
    except SoukError as err:
        return jsonify(errors=getattr(err, "errors", None) or {"condition": [str(err)]}), 422
    return jsonify(count=count)


@bp.post("/shops/<shop_id>/segments/builder/save")
@shop_role_required("owner", "staff")
def save(shop_id: str) -> Any:
    condition, problem = _condition()
    if condition is None:
        return problem
    name = str((request.get_json(silent=True) or {}).get("name") or "").strip()
    if not name or len(name) > 100:
        return jsonify(errors={"name": [_("Give the segment a name of at most 100 characters.")]}), 422
    try:
        segment = tag_services.create_segment(
            db.session, shop_id=shop_id, name=name, description=None, condition=condition
        )
        db.session.commit()
    except SoukError as err:
        db.session.rollback()
        return jsonify(errors=getattr(err, "errors", None) or {"name": [str(err)]}), 422
    return jsonify(id=segment.id, name=segment.name), 201
