"""Forms of the service-market pages (Flask-WTF, CSRF-protected). Prices are typed in yuan."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DecimalField,
    EmailField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
    widgets,
)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional

from souk_marketplace.service_market.catalogue import MAX_PACKAGES, MilestoneSpec
from souk_platform.apps.services import MIN_PASSWORD_LENGTH
from souk_platform.core.money import to_minor_units
from souk_platform.web.once import OnceForm

CATEGORY_LABELS = {
    "operations": _l("Store operations (代运营)"),
    "solutions": _l("Solutions"),
    "customer_service": _l("Customer service"),
    "design": _l("Design"),
    "development": _l("Development"),
}
KIND_LABELS = {"small": _l("Small job"), "project": _l("Project with milestones")}


def to_fen(value: Decimal | None) -> int:
    """Yuan typed in a form (two decimals at most, checked by the field) as fen."""
    return to_minor_units(value or Decimal(0))


def _cents(form: Any, field: Any) -> None:
    if field.data is not None and field.data != field.data.quantize(Decimal("0.01")):
        raise ValidationError(_l("Use at most two decimals."))


def _yuan(label: Any, *, required: bool = True) -> DecimalField:
    first = InputRequired() if required else Optional()  # 0 is a valid amount
    return DecimalField(label, places=2, validators=[first, NumberRange(min=0), _cents])


class _Checkboxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class ProviderProfileForm(FlaskForm):
    display_name = StringField(_l("Display name"), validators=[DataRequired(), Length(max=100)])
    bio = TextAreaField(_l("About you"), validators=[Optional(), Length(max=5000)])
    categories = _Checkboxes(
        _l("What you offer"),
        choices=list(CATEGORY_LABELS.items()),
        validators=[DataRequired(message=_l("Choose at least one category."))],
    )


class ProviderSignupForm(ProviderProfileForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=320)])
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH)),
        ],
    )


def parse_milestones(text: str) -> list[MilestoneSpec]:
    """``title | amount in yuan | days`` per line; raises ValueError naming the first bad line."""
    specs = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")]
        try:
            title, amount, days = parts
            fen = to_minor_units(amount)
            if fen <= 0:
                raise ValueError
            specs.append(MilestoneSpec(title=title, amount=fen, delivery_days=int(days)))
        except (ValueError, ArithmeticError):
            raise ValueError(number) from None
    return specs


class PackageForm(FlaskForm):
    class Meta:
        csrf = False  # a sub-form: the outer form carries the token

    name = StringField(_l("Package name"), validators=[Optional(), Length(max=100)])
    kind = SelectField(_l("Kind"), choices=list(KIND_LABELS.items()), default="small")
    price = _yuan(_l("Price (yuan)"), required=False)
    delivery_days = IntegerField(_l("Delivery days"), validators=[Optional(), NumberRange(min=1, max=365)])
    revisions = IntegerField(_l("Revisions included"), default=1, validators=[Optional(), NumberRange(0, 20)])
    description = StringField(_l("What is included"), validators=[Optional(), Length(max=1000)])
    milestones = TextAreaField(
        _l("Milestones (projects): one per line, “title | amount in yuan | days”"),
        validators=[Optional(), Length(max=5000)],
    )


class ServiceForm(FlaskForm):
    category = SelectField(_l("Category"), choices=list(CATEGORY_LABELS.items()))
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=20000)])
    status = SelectField(_l("Status"), choices=[("active", _l("Listed")), ("hidden", _l("Hidden"))], default="active")
    packages = FieldList(FormField(PackageForm), min_entries=MAX_PACKAGES, max_entries=MAX_PACKAGES)


class PortfolioForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    text = TextAreaField(_l("Text"), validators=[Optional(), Length(max=5000)])
    link = StringField(_l("Link"), validators=[Optional(), Length(max=500)])
    image = FileField(_l("Image (PNG, JPEG or WebP, up to 512 KiB)"))


class PlaceOrderForm(OnceForm):
    shop_id = SelectField(_l("Order for shop"), choices=[], validate_choice=True)
    package_id = RadioField(_l("Package"), choices=[], validators=[DataRequired(message=_l("Choose a package."))])
    requirements = TextAreaField(
        _l("Requirements (you can also send them later)"), validators=[Optional(), Length(max=20000)]
    )


# --- the order page's actions --------------------------------------------------------------------


class RequirementsForm(FlaskForm):
    requirements = TextAreaField(_l("Requirements"), validators=[DataRequired(), Length(max=20000)])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=5000)])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=5000)])


class OptionalReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=5000)])


class ExtensionRequestForm(FlaskForm):
    days = IntegerField(_l("More days"), validators=[DataRequired(), NumberRange(min=1, max=30)])
    reason = TextAreaField(_l("Why"), validators=[DataRequired(), Length(max=1000)])


class ExtensionAnswerForm(FlaskForm):
    decision = HiddenField(validators=[DataRequired()])


class AnswerForm(FlaskForm):
    answer = TextAreaField(_l("Your answer"), validators=[DataRequired(), Length(max=5000)])


class OfferForm(FlaskForm):
    refund = _yuan(_l("Refund to the buyer (yuan)"))
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=5000)])


class AcceptOfferForm(FlaskForm):
    refund = IntegerField(validators=[InputRequired(), NumberRange(min=0)])  # the offer's fen, echoed


class ArbitrationForm(FlaskForm):
    decision = SelectField(
        _l("Decision"),
        choices=[
            ("full_refund", _l("Full refund to the buyer")),
            ("partial_refund", _l("Partial refund")),
            ("no_refund", _l("No refund: the provider is paid")),
        ],
    )
    refund = _yuan(_l("Partial refund (yuan)"), required=False)
    note = TextAreaField(_l("Reasons for the decision"), validators=[DataRequired(), Length(max=5000)])


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Your message"), validators=[DataRequired(), Length(max=5000)])


class FileForm(FlaskForm):
    file = FileField(_l("File (up to 5 MiB: PDF, images, ZIP, text)"))


class RatingForm(FlaskForm):
    stars = SelectField(_l("Stars"), choices=[(str(n), "★" * n) for n in range(5, 0, -1)], coerce=int)
    text = TextAreaField(_l("Your review"), validators=[Optional(), Length(max=2000)])
