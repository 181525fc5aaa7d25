"""Demo catalog for the tea house: a category tree, products with their category, tags, SKUs, prices in fen
and stock."""

from __future__ import annotations

import sqlalchemy as sa

from souk_platform.catalog.categories import create_category
from souk_platform.catalog.models import Product
from souk_platform.catalog.services import NewSku, create_product
from souk_platform.db import DbSession
from souk_platform.shops.models import Shop

# (title, description, status, [(code, sku title, price in fen, on hand)])
PRODUCTS: tuple[tuple[str, str, str, list[tuple[str, str, int, int]]], ...] = (
    (
        "西湖龙井 Longjing green tea",
        "明前特级，杭州西湖产区 / Pre-Qingming grade, West Lake, Hangzhou.",
        "active",
        [("LJ-100G", "100g 罐装 tin", 16800, 40), ("LJ-250G", "250g 罐装 tin", 38800, 25)],
    ),
    (
        "安溪铁观音 Tieguanyin oolong",
        "清香型，福建安溪 / Light-roast oolong from Anxi, Fujian.",
        "active",
        [("TGY-125G", "125g", 9800, 60), ("TGY-250G", "250g", 18800, 30), ("TGY-500G", "500g 礼盒 gift box", 35800, 8)],
    ),
    (
        "云南普洱饼 Pu'er cake",
        "2019 年熟茶饼 357g / 2019 ripe pu'er cake, 357 g.",
        "active",
        [("PE-357-RIPE", "熟茶 ripe 357g", 26800, 20), ("PE-357-RAW", "生茶 raw 357g", 29800, 12)],
    ),
    (
        "武夷大红袍 Da Hong Pao",
        "岩茶，武夷山 / Rock oolong from the Wuyi mountains.",
        "active",
        [("DHP-150G", "150g", 22800, 18)],
    ),
    (
        "祁门红茶 Keemun black tea",
        "安徽祁门 / Keemun black tea from Qimen, Anhui.",
        "active",
        [("KM-100G", "100g", 8800, 50), ("KM-200G", "200g", 16800, 22)],
    ),
    (
        "白瓷功夫茶具 Gongfu tea set",
        "景德镇白瓷：盖碗、公道杯、六只品茗杯 / Jingdezhen porcelain gaiwan, pitcher and six cups.",
        "active",
        [("SET-WHITE", "白瓷 white porcelain", 45800, 6), ("SET-CELADON", "青瓷 celadon", 52800, 4)],
    ),
    (
        "中秋茶礼盒 Mid-Autumn gift box",
        "龙井、铁观音、红茶三味礼盒 / Longjing, Tieguanyin and Keemun in one gift box.",
        "active",
        [("GIFT-3", "三味礼盒 three teas", 59800, 15)],
    ),
    (
        "白毫银针 Silver Needle white tea",
        "福鼎白茶，即将上架 / Fuding white tea, coming soon.",
        "draft",
        [("BHYZ-100G", "100g", 32800, 0)],
    ),
)


# The category tree: (root, [children]); each product's category path and tags, by the product's code prefix.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("茶叶", ("绿茶", "乌龙茶", "红茶", "黑茶", "白茶")),
    ("茶具", ()),
    ("礼盒", ()),
)
PLACES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "LJ": (("茶叶", "绿茶"), ("明前", "杭州")),
    "TGY": (("茶叶", "乌龙茶"), ("福建",)),
    "PE": (("茶叶", "黑茶"), ("可存放",)),
    "DHP": (("茶叶", "乌龙茶"), ("福建", "岩茶")),
    "KM": (("茶叶", "红茶"), ()),
    "SET": (("茶具",), ("送礼",)),
    "GIFT": (("礼盒",), ("送礼", "中秋")),
    "BHYZ": (("茶叶", "白茶"), ("新品",)),
}


def _categories(session: DbSession, shop: Shop) -> dict[tuple[str, ...], str]:
    """The demo's category tree: its ids by path."""
    ids: dict[tuple[str, ...], str] = {}
    for position, (root, children) in enumerate(CATEGORIES, start=1):
        ids[(root,)] = create_category(session, shop_id=shop.id, name=root, position=position).id
        for child_position, child in enumerate(children, start=1):
            ids[(root, child)] = create_category(
                session, shop_id=shop.id, name=child, parent_id=ids[(root,)], position=child_position
            ).id
    return ids


def seed(session: DbSession, shop: Shop) -> None:
    """Create the tea-house catalog once (does nothing if the shop already has products)."""
    if session.scalar(sa.select(Product.id).where(Product.shop_id == shop.id).limit(1)) is not None:
        return
    categories = _categories(session, shop)
    for title, description, status, skus in PRODUCTS:
        path, tags = PLACES[skus[0][0].split("-")[0]]
        create_product(
            session,
            shop_id=shop.id,
            title=title,
            description=description,
            status=status,
            category_id=categories[path],
            tags=tags,
            skus=[
                NewSku(code=code, title=sku_title, price=price, on_hand=on_hand)
                for code, sku_title, price, on_hand in skus
            ],
        )
