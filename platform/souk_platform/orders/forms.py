from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, FormField, IntegerField, SelectField, StringField
from wtforms.validators import NumberRange, Optional

from souk_platform.web.once import OnceForm

MAX_TEST_ORDER_LINES = 5


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
    pay = BooleanField(_l("Pay with the test payment provider"), default=True)
