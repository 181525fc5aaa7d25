"""Demo seed for the marketplace: the demo developer's apps, built from the sample plugins.

Each app goes the way a developer's would: registered with a manifest, its Wasm module uploaded for
the version, submitted with texts and drawn images, checked by the real checks (plugins run their
declared tests in the sandbox) and approved by the demo admin — except the last, which waits in the
review queue. Their redirect URI is the demo apps' landing page Souk serves (``demo.landing``). The
modules come from the repository's ``sample_plugins/`` (the demo runs from a checkout); without them
nothing is listed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app

from souk_marketplace.demo.images import icon, screenshot
from souk_marketplace.listings import services as listings
from souk_marketplace.listings import tasks as listing_tasks
from souk_marketplace.listings.models import ListingSubmission
from souk_platform.apps.models import App
from souk_platform.apps.services import register_app
from souk_platform.auth.models import User
from souk_platform.db import DbSession
from souk_platform.plugins.services import upload_app_module
from souk_platform.shops.models import Shop
from souk_platform.webhooks.runtime import runtime_for

SAMPLE_PLUGINS = Path(__file__).resolve().parents[3] / "sample_plugins"
DEVELOPER_EMAIL = "dev@demo.souk.dev"
ADMIN_EMAIL = "admin@demo.souk.dev"


def _line(unit_price: int) -> list[dict[str, Any]]:
    return [{"sku_id": "sku_demo", "quantity": 1, "unit_price": unit_price}]


# name, plugin folder, point, config schema file, manifest extras, declared tests, listing texts, colour
DEMO_APPS: tuple[dict[str, Any], ...] = (
    {
        "name": "Tiered Discount 满减助手",
        "plugin": "tiered_discount",
        "point": "cart.discounts",
        "scopes": ["read_orders", "read_products"],
        "pricing": [
            {"id": "free", "kind": "free"},
            # No trial: approving it moves money at once (README tour step 9 follows it into the ledger).
            {"id": "pro", "kind": "recurring", "price": 9900, "currency": "CNY", "interval": "month"},
        ],
        "tests": [
            {
                "name": "spend 100 yuan, 10 off",
                "input": {
                    "lines": _line(10000),
                    "customer": None,
                    "subtotal": 10000,
                    "config": {"tiers": [{"min_spend": 8000, "amount_off": 1000}]},
                },
                "expect": {"discounts": [{"label": "满80减10", "amount": 1000}]},
            }
        ],
        "category": "marketing",
        "texts": {
            "en": {
                "name": "Tiered Discount",
                "tagline": "Spend more, save more: money off at the thresholds you set",
                "description": "Set spend thresholds (spend 100, get 10 off) and the checkout applies the best one. "
                "Runs inside Souk's checkout as a Wasm plugin: no servers, no latency.",
            },
            "zh_CN": {
                "name": "满减助手",
                "tagline": "满额立减，门槛由您设定",
                "description": "设置满减门槛（如满100减10），结算时自动套用最优的一档。"
                "作为 Wasm 插件在 Souk 结算中运行，无需服务器。",
            },
        },
        "colour": (194, 65, 12),
        "initials": "TD",
        "bars": (3, 5, 4, 8, 6, 9, 7),
    },
    {
        "name": "Member Price 会员价",
        "plugin": "member_price",
        "point": "cart.discounts",
        "scopes": ["read_customers", "read_members"],
        "pricing": [{"id": "free", "kind": "free"}],
        "tests": [
            {
                "name": "V3 gets 5 percent",
                "input": {
                    "lines": _line(5000),
                    "customer": {"id": "cus_demo", "level": 3, "orders_count": 0},
                    "subtotal": 5000,
                    "config": {"percent_off": [0, 2, 5, 8, 12]},
                },
                "expect": {"discounts": [{"label": "V3 member price", "percent": 5}]},
            }
        ],
        "category": "loyalty",
        "texts": {
            "en": {
                "name": "Member Price",
                "tagline": "A percentage off for every member level, V1 to V5",
                "description": "Reward loyal members with their own price: choose the percent off for each level.",
            },
            "zh_CN": {
                "name": "会员价",
                "tagline": "按会员等级 V1–V5 享受专属折扣",
                "description": "为每个会员等级设置折扣比例，让忠实会员享受专属价格。",
            },
        },
        "colour": (22, 101, 52),
        "initials": "MP",
        "bars": (2, 3, 5, 6, 8, 9, 11),
    },
    {
        "name": "Risk Guard 风控卫士",
        "plugin": "risk_guard",
        "point": "order.validate",
        "scopes": ["read_orders", "read_customers"],
        "pricing": [{"id": "free", "kind": "free"}],
        "tests": [
            {
                "name": "a third dense order is refused",
                "input": {
                    "order": {"id": "ord_demo", "lines": _line(5000)},
                    "buyer": {"id": "cus_demo", "level": 1, "orders_count": 0},
                    "ip": "10.0.0.1",
                    "stats": {"customer_dense_orders": 3, "ip_many_customers": 1, "customer_many_ips": 1},
                    "thresholds": {},
                    "config": {"max_orders_per_buyer": 2},
                },
                "expect": {
                    "allow": False,
                    "reason": "risk_guard: 3 orders from this buyer in the recent window (limit 2)",
                },
            }
        ],
        "category": "risk",
        "texts": {
            "en": {
                "name": "Risk Guard",
                "tagline": "Stop dense orders, account farms and IP hopping at checkout",
                "description": "Refuses orders from buyers who order too often, IPs with many accounts, "
                "or buyers hopping between IPs, with limits you set.",
            },
            "zh_CN": {
                "name": "风控卫士",
                "tagline": "结算时拦截刷单、批量账号和频繁换 IP",
                "description": "按您设定的阈值拒绝同一买家密集下单、同一 IP 多账号、同一账号多 IP 的订单。",
            },
        },
        "colour": (29, 35, 48),
        "initials": "RG",
        "bars": (9, 4, 6, 2, 5, 3, 1),
    },
    {
        "name": "Next Best Offer 下一步最佳",
        "plugin": "next_best_offer",
        "point": "journey.split",
        "scopes": ["read_customers"],
        "pricing": [{"id": "free", "kind": "free"}],
        "tests": [
            {
                "name": "a big spender gets points",
                "input": {
                    "journey_id": "jrn_demo",
                    "enrollment_id": "jen_demo",
                    "customer_id": "cus_demo",
                    "node_id": "split",
                    "branches": ["a", "b"],
                    "builtin": "a",
                    "customer": {"id": "cus_demo", "level": 4, "orders_count": 12, "total_spent": 86000},
                    "config": {"rules": [{"branch": "b", "min_spent": 50000}, {"branch": "a", "max_orders": 0}]},
                },
                "expect": {"branch": "b"},
            }
        ],
        "category": "marketing",
        "texts": {
            "en": {
                "name": "Next Best Offer",
                "tagline": "Send each customer down the journey branch that suits them",
                "description": "In a journey's A/B split, picks the branch from the customer's level, orders and "
                "spend by rules you order (big spenders get points, first-timers a coupon); anyone else keeps "
                "the random draw, and the holdout stays untouched.",
            },
            "zh_CN": {
                "name": "下一步最佳",
                "tagline": "按顾客画像选择营销画布的分支",
                "description": "在营销画布的 A/B 分流节点，按您排序的规则依据会员等级、下单数和累计消费选择分支"
                "（高消费送积分，新客送券）；其余顾客仍随机分流，对照组不受影响。",
            },
        },
        "colour": (8, 145, 178),
        "initials": "NB",
        "bars": (5, 7, 6, 8, 7, 10, 9),
    },
    {
        "name": "Order Cashback 下单返现",
        "plugin": "order_cashback",
        "point": "order.cashback",
        "scopes": ["read_orders", "read_customers"],
        "pricing": [{"id": "free", "kind": "free"}],
        "tests": [
            {
                "name": "5 percent back on 123.45 yuan",
                "input": {
                    "order": {"id": "ord_demo", "lines": _line(12345)},
                    "paid_amount": 12345,
                    "customer_id": "cus_demo",
                    "config": {"rate_bp": 500},
                },
                "expect": {"amount": 617},
            }
        ],
        "category": "loyalty",
        "texts": {
            "en": {
                "name": "Order Cashback",
                "tagline": "Give a share of every paid order back as stored value",
                "description": "Customers get a percentage of what they paid back as stored value once the "
                "refund window has passed, with a minimum order and a cap you set.",
            },
            "zh_CN": {
                "name": "下单返现",
                "tagline": "按实付金额返还储值金",
                "description": "顾客付款后，按比例返还储值金，退款期过后到账；可设置最低消费和单笔上限。",
            },
        },
        "colour": (109, 40, 217),
        "initials": "OC",
        "bars": (4, 6, 5, 7, 9, 8, 10),
        "review": "waiting",  # left in the admin's review queue
    },
)


def slug_of(spec: dict[str, Any]) -> str:
    return str(spec["plugin"]).replace("_", "-")


def spec_of(slug: str) -> dict[str, Any] | None:
    return next((spec for spec in DEMO_APPS if slug_of(spec) == slug), None)


def callback_url(spec: dict[str, Any], public_url: str) -> str:
    """Where an install lands: the demo apps' page on this Souk (``demo.landing``; a redirect URI is absolute)."""
    return public_url.rstrip("/") + f"/demo-apps/{slug_of(spec)}/callback"


def _manifest(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    callback = callback_url(spec, str(current_app.config["SOUK_PUBLIC_URL"]))
    return json.dumps(
        {
            "name": spec["name"],
            "description": spec["texts"]["en"]["description"],
            "client_type": "confidential",
            "redirect_uris": [callback],
            "scopes": spec["scopes"],
            "plugins": [
                {
                    "point": spec["point"],
                    "module": f"plugins/{spec['plugin']}.wasm",
                    "config_schema": schema,
                    "tests": spec["tests"],
                }
            ],
            "pricing": spec["pricing"],
        }
    )


def seed(session: DbSession, shop: Shop) -> None:
    """List the demo developer's apps (once): each passes the real checks; the admin approves all but the last."""
    developer = session.scalar(sa.select(User).where(User.email == DEVELOPER_EMAIL))
    admin = session.scalar(sa.select(User).where(User.email == ADMIN_EMAIL))
    if developer is None or admin is None or not SAMPLE_PLUGINS.is_dir():
        return
    developer.is_developer = True
    app_context = current_app._get_current_object()  # type: ignore[attr-defined]
    box = runtime_for(app_context).box
    now = app_context.extensions["souk.clock"].now()
    for spec in DEMO_APPS:
        if session.scalar(sa.select(App.id).where(App.developer_id == developer.id, App.name == spec["name"])):
            continue
        folder = SAMPLE_PLUGINS / spec["plugin"]
        schema = json.loads((folder / "config.schema.json").read_text())
        app, version, _secret = register_app(session, developer=developer, manifest_text=_manifest(spec, schema))
        upload_app_module(
            session,
            app_id=app.id,
            version_id=version.id,
            module_path=f"plugins/{spec['plugin']}.wasm",
            module=(folder / "plugin.wasm").read_bytes(),
        )
        draft = listings.SubmissionDraft(
            texts=spec["texts"],
            category=spec["category"],
            support_contact="support@apps.souk.example",
            privacy_url=str(current_app.config["SOUK_PUBLIC_URL"]).rstrip("/") + f"/demo-apps/{slug_of(spec)}",
            changelog="First release. 首个版本。",
            scope_justifications={scope: "Needed for the plugin's rules. 插件规则需要。" for scope in spec["scopes"]},
            icon=icon(spec["initials"], spec["colour"]),
            screenshots=[screenshot(spec["texts"]["en"]["name"], spec["colour"], spec["bars"])],
        )
        submission = listings.submit_listing(session, app=app, draft=draft, box=box, now=now)
        session.commit()
        listing_tasks.run_submission_checks(submission.id)  # the in-process runner may have run them already
        checked = session.get(ListingSubmission, submission.id)
        if checked is None:
            continue
        session.refresh(checked)
        if checked.status != "in_review" or spec.get("review") == "waiting":
            continue  # a failed check: the listing page shows the developer why; the demo goes on
        listings.approve_submission(
            session, submission_id=submission.id, admin=admin, checklist=list(listings.REVIEW_CHECKLIST), now=now
        )
        session.commit()
