"""Merchant forms for coupons: amounts are typed in yuan (converted to fen by the view)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, FormField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from souk_platform.coupons.schemas import MAX_FEN
from souk_platform.web.forms import YuanField
from souk_platform.web.once import OnceForm

YUAN = r"^\s*\d{1,9}(\.\d{1,2})?\s*$"


class CouponForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    code = StringField(
        _l("Code"),
        validators=[
            InputRequired(),
            Length(max=64),
            Regexp(r"^[A-Za-z0-9_-]+$", message=_l("Letters, digits, '-' and '_' only.")),
        ],
    )
    kind = SelectField(
        _l("Kind"),
        choices=[
            ("fixed", _l("Amount off")),
            ("threshold", _l("Spend and save (满减)")),
            ("percent", _l("Percent off")),
        ],
    )
    value = StringField(
        _l("Value (yuan off; percent off for a percent coupon)"),
        validators=[InputRequired(), Regexp(YUAN, message=_l("A number with at most two decimals."))],
    )
    min_spend = StringField(
        _l("Minimum spend (yuan)"),
        validators=[Optional(), Regexp(YUAN, message=_l("A number with at most two decimals."))],
    )
    max_discount = StringField(
        _l("Maximum discount of a percent coupon (yuan)"),
        validators=[Optional(), Regexp(YUAN, message=_l("A number with at most two decimals."))],
    )
    distribution = SelectField(
        _l("Who may use it"),
        choices=[
            ("issued", _l("Only customers it is issued to (wallet)")),
            ("public", _l("Anyone who types the code")),
        ],
    )
    valid_days = IntegerField(_l("Days valid after issue"), validators=[Optional(), NumberRange(min=1, max=3650)])
    per_customer_limit = IntegerField(
        _l("Per customer at most"), validators=[Optional(), NumberRange(min=1, max=1_000_000)]
    )
    total_limit = IntegerField(_l("In total at most"), validators=[Optional(), NumberRange(min=1, max=1_000_000_000)])


class IssueForm(OnceForm):
    """Issue a coupon to a segment's members or to listed customer ids."""

    segment_id = SelectField(_l("Segment"), choices=[], validate_choice=False)
    snapshot_id = SelectField(_l("Or a segment snapshot"), choices=[], validate_choice=False)
    customer_ids = TextAreaField(_l("Or customer ids, one per line"), validators=[Optional(), Length(max=700_000)])


# --- 付费券包 coupon packs (docs/architecture.md §5.9) ----------------------------------------------------

PACK_ITEM_ROWS = 5  # coupon rows a new pack's form offers; the API takes up to 20


class PackItemForm(FlaskForm):
    class Meta:
        csrf = False  # a sub-form: the outer form carries the token

    coupon_id = SelectField(_l("Coupon"), choices=[], validate_choice=False)
    quantity = IntegerField(_l("Quantity"), default=1, validators=[Optional(), NumberRange(min=1, max=100)])


class PackSaleFields(FlaskForm):
    """What may change while a pack is on sale (the API's PATCH): its name and the terms of the sale."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=200)])
    stock = IntegerField(_l("Packs on sale in all"), validators=[Optional(), NumberRange(min=0, max=10_000_000)])
    per_customer_limit = IntegerField(_l("Per customer at most"), validators=[Optional(), NumberRange(min=1, max=1000)])
    refund_days = IntegerField(
        _l("Refundable for (days after payment)"), default=7, validators=[InputRequired(), NumberRange(min=0, max=365)]
    )
    status = SelectField(_l("Status"), choices=[("active", _l("On sale")), ("disabled", _l("Not on sale"))])


class PackForm(PackSaleFields):
    """A new pack: its price, typed in yuan, and the issued coupons it holds, fixed once created."""

    price = YuanField(_l("Price (yuan)"), maximum=MAX_FEN, validators=[InputRequired()])
    items = FieldList(FormField(PackItemForm), min_entries=PACK_ITEM_ROWS, max_entries=PACK_ITEM_ROWS)


class PackEditForm(PackSaleFields):
    """A pack's sale, sent with the version it was rendered at: a stale form is refused (412)."""

    version = HiddenField()


class PackRefundForm(OnceForm):
    """Refund one purchase of a pack in full: it moves money, so it is done once however often sent."""
