"""Shop admin pages for risk control (docs/architecture.md §5.13, §14)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("shop_risk", __name__)
