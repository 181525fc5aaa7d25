"""Forms of the listing pages (Flask-WTF, CSRF-protected): the developer's submission, the reviewer's decisions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from souk_marketplace.listings.services import CATEGORIES, MAX_REASON, REVIEW_CHECKLIST

LANGUAGE_LABELS = {"en": _l("English"), "zh_CN": _l("Chinese")}
TEXT_LABELS = {"name": _l("Name"), "tagline": _l("Tagline"), "description": _l("Description")}


class SubmissionForm(FlaskForm):
    """The texts come as ``<field>_<language>`` (e.g. ``name_zh_CN``); justifications as ``justify_<scope>``.

    The fields carry no validators: ``services.submit_listing`` checks everything at once and its
    errors are shown next to the fields, so a person sees every problem in one round.
    """

    name_en = StringField()
    tagline_en = StringField()
    description_en = TextAreaField()
    name_zh_CN = StringField()
    tagline_zh_CN = StringField()
    description_zh_CN = TextAreaField()
    category = SelectField(
        _l("Category"), choices=[SelectChoice(key, label) for key, label in CATEGORIES.items()], validate_choice=False
    )
    icon = FileField(_l("Icon (PNG, JPEG or WebP, at most 512 KiB)"))
    screenshots = MultipleFileField(_l("Screenshots (1 to 6, each at most 512 KiB)"))
    support_contact = StringField(_l("Support contact (email or URL)"))
    privacy_url = StringField(_l("Privacy policy URL"))
    install_url = StringField(_l("Install URL (optional; required for public clients)"))
    changelog = TextAreaField(_l("What is new in this version"))

    def text_field(self, name: str, language: str) -> Any:
        return self[f"{name}_{language}"]

    def justification_fields(self) -> list[tuple[str, Any]]:
        prefix = "justify_"
        return [(name.removeprefix(prefix), field) for name, field in self._fields.items() if name.startswith(prefix)]


def submission_form(scopes: Iterable[str], **kwargs: Any) -> SubmissionForm:
    """A submission form with one justification box per scope the version requests."""

    class VersionSubmissionForm(SubmissionForm):
        pass

    for scope in scopes:
        setattr(VersionSubmissionForm, f"justify_{scope}", TextAreaField(scope))
    return VersionSubmissionForm(**kwargs)


class ApproveForm(FlaskForm):
    checklist = SelectMultipleField(
        _l("Review checklist"),
        choices=[SelectChoice(key, label) for key, label in REVIEW_CHECKLIST.items()],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validate_choice=False,  # the service names unknown and unticked items itself
    )


class RejectForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (the developer reads it)"),
        validators=[DataRequired(message=_l("Give the reason.")), Length(max=MAX_REASON)],
    )


class AdminDelistForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for delisting (the developer reads it)"),
        validators=[DataRequired(message=_l("Give the reason.")), Length(max=MAX_REASON)],
    )


class DeveloperDelistForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=MAX_REASON)])
