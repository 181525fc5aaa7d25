from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from souk_platform.orders.models import CHECKOUT_CHANNELS
from souk_platform.web.once import OnceForm

MAX_TEST_ORDER_LINES = 5
CHANNEL_WORDS = {
    "online": _l("Online shop"),
    "store": _l("Physical store"),
    "mini_program": _l("Mini program"),
    "app": _l("Mobile app"),
    "social": _l("Social media"),
    "points_mall": _l("Points mall"),
}


def channel_choices() -> list[tuple[str, str]]:
    """Where a checkout can place an order (``CHECKOUT_CHANNELS``), in the merchant's language."""
    return [(channel, str(CHANNEL_WORDS[channel])) for channel in CHECKOUT_CHANNELS]


class TestOrderLineForm(FlaskForm):
    class Meta:
        csrf = False  # a sub-form: the outer form carries the token

    sku_id = SelectField(_l("Product"), choices=[], validate_choice=False)
    quantity = IntegerField(_l("Quantity"), default=1, validators=[Optional(), NumberRange(min=1, max=999)])


class TestOrderForm(OnceForm):
    """Place an order through the real checkout pipeline (plugins included), as a buyer would."""

    customer_id = SelectField(_l("Customer"), choices=[], validate_choice=False)
    lines = FieldList(FormField(TestOrderLineForm), min_entries=MAX_TEST_ORDER_LINES, max_entries=MAX_TEST_ORDER_LINES)
    coupon_code = StringField(_l("Coupon code"), validators=[Optional()])
    channel = SelectField(_l("Sales channel"), choices=channel_choices, default="online")
    pay = BooleanField(_l("Pay with the test payment provider"), default=True)
