"""`run.py --db N`: the real services on N members of the same population, in a throw-away SQLite database.

The community as the article's began: N members in "legacy" groups filled in order of arrival (a general
segment, groups of C = min(--capacity, N / 8)), and one empty group for each tagged segment of
`population.SEGMENTS` (opened by `groups.group_create`). Then rounds of what an operator does on
/ops/community/placement/: `placement.placement_run` (purity of every group, moves out of the mixed
ones), `placement.moves_approve_all` (each move through `groups.membership_move`), until a run proposes
nothing or after --db-rounds rounds. Prints each round's time, moves, and the community's mean
within-group similarity measured as the page measures it (`selectors.placement_members`,
`community_tag_weights`, pair-weighted).
"""

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _setup(workdir: Path) -> None:
    os.environ.update(
        {"ERHUO_VAR_DIR": str(workdir), "MEDIA_ROOT": str(workdir / "media"), "DEBUG": "1", "ERHUO_TESTING": "1"}
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "erhuo.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _community_similarity() -> tuple[float, int]:
    from erhuo.community import placement, selectors
    from erhuo.community.models import Group

    group_ids = list(Group.objects.exclude(status=Group.Status.ARCHIVED).values_list("pk", flat=True))
    members = selectors.placement_members(group_ids)
    weights = selectors.community_tag_weights()
    groups = {group_id: [profile for _user_id, profile in pairs] for group_id, pairs in members.items() if pairs}
    return placement.mean_similarity(groups, weights=weights), len(groups)


def _populate(count: int, capacity: int, seed: int):
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone
    from population import SEGMENTS, TAXONOMY, generate

    from erhuo.accounts import roles
    from erhuo.accounts.models import User
    from erhuo.community.models import Group, Membership, MemberTag, Segment, Tag
    from erhuo.community.services import groups as group_services

    operator = User(username="bench-operator", display_name="运营", password=make_password("bench-operator-2026"))
    operator.set_phone("13800000000")
    operator.save()
    from django.contrib.auth.models import Group as Role

    operator.groups.add(Role.objects.get_or_create(name=roles.COMMUNITY_MANAGER)[0])
    operator = User.objects.get(pk=operator.pk)

    existing = set(Tag.objects.values_list("code", flat=True))
    Tag.objects.bulk_create(
        [
            Tag(dimension=dimension, code=code, name=f"{name}·{code}")
            for dimension, code, name in TAXONOMY
            if code not in existing
        ]
    )
    tags = dict(Tag.objects.values_list("code", "pk"))
    segments = {
        spec.key: Segment.objects.create(name=spec.name, slug=str(spec.key), rule=dict(spec.rule), capacity=capacity)
        for spec in SEGMENTS
    }
    for spec in SEGMENTS:
        if spec.rule:
            group_services.group_create(actor=operator, leader=operator, segment=segments[spec.key])

    profiles = generate(count, seed)
    password = make_password(None)
    users = []
    for member_id in profiles:
        user = User(username=f"bench{member_id:06d}", display_name=f"成员{member_id}", password=password)
        user.set_phone(f"139{member_id:08d}")
        users.append(user)
    users = User.objects.bulk_create(users, batch_size=1000)
    MemberTag.objects.bulk_create(
        [
            MemberTag(user=user, tag_id=tags[code], source=MemberTag.Source.QUESTIONNAIRE, weight=weight)
            for user, profile in zip(users, profiles.values(), strict=True)
            for code, weight in profile.items()
        ],
        batch_size=2000,
    )
    general = segments[next(spec.key for spec in SEGMENTS if not spec.rule)]
    now = timezone.now()
    legacy = []
    for start in range(0, len(users), capacity - 1):  # the leader takes a place
        group = group_services.group_create(actor=operator, leader=operator, segment=general)
        arrivals = users[start : start + capacity - 1]
        Membership.objects.bulk_create(
            [
                Membership(group=group, user=user, status=Membership.Status.ACTIVE, joined_at=now, source="placement")
                for user in arrivals
            ]
        )
        Group.objects.filter(pk=group.pk).update(member_count=1 + len(arrivals))
        legacy.append(group)
    return operator, legacy


def run_services(args) -> int:
    workdir = Path(tempfile.mkdtemp(prefix="erhuo-placement-"))
    try:
        _setup(workdir)
        from erhuo.community.services import placement as services

        count = args.db
        capacity = max(10, min(args.capacity, count // 8))
        started = time.perf_counter()
        operator, legacy = _populate(count, capacity, args.seed)
        print(
            f"\nservices on SQLite: {count} members in {len(legacy)} legacy groups of {capacity} (join order), "
            f"one empty group per tagged segment (set up in {time.perf_counter() - started:.1f} s)"
        )
        similarity, groups = _community_similarity()
        print(f"round 0: mean within-group similarity {similarity:.4f} over {groups} groups")
        first = similarity
        for round_number in range(1, args.db_rounds + 1):
            wall = time.perf_counter()
            run = services.placement_run(actor=operator)
            run_seconds = time.perf_counter() - wall
            proposed = run.moves.count()
            if not proposed:
                print(f"round {round_number}: placement_run {run_seconds:.2f} s, nothing more to propose")
                break
            wall = time.perf_counter()
            result = services.moves_approve_all(run_id=run.pk, actor=operator)
            approve_seconds = time.perf_counter() - wall
            similarity, groups = _community_similarity()
            print(
                f"round {round_number}: placement_run {run_seconds:.2f} s ({run.note}); approve-all "
                f"{approve_seconds:.2f} s ({len(result.approved)} moved, {len(result.stale)} stale, "
                f"{1000 * approve_seconds / max(1, len(result.approved)):.0f} ms a move); "
                f"mean within-group similarity {similarity:.4f} over {groups} groups"
            )
        print(f"services: similarity {first:.4f} → {similarity:.4f} ({similarity / first:.2f}x)")
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"kept {workdir}")
