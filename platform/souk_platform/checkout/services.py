"""Carts and the checkout pipeline (docs/architecture.md §5.2).

``checkout`` is the one function that turns a cart into an order. It reads as its pipeline, one named
step each, the extension points run through ``run_point``:
cart.validate → price lines → member perks → cart.discounts → order.extra_fee → points and stored value →
order.validate (risk) → reserve stock → create the order (spend points and stored value, reserve
coupon redemptions, convert the cart, emit ``order.created``). The steps fill in one ``_OrderDraft``.
Decisions about a line read its ``LineProblem`` code, never the words shown for it.
Everything happens in the caller's transaction, so any failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from souk_platform.benefits.rights import NO_RIGHTS, HeldRights, member_line_prices, waive_shipping_fees
from souk_platform.catalog.services import SkuForSale, reserve_stock, skus_for_sale
from souk_platform.checkout.errors import (
    CartInvalid,
    CartLineNotFound,
    CartNotFound,
    CartNotOpen,
    CheckoutInvalid,
    OrderRejected,
)
from souk_platform.checkout.models import Cart, CartLine
from souk_platform.core.errors import NotFound
from souk_platform.core.ids import new_id
from souk_platform.core.versions import check_version
from souk_platform.coupons.services import AppliedDiscount, price_discounts, reserve_redemptions
from souk_platform.customers.services import get_customer
from souk_platform.db import DbSession
from souk_platform.events.services import emit
from souk_platform.extensions import is_plugin_discount, run_point
from souk_platform.members.perks import LevelPerks
from souk_platform.orders.models import Order, OrderLine
from souk_platform.orders.services import order_payload
from souk_platform.points.services import max_points_for, points_value, spend_points
from souk_platform.risk.services import Decision, RiskFacts, evaluate, open_review, review_hold_until
from souk_platform.shops.models import Shop
from souk_platform.shops.services import get_shop, shop_setting
from souk_platform.stored_value.services import spend_stored_value

MAX_LINES = 200
MAX_QUANTITY = 999

__all__ = [
    "LINE_PROBLEM_WORDING",
    "MAX_LINES",
    "MAX_QUANTITY",
    "CartPreview",
    "LineProblem",
    "PricedCart",
    "add_cart_line",
    "allocate_discount",
    "checkout",
    "create_cart",
    "get_cart",
    "preview_cart",
    "remove_cart_line",
    "set_cart_line_quantity",
]


# --- carts -------------------------------------------------------------------------------------


def cart_payload(cart: Cart) -> dict[str, Any]:
    return {
        "id": cart.id,
        "customer_id": cart.customer_id,
        "status": cart.status,
        "lines": [{"id": line.id, "sku_id": line.sku_id, "quantity": line.quantity} for line in cart.lines],
        "converted_order_id": cart.converted_order_id,
        "version": cart.version,
    }


def get_cart(session: DbSession, *, shop_id: str, cart_id: str, for_update: bool = False) -> Cart:
    """The shop's cart; ``CartNotFound`` (404) for an unknown id or another shop's cart."""
    stmt = sa.select(Cart).where(Cart.id == cart_id, Cart.shop_id == shop_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    cart = session.scalar(stmt)
    if cart is None:
        raise CartNotFound(f"No cart {cart_id} in this shop.")
    return cart


def _open_cart(session: DbSession, *, shop_id: str, cart_id: str, expected_version: int | None = None) -> Cart:
    cart = get_cart(session, shop_id=shop_id, cart_id=cart_id, for_update=True)
    check_version(cart.version, expected_version)
    if cart.status != "open":
        raise CartNotOpen(f"Cart {cart.id} is {cart.status}; only an open cart can change or be checked out.")
    return cart


def _check_quantity(quantity: int, field_name: str) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CartInvalid(
            f"A quantity must be between 1 and {MAX_QUANTITY}.",
            errors={field_name: [f"Must be between 1 and {MAX_QUANTITY}."]},
        )


def _touch(session: DbSession, cart: Cart, now: dt.datetime, event: str) -> None:
    cart.updated_at = now  # bumps the cart's version with its lines
    session.flush()
    session.refresh(cart, attribute_names=["lines"])
    emit(session, shop_id=cart.shop_id, type=event, subject_type="cart", subject_id=cart.id, payload=cart_payload(cart))


def create_cart(
    session: DbSession,
    *,
    shop_id: str,
    customer_id: str | None,
    lines: Sequence[Mapping[str, Any]],
    now: dt.datetime,
) -> Cart:
    """Open a cart, optionally for a customer and with lines (``[{sku_id, quantity}]``; a SKU twice adds up)."""
    if customer_id is not None:
        get_customer(session, shop_id=shop_id, customer_id=customer_id)
    merged: dict[str, int] = {}
    for i, line in enumerate(lines):
        merged[line["sku_id"]] = merged.get(line["sku_id"], 0) + line["quantity"]
        _check_quantity(merged[line["sku_id"]], f"lines.{i}.quantity")
    if len(merged) > MAX_LINES:
        raise CartInvalid(f"A cart holds at most {MAX_LINES} lines.", errors={"lines": [f"At most {MAX_LINES}."]})
    if merged:
        skus_for_sale(session, shop_id=shop_id, sku_ids=list(merged))  # NotFound names unknown SKUs
    cart = Cart(shop_id=shop_id, customer_id=customer_id, status="open", created_at=now, updated_at=now)
    cart.lines = [
        CartLine(shop_id=shop_id, sku_id=sku_id, quantity=quantity, position=i, created_at=now)
        for i, (sku_id, quantity) in enumerate(merged.items())
    ]
    session.add(cart)
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="cart.created",
        subject_type="cart",
        subject_id=cart.id,
        payload=cart_payload(cart),
    )
    return cart


def add_cart_line(
    session: DbSession,
    *,
    shop_id: str,
    cart_id: str,
    sku_id: str,
    quantity: int,
    now: dt.datetime,
    expected_version: int | None = None,
) -> Cart:
    """Add ``quantity`` of a SKU to an open cart (raising an existing line's quantity)."""
    cart = _open_cart(session, shop_id=shop_id, cart_id=cart_id, expected_version=expected_version)
    _check_quantity(quantity, "quantity")
    skus_for_sale(session, shop_id=shop_id, sku_ids=[sku_id])
    existing = next((line for line in cart.lines if line.sku_id == sku_id), None)
    if existing is not None:
        _check_quantity(existing.quantity + quantity, "quantity")
        existing.quantity += quantity
    else:
        if len(cart.lines) >= MAX_LINES:
            raise CartInvalid(f"A cart holds at most {MAX_LINES} lines.", errors={"sku_id": ["The cart is full."]})
        position = max((line.position for line in cart.lines), default=-1) + 1
        cart.lines.append(
            CartLine(shop_id=shop_id, sku_id=sku_id, quantity=quantity, position=position, created_at=now)
        )
    _touch(session, cart, now, "cart.updated")
    return cart


def _line_of(cart: Cart, line_id: str) -> CartLine:
    line = next((line for line in cart.lines if line.id == line_id), None)
    if line is None:
        raise CartLineNotFound(f"Cart {cart.id} has no line {line_id}.")
    return line


def set_cart_line_quantity(
    session: DbSession,
    *,
    shop_id: str,
    cart_id: str,
    line_id: str,
    quantity: int,
    now: dt.datetime,
    expected_version: int | None = None,
) -> Cart:
    """Change a line's quantity (1–999) on an open cart."""
    cart = _open_cart(session, shop_id=shop_id, cart_id=cart_id, expected_version=expected_version)
    line = _line_of(cart, line_id)
    _check_quantity(quantity, "quantity")
    line.quantity = quantity
    _touch(session, cart, now, "cart.updated")
    return cart


def remove_cart_line(
    session: DbSession,
    *,
    shop_id: str,
    cart_id: str,
    line_id: str,
    now: dt.datetime,
    expected_version: int | None = None,
) -> Cart:
    """Remove a line from an open cart."""
    cart = _open_cart(session, shop_id=shop_id, cart_id=cart_id, expected_version=expected_version)
    cart.lines.remove(_line_of(cart, line_id))
    _touch(session, cart, now, "cart.updated")
    return cart


# --- pricing -----------------------------------------------------------------------------------


class LineProblem(enum.StrEnum):
    """Why a cart line cannot be bought now. Decisions read this code, never the words shown with it."""

    OFF_SALE = "off_sale"
    WRONG_CURRENCY = "wrong_currency"
    SHORT_OF_STOCK = "short_of_stock"  # still priced (the preview counts it); checkout's reservation refuses it


# The words shown for each problem; free to change (or be translated) without changing any outcome.
LINE_PROBLEM_WORDING: dict[LineProblem, str] = {
    LineProblem.OFF_SALE: "This SKU is no longer for sale.",
    LineProblem.WRONG_CURRENCY: "Priced in {sku_currency}, not the shop's {shop_currency}.",
    LineProblem.SHORT_OF_STOCK: "Only {available} available.",
}


@dataclass(slots=True)
class PricedLine:
    line_id: str | None
    sku_id: str
    quantity: int
    product_id: str | None = None
    category_id: str | None = None  # the product's at pricing time, kept on the order line
    title: str | None = None
    unit_price: int = 0  # what this buyer pays per unit: the list price, or less after a member perk
    list_price: int = 0  # the SKU's price
    member_perk: str | None = None  # the perk that set ``unit_price`` (members.perks, benefits.rights), if any
    benefit_grant_id: str | None = None  # for a package right's perk: the grant that gave it (None: a level package)
    benefit_package_id: str | None = None
    available: int = 0
    discount: int = 0
    problem_code: LineProblem | None = None
    problem: str | None = None  # the words for ``problem_code``, as the preview shows them

    @property
    def amount(self) -> int:
        return self.unit_price * self.quantity

    @property
    def member_discount(self) -> int:
        return (self.list_price - self.unit_price) * self.quantity

    def flag(self, code: LineProblem, **facts: Any) -> None:
        self.problem_code = code
        self.problem = LINE_PROBLEM_WORDING[code].format(**facts)


@dataclass(slots=True)
class CartPreview:
    """A cart priced now, without side effects (``GET /carts/{id}``)."""

    currency: str
    lines: list[PricedLine]
    subtotal: int
    discounts: list[AppliedDiscount] = field(default_factory=list)
    discount_total: int = 0
    total: int = 0
    purchasable: bool = True
    member_discount_total: int = 0  # what member perks took off the list prices (in ``subtotal`` already)
    free_shipping: bool = False  # the customer holds a free-shipping right: checkout waives shipping fees


def allocate_discount(amounts: Sequence[int], discount: int) -> list[int]:
    """Split ``discount`` over lines in proportion to their ``amounts`` (integers, floor), the remainder
    to the last line; a line never gets more than its own amount (any excess spills to earlier lines)."""
    total = sum(amounts)
    if not amounts or total <= 0 or discount <= 0:
        return [0] * len(amounts)
    discount = min(discount, total)
    shares = [discount * amount // total for amount in amounts[:-1]] + [0]
    left = discount - sum(shares)
    for i in range(len(amounts) - 1, -1, -1):
        taken = min(left, amounts[i] - shares[i])
        shares[i] += taken
        left -= taken
        if not left:
            break
    return shares


def _price(
    session: DbSession, shop: Shop, lines: Sequence[CartLine], *, tolerate_missing: bool
) -> tuple[list[PricedLine], dict[str, SkuForSale]]:
    priced = [PricedLine(line_id=line.id, sku_id=line.sku_id, quantity=line.quantity) for line in lines]
    sku_ids = [line.sku_id for line in priced]
    try:
        skus = skus_for_sale(session, shop_id=shop.id, sku_ids=sku_ids) if sku_ids else {}
    except NotFound:
        if not tolerate_missing:
            raise
        skus = {}
        for sku_id in sku_ids:  # find which lines went off sale, one at a time
            with contextlib.suppress(NotFound):
                skus.update(skus_for_sale(session, shop_id=shop.id, sku_ids=[sku_id]))
    for line in priced:
        sku = skus.get(line.sku_id)
        if sku is None:
            line.flag(LineProblem.OFF_SALE)
            continue
        line.product_id, line.category_id, line.title, line.unit_price, line.list_price, line.available = (
            sku.product_id,
            sku.category_id,
            sku.title,
            sku.unit_price,
            sku.unit_price,
            sku.available,
        )
        if sku.currency != shop.currency:
            line.flag(LineProblem.WRONG_CURRENCY, sku_currency=sku.currency, shop_currency=shop.currency)
        elif sku.available < line.quantity:
            line.flag(LineProblem.SHORT_OF_STOCK, available=sku.available)
    return priced, skus


@dataclass(frozen=True, slots=True)
class PricedCart:
    """A cart with its preview, as the cart endpoints return it."""

    cart: Cart
    preview: CartPreview


def preview_cart(session: DbSession, *, cart: Cart, now: dt.datetime) -> PricedCart:
    """Price ``cart`` now with automatic promotions (no coupon codes, no side effects)."""
    shop = get_shop(session, cart.shop_id)
    priced, _ = _price(session, shop, cart.lines, tolerate_missing=True)
    sellable = [line for line in priced if line.problem_code in (None, LineProblem.SHORT_OF_STOCK)]
    rights = NO_RIGHTS
    if cart.customer_id is not None:
        customer = get_customer(session, shop_id=shop.id, customer_id=cart.customer_id)
        _, rights = _price_for_member(session, shop.id, customer.id, customer.level, sellable, now)
    subtotal = sum(line.amount for line in sellable)
    discounts: list[AppliedDiscount] = []
    if subtotal > 0 and cart.status == "open":
        discounts = price_discounts(
            session, shop_id=shop.id, customer_id=cart.customer_id, subtotal=subtotal, codes=[], now=now
        )
    discount_total = min(sum(d.amount for d in discounts), subtotal)
    shares = allocate_discount([line.amount for line in sellable], discount_total)
    for line, share in zip(sellable, shares, strict=True):
        line.discount = share
    preview = CartPreview(
        currency=shop.currency,
        lines=priced,
        subtotal=subtotal,
        discounts=discounts,
        discount_total=discount_total,
        total=subtotal - discount_total,
        purchasable=bool(priced) and all(line.problem_code is None for line in priced) and cart.status == "open",
        member_discount_total=sum(line.member_discount for line in sellable),
        free_shipping=rights.free_shipping is not None,
    )
    return PricedCart(cart, preview)


# --- checkout ----------------------------------------------------------------------------------


def _cart_rules(payload: Mapping[str, Any]) -> dict[str, list[str]]:
    """The built-in ``cart.validate`` rule: field → messages (empty when the cart may be checked out)."""
    lines = payload["cart"]["lines"]
    if not lines:
        return {"cart": ["The cart is empty: add at least one line before checking out."]}
    errors: dict[str, list[str]] = {}
    if len(lines) > MAX_LINES:
        errors["cart"] = [f"A cart holds at most {MAX_LINES} lines."]
    for i, line in enumerate(lines):
        if not 1 <= line["quantity"] <= MAX_QUANTITY:
            errors[f"lines.{i}.quantity"] = [f"Must be between 1 and {MAX_QUANTITY}."]
    return errors


def _customer_json(session: DbSession, shop_id: str, customer_id: str | None) -> dict[str, Any] | None:
    if customer_id is None:
        return None
    customer = get_customer(session, shop_id=shop_id, customer_id=customer_id)  # 404 for an unknown customer
    return {"id": customer.id, "level": customer.level, "orders_count": customer.orders_count}


@dataclass(slots=True)
class _OrderDraft:
    """What the checkout steps learn about the order, step by step, before it is written."""

    shop: Shop
    cart: Cart
    customer_id: str | None
    customer: dict[str, Any] | None  # as extension points see the buyer
    cart_json: dict[str, Any]
    id: str = ""
    lines: list[PricedLine] = field(default_factory=list)
    lines_json: list[dict[str, Any]] = field(default_factory=list)
    subtotal: int = 0
    member_level: int | None = None  # the buyer's level perks, when a customer buys
    member_discount_total: int = 0
    rights: HeldRights = NO_RIGHTS  # the package rights the buyer holds (free shipping waives fees)
    points_multiplier_percent: int = 100
    discounts: list[AppliedDiscount] = field(default_factory=list)
    discount_total: int = 0
    fees: list[dict[str, Any]] = field(default_factory=list)
    fee_total: int = 0
    points_spent: int = 0
    points_value: int = 0
    stored_value_used: int = 0
    total: int = 0
    reservation_expires_at: dt.datetime | None = None
    risk: Decision | None = None  # order.validate's decision; "review" holds the order in_review


def checkout(
    session: DbSession,
    *,
    shop_id: str,
    cart_id: str,
    customer_id: str | None,
    ip: str | None,
    coupon_codes: Sequence[str],
    points_to_spend: int,
    stored_value_to_spend: int,
    now: dt.datetime,
    channel: str = "online",
    device_id: str | None = None,
) -> Order:
    """Turn an open cart into a ``pending_payment`` order with its stock reserved — or an ``in_review`` one,
    held with a risk review, when risk control asks for a person's look.

    Raises (and writes nothing): CartNotFound/SKU/customer NotFound (404), CartNotOpen (409), CartInvalid,
    CheckoutInvalid, coupon and balance problems (422), OrderRejected (422 ``order-rejected``; its risk
    decision is recorded all the same), OutOfStock (409).
    """
    draft = _start_draft(session, shop_id=shop_id, cart_id=cart_id, customer_id=customer_id)
    _validate_cart(session, draft)
    _price_lines(session, draft)
    _apply_member_perks(session, draft, now=now)
    _apply_discounts(session, draft, coupon_codes=coupon_codes, now=now)
    _add_extra_fees(session, draft)
    _apply_tenders(draft, points_to_spend=points_to_spend, stored_value_to_spend=stored_value_to_spend)
    _validate_order(session, draft, ip=ip, device_id=device_id, now=now)
    _reserve_stock(session, draft, now=now)
    return _create_order(session, draft, ip=ip, device_id=device_id, now=now, channel=channel)


def _start_draft(session: DbSession, *, shop_id: str, cart_id: str, customer_id: str | None) -> _OrderDraft:
    """Lock the open cart and settle who is buying (the cart's customer unless one is given)."""
    shop = get_shop(session, shop_id)
    cart = _open_cart(session, shop_id=shop_id, cart_id=cart_id)
    if customer_id and cart.customer_id and customer_id != cart.customer_id:
        raise CheckoutInvalid(
            f"Cart {cart.id} belongs to customer {cart.customer_id}, not {customer_id}.",
            errors={"customer_id": ["Does not match the cart's customer."]},
        )
    customer_id = customer_id or cart.customer_id
    return _OrderDraft(
        shop=shop,
        cart=cart,
        customer_id=customer_id,
        customer=_customer_json(session, shop_id, customer_id),
        cart_json=cart_payload(cart),
    )


def _validate_cart(session: DbSession, draft: _OrderDraft) -> None:
    """``cart.validate``: the built-in rule or a plugin names what is wrong with the cart, field by field."""
    problems = run_point(
        session, "cart.validate", draft.shop, {"cart": draft.cart_json, "customer": draft.customer}, _cart_rules
    )
    if problems:
        raise CartInvalid(
            "The cart cannot be checked out: " + " ".join(m for messages in problems.values() for m in messages),
            errors=problems,
        )


def _price_lines(session: DbSession, draft: _OrderDraft) -> None:
    """Price every line at today's prices; a line priced in another currency stops the checkout."""
    priced, _ = _price(session, draft.shop, draft.cart.lines, tolerate_missing=False)
    wrong_currency = {
        f"lines.{i}.sku_id": [line.problem]
        for i, line in enumerate(priced)
        if line.problem_code is LineProblem.WRONG_CURRENCY
    }
    if wrong_currency:
        raise CartInvalid("Some lines are priced in another currency than the shop's.", errors=wrong_currency)
    draft.lines = priced
    draft.lines_json = _lines_json(priced)
    draft.subtotal = sum(line.amount for line in priced)


def _lines_json(lines: Sequence[PricedLine]) -> list[dict[str, Any]]:
    """The lines as extension points see them: ``unit_price`` after member perks, beside the list price."""
    return [
        {
            "sku_id": p.sku_id,
            "quantity": p.quantity,
            "unit_price": p.unit_price,
            "list_price": p.list_price,
            "member_perk": p.member_perk,
        }
        for p in lines
    ]


def _price_for_member(
    session: DbSession, shop_id: str, customer_id: str, level: int, lines: Sequence[PricedLine], now: dt.datetime
) -> tuple[LevelPerks, HeldRights]:
    """Price ``lines`` for a member: the lowest of the level perk and the package rights held (benefits.rights)."""
    perks, rights, prices = member_line_prices(
        session,
        shop_id=shop_id,
        customer_id=customer_id,
        level=level,
        list_prices={line.sku_id: line.list_price for line in lines},
        now=now,
    )
    for line in lines:
        price = prices[line.sku_id]
        line.unit_price, line.member_perk = price.unit_price, price.perk
        line.benefit_grant_id = price.source.grant_id if price.source else None
        line.benefit_package_id = price.source.package_id if price.source else None
    return perks, rights


def _apply_member_perks(session: DbSession, draft: _OrderDraft, *, now: dt.datetime) -> None:
    """Member perks (docs/architecture.md §5.7, §5.10): each of a member's lines at the lowest of the level
    perk (member price, else the level's discount) and the package rights they hold (a member price, the
    best member discount); guests pay list prices. Before ``cart.discounts``, so coupons apply to member
    prices and plugins see them (with each line's ``list_price``) and may discount further. The level's
    points multiplier is recorded for the payment, the rights kept for free shipping. Three statements,
    whatever the number of lines."""
    if draft.customer is None:
        return
    perks, draft.rights = _price_for_member(
        session, draft.shop.id, draft.customer["id"], int(draft.customer["level"]), draft.lines, now
    )
    draft.member_level, draft.points_multiplier_percent = perks.level, perks.points_multiplier_percent
    draft.member_discount_total = sum(line.member_discount for line in draft.lines)
    draft.lines_json = _lines_json(draft.lines)
    draft.subtotal = sum(line.amount for line in draft.lines)


def _apply_discounts(session: DbSession, draft: _OrderDraft, *, coupon_codes: Sequence[str], now: dt.datetime) -> None:
    """``cart.discounts``: promotions, coupon codes (or a plugin's discounts), spread over the lines."""
    discounts: list[AppliedDiscount] = run_point(
        session,
        "cart.discounts",
        draft.shop,
        {
            "lines": draft.lines_json,
            "customer": draft.customer,
            "subtotal": draft.subtotal,
            "coupon_codes": list(coupon_codes),
        },
        lambda _: price_discounts(
            session,
            shop_id=draft.shop.id,
            customer_id=draft.customer_id,
            subtotal=draft.subtotal,
            codes=list(coupon_codes),
            now=now,
        ),
    )
    draft.discounts = discounts
    draft.discount_total = min(sum(d.amount for d in discounts), draft.subtotal)
    shares = allocate_discount([p.amount for p in draft.lines], draft.discount_total)
    for line, share in zip(draft.lines, shares, strict=True):
        line.discount = share


def _add_extra_fees(session: DbSession, draft: _OrderDraft) -> None:
    """``order.extra_fee``: fees a plugin adds to the order (built-in: none); a member's free-shipping right
    waives those of kind ``shipping`` (kept on the order at 0 with their original amount)."""
    fees: list[dict[str, Any]] = run_point(
        session,
        "order.extra_fee",
        draft.shop,
        {"cart": draft.cart_json, "lines": draft.lines_json, "subtotal": draft.subtotal},
        lambda _: [],
    )
    draft.fees = waive_shipping_fees(fees, draft.rights.free_shipping)
    draft.fee_total = sum(int(fee["amount"]) for fee in draft.fees)


def _apply_tenders(draft: _OrderDraft, *, points_to_spend: int, stored_value_to_spend: int) -> None:
    """Points and stored value the buyer spends come off the total (checked here, spent with the order)."""
    payable = draft.subtotal - draft.discount_total + draft.fee_total
    draft.points_value = _check_tenders(draft.shop, draft.customer_id, payable, points_to_spend, stored_value_to_spend)
    draft.points_spent, draft.stored_value_used = points_to_spend, stored_value_to_spend
    draft.total = payable - draft.points_value - stored_value_to_spend


def _validate_order(
    session: DbSession, draft: _OrderDraft, *, ip: str | None, device_id: str | None, now: dt.datetime
) -> None:
    """``order.validate`` (risk control, docs/architecture.md §5.13): lists, built-in rules and plugins allow,
    hold for review or deny the order; the decision is recorded either way."""
    draft.id = new_id("ord")
    order_json = {
        "id": draft.id,
        "subtotal": draft.subtotal,
        "discount_total": draft.discount_total,
        "total": draft.total,
        "lines": draft.lines_json,
    }
    decision = evaluate(
        session,
        shop=draft.shop,
        action="checkout",
        subject=("order", draft.id),
        facts=RiskFacts(
            customer_id=draft.customer_id,
            ip=ip,
            device_id=device_id,
            amount=draft.subtotal - draft.discount_total + draft.fee_total,  # the order's worth, before tenders
            extension_input={"order": order_json, "buyer": draft.customer},
        ),
        now=now,
    )
    if decision.outcome == "deny":
        deciding = decision.deciding
        raise OrderRejected(
            f"Risk control rejected the order: {decision.reason}.",
            rule=deciding.rule if deciding else None,
            decision_id=decision.id,
        )
    draft.risk = decision


def _reserve_stock(session: DbSession, draft: _OrderDraft, *, now: dt.datetime) -> None:
    """Hold the stock for the order until its reservation expires (``OutOfStock`` 409 when short)."""
    draft.reservation_expires_at = now + dt.timedelta(minutes=int(shop_setting(draft.shop, "reservation_minutes")))
    if draft.risk is not None and draft.risk.outcome == "review":
        draft.reservation_expires_at = review_hold_until(draft.shop, now)  # held through the review
    quantities: dict[str, int] = {}
    for line in draft.lines:
        quantities[line.sku_id] = quantities.get(line.sku_id, 0) + line.quantity
    reserve_stock(
        session,
        shop_id=draft.shop.id,
        ref=draft.id,
        quantities=quantities,
        expires_at=draft.reservation_expires_at,
    )


def _create_order(
    session: DbSession,
    draft: _OrderDraft,
    *,
    ip: str | None,
    now: dt.datetime,
    channel: str = "online",
    device_id: str | None = None,
) -> Order:
    """Write the order, spend points and stored value, hold coupons, convert the cart, emit ``order.created``."""
    shop_id, customer_id = draft.shop.id, draft.customer_id
    in_review = draft.risk is not None and draft.risk.outcome == "review"
    order = Order(
        id=draft.id,
        shop_id=shop_id,
        customer_id=customer_id,
        status="in_review" if in_review else "pending_payment",
        currency=draft.shop.currency,
        subtotal=draft.subtotal,
        member_level=draft.member_level,
        member_discount_total=draft.member_discount_total,
        points_multiplier_percent=draft.points_multiplier_percent,
        discount_total=draft.discount_total,
        fee_total=draft.fee_total,
        points_spent=draft.points_spent,
        points_value=draft.points_value,
        stored_value_used=draft.stored_value_used,
        total=draft.total,
        refunded_total=0,
        discounts=[
            {"coupon_id": d.coupon_id, "code": d.code, "label": d.label, "amount": d.amount} for d in draft.discounts
        ],
        fees=draft.fees,
        ip=ip,
        device_id=device_id,
        channel=channel,  # one of ORDER_CHANNELS (the API checks it); filter fields read it
        cart_id=draft.cart.id,
        reservation_expires_at=draft.reservation_expires_at,
        created_at=now,
    )
    # Ids made here rather than at flush: with every key known, the ORM sends all lines as one executemany
    # of a one-row INSERT (no RETURNING), which PostgreSQL takes in one pipelined round trip.
    order.lines = [
        OrderLine(
            id=new_id("oln"),
            shop_id=shop_id,
            sku_id=line.sku_id,
            product_id=line.product_id or "",
            category_id=line.category_id,
            title=(line.title or "")[:300],
            unit_price=line.unit_price,
            list_price=line.list_price,
            member_perk=line.member_perk,
            benefit_grant_id=line.benefit_grant_id,
            benefit_package_id=line.benefit_package_id,
            quantity=line.quantity,
            discount=line.discount,
            refunded_quantity=0,
            position=i,
        )
        for i, line in enumerate(draft.lines)
    ]
    session.add(order)
    session.flush()
    if draft.points_spent and customer_id:
        spend_points(
            session, shop_id=shop_id, customer_id=customer_id, points=draft.points_spent, order_id=order.id, now=now
        )
    if draft.stored_value_used and customer_id:
        spend_stored_value(
            session, shop_id=shop_id, customer_id=customer_id, amount=draft.stored_value_used, order_id=order.id
        )
    if draft.discounts:
        coupons = [d for d in draft.discounts if not is_plugin_discount(d)]  # plugin discounts hold no coupon
        reserve_redemptions(
            session, shop_id=shop_id, customer_id=customer_id, order_id=order.id, applied=coupons, now=now
        )
    if in_review and draft.risk is not None:
        open_review(session, shop=draft.shop, decision=draft.risk, order=order, now=now)
    cart = draft.cart
    cart.status = "converted"
    cart.converted_order_id = order.id
    cart.updated_at = now
    session.flush()
    emit(
        session,
        shop_id=shop_id,
        type="order.created",
        subject_type="order",
        subject_id=order.id,
        payload=order_payload(order),
    )
    return order


def _check_tenders(
    shop: Shop, customer_id: str | None, payable: int, points_to_spend: int, stored_value_to_spend: int
) -> int:
    """Check the points and stored value asked for against the order; return the points' value in fen."""
    if points_to_spend < 0 or stored_value_to_spend < 0:
        raise CheckoutInvalid("Points and stored value to spend cannot be negative.")
    if (points_to_spend or stored_value_to_spend) and customer_id is None:
        field_name = "points" if points_to_spend else "stored_value"
        raise CheckoutInvalid(
            "A guest checkout cannot spend points or stored value; give a customer_id.",
            errors={field_name: ["Needs a customer."]},
        )
    most = max_points_for(shop, payable)
    if points_to_spend > most:
        cap = int(shop_setting(shop, "points_max_per_order"))
        why = f" (the shop allows at most {cap} points per order)" if cap and most == cap else ""
        raise CheckoutInvalid(
            f"At most {most} points can be spent on this order{why}; {points_to_spend} were asked for.",
            errors={"points": [f"At most {most} points can be spent on this order{why}."]},
            max_points=most,
        )
    spent_value = min(points_value(shop, points_to_spend), payable)
    left = payable - spent_value
    if stored_value_to_spend > left:
        raise CheckoutInvalid(
            f"Only {left} fen are left to pay after points; {stored_value_to_spend} of stored value is too much.",
            errors={"stored_value": [f"At most {left} fen on this order."]},
        )
    return spent_value
