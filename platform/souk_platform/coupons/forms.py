"""Merchant forms for coupons: amounts are typed in yuan (converted to fen by the view)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

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
