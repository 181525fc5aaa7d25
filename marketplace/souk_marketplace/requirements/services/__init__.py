"""定制众筹 rules: post, pledge, propose, pick, deliver, vote, arbitrate, release, refund, merge.

The state machine is ``TRANSITIONS`` (a ``StateMachine``) plus ``transition()``, which checks it, writes the
timeline line (actor, time, note) and emits ``requirement.<state>`` to the owner and every backer.
Every change first locks the requirement's row: pledges, proposals and votes all hang off it, so
parallel pledges, withdrawals and state changes take turns per requirement and the cached totals
stay exact. Money moves only through ``post_transfer`` with a dedupe key, and each pledge's escrow
account is filled once and emptied once (refund, or release to the developer with any surplus back).
The platform never keeps pledged money: what leaves escrow goes to the backer, or to the developer
and the platform fee on an accepted delivery.

Functions work in the caller's transaction and leave nothing behind when they raise, except
``run_due_timers``, which commits each requirement it settles (it is the periodic job's body).

One module per section: ``actors``, ``delivery``, ``merging``, ``pledges``, ``posting``, ``proposals``,
``reading``, ``states``, ``terms``, ``timers``. This package re-exports the public names, so callers import
from ``services`` as before.
"""

from __future__ import annotations

from souk_marketplace.requirements.services.actors import BACKERS, SYSTEM, Actor, shop_actor, user_actor
from souk_marketplace.requirements.services.delivery import (
    deliver,
    rule_arbitration,
    start_development,
    vote_on_delivery,
)
from souk_marketplace.requirements.services.merging import merge_requirements
from souk_marketplace.requirements.services.pledges import pledge, pledge_payload, withdraw_pledge
from souk_marketplace.requirements.services.posting import cancel_requirement, post_requirement
from souk_marketplace.requirements.services.proposals import (
    accept_proposal,
    submit_proposal,
    vote_for_proposal,
    withdraw_proposal,
)
from souk_marketplace.requirements.services.reading import (
    board_page,
    duplicate_pairs,
    get_pledge,
    get_requirement,
    pledges_stmt,
    proposals_stmt,
    requirement_detail,
    requirement_view,
    requirement_views,
    similar_requirements,
)
from souk_marketplace.requirements.services.states import FINISHED, TRANSITIONS, check_transition, transition
from souk_marketplace.requirements.services.terms import MAX_AMOUNT, SORTS, Terms, terms_from_config
from souk_marketplace.requirements.services.timers import run_due_timers

__all__ = [
    "BACKERS",
    "FINISHED",
    "MAX_AMOUNT",
    "SORTS",
    "SYSTEM",
    "TRANSITIONS",
    "Actor",
    "Terms",
    "accept_proposal",
    "board_page",
    "cancel_requirement",
    "check_transition",
    "deliver",
    "duplicate_pairs",
    "get_pledge",
    "get_requirement",
    "merge_requirements",
    "pledge",
    "pledge_payload",
    "pledges_stmt",
    "post_requirement",
    "proposals_stmt",
    "requirement_detail",
    "requirement_view",
    "requirement_views",
    "rule_arbitration",
    "run_due_timers",
    "shop_actor",
    "similar_requirements",
    "start_development",
    "submit_proposal",
    "terms_from_config",
    "transition",
    "user_actor",
    "vote_for_proposal",
    "vote_on_delivery",
    "withdraw_pledge",
    "withdraw_proposal",
]
