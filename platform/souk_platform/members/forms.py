"""The member-level editor's form: V1–V5 names and perks and, for V2–V5, the rules to reach and keep them;
and the member-price grid's form (docs/architecture.md §5.7, §14).

A level's discount is typed the way a Chinese price tag says it, in 折 ("9.5" is 9.5折, 500 basis points
off; "95" is read as 95折, the same), and its points multiplier as "1.5" (×1.5, 150 percent).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, StopValidation

from souk_platform.catalog.models import MAX_PRICE
from souk_platform.members.perks import MAX_DISCOUNT_BPS, MAX_POINTS_MULTIPLIER_PERCENT
from souk_platform.members.services import LEVELS
from souk_platform.web.forms import YuanField, yuan_text

MAX_THRESHOLD = 10**12  # a sanity bound on spend (fen), orders and points thresholds
_ZHE = re.compile(r"\d{1,2}(\.\d{1,3})?")
_MULTIPLIER = re.compile(r"\d{1,2}(\.\d{1,2})?")


def zhe_text(discount_bps: int) -> str:
    """Basis points off as 折 without trailing zeros: 500 → "9.5", 1200 → "8.8"; none → ""."""
    if not discount_bps:
        return ""
    return f"{Decimal(MAX_DISCOUNT_BPS - discount_bps) / 1000:f}".rstrip("0").rstrip(".")


def multiplier_text(percent: int) -> str:
    """A points multiplier percent as "×" reads it: 150 → "1.5", 100 → "1"."""
    return f"{Decimal(percent) / 100:f}".rstrip("0").rstrip(".") if percent else "0"


class ZheField(StringField):
    """A level discount typed in 折: "9.5" or "9.5折" or "95" (95折) → 500 basis points off (``bps``).

    Blank, 0 and 10 mean no discount; at most three decimals (9.995折 is 5 basis points off).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bps = 0

    def pre_validate(self, form: FlaskForm) -> None:
        self.bps = 0
        text = (self.data or "").strip().removesuffix("折").strip()
        if not text:
            return
        if not _ZHE.fullmatch(text):
            raise StopValidation(_l("Enter a discount in 折 like 9.5 (members pay 95 percent), or leave it empty."))
        zhe = Decimal(text)
        if "." not in text and 10 < zhe < 100:
            zhe /= 10  # "95" is how 95折 is said: 9.5折
        if zhe == 0 or zhe == 10:
            return
        if zhe > 10:
            raise StopValidation(_l("A discount is above 0折 and below 10折."))
        self.bps = MAX_DISCOUNT_BPS - int(zhe * 1000)


class MultiplierField(StringField):
    """A points multiplier typed as "1.5" (×1.5) → 150 percent (``percent``); blank is ×1."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.percent = 100

    def pre_validate(self, form: FlaskForm) -> None:
        self.percent = 100
        text = (self.data or "").strip().removeprefix("×").removeprefix("x").strip()
        if not text:
            return
        if not _MULTIPLIER.fullmatch(text) or Decimal(text) * 100 > MAX_POINTS_MULTIPLIER_PERCENT:
            raise StopValidation(_l("Enter a multiplier from 0 to 10, like 1.5 (at most two decimals)."))
        self.percent = int(Decimal(text) * 100)


class _SubForm(FlaskForm):
    class Meta:
        csrf = False  # a sub-form: the outer form carries the token


class ThresholdForm(_SubForm):
    """One rule: met when any (or all) of the thresholds given are reached; none given means no rule."""

    match = SelectField(
        _l("Match"), choices=[("any", _l("any of")), ("all", _l("all of"))], default="any", validate_choice=False
    )
    spend = YuanField(_l("Spent (yuan)"), maximum=MAX_THRESHOLD)
    orders = IntegerField(_l("Orders"), validators=[Optional(), NumberRange(min=0, max=MAX_THRESHOLD)])
    points = IntegerField(_l("Points"), validators=[Optional(), NumberRange(min=0, max=MAX_THRESHOLD)])
    # Category contribution: spend and/or orders in one category's subtree (choices: the shop's tree, per page).
    category_id = SelectField(_l("In the category"), choices=[], default="", validate_choice=False)
    category_spend = YuanField(_l("Spent in it (yuan)"), maximum=MAX_THRESHOLD)
    category_orders = IntegerField(_l("Orders with it"), validators=[Optional(), NumberRange(min=0, max=MAX_THRESHOLD)])

    def validate_category_id(self, field: SelectField) -> None:
        # The raw text: this runs before the spend field has parsed its own value.
        given = bool((self.category_spend.data or "").strip()) or self.category_orders.data is not None
        if field.data and not given:
            raise StopValidation(_l("Give a spend or an order count in the category, or choose none."))
        if given and not field.data:
            raise StopValidation(_l("Choose the category the spend or orders count in."))

    def _category(self) -> dict[str, Any] | None:
        if not self.category_id.data:
            return None
        return {
            "category_id": self.category_id.data,
            "spend": self.category_spend.minor,
            "orders": self.category_orders.data,
        }

    def rule(self) -> dict[str, Any] | None:
        """The rule as ``members.services`` stores it, or None when no threshold was given."""
        values = {"spend": self.spend.minor, "orders": self.orders.data, "points": self.points.data}
        category = self._category()
        if category is None and all(value is None for value in values.values()):
            return None
        rule = {"match": self.match.data or "any", **values}
        return rule | {"category": category} if category is not None else rule

    def show(self, rule: dict[str, Any] | None) -> None:
        rule = rule or {}
        self.match.data = rule.get("match", "any")
        self.spend.data = yuan_text(rule["spend"]) if rule.get("spend") is not None else ""
        self.orders.data = rule.get("orders")
        self.points.data = rule.get("points")
        category = rule.get("category") or {}
        self.category_id.data = category.get("category_id", "")
        self.category_spend.data = yuan_text(category["spend"]) if category.get("spend") is not None else ""
        self.category_orders.data = category.get("orders")


class LevelForm(_SubForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=30)])
    discount = ZheField(_l("Member discount (折)"))
    points_multiplier = MultiplierField(_l("Points multiplier (×)"))
    upgrade = FormField(ThresholdForm)
    keep = FormField(ThresholdForm)


class LevelConfigForm(FlaskForm):
    version = HiddenField()
    window_days = IntegerField(
        _l("Count spend and orders over the last (days)"), validators=[DataRequired(), NumberRange(min=1, max=3650)]
    )
    downgrade_period_days = IntegerField(
        _l("Downgrade at most once per (days)"), validators=[DataRequired(), NumberRange(min=1, max=3650)]
    )
    levels = FieldList(FormField(LevelForm), min_entries=len(LEVELS), max_entries=len(LEVELS))

    def config_levels(self) -> list[dict[str, Any]]:
        return [
            {
                "level": level,
                "name": (row.form.name.data or "").strip(),
                "upgrade": row.form.upgrade.form.rule() if level > 1 else None,
                "keep": row.form.keep.form.rule() if level > 1 else None,
                "discount_bps": row.form.discount.bps,
                "points_multiplier_percent": row.form.points_multiplier.percent,
            }
            for level, row in zip(LEVELS, self.levels, strict=True)
        ]


class MemberPriceForm(FlaskForm):
    """One cell of the member-price grid: set, change (with the version shown) or remove one SKU's price for a level."""

    sku_id = HiddenField()
    level = HiddenField()
    member_price_id = HiddenField()
    version = HiddenField()
    price = YuanField(_l("Member price (yuan)"), maximum=MAX_PRICE)
    action = StringField(default="save")  # the button pressed: "save" or "remove"
