"""Web sessions for people: who is logged in, and the decorators pages use."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import abort, g, redirect, request, session, url_for
from flask_babel import gettext as _

from souk_platform.auth.models import User
from souk_platform.db import db
from souk_platform.shops.services import membership

F = TypeVar("F", bound=Callable[..., Any])


def current_user() -> User | None:
    if "user" not in g:
        user_id = session.get("user_id")
        g.user = db.session.get(User, user_id) if user_id else None
    return cast(User | None, g.user)


def signed_in_user() -> User:
    """The logged-in user, in a view behind ``login_required`` (or a decorator built on it)."""
    user = current_user()
    assert user is not None, "signed_in_user() needs login_required"
    return user


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user() is None:
            return redirect(url_for("web.login", next=request.full_path))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def admin_required(view: F) -> F:
    """Platform admins only: 403 for other people (anonymous visitors are sent to log in)."""

    @functools.wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None or not user.is_platform_admin:
            abort(403, description=_("This page is for platform admins."))
        return view(*args, **kwargs)

    return cast(F, wrapper)


def shop_role_required(*roles: str) -> Callable[[F], F]:
    """The logged-in user must be staff of ``shop_id`` with one of ``roles`` (404 otherwise)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        @login_required
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            assert user is not None
            member = membership(db.session, shop_id=kwargs["shop_id"], user_id=user.id)
            if member is None:
                abort(404)  # another shop: never confirm it exists
            if member.role not in roles:
                abort(403)
            g.role = member.role
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator
