"""The placement engine's arithmetic on small hand-made profiles: exact values, no database."""

from itertools import permutations
from math import log, sqrt

import pytest

from erhuo.community import placement
from erhuo.community.placement import (
    Candidate,
    Centroid,
    Move,
    SegmentSpec,
    cosine,
    join_order_baseline,
    matches,
    mean_similarity,
    place_batch,
    propose_moves,
    rank,
    tag_weights,
    weigh,
)


def brute_force_purity(profiles) -> float:
    pairs = list(permutations(range(len(profiles)), 2))
    return sum(cosine(profiles[i], profiles[j]) for i, j in pairs) / len(pairs)


# --- purity ---------------------------------------------------------------------------------------


def test_purity_from_the_centroid_equals_the_mean_over_every_pair():
    profiles = [
        {"womenswear": 1.0, "premium": 1.0, "size-m": 1.0},
        {"womenswear": 1.0, "premium": 0.5, "size-s": 1.0},
        {"baby": 1.0, "kids-0-1": 1.0, "premium": 0.3},
        {"womenswear": 0.6, "minimal": 1.0},
    ]

    assert Centroid.of(profiles).purity() == pytest.approx(brute_force_purity(profiles), abs=1e-12)
    # Two alike members and one apart, by hand: cos(a, a) = 1, cos(a, b) = 0 → (1 + 1) / 6.
    assert placement.purity([{"a": 1.0}, {"a": 2.0}, {"b": 1.0}]) == pytest.approx(2 / 6)


def test_an_empty_profile_is_alike_no_one():
    # Pairs: (1, 2) = 1, (1, 3) = 0, (2, 3) = 0 → 1/3 over the three pairs (not (4 − 3) / 6).
    profiles = [{"a": 1.0}, {"a": 1.0}, {}]

    centroid = Centroid.of(profiles)

    assert centroid.count == 3
    assert centroid.nonempty == 2
    assert centroid.purity() == pytest.approx(1 / 3)
    assert centroid.purity() == pytest.approx(brute_force_purity(profiles))


def test_a_centroid_made_by_hand_still_counts_every_member():
    centroid = Centroid(total={"a": 2.0}, count=2)

    assert centroid.purity() == pytest.approx(1.0)
    centroid.add({"b": 1.0})
    assert centroid.nonempty == 3
    assert centroid.purity() == pytest.approx(brute_force_purity([{"a": 1}, {"a": 1}, {"b": 1}]))
    centroid.remove({"b": 1.0})
    assert (centroid.count, centroid.nonempty) == (2, 2)


def test_mean_similarity_by_pairs_and_by_groups():
    groups = {
        "A": [{"a": 1.0}, {"a": 1.0}],  # purity 1, 2 ordered pairs
        "B": [{"a": 1.0}, {"b": 1.0}, {"b": 1.0}],  # purity 1/3, 6 ordered pairs
        "C": [{"c": 1.0}],  # no pair: left out
    }

    assert mean_similarity(groups) == pytest.approx((1 * 2 + (1 / 3) * 6) / (2 + 6))
    assert mean_similarity(groups, by="groups") == pytest.approx((1 + 1 / 3) / 2)
    assert mean_similarity({"C": [{"c": 1.0}]}) == 0.0
    with pytest.raises(ValueError):
        mean_similarity(groups, by="members")


# --- informativeness ------------------------------------------------------------------------------


def test_tag_weights_are_the_log_of_how_rare_each_tag_is():
    profiles = [
        {"womenswear": 1.0, "premium": 1.0, "tianjin": 1.0},
        {"womenswear": 1.0, "premium": 0.4},
        {"womenswear": 1.0},
        {"womenswear": 0.5, "budget": 0.0},
        {},  # no tag: not in the population
    ]

    weights = tag_weights(profiles)

    assert weights == {"womenswear": 0.0, "premium": pytest.approx(log(2)), "tianjin": pytest.approx(log(4))}
    assert weigh({"womenswear": 1.0, "premium": 0.5, "unknown": 1.0}, weights) == {
        "premium": pytest.approx(0.5 * log(2))
    }
    assert weigh({"a": 1.0, "b": 0.0}, None) == {"a": 1.0}


def test_weighted_similarity_ignores_what_everyone_shares():
    profiles = [{"womenswear": 1.0, "shanghai": 1.0}, {"womenswear": 1.0, "chengdu": 1.0}, {"womenswear": 1.0}]
    weights = tag_weights(profiles)

    assert cosine(profiles[0], profiles[1]) == pytest.approx(0.5)
    assert cosine(weigh(profiles[0], weights), weigh(profiles[1], weights)) == 0.0
    # The third member carries nothing informative: an empty weighted profile, alike no one.
    assert mean_similarity({"g": profiles}, weights=weights) == 0.0


# --- rules and ranking (the existing functions) ---------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "profile", "expected"),
    [
        ({}, {}, True),
        ({"all": ["womenswear", "premium"]}, {"womenswear": 1.0, "premium": 0.2}, True),
        ({"all": ["womenswear", "premium"]}, {"womenswear": 1.0, "premium": 0.0}, False),
        ({"any": ["kids-0-1", "kids-1-3"]}, {"kids-1-3": 1.0}, True),
        ({"any": ["kids-0-1", "kids-1-3"]}, {"kids-3-6": 1.0}, False),
        ({"all": ["baby"], "none": ["premium"]}, {"baby": 1.0, "premium": 1.0}, False),
        ({"all": ["baby"], "none": ["premium"]}, {"baby": 1.0}, True),
    ],
)
def test_rule_matching(rule, profile, expected):
    assert matches(rule, profile) is expected


def test_ranking_ties_go_to_the_fuller_group_then_the_older():
    rule = {"all": ["womenswear"]}
    profile = {"womenswear": 1.0}
    empty = Centroid()
    candidates = [
        Candidate(group_id=3, rule=rule, centroid=empty, member_count=10, capacity=500),
        Candidate(group_id=1, rule=rule, centroid=empty, member_count=10, capacity=500),
        Candidate(group_id=2, rule=rule, centroid=empty, member_count=40, capacity=500),
        Candidate(group_id=4, rule=rule, centroid=empty, member_count=500, capacity=500),  # full
        Candidate(group_id=5, rule={"all": ["baby"]}, centroid=empty, member_count=1, capacity=500),  # no match
        Candidate(group_id=6, rule=rule, centroid=empty, member_count=1, capacity=500, open=False),
    ]

    ranked = rank(profile, candidates)

    assert [candidate.group_id for _score, candidate in ranked] == [2, 1, 3]
    assert [score for score, _candidate in ranked] == [pytest.approx(1.0)] * 3


# --- placing many at once -------------------------------------------------------------------------


def test_join_order_fills_each_group_before_the_next():
    assert join_order_baseline([7, 3, 9, 1, 5], 2) == {7: 1, 3: 1, 9: 2, 1: 2, 5: 3}
    with pytest.raises(ValueError):
        join_order_baseline([1], 0)


def test_each_member_goes_to_the_segment_she_matches_best():
    segments = [
        SegmentSpec("womenswear-premium", {"all": ["womenswear", "premium"]}),
        SegmentSpec("bags-premium", {"all": ["bags", "premium"]}),
        SegmentSpec("baby", {"all": ["baby"], "none": ["premium"]}),
        SegmentSpec("general", {}),
    ]
    profiles = {
        1: {"womenswear": 1.0, "premium": 1.0},  # womenswear-premium
        2: {"womenswear": 0.3, "bags": 1.0, "premium": 1.0},  # both match; closer to bags-premium
        3: {"womenswear": 1.0, "bags": 1.0, "premium": 1.0},  # a tie: the segment listed first
        4: {"baby": 1.0, "premium": 1.0},  # baby excludes premium; nothing else matches: general
        5: {"baby": 1.0, "kids-0-1": 1.0},  # baby
    }

    placed = place_batch(profiles, segments, capacity=10)

    assert placed == {
        1: ("womenswear-premium", 1),
        2: ("bags-premium", 1),
        3: ("womenswear-premium", 1),
        4: ("general", 1),
        5: ("baby", 1),
    }
    # Without a catch-all segment a member who matches nothing is left out.
    assert 4 not in place_batch(profiles, segments[:3], capacity=10)


def test_groups_are_filled_to_capacity_within_their_segment():
    segments = [SegmentSpec("a", {"all": ["a"]}), SegmentSpec("b", {"all": ["b"]})]
    profiles = {member_id: {"a": 1.0, f"x{member_id % 3}": 1.0} for member_id in range(1, 12)}
    profiles.update({member_id: {"b": 1.0} for member_id in range(12, 15)})

    placed = place_batch(profiles, segments, capacity=4)

    sizes = {}
    for key in placed.values():
        sizes[key] = sizes.get(key, 0) + 1
    # 11 members of a: ⌈11 / 4⌉ = 3 groups, all full but the last; 3 members of b: one group.
    assert sizes == {("a", 1): 4, ("a", 2): 4, ("a", 3): 3, ("b", 1): 3}
    assert placed == place_batch(profiles, segments, capacity=4)  # deterministic


def test_batch_placement_beats_join_order_on_a_mixed_arrival():
    # Four kinds of member arriving in turn (a, b, c, d, a, b, …): join order mixes every group.
    kinds = [
        {"womenswear": 1.0, "premium": 1.0, "size-s": 1.0},
        {"bags": 1.0, "budget": 1.0, "size-l": 1.0},
        {"baby": 1.0, "kids-0-1": 1.0, "shanghai": 1.0},
        {"kidswear": 1.0, "kids-6-12": 1.0, "chengdu": 1.0},
    ]
    profiles = {member_id: dict(kinds[(member_id - 1) % 4]) for member_id in range(1, 41)}

    ours = place_batch(profiles, [SegmentSpec("general", {})], capacity=10)
    baseline = join_order_baseline(list(profiles), 10)

    def groups_of(assignment):
        groups = {}
        for member_id, key in assignment.items():
            groups.setdefault(key, []).append(profiles[member_id])
        return groups

    # Ours: four groups of one kind each. Join order: each group of ten holds 3 + 3 + 2 + 2 of the kinds,
    # and members of different kinds share no tag: (3·2 + 3·2 + 2·1 + 2·1) / (10·9) = 16/90 in every group.
    assert mean_similarity(groups_of(ours)) == pytest.approx(1.0)
    assert mean_similarity(groups_of(baseline)) == pytest.approx(16 / 90)
    assert sorted(len(group) for group in groups_of(ours).values()) == [10, 10, 10, 10]


def test_batch_placement_weights_the_segment_choice_by_informativeness():
    # With weights, the rarer tag pulls: bags (1 in 4) outweighs womenswear (everyone).
    segments = [SegmentSpec("womenswear", {"all": ["womenswear"]}), SegmentSpec("bags", {"all": ["bags"]})]
    profiles = {
        1: {"womenswear": 1.0, "bags": 1.0},
        2: {"womenswear": 1.0},
        3: {"womenswear": 1.0},
        4: {"womenswear": 1.0},
    }

    assert place_batch(profiles, segments, 10)[1] == ("womenswear", 1)  # a tie unweighted: the first
    assert place_batch(profiles, segments, 10, weights=tag_weights(profiles.values()))[1] == ("bags", 1)


# --- moves ----------------------------------------------------------------------------------------

A = {"a": 1.0}
B = {"b": 1.0}


def test_a_member_who_fits_another_group_much_better_is_moved():
    groups = {1: [(11, A), (12, A), (13, A), (14, B)], 2: [(21, B), (22, B), (23, B)]}
    rules = {1: {}, 2: {"all": ["b"]}}
    capacities = {1: (5, 500), 2: (4, 5)}  # the counts include each group's leader

    plan = propose_moves(groups, rules, capacities, limit=10)

    assert plan.moves == [Move(member_id=14, from_group=1, to_group=2, fit_before=0.0, fit_after=1.0)]
    assert plan[0].gain == pytest.approx(1.0)
    # Group 1: three alike and one apart, (|(3, 1)|² − 4) / 12 = 1/2; after the move both groups are pure.
    assert plan.purity_before == {1: pytest.approx(0.5), 2: pytest.approx(1.0)}
    assert plan.purity_after == {1: pytest.approx(1.0), 2: pytest.approx(1.0)}


def test_moves_respect_the_target_groups_room():
    groups = {1: [(11, A), (12, A), (13, B), (14, B)], 2: [(21, B), (22, B)]}
    rules = {1: {}, 2: {}}

    assert propose_moves(groups, rules, {1: (4, 10), 2: (10, 10)}, limit=10).moves == []
    # One place left: only one of the two moves, and the group's freed places are not counted.
    plan = propose_moves(groups, rules, {1: (4, 10), 2: (9, 10)}, limit=10)
    assert [(move.member_id, move.to_group) for move in plan] == [(13, 2)]


def test_moves_respect_the_target_groups_rule():
    groups = {1: [(11, A), (12, A), (13, {"b": 1.0, "premium": 1.0}), (14, B)], 2: [(21, B), (22, B)]}
    capacities = {1: (4, 10), 2: (2, 10)}

    plan = propose_moves(groups, {1: {}, 2: {"all": ["b"], "none": ["premium"]}}, capacities, limit=10)
    assert [move.member_id for move in plan] == [14]
    # A group without a rule in `rules` takes no one.
    assert propose_moves(groups, {1: {}}, capacities, limit=10).moves == []


def test_moves_take_the_biggest_gain_first_within_the_limit():
    half = {"a": 1.0, "b": 1.0}
    groups = {1: [(11, A), (12, A), (13, half), (14, B)], 2: [(21, B), (22, B)]}
    rules = {1: {}, 2: {}}
    capacities = {1: (4, 10), 2: (2, 10)}

    plan = propose_moves(groups, rules, capacities, limit=1)

    # Member 14 (all b) gains more than member 13 (half a, half b).
    assert [move.member_id for move in plan] == [14]
    assert plan[0].fit_before == pytest.approx((0 + 0 + 1 / sqrt(2)) / 3)
    assert plan[0].fit_after == pytest.approx(1.0)


def test_moves_only_leave_the_groups_asked_and_only_for_a_real_gain():
    groups = {1: [(11, A), (12, A), (13, B)], 2: [(21, B), (22, B)], 3: [(31, A), (32, B)]}
    rules = {1: {}, 2: {}, 3: {}}
    capacities = {1: (3, 10), 2: (2, 10), 3: (2, 10)}

    plan = propose_moves(groups, rules, capacities, limit=10, from_groups=[1])
    assert [(move.member_id, move.from_group, move.to_group) for move in plan] == [(13, 1, 2)]
    # Member 32's gain, 1 − 0 = 1; member 13's gain is 1 too: the bar set higher than any gain moves no one.
    assert propose_moves(groups, rules, capacities, limit=10, min_gain=1.01).moves == []


def test_an_empty_target_group_is_judged_by_its_rule():
    groups = {1: [(11, A), (12, A), (13, B)]}
    plan = propose_moves(groups, {1: {}, 2: {"all": ["b"]}}, {1: (3, 10), 2: (1, 10)}, limit=10)

    assert plan.moves == [Move(member_id=13, from_group=1, to_group=2, fit_before=0.0, fit_after=1.0)]
    assert plan.purity_after[2] == 1.0  # one member: nothing to disagree
