"""Placement benchmark (issue 6): 100,000 generated members placed into groups of 500, against join order.

1. Generate the community (`population.py`: realistic, correlated tag mixes; seeded).
2. Place everyone with the engine (`erhuo.community.placement.place_batch`, the tags weighted by their
   informativeness `tag_weights`) into the 16 segments of `population.SEGMENTS`, groups of --capacity.
3. Place the same members in order of arrival (`join_order_baseline`): groups filled one after another,
   as the article's community was.
4. Measure both in the same run: mean within-group similarity, the cosine of two members of the same
   group averaged over every within-group pair (`mean_similarity`), on the weighted profiles (the
   measure) and on the raw ones (printed beside it, with its ceiling: no placement can beat the
   baseline by more than 1 / baseline on a measure whose best value is 1).

Target (issue 6): similarity at least 3x the baseline's, and placing all members in under 60 s.
Exits 1 if either is missed. No database is needed; `--db N` also runs the real services on N members
of the same population in a throw-away SQLite database (groups filled in join order, a placement run,
every proposed move approved) and prints their purity before and after.

    .venv/bin/python bench/placement/run.py [--members 100000] [--capacity 500] [--seed 20261205] [--db 2000]
"""

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from population import SEGMENTS, generate  # noqa: E402

from erhuo.community import placement  # noqa: E402

TARGET_RATIO = 3.0
TARGET_SECONDS = 60.0


def grouped(assignment: dict, profiles: dict) -> dict:
    groups = defaultdict(list)
    for member_id, key in assignment.items():
        groups[key].append(profiles[member_id])
    return groups


def measure(args) -> int:
    load = os.getloadavg()[0]
    print(
        f"placement: {args.members:,} members, groups of {args.capacity}, {len(SEGMENTS)} segments, "
        f"seed {args.seed}, {os.cpu_count()} CPUs, load average {load:.1f}"
    )
    started = time.perf_counter()
    profiles = generate(args.members, args.seed)
    tags_per_member = sum(len(profile) for profile in profiles.values()) / max(1, len(profiles))
    print(f"generated in {time.perf_counter() - started:.1f} s ({tags_per_member:.1f} tags a member)")

    wall, cpu = time.perf_counter(), time.process_time()
    weights = placement.tag_weights(profiles.values())
    ours = placement.place_batch(profiles, SEGMENTS, args.capacity, weights=weights, rounds=args.rounds)
    place_seconds, place_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall = time.perf_counter()
    baseline = placement.join_order_baseline(list(profiles), args.capacity)
    baseline_seconds = time.perf_counter() - wall
    unplaced = len(profiles) - len(ours)

    ours_groups, baseline_groups = grouped(ours, profiles), grouped(baseline, profiles)
    sizes = sorted(len(members) for members in ours_groups.values())
    per_segment = defaultdict(int)
    for segment_key, _number in ours_groups:
        per_segment[segment_key] += 1
    names = {segment.key: segment.name for segment in SEGMENTS}
    print(
        f"placed in {place_seconds:.1f} s wall, {place_cpu:.1f} s CPU (weights, segments, groups; "
        f"{args.rounds} refinement rounds); join order in {baseline_seconds:.2f} s; {unplaced} left unplaced"
    )
    print(
        f"groups: ours {len(ours_groups)} (sizes {sizes[0]}–{sizes[-1]}), join order {len(baseline_groups)}; "
        + ", ".join(f"{names[key]} {count}" for key, count in sorted(per_segment.items(), key=lambda pair: -pair[1]))
    )

    rows = []
    for label, used in (("weighted (the measure)", weights), ("raw cosine", None)):
        mine = placement.mean_similarity(ours_groups, weights=used)
        theirs = placement.mean_similarity(baseline_groups, weights=used)
        mine_by_group = placement.mean_similarity(ours_groups, weights=used, by="groups")
        rows.append((label, mine, theirs, mine_by_group))
    print(f"{'similarity':24} {'ours':>7} {'join order':>10} {'ratio':>6} {'ceiling':>8} {'ours by group':>14}")
    for label, mine, theirs, mine_by_group in rows:
        print(f"{label:24} {mine:7.4f} {theirs:10.4f} {mine / theirs:6.2f} {1 / theirs:8.2f} {mine_by_group:14.4f}")
    _label, mine, theirs, _by_group = rows[0]
    ratio = mine / theirs
    failures = []
    if ratio < TARGET_RATIO:
        failures.append(f"similarity ratio {ratio:.2f} < {TARGET_RATIO}")
    if place_seconds > TARGET_SECONDS:
        failures.append(f"placing took {place_seconds:.1f} s > {TARGET_SECONDS:.0f} s")
    if unplaced:
        failures.append(f"{unplaced} members left unplaced")
    if failures:
        print("TARGET MISSED: " + "; ".join(failures))
        return 1
    print(f"target met: ratio {ratio:.2f} ≥ {TARGET_RATIO}, {place_seconds:.1f} s ≤ {TARGET_SECONDS:.0f} s")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--capacity", type=int, default=500)
    parser.add_argument("--seed", type=int, default=20261205)
    parser.add_argument("--rounds", type=int, default=placement.REFINE_ROUNDS, help="refinement rounds per segment")
    parser.add_argument("--db", type=int, default=0, metavar="N", help="also run the services on N members")
    parser.add_argument("--db-rounds", type=int, default=5, help="placement runs (each approved) with --db")
    parser.add_argument("--keep", action="store_true", help="keep the --db database's folder")
    args = parser.parse_args()
    if args.members < 2 or args.capacity < 2:
        parser.error("--members and --capacity must be at least 2")
    if args.db and args.db < 80:
        parser.error("--db needs at least 80 members")
    status = measure(args)
    if args.db:
        from service_path import run_services

        status = max(status, run_services(args))
    return status


if __name__ == "__main__":
    sys.exit(main())
