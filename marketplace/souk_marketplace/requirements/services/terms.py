"""The crowdfunding terms and limits (fee, payout hold, vote window, amounts, deadlines)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger("souk.requirements")


SORTS = ("newest", "pledged", "backers", "deadline")

MAX_AMOUNT = 100_000_000_000  # 10 亿 yuan in fen: anything above is a typo
MIN_DEADLINE = dt.timedelta(days=1)
MAX_DEADLINE = dt.timedelta(days=366)
SIMILAR_CORPUS = 2000  # the most recent open requirements compared with a new one


@dataclass(frozen=True, slots=True)
class Terms:
    """The platform's crowdfunding terms: fee in basis points, payout hold, delivery vote window."""

    fee_bps: int = 2000
    hold: dt.timedelta = dt.timedelta(days=7)
    vote_window: dt.timedelta = dt.timedelta(days=7)


def terms_from_config(config: Mapping[str, Any]) -> Terms:
    """Terms from app settings; the fee and the hold are the marketplace's (billing uses the same)."""
    return Terms(
        fee_bps=int(config.get("SOUK_MARKETPLACE_FEE_BPS", 2000)),
        hold=dt.timedelta(days=float(config.get("SOUK_PAYOUT_HOLD_DAYS", 7))),
        vote_window=dt.timedelta(days=float(config.get("SOUK_REQUIREMENT_VOTE_DAYS", 7))),
    )
