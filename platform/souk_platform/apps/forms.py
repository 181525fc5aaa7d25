"""Forms of the developer console (Flask-WTF, CSRF-protected)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length

from souk_platform.apps.manifest import MAX_MANIFEST_CHARS
from souk_platform.apps.services import MIN_PASSWORD_LENGTH


class DeveloperSignupForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=320)])
    password = PasswordField(
        _l("Password"),
        validators=[
            DataRequired(),
            Length(min=MIN_PASSWORD_LENGTH, message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH)),
        ],
    )


class ManifestForm(FlaskForm):
    manifest = TextAreaField(
        _l("Manifest (YAML or JSON)"),
        validators=[
            DataRequired(message=_l("Paste the app's manifest.")),
            Length(max=MAX_MANIFEST_CHARS, message=_l("The manifest is too long.")),
        ],
    )
