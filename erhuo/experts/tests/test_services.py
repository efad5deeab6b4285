"""Applications, decisions and levels: every refusal writes nothing; approval makes an expert."""

from itertools import pairwise

import pytest
from django.contrib.auth.models import Group
from django.utils import translation

from erhuo.accounts import roles
from erhuo.accounts.models import RoleChange, User
from erhuo.accounts.tests.factories import UserFactory
from erhuo.core.errors import Conflict, NotFound, PermissionRefused, ValidationFailed
from erhuo.core.states import TransitionNotAllowed
from erhuo.experts import selectors, services
from erhuo.experts.levels import LEVEL_RIGHTS, LEVELS, Level, Right
from erhuo.experts.models import Expert, ExpertApplication, ExpertLevelChange, PortfolioPhoto
from erhuo.experts.standards import STANDARD_CODES, STANDARDS
from erhuo.experts.tests.factories import (
    all_met,
    application_fields,
    bad_upload,
    make_expert,
    make_reviewer,
    media_files,
    photos,
    snapshot,
    submit,
)

pytestmark = pytest.mark.django_db

A = ExpertApplication.Status


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def reviewer(db):
    return make_reviewer()


def expert_role_holders() -> list[int]:
    return sorted(User.objects.filter(groups__name=roles.EXPERT).values_list("pk", flat=True))


# --- the written standards and levels ------------------------------------------------


def test_every_standard_has_a_code_title_and_meaning():
    assert STANDARD_CODES == (
        "consistent_taste",
        "clear_own_photos",
        "specialty_knowledge",
        "community_conduct",
        "experience",
    )
    assert all(str(standard.title) and len(str(standard.meaning)) > 40 for standard in STANDARDS)


def test_a_higher_level_never_has_fewer_rights():
    assert [entry.level for entry in LEVELS] == [Level.TRAINEE, Level.CERTIFIED, Level.GOLD]
    assert LEVEL_RIGHTS[Level.TRAINEE] == {Right.ANSWER_CONSULTATIONS, Right.CURATE_ITEMS}
    assert LEVEL_RIGHTS[Level.CERTIFIED] == set(Right.values)
    assert LEVEL_RIGHTS[Level.GOLD] == set(Right.values)
    for lower, higher in pairwise(LEVELS):
        assert LEVEL_RIGHTS[lower.level] <= LEVEL_RIGHTS[higher.level]


def test_the_policy_defaults_are_2_4_6_percent_and_30_days():
    policy = selectors.policy()
    assert (policy.trainee_bps, policy.certified_bps, policy.gold_bps) == (200, 400, 600)
    assert policy.attribution_window_days == 30
    assert policy.pk == 1


# --- submitting -------------------------------------------------------------------------


def test_a_member_submits_an_application_with_photos_and_thumbnails(member):
    application = services.application_submit(applicant=member, **application_fields(photos=photos(4)))

    application.refresh_from_db()
    assert application.status == A.SUBMITTED
    assert application.specialties == ["luxury_bags", "office_wear"]
    assert application.links == ["https://www.xiaohongshu.com/user/profile/abc"]
    assert application.years_experience == 10
    rows = list(PortfolioPhoto.objects.filter(application=application).order_by("position"))
    assert [row.position for row in rows] == [0, 1, 2, 3]
    assert all(row.image and row.thumbnail and row.width == 8 and row.height == 8 for row in rows)
    assert len(media_files()) == 8
    assert list(application.transitions.values_list("from_state", "to_state", "actor_id")) == [
        ("", A.SUBMITTED, member.pk)
    ]


def test_specialties_are_stored_once_in_the_order_of_the_list(member):
    application = services.application_submit(
        applicant=member, **application_fields(specialties=["care", "luxury_bags", "care"])
    )
    assert application.specialties == ["luxury_bags", "care"]


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"specialties": []}, "validation_error", "specialties"),
        ({"specialties": ["astrology"]}, "validation_error", "specialties"),
        (
            {"specialties": ["luxury_bags", "care", "office_wear", "plus_size", "vintage"]},
            "validation_error",
            "specialties",
        ),
        ({"style_focus": "  "}, "validation_error", "style_focus"),
        ({"experience": "太短了"}, "validation_error", "experience"),
        ({"years_experience": -1}, "validation_error", "years_experience"),
        ({"years_experience": 61}, "validation_error", "years_experience"),
        ({"links": ["javascript:alert(1)"]}, "validation_error", "links"),
        ({"links": [f"https://example.com/{n}" for n in range(6)]}, "validation_error", "links"),
    ],
)
def test_invalid_fields_are_refused_with_nothing_written(member, overrides, code, field):
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        services.application_submit(applicant=member, **application_fields(**overrides))
    assert caught.value.code == code
    assert field in caught.value.fields
    assert snapshot() == before


@pytest.mark.parametrize("count", [0, 2, 13])
def test_a_portfolio_has_3_to_12_photos(member, count):
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        services.application_submit(applicant=member, **application_fields(photos=photos(count)))
    assert caught.value.code == "portfolio_photo_count"
    assert snapshot() == before


def test_one_bad_photo_leaves_no_rows_and_no_files(member):
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        services.application_submit(applicant=member, **application_fields(photos=[*photos(3), bad_upload()]))
    assert caught.value.code == "image_invalid"
    assert snapshot() == before
    assert media_files() == []


def test_a_failure_after_files_were_written_removes_them(member, monkeypatch):
    # Given the third photo's row fails to save after two photos' files are on disk
    calls = {"n": 0}
    original = PortfolioPhoto.save

    def failing_save(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PortfolioPhoto, "save", failing_save)
    before = snapshot()
    # When the application is submitted
    with pytest.raises(RuntimeError):
        services.application_submit(applicant=member, **application_fields())
    # Then neither rows nor files are left
    assert snapshot() == before


def test_a_second_open_application_is_refused(member):
    submit(member)
    before = snapshot()
    with pytest.raises(Conflict) as caught:
        submit(member)
    assert caught.value.code == "application_open"
    assert snapshot() == before


def test_an_expert_cannot_apply_again(reviewer):
    expert = make_expert(reviewer=reviewer)
    before = snapshot()
    with pytest.raises(Conflict) as caught:
        submit(expert.user)
    assert caught.value.code == "already_expert"
    assert snapshot() == before


def test_a_suspended_account_is_refused(member, owner):
    from erhuo.accounts.services import user_status_change

    user_status_change(user=member, to=User.Status.SUSPENDED, actor=owner, note="spam")
    member.refresh_from_db()
    before = snapshot()
    with pytest.raises(PermissionRefused) as caught:
        submit(member)
    assert caught.value.code == "account_not_in_good_standing"
    assert snapshot() == before


def test_a_member_may_apply_again_after_a_rejection(member, reviewer):
    first = submit(member)
    services.application_decide(
        application_id=first.pk, actor=reviewer, approve=False, checklist=all_met(), note="照片太模糊"
    )
    second = submit(member)
    assert second.pk != first.pk
    assert second.status == A.SUBMITTED


# --- withdrawing --------------------------------------------------------------------------


def test_the_applicant_withdraws(member):
    application = submit(member)
    services.application_withdraw(application_id=application.pk, applicant=member)
    application.refresh_from_db()
    assert application.status == A.WITHDRAWN
    assert list(application.transitions.values_list("to_state", flat=True)) == [A.SUBMITTED, A.WITHDRAWN]


def test_another_member_cannot_withdraw_it(member, other_member):
    application = submit(member)
    before = snapshot()
    with pytest.raises(NotFound):
        services.application_withdraw(application_id=application.pk, applicant=other_member)
    assert snapshot() == before


def test_a_decided_application_cannot_be_withdrawn(member, reviewer):
    application = submit(member)
    services.application_decide(
        application_id=application.pk, actor=reviewer, approve=False, checklist=all_met(), note="x"
    )
    before = snapshot()
    with pytest.raises(TransitionNotAllowed):
        services.application_withdraw(application_id=application.pk, applicant=member)
    assert snapshot() == before


# --- deciding -------------------------------------------------------------------------------


def test_approval_creates_the_expert_and_grants_the_role(member, reviewer):
    # Given an application under review
    application = submit(member)
    # When the reviewer approves it with every standard met, as certified
    services.application_decide(
        application_id=application.pk,
        actor=reviewer,
        approve=True,
        checklist=all_met(),
        level=Level.CERTIFIED,
        note="作品集风格统一",
    )
    # Then the application is approved with the checklist and decision recorded
    application.refresh_from_db()
    assert application.status == A.APPROVED
    assert application.checklist == all_met()
    assert application.level == Level.CERTIFIED
    assert application.decided_by_id == reviewer.pk
    assert application.decided_at is not None
    last = application.transitions.order_by("pk").last()
    assert (last.from_state, last.to_state, last.actor_id) == (A.SUBMITTED, A.APPROVED, reviewer.pk)
    assert last.data == {"checklist": all_met(), "level": "certified"}
    # And the member is an active certified expert with a short url-safe referral code
    expert = Expert.objects.get(user=member)
    assert (expert.level, expert.status, expert.application_id) == ("certified", "active", application.pk)
    assert expert.specialties == ["luxury_bags", "office_wear"]
    assert expert.bio == "通勤简约，少而精"
    assert len(expert.referral_code) == 8
    assert set(expert.referral_code) <= set(services.REFERRAL_CODE_ALPHABET)
    assert list(ExpertLevelChange.objects.filter(expert=expert).values_list("from_level", "to_level", "actor_id")) == [
        ("", "certified", reviewer.pk)
    ]
    # And she holds the EXPERT role, granted by the reviewer
    assert expert_role_holders() == [member.pk]
    change = RoleChange.objects.get(user=member, role=roles.EXPERT)
    assert (change.granted, change.actor_id) == (True, reviewer.pk)
    assert selectors.expert_can(User.objects.get(pk=member.pk), Right.LEAD_GROUP) is True


def test_the_owner_may_decide_too(member, owner):
    application = submit(member)
    services.application_decide(
        application_id=application.pk, actor=owner, approve=True, checklist=all_met(), level="trainee"
    )
    assert Expert.objects.get(user=member).level == "trainee"


def test_rejection_records_the_reason_and_makes_no_expert(member, reviewer):
    application = submit(member)
    checklist = {**all_met(), "clear_own_photos": False}
    services.application_decide(
        application_id=application.pk,
        actor=reviewer,
        approve=False,
        checklist=checklist,
        note="照片来自网店，不是本人作品",
    )
    application.refresh_from_db()
    assert application.status == A.REJECTED
    assert application.decision_note == "照片来自网店，不是本人作品"
    assert application.checklist == checklist
    assert application.level == ""
    assert not Expert.objects.exists()
    assert expert_role_holders() == []


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE, roles.CUSTOMER_SERVICE])
def test_only_reviewers_decide(member, role):
    application = submit(member)
    actor = UserFactory(roles=[role])
    before = snapshot()
    with pytest.raises(PermissionRefused) as caught:
        services.application_decide(
            application_id=application.pk, actor=actor, approve=True, checklist=all_met(), level="gold"
        )
    assert caught.value.code == "review_permission_denied"
    assert snapshot() == before
    assert expert_role_holders() == []


@pytest.mark.parametrize(
    "checklist",
    [
        {},
        {code: True for code in STANDARD_CODES[:-1]},
        {**all_met(), "experience": None},
        {**all_met(), "experience": "yes"},
    ],
    ids=["empty", "one-missing", "one-unmarked", "not-a-boolean"],
)
def test_an_incomplete_checklist_is_refused(member, reviewer, checklist):
    application = submit(member)
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        services.application_decide(
            application_id=application.pk, actor=reviewer, approve=True, checklist=checklist, level="trainee"
        )
    assert caught.value.code == "checklist_incomplete"
    assert "checklist" in caught.value.fields
    assert snapshot() == before


def test_an_unknown_standard_is_refused(member, reviewer):
    application = submit(member)
    with pytest.raises(ValidationFailed) as caught:
        services.application_decide(
            application_id=application.pk,
            actor=reviewer,
            approve=True,
            checklist={**all_met(), "charisma": True},
            level="trainee",
        )
    assert caught.value.code == "checklist_unknown"


def test_approval_needs_every_standard_met(member, reviewer):
    application = submit(member)
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        services.application_decide(
            application_id=application.pk,
            actor=reviewer,
            approve=True,
            checklist={**all_met(), "specialty_knowledge": False},
            level="trainee",
        )
    assert caught.value.code == "standards_not_met"
    assert list(caught.value.fields) == ["checklist.specialty_knowledge"]
    assert snapshot() == before


def test_approval_needs_a_level(member, reviewer):
    application = submit(member)
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        services.application_decide(application_id=application.pk, actor=reviewer, approve=True, checklist=all_met())
    assert caught.value.code == "level_required"
    assert snapshot() == before


def test_rejection_needs_a_reason(member, reviewer):
    application = submit(member)
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        services.application_decide(
            application_id=application.pk, actor=reviewer, approve=False, checklist=all_met(), note="  "
        )
    assert caught.value.code == "reason_required"
    assert snapshot() == before


def test_a_reviewer_cannot_decide_her_own_application(reviewer):
    application = submit(reviewer)
    before = snapshot()
    with pytest.raises(PermissionRefused) as caught:
        services.application_decide(
            application_id=application.pk, actor=reviewer, approve=True, checklist=all_met(), level="gold"
        )
    assert caught.value.code == "own_application"
    assert snapshot() == before


def test_a_decided_application_is_not_decided_again(member, reviewer):
    application = submit(member)
    services.application_decide(
        application_id=application.pk, actor=reviewer, approve=False, checklist=all_met(), note="x"
    )
    before = snapshot()
    with pytest.raises(TransitionNotAllowed):
        services.application_decide(
            application_id=application.pk, actor=reviewer, approve=True, checklist=all_met(), level="gold"
        )
    assert snapshot() == before


def test_an_applicant_suspended_since_she_applied_is_not_approved(member, reviewer, owner):
    from erhuo.accounts.services import user_status_change

    application = submit(member)
    user_status_change(user=member, to=User.Status.SUSPENDED, actor=owner, note="投诉成立")
    before = snapshot()
    with pytest.raises(Conflict) as caught:
        services.application_decide(
            application_id=application.pk, actor=reviewer, approve=True, checklist=all_met(), level="trainee"
        )
    assert caught.value.code == "account_not_in_good_standing"
    assert snapshot() == before
    assert expert_role_holders() == []


def test_an_unknown_application_is_not_found(reviewer):
    with pytest.raises(NotFound):
        services.application_decide(
            application_id=999_999, actor=reviewer, approve=False, checklist=all_met(), note="x"
        )


# --- levels and status ----------------------------------------------------------------------


def test_a_reviewer_changes_the_level_with_a_reason(reviewer):
    expert = make_expert(level="trainee", reviewer=reviewer)
    change = services.expert_level_change(
        expert_id=expert.pk, actor=reviewer, level="gold", note="带群三个月，好评如潮"
    )
    expert.refresh_from_db()
    assert expert.level == "gold"
    assert (change.from_level, change.to_level, change.actor_id) == ("trainee", "gold", reviewer.pk)
    assert list(ExpertLevelChange.objects.filter(expert=expert).values_list("from_level", "to_level")) == [
        ("", "trainee"),
        ("trainee", "gold"),
    ]


@pytest.mark.parametrize(
    ("level", "note", "error", "code"),
    [
        ("gold", "", ValidationFailed, "reason_required"),
        ("diamond", "x", ValidationFailed, "level_required"),
        ("trainee", "x", Conflict, "level_unchanged"),
    ],
)
def test_level_change_refusals_write_nothing(reviewer, level, note, error, code):
    expert = make_expert(level="trainee", reviewer=reviewer)
    before = snapshot()
    with pytest.raises(error) as caught:
        services.expert_level_change(expert_id=expert.pk, actor=reviewer, level=level, note=note)
    assert caught.value.code == code
    assert snapshot() == before


@pytest.mark.parametrize("role", [roles.MEMBER, roles.INTAKE_CLERK, roles.FINANCE, roles.EXPERT])
def test_only_reviewers_change_levels(reviewer, role):
    expert = make_expert(level="trainee", reviewer=reviewer)
    before = snapshot()
    with pytest.raises(PermissionRefused):
        services.expert_level_change(expert_id=expert.pk, actor=UserFactory(roles=[role]), level="gold", note="x")
    assert snapshot() == before


def test_an_expert_cannot_raise_her_own_level(owner):
    expert = make_expert(owner, level="trainee", reviewer=make_reviewer())
    before = snapshot()
    with pytest.raises(PermissionRefused) as caught:
        services.expert_level_change(expert_id=expert.pk, actor=owner, level="gold", note="我自己")
    assert caught.value.code == "own_level"
    assert snapshot() == before


def test_a_suspended_expert_has_no_rights_until_reactivated(reviewer):
    expert = make_expert(level="gold", reviewer=reviewer)
    services.expert_status_change(expert_id=expert.pk, actor=reviewer, to="suspended", note="违规带货")
    user = User.objects.get(pk=expert.user_id)
    assert selectors.expert_can(user, Right.ANSWER_CONSULTATIONS) is False
    services.expert_status_change(expert_id=expert.pk, actor=reviewer, to="active")
    user = User.objects.get(pk=expert.user_id)
    assert selectors.expert_can(user, Right.ANSWER_CONSULTATIONS) is True
    assert list(expert.transitions.values_list("from_state", "to_state")) == [
        ("", "active"),
        ("active", "suspended"),
        ("suspended", "active"),
    ]


def test_suspending_needs_a_reason(reviewer):
    expert = make_expert(reviewer=reviewer)
    before = snapshot()
    with pytest.raises(ValidationFailed):
        services.expert_status_change(expert_id=expert.pk, actor=reviewer, to="suspended", note="")
    assert snapshot() == before


# --- rights -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "right", "allowed"),
    [
        ("trainee", Right.ANSWER_CONSULTATIONS, True),
        ("trainee", Right.CURATE_ITEMS, True),
        ("trainee", Right.LEAD_GROUP, False),
        ("trainee", Right.HOST_MICRO_CLASSES, False),
        ("certified", Right.LEAD_GROUP, True),
        ("certified", Right.HOST_MICRO_CLASSES, True),
        ("gold", Right.LEAD_GROUP, True),
        ("gold", "fly", False),
    ],
)
def test_expert_can_follows_the_level(reviewer, level, right, allowed):
    expert = make_expert(level=level, reviewer=reviewer)
    assert selectors.expert_can(User.objects.get(pk=expert.user_id), right) is allowed


def test_a_member_or_anonymous_visitor_has_no_expert_rights(member):
    from django.contrib.auth.models import AnonymousUser

    assert selectors.expert_can(member, Right.ANSWER_CONSULTATIONS) is False
    assert selectors.expert_can(AnonymousUser(), Right.ANSWER_CONSULTATIONS) is False
    assert selectors.expert_can(None, Right.ANSWER_CONSULTATIONS) is False


# --- profile --------------------------------------------------------------------------------------


def test_an_expert_edits_her_bio_and_specialties(reviewer):
    expert = make_expert(reviewer=reviewer)
    services.expert_profile_update(user=expert.user, bio="专注大码通勤", specialties=["plus_size", "office_wear"])
    expert.refresh_from_db()
    assert (expert.bio, expert.specialties) == ("专注大码通勤", ["office_wear", "plus_size"])


def test_a_member_has_no_expert_profile_to_edit(member):
    with pytest.raises(NotFound):
        services.expert_profile_update(user=member, bio="x", specialties=["care"])


def test_the_expert_group_exists_after_approval(member, reviewer):
    application = submit(member)
    services.application_decide(
        application_id=application.pk, actor=reviewer, approve=True, checklist=all_met(), level="trainee"
    )
    assert Group.objects.filter(name=roles.EXPERT, user=member).exists()
