"""The fair draw (community/draw.py): pure functions, checked against the written algorithm by hand."""

import hashlib
import hmac

import pytest

from erhuo.community import draw

SEED = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


def by_hand(seed_hex: str, ids: list[int], winners: int) -> list[int]:
    """The algorithm as the verification page states it, written again without draw.py."""
    remaining = sorted(set(ids))
    text = "\n".join(str(user_id) for user_id in remaining)
    digest = hashlib.sha256(text.encode("ascii")).hexdigest()
    chosen = []
    for rank in range(1, min(winners, len(remaining)) + 1):
        mac = hmac.new(bytes.fromhex(seed_hex), f"{digest}:{rank}".encode("ascii"), hashlib.sha256).digest()
        chosen.append(remaining.pop(int.from_bytes(mac, "big") % len(remaining)))
    return chosen


def test_the_canonical_list_is_sorted_distinct_decimal_ids_one_per_line_without_a_final_line_feed():
    assert draw.entrants_text([12, 3, 100, 3]) == "3\n12\n100"
    assert draw.entrants_text([]) == ""
    assert draw.entrants_hash([100, 3, 12]) == hashlib.sha256(b"3\n12\n100").hexdigest()
    assert draw.entrants_hash([]) == hashlib.sha256(b"").hexdigest()


def test_the_seed_hash_is_sha256_of_the_32_bytes_not_of_the_hex_text():
    assert draw.seed_hash(SEED) == hashlib.sha256(bytes.fromhex(SEED)).hexdigest()
    assert draw.seed_hash(SEED) != hashlib.sha256(SEED.encode()).hexdigest()
    with pytest.raises(ValueError):
        draw.seed_hash("abcd")


def test_new_seeds_are_32_random_bytes():
    seeds = {draw.new_seed() for _ in range(50)}
    assert len(seeds) == 50
    assert all(len(seed) == 64 and bytes.fromhex(seed) for seed in seeds)


def test_the_draw_follows_the_written_algorithm_and_is_deterministic():
    ids = [41, 7, 19, 3, 88, 56, 23]
    winners = draw.draw_winners(SEED, ids, 3)
    assert winners == by_hand(SEED, ids, 3)
    assert winners == draw.draw_winners(SEED, list(reversed(ids)), 3)  # the order given does not matter
    assert len(set(winners)) == 3 and set(winners) <= set(ids)


def test_each_step_is_published_with_its_hmac_list_size_and_index():
    ids = [5, 9, 2]
    steps = draw.draw_steps(SEED, ids, 2)
    digest = draw.entrants_hash(ids)
    remaining = [2, 5, 9]
    for rank, step in enumerate(steps, start=1):
        mac = hmac.new(bytes.fromhex(SEED), f"{digest}:{rank}".encode(), hashlib.sha256).hexdigest()
        assert step["rank"] == rank
        assert step["hmac"] == mac
        assert step["remaining"] == len(remaining)
        assert step["index"] == int(mac, 16) % len(remaining)
        assert step["user_id"] == remaining.pop(step["index"])


def test_more_winners_than_entrants_means_everyone_wins_and_nobody_entered_means_nobody_wins():
    assert sorted(draw.draw_winners(SEED, [4, 8], 5)) == [4, 8]
    assert draw.draw_winners(SEED, [], 3) == []


def test_verify_gives_the_winners_from_published_data():
    ids = [11, 12, 13, 14, 15]
    published = {
        "seed_hex": SEED,
        "committed_seed_hash": draw.seed_hash(SEED),
        "user_ids": ids,
        "published_entrants_hash": draw.entrants_hash(ids),
        "winners": 2,
    }
    assert draw.verify(**published) == draw.draw_winners(SEED, ids, 2)


def test_verify_catches_a_changed_entrant_and_a_changed_seed():
    ids = [11, 12, 13, 14, 15]
    committed, listed = draw.seed_hash(SEED), draw.entrants_hash(ids)
    with pytest.raises(ValueError, match="entrants list"):
        draw.verify(
            seed_hex=SEED,
            committed_seed_hash=committed,
            user_ids=[11, 12, 13, 14, 16],
            published_entrants_hash=listed,
            winners=1,
        )
    other_seed = "ff" + SEED[2:]
    with pytest.raises(ValueError, match="seed"):
        draw.verify(
            seed_hex=other_seed, committed_seed_hash=committed, user_ids=ids, published_entrants_hash=listed, winners=1
        )


def test_one_changed_entrant_or_another_seed_changes_the_outcome_inputs():
    ids = list(range(100, 140))
    assert draw.entrants_hash(ids) != draw.entrants_hash([*ids[:-1], 999])
    # Over many seeds, a different seed gives a different first winner most of the time (40 entrants).
    seeds = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(200)]
    firsts = [draw.draw_winners(seed, ids, 1)[0] for seed in seeds]
    assert len(set(firsts)) > 30


def test_every_entrant_has_the_same_chance():
    ids = [1, 2, 3, 4]
    seeds = [hashlib.sha256(f"seed-{n}".encode()).hexdigest() for n in range(4_000)]
    counts = dict.fromkeys(ids, 0)
    for seed in seeds:
        counts[draw.draw_winners(seed, ids, 1)[0]] += 1
    # 1,000 expected each; a fair draw stays within ±10% here (about 6 standard deviations).
    assert all(900 <= count <= 1_100 for count in counts.values()), counts
