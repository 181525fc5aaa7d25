from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField, StringField, widgets
from wtforms.validators import DataRequired, Email, Length, StopValidation

from souk_platform.auth.scopes import all_scopes, describe


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
