"""The merchant's risk-control forms (docs/architecture.md §5.13): amounts typed in yuan."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from souk_platform.web.once import OnceForm


class ReviewForm(OnceForm):
    """Approve or reject a held order: it moves stock and money, so it is done once however often sent."""

    verdict = SelectField(_l("Decision"), choices=[("approve", _l("Approve")), ("reject", _l("Reject"))])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class ListEntryForm(FlaskForm):
    list = SelectField(_l("List"), choices=[("block", _l("Block list")), ("allow", _l("Allow list"))])
    kind = SelectField(
        _l("What"), choices=[("customer", _l("Customer")), ("ip", _l("IP address")), ("device", _l("Device"))]
    )
    value = StringField(_l("Value"), validators=[InputRequired(), Length(1, 128)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
    days = IntegerField(_l("Expires after (days)"), validators=[Optional(), NumberRange(1, 3650)])


class SettingsForm(FlaskForm):
    """One threshold, window and outcome per built-in rule; the new-account amount is in yuan."""

    customer_dense_orders_threshold = IntegerField(validators=[InputRequired(), NumberRange(0, 100_000)])
    customer_dense_orders_window = IntegerField(validators=[InputRequired(), NumberRange(1, 43_200)])
    customer_dense_orders_outcome = SelectField(choices=[("deny", _l("Deny")), ("review", _l("Review"))])
    ip_many_customers_threshold = IntegerField(validators=[InputRequired(), NumberRange(0, 100_000)])
    ip_many_customers_window = IntegerField(validators=[InputRequired(), NumberRange(1, 43_200)])
    ip_many_customers_outcome = SelectField(choices=[("deny", _l("Deny")), ("review", _l("Review"))])
    customer_many_ips_threshold = IntegerField(validators=[InputRequired(), NumberRange(0, 100_000)])
    customer_many_ips_window = IntegerField(validators=[InputRequired(), NumberRange(1, 43_200)])
    customer_many_ips_outcome = SelectField(choices=[("deny", _l("Deny")), ("review", _l("Review"))])
    device_many_customers_threshold = IntegerField(validators=[InputRequired(), NumberRange(0, 100_000)])
    device_many_customers_window = IntegerField(validators=[InputRequired(), NumberRange(1, 43_200)])
    device_many_customers_outcome = SelectField(choices=[("deny", _l("Deny")), ("review", _l("Review"))])
    new_account_high_value_threshold = StringField(validators=[InputRequired()])  # yuan
    new_account_high_value_window = IntegerField(validators=[InputRequired(), NumberRange(1, 720)])  # hours
    new_account_high_value_outcome = SelectField(choices=[("deny", _l("Deny")), ("review", _l("Review"))])
    review_expiry_hours = IntegerField(_l("Undecided reviews expire after (hours)"), validators=[NumberRange(1, 720)])
    review_expiry_action = SelectField(
        _l("At expiry"), choices=[("cancel", _l("Cancel the order")), ("release", _l("Release the order"))]
    )
