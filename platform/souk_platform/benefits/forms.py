"""The merchant's form for a benefit package (docs/architecture.md §5.10): money typed in yuan."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from souk_platform.web.once import OnceForm


class PackageForm(FlaskForm):
    """The items a merchant sets most; member prices and app items are set through the API."""

    name = StringField(_l("Name"), validators=[InputRequired(), Length(1, 100)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=500)])
    trigger = SelectField(
        _l("When it is granted"),
        choices=[
            ("join", _l("On joining (入会礼)")),
            ("level", _l("On reaching a level (成长礼)")),
            ("birthday", _l("On the birthday (生日礼)")),
            ("dormant", _l("After a quiet spell (流失唤醒礼)")),
            ("manual", _l("By hand only")),
        ],
    )
    level = IntegerField(_l("Level reached"), default=3, validators=[Optional(), NumberRange(2, 5)])
    birthday_when = SelectField(
        _l("Birthday gift"), choices=[("day", _l("On the day")), ("month", _l("In the birthday month"))]
    )
    dormant_days = IntegerField(
        _l("Days without a purchase"), default=90, validators=[Optional(), NumberRange(7, 3650)]
    )
    points = IntegerField(_l("Points"), validators=[Optional(), NumberRange(1, 1_000_000)])
    stored_value = StringField(_l("Stored value (yuan)"), validators=[Optional()])
    percent_off = IntegerField(_l("Member discount (percent off)"), validators=[Optional(), NumberRange(1, 90)])
    free_shipping = BooleanField(_l("Free shipping"))
    valid_days = IntegerField(_l("Rights last (days)"), default=30, validators=[Optional(), NumberRange(1, 3650)])
    status = SelectField(_l("Status"), choices=[("active", _l("Active")), ("disabled", _l("Disabled"))])


class GrantForm(OnceForm):
    """Grant a package by hand: it moves points and stored value, so it is done once however often sent."""

    customer_ids = SelectMultipleField(_l("Customers"), choices=[], validators=[InputRequired()])
    period = StringField(
        _l("Occasion"),
        validators=[Optional(), Regexp(r"^[A-Za-z0-9_.:\-]{1,60}$", message=_l("Letters, digits, - _ . : only."))],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])
