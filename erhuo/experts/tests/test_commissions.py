"""Attribution (last touch within the window) and commissions through the ledger; personal data."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from erhuo.core.errors import NotFound, ValidationFailed
from erhuo.experts import selectors, services
from erhuo.experts.models import ExpertCommission, ExpertPolicy, PortfolioPhoto, ReferralAttribution
from erhuo.experts.tests.factories import make_expert, make_member, make_reviewer, media_files, snapshot, submit
from erhuo.ledger import selectors as ledger_selectors
from erhuo.ledger.models import JournalEntry, Posting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def reviewer(db):
    return make_reviewer()


@pytest.fixture
def expert(reviewer):
    return make_expert(level="certified", reviewer=reviewer)


@pytest.fixture
def buyer(db):
    return make_member()


@pytest.fixture
def seller(db):
    return make_member()


def payable(expert) -> int:
    return selectors.commission_payable_fen(user=expert.user)


def expense() -> int:
    return ledger_selectors.balance_by_code("expense:expert_commissions")


# --- attribution ---------------------------------------------------------------------------


def test_a_logged_in_visit_attributes_the_buyer_for_30_days(expert, buyer):
    now = timezone.now()
    assert services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=now) == expert
    attribution = ReferralAttribution.objects.get()
    assert (attribution.buyer_id, attribution.expert_id, attribution.source, attribution.group_id) == (
        buyer.pk,
        expert.pk,
        "link",
        None,
    )
    assert attribution.created_at == now
    assert attribution.expires_at == now + timedelta(days=30)
    assert selectors.live_attribution(buyer=buyer) == attribution


def test_an_anonymous_visit_records_nothing(expert):
    assert services.referral_visit(code=expert.referral_code, visitor=None) == expert
    assert not ReferralAttribution.objects.exists()


def test_an_expert_never_attributes_herself(expert):
    services.referral_visit(code=expert.referral_code, visitor=expert.user)
    assert not ReferralAttribution.objects.exists()


def test_an_unknown_or_suspended_code_is_not_found(expert, reviewer, buyer):
    with pytest.raises(NotFound):
        services.referral_visit(code="nosuchcd", visitor=buyer)
    services.expert_status_change(expert_id=expert.pk, actor=reviewer, to="suspended", note="违规")
    with pytest.raises(NotFound):
        services.referral_visit(code=expert.referral_code, visitor=buyer)
    assert not ReferralAttribution.objects.exists()


def test_last_touch_wins(expert, reviewer, buyer):
    # Given a buyer who came through expert A's link, then expert B's
    other = make_expert(level="gold", reviewer=reviewer)
    now = timezone.now()
    services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=now - timedelta(days=3))
    services.referral_visit(code=other.referral_code, visitor=buyer, visited_at=now - timedelta(days=1))
    # Then B has her
    assert selectors.live_attribution(buyer=buyer).expert == other
    assert selectors.attributed_buyers_count(expert=other) == 1
    assert selectors.attributed_buyers_count(expert=expert) == 0
    # When she comes through A's link again, A has her back
    services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=now)
    assert selectors.live_attribution(buyer=buyer).expert == expert
    assert selectors.attributed_buyers_count(expert=expert) == 1
    assert selectors.attributed_buyers_count(expert=other) == 0


def test_an_old_visit_replayed_at_login_does_not_beat_a_newer_touch(expert, reviewer, buyer):
    other = make_expert(reviewer=reviewer)
    now = timezone.now()
    services.referral_visit(code=other.referral_code, visitor=buyer, visited_at=now - timedelta(hours=1))
    # A visit to A's link two days ago, remembered by the browser, is attributed only now
    services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=now - timedelta(days=2))
    assert selectors.live_attribution(buyer=buyer).expert == other


def test_the_same_expert_again_moves_her_touch_forward_without_a_new_row(expert, buyer):
    now = timezone.now()
    services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=now - timedelta(days=10))
    services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=now)
    attribution = ReferralAttribution.objects.get()
    assert (attribution.created_at, attribution.expires_at) == (now, now + timedelta(days=30))


def test_the_same_visit_seen_twice_is_one_touch(expert, reviewer, buyer):
    other = make_expert(reviewer=reviewer)
    now = timezone.now()
    services.referral_visit(code=other.referral_code, visitor=buyer, visited_at=now)
    visited = now - timedelta(days=1)
    services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=visited)
    services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=visited)
    assert ReferralAttribution.objects.filter(expert=expert).count() == 1


def test_a_visit_older_than_the_window_counts_for_nothing(expert, buyer):
    services.referral_visit(
        code=expert.referral_code, visitor=buyer, visited_at=timezone.now() - timedelta(days=30, seconds=1)
    )
    assert not ReferralAttribution.objects.exists()


def test_the_window_follows_the_policy(expert, buyer):
    ExpertPolicy.objects.create(attribution_window_days=7)
    now = timezone.now()
    services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=now)
    assert ReferralAttribution.objects.get().expires_at == now + timedelta(days=7)
    assert selectors.live_attribution(buyer=buyer, at=now + timedelta(days=7)) is None
    assert selectors.live_attribution(buyer=buyer, at=now + timedelta(days=6)) is not None


def test_a_group_touch_is_recorded_with_its_group(expert, buyer):
    attribution = services.referral_record(buyer=buyer, expert=expert, source="group", group_id=42)
    assert (attribution.source, attribution.group_id) == ("group", 42)
    with pytest.raises(ValidationFailed):
        services.referral_record(buyer=buyer, expert=expert, source="billboard")


# --- commissions ----------------------------------------------------------------------------


def test_commission_is_the_level_share_rounded_down_to_the_fen():
    assert services.commission_share_fen(12_345, 400) == 493  # 493.8 fen
    assert services.commission_share_fen(999, 200) == 19  # 19.98 fen
    assert services.commission_share_fen(10_000, 600) == 600
    assert services.commission_share_fen(1, 600) == 0


def test_a_sale_to_an_attributed_buyer_owes_the_expert_her_share(expert, buyer, seller):
    # Given a buyer who came through a certified expert's link
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    # When a ¥123.45 sale completes
    entry = services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=12_345)
    # Then 4 % rounded down is owed to her in the ledger
    assert entry.kind == "expert_commission"
    assert entry.key == "expert-commission:order:1"
    assert entry.reference == "order:1"
    lines = sorted(Posting.objects.filter(entry=entry).values_list("account__code", "amount_fen"))
    assert lines == [("expense:expert_commissions", 493), (f"payable:expert_commission:{expert.user_id}", -493)]
    assert payable(expert) == 493
    assert expense() == 493
    commission = ExpertCommission.objects.get()
    assert (commission.expert_id, commission.sale_reference, commission.buyer_id) == (expert.pk, "order:1", buyer.pk)
    assert (commission.sale_amount_fen, commission.bps, commission.amount_fen, commission.entry_id) == (
        12_345,
        400,
        493,
        entry.pk,
    )
    assert commission.source == "link"
    assert ledger_selectors.ledger_problems() == []


@pytest.mark.parametrize(("level", "expected"), [("trainee", 200), ("certified", 400), ("gold", 600)])
def test_each_level_earns_its_share(reviewer, buyer, seller, level, expected):
    expert = make_expert(level=level, reviewer=reviewer)
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    services.commission_accrue(sale_reference="order:9", buyer=buyer, seller=seller, sale_amount_fen=10_000)
    assert payable(expert) == expected


def test_accruing_twice_posts_once(expert, buyer, seller):
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    first = services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=10_000)
    second = services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=10_000)
    assert first.pk == second.pk
    assert ExpertCommission.objects.count() == 1
    assert JournalEntry.objects.filter(kind="expert_commission").count() == 1
    assert payable(expert) == 400


def test_no_attribution_no_commission(buyer, seller, expert):
    before = snapshot()
    assert (
        services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=10_000) is None
    )
    assert snapshot() == before
    assert not JournalEntry.objects.exists()


def test_an_expert_selling_to_her_own_referral_earns_nothing(expert, buyer):
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    before = snapshot()
    assert (
        services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=expert.user, sale_amount_fen=10_000)
        is None
    )
    assert snapshot() == before
    assert not JournalEntry.objects.exists()


def test_an_expert_buying_herself_earns_nothing(expert, reviewer, seller):
    # Even if another expert's touch were recorded for her, her own purchase through her own link earns nothing
    services.referral_record(buyer=expert.user, expert=expert, source="link")
    assert not ReferralAttribution.objects.exists()
    assert (
        services.commission_accrue(sale_reference="order:1", buyer=expert.user, seller=seller, sale_amount_fen=10_000)
        is None
    )
    assert not JournalEntry.objects.exists()


def test_a_sale_after_the_window_earns_nothing(expert, buyer, seller):
    visited = timezone.now() - timedelta(days=29)
    services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=visited)
    late = visited + timedelta(days=30)
    assert (
        services.commission_accrue(
            sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=10_000, sold_at=late
        )
        is None
    )
    assert not ExpertCommission.objects.exists()


def test_the_expert_live_when_the_buyer_bought_earns_it(expert, reviewer, buyer, seller):
    other = make_expert(reviewer=reviewer)
    now = timezone.now()
    services.referral_visit(code=expert.referral_code, visitor=buyer, visited_at=now - timedelta(days=2))
    services.referral_visit(code=other.referral_code, visitor=buyer, visited_at=now)
    services.commission_accrue(
        sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=10_000, sold_at=now - timedelta(days=1)
    )
    assert ExpertCommission.objects.get().expert == expert


def test_a_suspended_expert_earns_nothing(expert, reviewer, buyer, seller):
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    services.expert_status_change(expert_id=expert.pk, actor=reviewer, to="suspended", note="违规")
    assert (
        services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=10_000) is None
    )


def test_a_share_that_rounds_to_nothing_posts_nothing(expert, buyer, seller):
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    assert services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=24) is None
    assert not JournalEntry.objects.exists()


@pytest.mark.parametrize(("reference", "amount"), [("", 100), ("x" * 81, 100), ("order:1", 0), ("order:1", -5)])
def test_bad_input_is_refused(expert, buyer, seller, reference, amount):
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    with pytest.raises(ValidationFailed):
        services.commission_accrue(sale_reference=reference, buyer=buyer, seller=seller, sale_amount_fen=amount)
    assert not JournalEntry.objects.exists()


def test_a_refund_reverses_the_commission_once(expert, buyer, seller):
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    accrued = services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=10_000)
    reversal = services.commission_reverse(sale_reference="order:1")
    assert reversal.key == "expert-commission:order:1:reversal"
    assert reversal.kind == "expert_commission_reversal"
    assert sorted(Posting.objects.filter(entry=reversal).values_list("account__code", "amount_fen")) == [
        ("expense:expert_commissions", -400),
        (f"payable:expert_commission:{expert.user_id}", 400),
    ]
    assert (payable(expert), expense()) == (0, 0)
    commission = ExpertCommission.objects.get()
    assert commission.reversal_entry_id == reversal.pk
    assert commission.reversed_at is not None
    assert services.commission_reverse(sale_reference="order:1").pk == reversal.pk
    assert JournalEntry.objects.count() == 2
    assert accrued.pk != reversal.pk
    assert selectors.commission_totals(expert=expert) == {"earned_fen": 0, "count": 0}
    assert ledger_selectors.ledger_problems() == []


def test_reversing_a_sale_without_commission_does_nothing():
    assert services.commission_reverse(sale_reference="order:404") is None
    assert not JournalEntry.objects.exists()


# --- personal data ------------------------------------------------------------------------------


def test_a_payable_commission_blocks_erasure(expert, buyer, seller):
    assert services.erase_blockers(user=expert.user) == []
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=10_000)
    assert services.erase_blockers(user=expert.user) == ["Expert commissions of ¥4.00 are still to be paid out to you."]
    services.commission_reverse(sale_reference="order:1")
    assert services.erase_blockers(user=expert.user) == []


def test_the_export_holds_her_applications_profile_and_commissions(expert, buyer, seller):
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=10_000)

    data = selectors.personal_data_export(user=expert.user)

    assert [a["status"] for a in data["applications"]] == ["approved"]
    assert len(data["applications"][0]["photos"]) == 3
    assert data["expert"]["level"] == "certified"
    assert data["expert"]["referral_code"] == expert.referral_code
    assert [(c["sale_reference"], c["amount_fen"]) for c in data["expert"]["commissions"]] == [("order:1", 400)]
    assert data["referred_by"] == []
    buyer_data = selectors.personal_data_export(user=buyer)
    assert [(r["expert"], r["source"]) for r in buyer_data["referred_by"]] == [(expert.user.display_name, "link")]
    assert buyer_data["applications"] == []
    assert buyer_data["expert"] is None


def test_erasure_removes_photos_texts_and_touches_and_keeps_the_books(
    expert, buyer, seller, django_capture_on_commit_callbacks
):
    services.referral_visit(code=expert.referral_code, visitor=buyer)
    services.commission_accrue(sale_reference="order:1", buyer=buyer, seller=seller, sale_amount_fen=10_000)
    services.commission_reverse(sale_reference="order:1")
    pending = submit(make_member())
    assert len(media_files()) == 12

    with django_capture_on_commit_callbacks(execute=True):
        services.personal_data_erase(user=expert.user)
        services.personal_data_erase(user=buyer)

    expert.refresh_from_db()
    assert (expert.bio, expert.status) == ("", "suspended")
    application = expert.application
    application.refresh_from_db()
    assert (application.style_focus, application.experience, application.links) == ("", "", [])
    assert application.status == "approved"
    assert not PortfolioPhoto.objects.filter(application=application).exists()
    assert len(media_files()) == 6  # the other applicant's photos only
    assert PortfolioPhoto.objects.filter(application=pending).count() == 3
    assert not ReferralAttribution.objects.filter(buyer=buyer).exists()
    commission = ExpertCommission.objects.get()
    assert (commission.buyer_id, commission.amount_fen) == (None, 400)
    assert JournalEntry.objects.count() == 2
    assert ledger_selectors.ledger_problems() == []


def test_erasure_withdraws_an_open_application(member, django_capture_on_commit_callbacks):
    application = submit(member)
    with django_capture_on_commit_callbacks(execute=True):
        services.personal_data_erase(user=member)
    application.refresh_from_db()
    assert application.status == "withdrawn"
    assert media_files() == []
