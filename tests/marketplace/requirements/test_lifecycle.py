"""Whole crowdfunding lifecycles with a moving clock, through the services and the periodic job.

After each: the ledger invariant holds and every escrow account of the finished requirement is 0.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from marketplace.requirements.builders import (
    TERMS,
    assert_ledger_sound_and_escrow_empty,
    balance,
    developer_balances,
    make_developer,
    platform_fees,
    post,
)

from souk_marketplace.billing.models import BillingExemption
from souk_marketplace.listings.services import listing_for_app
from souk_marketplace.requirements import services
from souk_marketplace.requirements.errors import (
    IllegalTransition,
    NotABacker,
    NotOpen,
    PledgeLocked,
    ProposalOverBudget,
    VotingMode,
)
from souk_marketplace.requirements.models import Requirement, RequirementPledge, RequirementTimelineEntry
from souk_marketplace.requirements.tasks import enforce_requirement_timers
from souk_platform.core.errors import InsufficientFunds
from souk_platform.events.models import OutboxEvent

ADMIN = services.Actor("admin", None, "Ada Admin")


def events(session, shop, type_):
    return list(
        session.scalars(sa.select(OutboxEvent).where(OutboxEvent.shop_id == shop.id, OutboxEvent.type == type_))
    )


def timeline(session, requirement):
    return [
        (e.event, e.actor_type)
        for e in session.scalars(
            sa.select(RequirementTimelineEntry)
            .where(RequirementTimelineEntry.requirement_id == requirement.id)
            .order_by(RequirementTimelineEntry.at, RequirementTimelineEntry.id)
        )
    ]


def pledge(session, shop, requirement, amount, now):
    made = services.pledge(
        session, shop_id=shop.id, requirement_id=requirement.id, amount=amount, pledged_by=None, now=now
    )
    session.commit()
    return made


def funded_and_delivered(session, clock, shops, developer, *, price=300_000):
    """Owner-mode requirement: ¥2,000 + ¥1,500 + ¥500 pledged, a proposal accepted, built and delivered."""
    now = clock.now()
    req = post(session, shops["owner"], now)
    pledge(session, shops["owner"], req, 200_000, now)
    pledge(session, shops["tea"], req, 150_000, now)
    pledge(session, shops["noodles"], req, 50_000, now)
    proposal = services.submit_proposal(
        session,
        developer=developer.user,
        requirement_id=req.id,
        price_amount=price,
        delivery_date=(now + dt.timedelta(days=20)).date(),
        plan="SMS via the shop's provider; templates per level.",
        now=now,
    )
    services.accept_proposal(
        session,
        shop_id=shops["owner"].id,
        proposal_id=proposal.id,
        actor=services.shop_actor(session, shops["owner"].id),
        now=now,
    )
    clock.advance(days=1)
    services.start_development(session, developer=developer.user, proposal_id=proposal.id, now=clock.now())
    clock.advance(days=10)
    services.deliver(
        session,
        developer=developer.user,
        proposal_id=proposal.id,
        app_id=developer.app_id,
        app_version_id=developer.version_id,
        now=clock.now(),
        terms=TERMS,
    )
    session.commit()
    return req, proposal


def test_deadline_passing_undelivered_refunds_every_pledge_in_full(session, clock, shops):
    before = {name: balance(session, shop) for name, shop in shops.items()}
    req = post(session, shops["owner"], clock.now(), deadline=clock.now() + dt.timedelta(days=3))
    pledge(session, shops["owner"], req, 100_000, clock.now())
    pledge(session, shops["tea"], req, 30_000, clock.now())
    pledge(session, shops["tea"], req, 20_000, clock.now())
    assert (req.pledged_total, req.backers_count) == (150_000, 2)
    assert balance(session, shops["tea"]) == before["tea"] - 50_000

    clock.advance(days=2, hours=23)
    enforce_requirement_timers()
    assert session.get(Requirement, req.id).state == "open"  # not yet
    clock.advance(hours=1)
    enforce_requirement_timers()

    req = session.get(Requirement, req.id)
    assert (req.state, req.pledged_total, req.backers_count) == ("refunded", 0, 0)
    assert {name: balance(session, shop) for name, shop in shops.items()} == before
    assert {
        p.state for p in session.scalars(sa.select(RequirementPledge).where(RequirementPledge.requirement_id == req.id))
    } == {"refunded"}
    assert timeline(session, req)[-1] == ("refunded", "system")
    assert len(events(session, shops["tea"], "requirement.refunded")) == 1  # backers hear of it too
    assert len(events(session, shops["tea"], "requirement_pledge.refunded")) == 2
    assert enforce_requirement_timers() == {"refunded": 0, "votes_closed": 0, "paid_out": 0}  # nothing twice
    assert_ledger_sound_and_escrow_empty(session, req.id)


def test_merged_pledges_move_their_pledgers_are_told_and_may_withdraw_until_a_proposal_is_accepted(
    session, clock, shops, developer
):
    now = clock.now()
    survivor = post(session, shops["owner"], now)
    duplicate = post(
        session, shops["tea"], now, title="积分过期前通知会员", description="希望在会员积分即将过期前自动推送短信提醒。"
    )
    kept = pledge(session, shops["noodles"], duplicate, 40_000, now)
    moved_back = pledge(session, shops["tea"], duplicate, 60_000, now)
    pledge(session, shops["owner"], survivor, 100_000, now)
    tea_before_withdraw = balance(session, shops["tea"])

    assert {survivor.id, duplicate.id} in [{a.id, b.id} for a, b, _score in services.duplicate_pairs(session)]
    clock.advance(hours=2)
    services.merge_requirements(
        session, duplicate_id=duplicate.id, survivor_id=survivor.id, admin=ADMIN, now=clock.now()
    )
    session.commit()

    survivor, duplicate = session.get(Requirement, survivor.id), session.get(Requirement, duplicate.id)
    assert (duplicate.state, duplicate.merged_into_id, duplicate.pledged_total) == ("merged", survivor.id, 0)
    assert (survivor.pledged_total, survivor.backers_count) == (200_000, 3)
    kept = session.get(RequirementPledge, kept.id)
    assert (kept.requirement_id, kept.merged_from_id) == (survivor.id, duplicate.id)
    told = events(session, shops["noodles"], "requirement_pledge.moved")
    assert len(told) == 1 and told[0].payload["to_requirement_id"] == survivor.id
    assert ("merged_in", "admin") in timeline(session, survivor)

    # The tea shop takes its moved pledge back in full.
    services.withdraw_pledge(session, shop_id=shops["tea"].id, pledge_id=moved_back.id, now=clock.now())
    session.commit()
    assert balance(session, shops["tea"]) == tea_before_withdraw + 60_000
    assert session.get(Requirement, survivor.id).pledged_total == 140_000

    # Once a proposal on the survivor is accepted, the moved pledge is locked like any other.
    proposal = services.submit_proposal(
        session,
        developer=developer.user,
        requirement_id=survivor.id,
        price_amount=140_000,
        delivery_date=(now + dt.timedelta(days=10)).date(),
        plan="Reminders.",
        now=clock.now(),
    )
    services.accept_proposal(session, shop_id=shops["owner"].id, proposal_id=proposal.id, actor=ADMIN, now=clock.now())
    session.commit()
    with pytest.raises(PledgeLocked):
        services.withdraw_pledge(session, shop_id=shops["noodles"].id, pledge_id=kept.id, now=clock.now())
    session.rollback()

    # The survivor is never delivered: at its deadline everyone, the merged pledger included, is refunded.
    clock.advance(days=31)
    enforce_requirement_timers()
    assert session.get(RequirementPledge, kept.id).state == "refunded"
    assert balance(session, shops["noodles"]) == 1_000_000
    assert_ledger_sound_and_escrow_empty(session, survivor.id, duplicate.id)


def test_silence_in_the_delivery_vote_accepts_and_the_developer_is_paid_after_the_hold(
    session, clock, shops, developer
):
    req, _proposal = funded_and_delivered(session, clock, shops, developer)
    assert session.get(Requirement, req.id).state == "delivered"
    services.vote_on_delivery(
        session, shop_id=shops["tea"].id, requirement_id=req.id, decision="accept", now=clock.now(), terms=TERMS
    )
    session.commit()

    clock.advance(days=6, hours=23)
    enforce_requirement_timers()
    assert session.get(Requirement, req.id).state == "delivered"  # the window is still open
    clock.advance(hours=1)
    enforce_requirement_timers()

    req = session.get(Requirement, req.id)
    assert (req.state, req.developer_amount, req.fee_amount) == ("accepted", 240_000, 60_000)
    # The price (¥3,000 of ¥4,000 pledged) is paid pro rata; each backer gets its unused part back.
    assert balance(session, shops["owner"]) == 1_000_000 - 150_000
    assert balance(session, shops["tea"]) == 1_000_000 - 112_500
    assert balance(session, shops["noodles"]) == 1_000_000 - 37_500
    assert developer_balances(session, developer.user) == (240_000, 0)
    assert platform_fees(session) >= 60_000
    listing = listing_for_app(session, developer.app_id)
    assert listing.crowdfunded and listing.crowdfunded_requirement_id == req.id
    exempt = set(
        session.scalars(sa.select(BillingExemption.shop_id).where(BillingExemption.app_id == developer.app_id))
    )
    assert exempt == {shop.id for shop in shops.values()}

    clock.advance(days=6)
    enforce_requirement_timers()
    assert session.get(Requirement, req.id).state == "accepted"  # still inside the hold
    clock.advance(days=1)
    assert enforce_requirement_timers()["paid_out"] == 1
    assert session.get(Requirement, req.id).state == "paid_out"
    assert developer_balances(session, developer.user) == (0, 240_000)
    assert [e for e, _ in timeline(session, req) if e != "proposal_submitted"] == [
        "posted",
        "funded",
        "in_development",
        "delivered",
        "accepted",
        "paid_out",
    ]
    assert_ledger_sound_and_escrow_empty(session, req.id)


def test_a_pledge_weighted_rejection_goes_to_arbitration_and_the_admin_rules_for_the_developer(
    session, clock, shops, developer
):
    req, _ = funded_and_delivered(session, clock, shops, developer)
    # ¥2,000 of ¥4,000 rejecting is exactly half: not a majority, so it does not reject alone.
    services.vote_on_delivery(
        session, shop_id=shops["owner"].id, requirement_id=req.id, decision="reject", now=clock.now(), terms=TERMS
    )
    services.vote_on_delivery(
        session, shop_id=shops["tea"].id, requirement_id=req.id, decision="reject", now=clock.now(), terms=TERMS
    )
    session.commit()
    assert session.get(Requirement, req.id).state == "delivered"
    clock.advance(days=7)
    enforce_requirement_timers()
    assert session.get(Requirement, req.id).state == "in_arbitration"

    with pytest.raises(Exception, match="Explain the ruling"):
        services.rule_arbitration(
            session, requirement_id=req.id, for_developer=True, note=" ", admin=ADMIN, now=clock.now(), terms=TERMS
        )
    services.rule_arbitration(
        session,
        requirement_id=req.id,
        for_developer=True,
        note="Every acceptance criterion is met; the backers tested an old build.",
        admin=ADMIN,
        now=clock.now(),
        terms=TERMS,
    )
    session.commit()
    req = session.get(Requirement, req.id)
    assert req.state == "accepted" and developer_balances(session, developer.user) == (240_000, 0)
    assert timeline(session, req)[-1] == ("accepted", "admin")
    clock.advance(days=7)
    enforce_requirement_timers()
    assert session.get(Requirement, req.id).state == "paid_out"
    assert_ledger_sound_and_escrow_empty(session, req.id)


def test_a_rejection_ruled_against_the_developer_refunds_every_pledge_in_full(session, clock, shops, developer):
    before = {name: balance(session, shop) for name, shop in shops.items()}
    req, _ = funded_and_delivered(session, clock, shops, developer)
    for name in ("owner", "tea", "noodles"):  # everyone voted: the vote closes at once
        services.vote_on_delivery(
            session, shop_id=shops[name].id, requirement_id=req.id, decision="reject", now=clock.now(), terms=TERMS
        )
    session.commit()
    assert session.get(Requirement, req.id).state == "in_arbitration"
    services.rule_arbitration(
        session,
        requirement_id=req.id,
        for_developer=False,
        note="The app sends no reminders at all.",
        admin=ADMIN,
        now=clock.now(),
        terms=TERMS,
    )
    session.commit()
    req = session.get(Requirement, req.id)
    assert req.state == "refunded"
    assert {name: balance(session, shop) for name, shop in shops.items()} == before
    assert developer_balances(session, developer.user) == (0, 0)
    assert listing_for_app(session, developer.app_id).crowdfunded is False
    with pytest.raises(IllegalTransition):  # decided once
        services.rule_arbitration(
            session, requirement_id=req.id, for_developer=True, note="again", admin=ADMIN, now=clock.now(), terms=TERMS
        )
    session.rollback()
    assert_ledger_sound_and_escrow_empty(session, req.id)


def test_backers_pick_a_proposal_by_a_strict_pledge_weighted_majority(session, clock, shops, developer):
    now = clock.now()
    other = make_developer(session, now, email="other@example.com", submit=False)
    req = post(session, shops["owner"], now, selection_mode="vote")
    pledge(session, shops["owner"], req, 100_000, now)
    pledge(session, shops["tea"], req, 100_000, now)
    tea_small = pledge(session, shops["noodles"], req, 1_000, now)
    cheap, dear = (
        services.submit_proposal(
            session,
            developer=who.user,
            requirement_id=req.id,
            price_amount=price,
            delivery_date=(now + dt.timedelta(days=9)).date(),
            plan="Plan",
            now=now,
        )
        for who, price in ((developer, 150_000), (other, 180_000))
    )
    session.commit()
    with pytest.raises(VotingMode):  # the owner cannot pick in vote mode
        services.accept_proposal(session, shop_id=shops["owner"].id, proposal_id=cheap.id, actor=ADMIN, now=now)
    session.rollback()
    with pytest.raises(NotABacker):
        services.vote_for_proposal(
            session, shop_id=shops["owner"].id + "x", requirement_id=req.id, proposal_id=cheap.id, now=now
        )
    session.rollback()

    services.vote_for_proposal(session, shop_id=shops["owner"].id, requirement_id=req.id, proposal_id=cheap.id, now=now)
    services.vote_for_proposal(session, shop_id=shops["tea"].id, requirement_id=req.id, proposal_id=dear.id, now=now)
    session.commit()
    assert session.get(Requirement, req.id).state == "open"  # 100k vs 100k of 201k: no majority
    # The noodle shop withdraws its ¥10: ¥1,000 of ¥2,000 is still only half.
    services.withdraw_pledge(session, shop_id=shops["noodles"].id, pledge_id=tea_small.id, now=now)
    session.commit()
    assert session.get(Requirement, req.id).state == "open"
    # The tea shop changes its mind: ¥2,000 of ¥2,000 → the cheap proposal wins at once.
    services.vote_for_proposal(session, shop_id=shops["tea"].id, requirement_id=req.id, proposal_id=cheap.id, now=now)
    session.commit()
    req = session.get(Requirement, req.id)
    assert (req.state, req.accepted_proposal_id) == ("funded", cheap.id)
    assert timeline(session, req)[-1] == ("funded", "backers")
    clock.advance(days=31)
    enforce_requirement_timers()  # never delivered: refunded
    assert_ledger_sound_and_escrow_empty(session, req.id)


def test_illegal_moves_are_refused_and_change_nothing(session, clock, shops, developer):
    now = clock.now()
    req = post(session, shops["owner"], now)
    small = pledge(session, shops["tea"], req, 10_000, now)
    proposal = services.submit_proposal(
        session,
        developer=developer.user,
        requirement_id=req.id,
        price_amount=20_000,
        delivery_date=(now + dt.timedelta(days=5)).date(),
        plan="Plan",
        now=now,
    )
    session.commit()
    with pytest.raises(ProposalOverBudget):  # ¥200 asked, ¥100 pledged
        services.accept_proposal(session, shop_id=shops["owner"].id, proposal_id=proposal.id, actor=ADMIN, now=now)
    session.rollback()
    with pytest.raises(IllegalTransition):  # not accepted yet: cannot start
        services.start_development(session, developer=developer.user, proposal_id=proposal.id, now=now)
    session.rollback()
    with pytest.raises(InsufficientFunds):
        services.pledge(
            session, shop_id=shops["tea"].id, requirement_id=req.id, amount=5_000_000, pledged_by=None, now=now
        )
    session.rollback()
    pledge(session, shops["owner"], req, 10_000, now)
    services.accept_proposal(session, shop_id=shops["owner"].id, proposal_id=proposal.id, actor=ADMIN, now=now)
    session.commit()
    with pytest.raises(NotOpen):
        services.pledge(
            session, shop_id=shops["noodles"].id, requirement_id=req.id, amount=100, pledged_by=None, now=now
        )
    session.rollback()
    with pytest.raises(PledgeLocked):
        services.withdraw_pledge(session, shop_id=shops["tea"].id, pledge_id=small.id, now=now)
    session.rollback()
    with pytest.raises(IllegalTransition):
        services.cancel_requirement(
            session, requirement_id=req.id, owner_shop_id=shops["owner"].id, actor=ADMIN, now=now
        )
    session.rollback()
    with pytest.raises(IllegalTransition):  # deliver before starting
        services.deliver(
            session,
            developer=developer.user,
            proposal_id=proposal.id,
            app_id=developer.app_id,
            app_version_id=developer.version_id,
            now=now,
            terms=TERMS,
        )
    session.rollback()
    req = session.get(Requirement, req.id)
    assert (req.state, req.pledged_total) == ("funded", 20_000)
    assert_ledger_sound_and_escrow_empty(session)


def test_the_owner_cancels_an_open_requirement_and_every_backer_gets_the_money_back(session, clock, shops):
    req = post(session, shops["owner"], clock.now())
    pledge(session, shops["tea"], req, 70_000, clock.now())
    services.cancel_requirement(
        session,
        requirement_id=req.id,
        owner_shop_id=shops["owner"].id,
        actor=services.shop_actor(session, shops["owner"].id),
        now=clock.now(),
    )
    session.commit()
    assert session.get(Requirement, req.id).state == "cancelled"
    assert balance(session, shops["tea"]) == 1_000_000
    assert_ledger_sound_and_escrow_empty(session, req.id)
