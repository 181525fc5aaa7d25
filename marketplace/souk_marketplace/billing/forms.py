"""Forms of the billing pages (flask-wtf: every one carries a CSRF token)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from souk_marketplace.billing.services import MAX_AMOUNT
from souk_platform.core import money


def to_minor_units(text: str) -> int:
    """``"12.5"`` → 1250: a positive amount in yuan with at most two decimals, as fen; ValueError otherwise."""
    fen = money.to_minor_units(text)
    if not 0 < fen <= MAX_AMOUNT:
        raise ValueError(text)
    return fen


class DecisionForm(FlaskForm):
    """Approve or decline a charge or subscription (two buttons, one form)."""

    approve = SubmitField(_l("Approve"))
    decline = SubmitField(_l("Decline"))


class RefundForm(FlaskForm):
    amount = StringField(_l("Amount to refund"), validators=[DataRequired(), Length(max=20)])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])

    def validate_amount(self, field: Any) -> None:
        try:
            to_minor_units(field.data or "")
        except ValueError:
            raise ValidationError(_l("Enter an amount such as 12.50 (at most two decimals).")) from None


class PayoutForm(FlaskForm):
    currency = HiddenField(validators=[DataRequired(), Length(min=3, max=3)])
