"""default_level: the built-in member.level rule, as a pure function."""

from __future__ import annotations

from souk_platform.members.services import LevelRules, MemberStats, Threshold, default_level

RULES = LevelRules(
    upgrade={
        2: Threshold("any", spend=10_000, orders=3),
        3: Threshold("any", spend=50_000, orders=10),
        4: Threshold("all", spend=100_000, orders=20),
        5: None,  # by hand only
    },
    keep={2: Threshold("any", spend=5_000), 3: Threshold("any", spend=20_000), 4: None, 5: None},
)


def stats(spend=0, orders=0, points=0, level=1):
    return MemberStats(spend_in_window=spend, orders_in_window=orders, points_balance=points, current_level=level)


def test_upgrade_goes_to_the_highest_level_whose_rule_is_met():
    assert default_level(stats(), RULES) == 1
    assert default_level(stats(spend=10_000), RULES) == 2
    assert default_level(stats(orders=3), RULES) == 2  # "any": one threshold is enough
    assert default_level(stats(spend=60_000), RULES) == 3
    assert default_level(stats(spend=200_000, orders=19), RULES) == 3  # "all": both are needed for V4
    assert default_level(stats(spend=200_000, orders=20), RULES) == 4


def test_keep_rule_holds_a_level_and_a_drop_lands_on_the_highest_kept_level():
    assert default_level(stats(spend=25_000, level=3), RULES) == 3  # below V3's upgrade, above its keep
    assert default_level(stats(spend=6_000, level=3), RULES) == 2  # V3 keep fails, V2 keep holds
    assert default_level(stats(spend=0, level=3), RULES) == 1
    assert default_level(stats(orders=3, level=3), RULES) == 2  # V2's upgrade rule still earns V2


def test_levels_without_keep_rules_are_never_lost():
    assert default_level(stats(level=5), RULES) == 5
    assert default_level(stats(level=4), RULES) == 4


def test_points_and_all_match():
    rules = LevelRules(upgrade={2: Threshold("all", spend=100, points=50), 3: None, 4: None, 5: None}, keep={})
    assert default_level(stats(spend=100, points=49), rules) == 1
    assert default_level(stats(spend=100, points=50), rules) == 2
