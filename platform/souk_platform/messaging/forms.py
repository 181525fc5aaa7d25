"""The merchant's forms for channels, quiet hours, templates and sending (docs/architecture.md §5.11)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional, Regexp

from souk_platform.web.once import OnceForm

_TIME = Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", message=_l("A time like 21:00."))


class ChannelForm(FlaskForm):
    channel_id = HiddenField(validators=[InputRequired()])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(1, 100)])
    status = SelectField(_l("Status"), choices=[("active", _l("Active")), ("disabled", _l("Disabled"))])
    daily_cap = IntegerField(
        _l("Daily cap per customer"), validators=[Optional(), NumberRange(1, 1000)], render_kw={"min": 1}
    )
    from_address = StringField(_l("From address"), validators=[Optional(), Length(max=320)])
    from_name = StringField(_l("From name"), validators=[Optional(), Length(max=100)])


class QuietHoursForm(FlaskForm):
    quiet_start = StringField(_l("Quiet hours from"), validators=[Optional(), _TIME])
    quiet_end = StringField(_l("Quiet hours until"), validators=[Optional(), _TIME])


class TemplateForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(1, 100)])
    channel_kind = SelectField(
        _l("Channel"),
        choices=[("inbox", _l("In-app inbox")), ("email", _l("Email")), ("app", _l("An app's channel (SMS…)"))],
    )
    subject = StringField(_l("Subject"), validators=[Optional(), Length(max=500)])
    body = TextAreaField(_l("Message"), validators=[InputRequired(), Length(1, 20_000)])
    variables = StringField(_l("Extra variables"), validators=[Optional(), Length(max=500)])


class PreviewForm(FlaskForm):
    customer_id = SelectField(_l("Customer"), choices=[], validators=[InputRequired()])


class SendForm(OnceForm):
    customer_id = SelectField(_l("Customer"), choices=[], validators=[InputRequired()])
    channel_id = SelectField(_l("Channel"), choices=[], validators=[InputRequired()])
    coupon_code = StringField(_l("Coupon code"), validators=[Optional(), Length(max=100)])
    coupon_name = StringField(_l("Coupon name"), validators=[Optional(), Length(max=100)])
