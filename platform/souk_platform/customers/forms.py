"""Back-office forms for customers: the list's filters (spend in yuan), the 360 page's actions and the profile
editor (docs/architecture.md §5.6, §14)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from souk_platform.customers.models import GENDERS, SOURCE_CHANNELS
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
    gender = SelectField(_l("Gender"), choices=[], default="")
    source_channel = SelectField(_l("Source channel"), choices=[], default="")

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


def gender_choices() -> list[tuple[str, str]]:
    words = {"female": _l("Female"), "male": _l("Male"), "unknown": _l("Not given")}
    return [(gender, str(words[gender])) for gender in GENDERS]


def channel_choices() -> list[tuple[str, str]]:
    words = {
        "online": _l("Online shop"),
        "store": _l("Physical store"),
        "mini_program": _l("Mini program"),
        "app": _l("App"),
        "social": _l("Social media"),
        "import": _l("Imported"),
        "referral": _l("Referral"),
        "api": _l("Another system"),
    }
    return [(channel, str(words[channel])) for channel in SOURCE_CHANNELS]


class ProfileForm(FlaskForm):
    """The customer's profile, with the version it was rendered at: a stale form is refused (412)."""

    version = HiddenField()
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=32)])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=320)])
    birthday = DateField(_l("Birthday"), validators=[Optional()], format="%Y-%m-%d")
    gender = SelectField(_l("Gender"), choices=[], default="unknown")
    source_channel = SelectField(_l("Source channel"), choices=[], default="")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.gender.choices = gender_choices()
        self.source_channel.choices = [("", str(_l("Not known"))), *channel_choices()]

    def changes(self) -> dict[str, object]:
        """Every field as ``customers.services.update_customer`` takes it (an empty one clears it)."""
        return {
            "name": (self.name.data or "").strip(),
            "phone": (self.phone.data or "").strip() or None,
            "email": (self.email.data or "").strip() or None,
            "birthday": self.birthday.data,
            "gender": self.gender.data,
            "source_channel": self.source_channel.data or None,
        }


class AddIdentityForm(FlaskForm):
    provider = StringField(_l("System"), validators=[DataRequired(), Length(max=100)])
    external_id = StringField(_l("Its id for the customer"), validators=[DataRequired(), Length(max=128)])


class RemoveIdentityForm(FlaskForm):
    """Unlink one identity (in the URL) from the customer."""
