"""Back-office forms for customers: the list's filters (spend in yuan) and the 360 page's actions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from souk_platform.web.forms import YuanField


class CustomerFilterForm(FlaskForm):
    """The customer list's filters, read from the query string."""

    class Meta:
        csrf = False  # a GET form that changes nothing

    q = StringField(_l("Name, phone or email"), validators=[Optional(), Length(max=200)])
    level = SelectField(_l("Level"), choices=[], default="")
    tag = SelectField(_l("Tag"), choices=[], default="")
    min_spent = YuanField(_l("Spent at least (yuan)"))
    max_spent = YuanField(_l("Spent at most (yuan)"))

    def validate_max_spent(self, field: YuanField) -> None:
        if field.minor is not None and self.min_spent.minor is not None and field.minor < self.min_spent.minor:
            raise ValidationError(_l("The upper bound is below the lower bound."))


class AddTagForm(FlaskForm):
    tag_id = SelectField(_l("Tag"), choices=[])


class RemoveTagForm(FlaskForm):
    """Take one tag off the customer (the tag is in the URL)."""


class SetLevelForm(FlaskForm):
    level = SelectField(_l("New level"), choices=[])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
