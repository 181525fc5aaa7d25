"""The service market 服务市场, lived in: two providers with their services and packages, and the demo
shop's order with one of them in progress (paid into escrow through the real ``place_order``)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from flask import current_app

from souk_marketplace.service_market import services as orders
from souk_marketplace.service_market.catalogue import (
    MilestoneSpec,
    PackageSpec,
    create_service,
    provider_of_user,
    sign_up_provider,
)
from souk_marketplace.service_market.models import ServiceOrder
from souk_platform.auth.models import User
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop

STUDIO_EMAIL = "studio@demo.souk.dev"
STUDIO_PASSWORD = "souk-demo-studio"
DESIGNER_EMAIL = "lin@demo.souk.dev"


def _small(name: str, price: int, days: int, revisions: int, description: str) -> PackageSpec:
    return PackageSpec(
        name=name, kind="small", price=price, currency="CNY", delivery_days=days, revisions=revisions,
        description=description,
    )  # fmt: skip


def seed(session: DbSession, shop: Shop, now: dt.datetime) -> None:
    """Sign the providers up and list their services once; the demo shop orders the studio's setup."""
    if session.scalar(sa.select(ServiceOrder.id).where(ServiceOrder.shop_id == shop.id).limit(1)):
        return
    studio_user = session.scalar(sa.select(User).where(User.email == STUDIO_EMAIL))
    provider = provider_of_user(session, studio_user.id) if studio_user else None
    if provider is None:
        provider = sign_up_provider(
            session,
            email=STUDIO_EMAIL,
            name="Hangzhou Tea Digital Studio",
            password=STUDIO_PASSWORD,
            display_name="Hangzhou Tea Digital Studio 杭州茶数字工作室",
            bio="Five people who build shops for tea houses: set-up, product photos, custom plugins. "
            "五人团队，专为茶馆茶店做店铺搭建、商品拍摄和插件定制。",
            categories=["operations", "development", "design"],
            now=now,
        )
    setup = create_service(
        session,
        provider=provider,
        category="operations",
        title="Shop set-up and product photos 店铺装修与商品拍摄",
        description="We set up your catalog, member levels and coupons, and photograph up to 30 products. "
        "搭建商品目录、会员等级和优惠券，并拍摄最多 30 件商品。",
        packages=[
            _small("Basic 基础", 80_000, 5, 1, "Catalog and coupons set up. 商品与优惠券配置。"),
            _small("Standard 标准", 150_000, 7, 2, "Basic, plus 30 product photos. 基础版加 30 件商品拍摄。"),
        ],
        now=now,
    )
    create_service(
        session,
        provider=provider,
        category="development",
        title="A custom checkout plugin 结算插件定制",
        description="A Wasm plugin for your checkout (discounts, risk rules, cashback), tested and listed. "
        "为您的结算定制 Wasm 插件（优惠、风控、返现），含测试与上架。",
        packages=[
            PackageSpec(
                name="Project 项目",
                kind="project",
                price=400_000,
                currency="CNY",
                delivery_days=21,
                revisions=3,
                description="Design, build, listing. 设计、开发、上架。",
                milestones=(
                    MilestoneSpec("Design and tests 设计与测试用例", 100_000, 5),
                    MilestoneSpec("Plugin built 插件开发", 200_000, 12),
                    MilestoneSpec("Listed in the market 上架", 100_000, 4),
                ),
            )
        ],
        now=now,
    )
    designer = sign_up_provider(
        session,
        email=DESIGNER_EMAIL,
        name="Lin Design",
        password="souk-demo-lin",
        display_name="Lin Design 林设计",
        bio="Packaging and shop banners for tea brands. 茶品牌包装与店铺横幅设计。",
        categories=["design"],
        now=now,
    )
    create_service(
        session,
        provider=designer,
        category="design",
        title="Seasonal shop banners 季节店铺横幅",
        description="Four banners for the season's teas, in Chinese and English. 四张当季茶品横幅，中英双语。",
        packages=[_small("Four banners 四张横幅", 60_000, 4, 2, "Delivered as PNG and source files.")],
        now=now,
    )
    standard = next(package for package in setup.packages if package.name.startswith("Standard"))
    orders.place_order(
        session,
        shop_id=shop.id,
        package_id=standard.id,
        requirements="Our 24 teas and 6 gift boxes; photos on a light wooden table, please. "
        "共 24 款茶和 6 款礼盒，请在浅色木桌上拍摄。",
        now=now,
        fee_bps=orders.fee_bps(current_app.config),
        placed_by=None,  # the shop, as an API call would
    )
