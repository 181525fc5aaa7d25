"""Forms of the requirement pages (Flask-WTF, CSRF-protected). Amounts are typed in yuan, kept in fen."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, ValidationError

from souk_marketplace.requirements.models import CATEGORIES
from souk_marketplace.requirements.services import MAX_AMOUNT
from souk_platform.core.money import to_minor_units
from souk_platform.web.once import OnceForm

CATEGORY_LABELS: dict[str, Any] = {
    "marketing": _l("Marketing"),
    "loyalty": _l("Loyalty and points"),
    "orders": _l("Orders and checkout"),
    "risk": _l("Risk control"),
    "analytics": _l("Analytics"),
    "operations": _l("Operations tools"),
    "integration": _l("Integrations (ERP, logistics)"),
    "other": _l("Other"),
}


class YuanField(StringField):
    """An amount typed in yuan (``"1500"``, ``"12.50"``); ``data`` is fen (int) or None when invalid."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        self.raw = (valuelist[0] if valuelist else "").strip()
        try:
            fen = to_minor_units(self.raw)
        except ValueError:
            fen = 0
        self.data = fen if 1 <= fen <= MAX_AMOUNT else None

    def _value(self) -> str:
        return getattr(self, "raw", "") or ""

    def pre_validate(self, form: Any) -> None:
        if getattr(self, "raw", "") and self.data is None:
            raise ValidationError(_l("Enter a positive amount in yuan, such as 1500 or 12.50."))


class RequirementForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    description = TextAreaField(_l("What do you need?"), validators=[DataRequired(), Length(max=5000)])
    category = SelectField(_l("Category"), choices=[SelectChoice(c, CATEGORY_LABELS[c]) for c in CATEGORIES])
    budget = YuanField(_l("Budget (yuan)"), validators=[InputRequired()])
    deadline = DateField(_l("Deadline"), validators=[InputRequired(message=_l("Choose a date."))])
    acceptance_criteria = TextAreaField(
        _l("Acceptance criteria: how will backers judge the delivery?"), validators=[DataRequired(), Length(max=5000)]
    )
    selection_mode = RadioField(
        _l("Who picks the proposal?"),
        choices=[
            SelectChoice("owner", _l("I do, as the owner")),
            SelectChoice("vote", _l("Backers vote, weighted by their pledges")),
        ],
        default="owner",
    )
    # Set once the poster has seen the similar requirements and still wants a new one.
    confirmed = HiddenField(default="")


class PledgeForm(OnceForm):
    amount = YuanField(_l("Amount (yuan)"), validators=[InputRequired()])


class ProposalForm(FlaskForm):
    price = YuanField(_l("Price (yuan)"), validators=[InputRequired()])
    delivery_date = DateField(_l("Delivery date"), validators=[InputRequired(message=_l("Choose a date."))])
    plan = TextAreaField(_l("Plan"), validators=[DataRequired(), Length(max=10000)])


class DeliveryForm(FlaskForm):
    version = SelectField(_l("App version (submitted for listing)"), choices=[], validate_choice=True)


class DeliveryVoteForm(FlaskForm):
    decision = RadioField(
        _l("Does the delivery meet the acceptance criteria?"),
        choices=[SelectChoice("accept", _l("Accept")), SelectChoice("reject", _l("Reject"))],
        validators=[InputRequired(message=_l("Choose accept or reject."))],
    )


class MergeForm(FlaskForm):
    duplicate_id = HiddenField(validators=[DataRequired()])
    survivor_id = HiddenField(validators=[DataRequired()])


class ArbitrationForm(FlaskForm):
    ruling = RadioField(
        _l("Ruling"),
        choices=[
            SelectChoice("developer", _l("For the developer: release the funds")),
            SelectChoice("backers", _l("For the backers: refund every pledge")),
        ],
        validators=[InputRequired(message=_l("Choose a ruling."))],
    )
    note = TextAreaField(_l("Reasons (shown on the timeline)"), validators=[DataRequired(), Length(max=2000)])
