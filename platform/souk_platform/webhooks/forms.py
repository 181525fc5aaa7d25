"""Forms of the webhook console pages (Flask-WTF, CSRF-protected)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, StringField
from wtforms.validators import DataRequired, Length

_SEPARATORS = re.compile(r"[\s,]+")


class EndpointForm(FlaskForm):
    url = StringField(
        _l("Endpoint URL"),
        validators=[DataRequired(message=_l("Give the URL that receives the events.")), Length(max=2048)],
    )
    topics = StringField(
        _l("Topics"),
        validators=[DataRequired(message=_l("Name at least one event type.")), Length(max=4000)],
        description=_l("Event types separated by spaces or commas: order.paid, every order event with order.*, or *."),
    )
    description = StringField(_l("Description (optional)"), validators=[Length(max=200)])

    def topic_list(self) -> list[str]:
        return [topic for topic in _SEPARATORS.split(self.topics.data or "") if topic]


class RecoverForm(FlaskForm):
    since = DateTimeLocalField(
        _l("Failed since (UTC)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[DataRequired(message=_l("Give a date and time, such as 2026-03-01T08:00."))],
    )
