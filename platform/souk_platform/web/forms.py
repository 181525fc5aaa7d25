from __future__ import annotations

import re
from typing import Any

from flask import abort, request
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Email, Length, StopValidation

from souk_platform.auth.scopes import all_scopes, describe
from souk_platform.core.money import to_minor_units


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class AtLeastOneChosen:
    """A multiple choice needs one ticked box; unlike ``DataRequired`` it sets no ``required`` flag.

    The flag would put ``required`` on every checkbox, and a browser then refuses the form until
    every box is ticked.
    """

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: FlaskForm, field: SelectMultipleField) -> None:
        if not field.data:
            raise StopValidation(self.message)


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=200)])
    scopes = SelectMultipleField(
        _l("Scopes"),
        # Filled in per form (see __init__): extensions register scopes after this module is imported.
        choices=[],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
        validators=[AtLeastOneChosen(message=_l("Choose at least one scope."))],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.scopes.choices = [(scope, scope) for scope in all_scopes()]

    def scope_descriptions(self) -> dict[str, str]:
        return {scope: describe(scope) for scope in all_scopes()}


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for buttons that change something."""


_AMOUNT_AS_TYPED = re.compile(r"(\d+|\d{1,3}(,\d{3})+)(\.\d{1,2})?")


def yuan_text(amount: int) -> str:
    """Fen as the text a yuan field shows: ``12345`` → ``"123.45"``."""
    return f"{amount // 100}.{amount % 100:02d}"


class YuanField(StringField):
    """An amount typed in yuan ("12.5", "¥12.50", "1,500 元"); ``minor`` holds it in fen, None when left empty.

    Pages show and take money in yuan; services and the ledger keep fen (core/money.py).
    """

    def __init__(self, *args: Any, maximum: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.maximum = maximum
        self.minor: int | None = None

    def pre_validate(self, form: FlaskForm) -> None:
        self.minor = None
        text = (self.data or "").strip()
        for mark in ("¥", "￥", "元", "CNY"):
            text = text.removeprefix(mark).removesuffix(mark).strip()
        if not text:
            return
        if not _AMOUNT_AS_TYPED.fullmatch(text):  # Decimal alone would take "1e3" or "NaN"
            raise StopValidation(_l("Enter an amount like 5 or 5.00 (at most two decimals)."))
        minor = to_minor_units(text)
        if self.maximum is not None and minor > self.maximum:
            raise StopValidation(_l("At most %(amount)s.", amount=yuan_text(self.maximum)))
        self.minor = minor


def refuse_nul_characters() -> None:
    """A page's ``before_request``: a NUL character in the path, a query or a form value is a 400.

    PostgreSQL text cannot hold NUL, so such a value would otherwise fail deep in a query as a 500.
    """
    values = [str(value) for value in (request.view_args or {}).values()]
    for source in (request.args, request.form):
        values += [text for pair in source.items(multi=True) for text in pair]
    if any("\x00" in value for value in values):
        abort(400, description=_l("The request holds a NUL character, which no field accepts."))
