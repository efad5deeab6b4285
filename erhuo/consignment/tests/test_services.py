"""The pipeline services: each station moves one step and records it; the rules refuse and change nothing."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone, translation

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Category, Item, ItemPhoto, ItemTransition
from erhuo.consignment import selectors, services
from erhuo.consignment.models import AuthenticationReport, CareRecord, Consignment, IntakeBatch
from erhuo.consignment.tests.factories import (
    bad_upload,
    draft_for,
    drive_to,
    make_seller,
    media_files,
    photo,
    snapshot,
    submit_item,
)
from erhuo.core import states
from erhuo.core.errors import DomainError, NotFound, PermissionRefused, ValidationFailed

pytestmark = pytest.mark.django_db

S = Item.Status
K = ItemPhoto.Kind


@pytest.fixture(autouse=True)
def _english():
    # Notes written by the services are translated; compare them in English.
    with translation.override("en"):
        yield


def chain(item) -> list[tuple[str, str]]:
    return list(ItemTransition.objects.filter(subject=item).order_by("pk").values_list("from_state", "to_state"))


def new_rows(item, before: dict) -> list[ItemTransition]:
    known = {pk for pk, _from, _to in before["transitions"]}
    return [row for row in ItemTransition.objects.filter(subject=item).order_by("pk") if row.pk not in known]


def auth_kwargs(**overrides):
    values = {
        "passed": True,
        "checks": [{"point": "stitching", "finding": "even, 10 per inch", "ok": True}],
        "notes": "走线均匀，五金刻印清晰",
        "photos": [photo(K.AUTHENTICATION)],
    }
    values.update(overrides)
    return values


# --- every station: one step, one row; wrong role and wrong state change nothing ------------------------------


@dataclass
class Case:
    id: str
    category: str
    declared: int
    start: str
    to: str
    actor: str
    wrong: tuple[str, ...]
    call: Callable  # (item, actor) -> None
    note: str
    data: Callable  # (item) -> dict


def _price_case_data(item):
    return {"suggested_price_fen": 16_000}


CASES = [
    Case(
        "prescreen-accept",
        "womens-tops",
        20_000,
        S.SUBMITTED,
        S.ACCEPTED,
        "clerk",
        ("photographer", "seller"),
        lambda item, actor: services.item_prescreen(item_id=item.pk, actor=actor, accept=True, note="照片清楚"),
        "照片清楚",
        lambda item: {},
    ),
    Case(
        "prescreen-reject",
        "womens-tops",
        20_000,
        S.SUBMITTED,
        S.REJECTED,
        "clerk",
        ("care", "seller"),
        lambda item, actor: services.item_prescreen(
            item_id=item.pk, actor=actor, accept=False, reason="condition", note="领口发黄"
        ),
        "领口发黄",
        lambda item: {"reason": "condition", "reason_label": "Condition below our lowest grade (C)"},
    ),
    Case(
        "receive",
        "womens-tops",
        20_000,
        S.IN_TRANSIT,
        S.RECEIVED,
        "clerk",
        ("care", "seller"),
        lambda item, actor: services.item_receive(
            item_id=item.pk, actor=actor, note="包装完好", photos=[photo(K.RECEIVED)]
        ),
        "包装完好",
        lambda item: {"label": services.label_code_for(item.pk), "liability_fen": 20_000},
    ),
    Case(
        "grade",
        "womens-tops",
        20_000,
        S.RECEIVED,
        S.GRADED,
        "clerk",
        ("photographer", "pricer"),
        lambda item, actor: services.item_grade(
            item_id=item.pk, actor=actor, grade="B", defects="下摆一处抽丝", note="整体良好", photos=[photo(K.DEFECT)]
        ),
        "整体良好",
        lambda item: {"grade": "B", "declared_grade": "", "declared_defects": "", "repair_quote_fen": None},
    ),
    Case(
        "authenticate",
        "luxury-bags",
        900_000,
        S.GRADED,
        S.AUTHENTICATED,
        "authenticator",
        ("clerk", "care"),
        lambda item, actor: services.item_authenticate(item_id=item.pk, actor=actor, **auth_kwargs()),
        "走线均匀，五金刻印清晰",
        lambda item: {"result": "pass"},
    ),
    Case(
        "care-complete",
        "baby-toys",
        20_000,
        S.GRADED,
        S.CARED,
        "care",
        ("clerk", "photographer"),
        lambda item, actor: (
            services.item_care_record(item_id=item.pk, actor=actor, step="spot_clean"),
            services.item_care_record(item_id=item.pk, actor=actor, step="disinfect"),
            services.item_care_complete(item_id=item.pk, actor=actor, note="已消毒"),
        ),
        "已消毒",
        lambda item: {"steps": ["disinfect", "spot_clean"]},
    ),
    Case(
        "photograph",
        "womens-tops",
        20_000,
        S.CARED,
        S.PHOTOGRAPHED,
        "photographer",
        ("care", "pricer"),
        lambda item, actor: services.item_photograph(
            item_id=item.pk, actor=actor, photos=[photo(K.FLAT), photo(K.ON_BODY), photo(K.DETAIL)], note="平铺+上身"
        ),
        "平铺+上身",
        lambda item: {},
    ),
    Case(
        "price",
        "womens-tops",
        20_000,
        S.PHOTOGRAPHED,
        S.PRICED,
        "pricer",
        ("photographer", "clerk"),
        lambda item, actor: services.item_price(item_id=item.pk, actor=actor, note="按规则"),
        "按规则",
        _price_case_data,
    ),
    Case(
        "return-shipped",
        "luxury-bags",
        900_000,
        S.GRADED,  # then failed authentication: return_to_seller
        S.RETURNED,
        "clerk",
        ("pricer", "seller"),
        lambda item, actor: services.item_return_shipped(
            item_id=item.pk, actor=actor, carrier="顺丰", tracking_number="SF123"
        ),
        "顺丰 SF123",
        lambda item: {},
    ),
]


def _prepare(case: Case, ops, seller):
    item = submit_item(seller, case.category, declared_value_fen=case.declared)
    drive_to(item, case.start, ops)
    if case.id == "return-shipped":
        services.item_authenticate(item_id=item.pk, actor=ops.authenticator, **auth_kwargs(passed=False))
        item.refresh_from_db()
    return item


def _actor(name, ops, item):
    return item.seller if name == "seller" else ops[name]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_station_moves_exactly_one_step_and_records_who_note_and_data(case, ops, seller):
    # Given an item waiting at the station
    item = _prepare(case, ops, seller)
    before = snapshot(item)
    actor = _actor(case.actor, ops, item)

    # When the station's role acts
    case.call(item, actor)

    # Then the item moved exactly one step, recorded with the actor, note and data
    item.refresh_from_db()
    assert item.status == case.to
    rows = new_rows(item, before)
    assert [(r.from_state, r.to_state) for r in rows] == [(before["item"]["status"], case.to)]
    assert rows[0].actor == actor
    assert rows[0].note == case.note
    assert rows[0].data == case.data(item)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_station_refuses_the_wrong_roles_and_changes_nothing(case, ops, seller):
    # Given an item waiting at the station
    item = _prepare(case, ops, seller)
    before = snapshot(item)

    for wrong in case.wrong:
        # When someone without the station's permission tries
        with pytest.raises(PermissionRefused) as error:
            case.call(item, _actor(wrong, ops, item))

        # Then it is refused and nothing changed
        assert error.value.code == "station_permission_denied"
        assert snapshot(item) == before


def test_inactive_operator_is_refused(ops, seller):
    item = submit_item(seller, "womens-tops")
    ops.clerk.is_active = False
    ops.clerk.save(update_fields=["is_active"])
    before = snapshot(item)
    with pytest.raises(PermissionRefused) as error:
        services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)
    assert error.value.code == "station_permission_denied"
    assert snapshot(item) == before


def test_care_record_refuses_the_wrong_role_and_writes_nothing(ops, seller):
    item = drive_to(submit_item(seller, "baby-toys"), S.GRADED, ops)
    before = snapshot(item)
    for wrong in (ops.clerk, ops.photographer, seller):
        with pytest.raises(PermissionRefused) as error:
            services.item_care_record(item_id=item.pk, actor=wrong, step="disinfect", photos=[photo(K.CARE)])
        assert error.value.code == "station_permission_denied"
    assert snapshot(item) == before


def test_counter_answer_refuses_the_wrong_role(ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    services.seller_price_counter(item_id=item.pk, seller=seller, counter_price_fen=17_000)
    before = snapshot(item)
    for wrong in (ops.clerk, ops.photographer, seller):
        with pytest.raises(PermissionRefused) as error:
            services.item_counter_answer(item_id=item.pk, actor=wrong, accept=True)
        assert error.value.code == "station_permission_denied"
    assert snapshot(item) == before


ILLEGAL = [
    (
        "prescreen on accepted",
        S.ACCEPTED,
        lambda item, ops: services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True),
    ),
    ("receive on received", S.RECEIVED, lambda item, ops: services.item_receive(item_id=item.pk, actor=ops.clerk)),
    (
        "grade on submitted",
        S.SUBMITTED,
        lambda item, ops: services.item_grade(item_id=item.pk, actor=ops.clerk, grade="A"),
    ),
    ("grade on graded", S.GRADED, lambda item, ops: services.item_grade(item_id=item.pk, actor=ops.clerk, grade="A")),
    (
        "care record on received",
        S.RECEIVED,
        lambda item, ops: services.item_care_record(item_id=item.pk, actor=ops.care, step="steam"),
    ),
    (
        "care complete on received",
        S.RECEIVED,
        lambda item, ops: services.item_care_complete(item_id=item.pk, actor=ops.care),
    ),
    (
        "photograph on received",
        S.RECEIVED,
        lambda item, ops: services.item_photograph(
            item_id=item.pk, actor=ops.photographer, photos=[photo(K.FLAT), photo(K.ON_BODY)]
        ),
    ),
    ("price on cared", S.CARED, lambda item, ops: services.item_price(item_id=item.pk, actor=ops.pricer)),
    (
        "counter answer on photographed",
        S.PHOTOGRAPHED,
        lambda item, ops: services.item_counter_answer(item_id=item.pk, actor=ops.pricer, accept=True),
    ),
    (
        "seller accepts before pricing",
        S.PHOTOGRAPHED,
        lambda item, ops: services.seller_price_accept(item_id=item.pk, seller=item.seller),
    ),
    (
        "seller counters a listed item",
        S.LISTED,
        lambda item, ops: services.seller_price_counter(item_id=item.pk, seller=item.seller, counter_price_fen=10_000),
    ),
    (
        "return shipped on listed",
        S.LISTED,
        lambda item, ops: services.item_return_shipped(
            item_id=item.pk, actor=ops.clerk, carrier="顺丰", tracking_number="SF1"
        ),
    ),
    (
        "withdraw in transit",
        S.IN_TRANSIT,
        lambda item, ops: services.seller_withdraw(item_id=item.pk, seller=item.seller),
    ),
    (
        "loss of a submitted item",
        S.SUBMITTED,
        lambda item, ops: services.item_record_loss(item_id=item.pk, actor=ops.owner, note="找不到了"),
    ),
]


@pytest.mark.parametrize(("start", "call"), [(s, c) for _n, s, c in ILLEGAL], ids=[n for n, _s, _c in ILLEGAL])
def test_illegal_move_is_refused_and_changes_nothing(start, call, ops, seller):
    # Given an item in a state where the action is not possible
    item = drive_to(submit_item(seller, "womens-tops"), start, ops)
    before = snapshot(item)

    # When the (right) role tries it
    with pytest.raises(states.TransitionNotAllowed) as error:
        call(item, ops)

    # Then it is refused with a clear message and nothing changed
    assert error.value.code == "transition_not_allowed"
    assert str(error.value.message)
    assert snapshot(item) == before


def test_authenticate_on_a_received_item_is_not_allowed(ops, seller):
    item = drive_to(submit_item(seller, "luxury-bags", declared_value_fen=900_000), S.RECEIVED, ops)
    before = snapshot(item)
    with pytest.raises(states.TransitionNotAllowed):
        services.item_authenticate(item_id=item.pk, actor=ops.authenticator, **auth_kwargs())
    assert snapshot(item) == before


def test_receive_of_an_accepted_item_records_the_missing_transit_step(ops, seller):
    # Given an accepted item whose seller did not say it was sent
    item = drive_to(submit_item(seller, "womens-tops"), S.ACCEPTED, ops)

    # When the parcel is opened
    services.item_receive(item_id=item.pk, actor=ops.clerk)

    # Then the chain shows both steps, in order, by the clerk
    item.refresh_from_db()
    assert item.status == S.RECEIVED
    assert chain(item)[-2:] == [(S.ACCEPTED, S.IN_TRANSIT), (S.IN_TRANSIT, S.RECEIVED)]
    assert {row.actor for row in item.transitions.filter(from_state__in=[S.ACCEPTED, S.IN_TRANSIT])} == {ops.clerk}


def test_receive_photos_are_attached_to_the_receiving_step(ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), S.IN_TRANSIT, ops)
    services.item_receive(item_id=item.pk, actor=ops.clerk, photos=[photo(K.RECEIVED), photo(K.RECEIVED)])
    step = item.transitions.get(to_state=S.RECEIVED)
    assert list(step.photos.values_list("kind", flat=True)) == [K.RECEIVED, K.RECEIVED]
    assert {p.uploaded_by_id for p in step.photos.all()} == {ops.clerk.pk}


# --- pre-screen --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "note", "code"),
    [
        ("", "", "reason_required"),
        ("ugly", "", "reason_required"),
        ("other", "", "note_required"),
        ("other", "   ", "note_required"),
    ],
)
def test_rejection_needs_a_listed_reason_and_a_note_for_other(reason, note, code, ops, seller):
    item = submit_item(seller, "womens-tops")
    before = snapshot(item)
    with pytest.raises(ValidationFailed) as error:
        services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=False, reason=reason, note=note)
    assert error.value.code == code
    assert snapshot(item) == before


def test_rejection_for_other_with_a_note_is_recorded_on_the_consignment(ops, seller):
    item = submit_item(seller, "womens-tops")
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=False, reason="other", note=" 有宠物毛 ")
    consignment = Consignment.objects.get(item=item)
    assert (consignment.rejection_reason, consignment.rejection_note) == ("other", "有宠物毛")
    assert Item.objects.get(pk=item.pk).status == S.REJECTED


# --- the seller sees only her own items -----------------------------------------------------------------------------


SELLER_ACTIONS = [
    ("accept price", S.PRICED, lambda item, who: services.seller_price_accept(item_id=item.pk, seller=who)),
    (
        "counter",
        S.PRICED,
        lambda item, who: services.seller_price_counter(item_id=item.pk, seller=who, counter_price_fen=15_000),
    ),
    ("withdraw", S.SUBMITTED, lambda item, who: services.seller_withdraw(item_id=item.pk, seller=who)),
    ("withdraw listed", S.LISTED, lambda item, who: services.seller_withdraw(item_id=item.pk, seller=who)),
    (
        "repair answer",
        "repair",
        lambda item, who: services.seller_repair_answer(item_id=item.pk, seller=who, accept=True),
    ),
]


@pytest.mark.parametrize(
    ("start", "call"), [(s, c) for _n, s, c in SELLER_ACTIONS], ids=[n for n, *_ in SELLER_ACTIONS]
)
def test_another_seller_gets_not_found_and_nothing_changes(start, call, ops, seller, other_seller):
    # Given another seller's item waiting for its seller's answer
    item = submit_item(seller, "womens-tops")
    if start == "repair":
        drive_to(item, S.RECEIVED, ops)
        services.item_grade(
            item_id=item.pk, actor=ops.clerk, grade="B", defects="拉链坏", repair_quote_fen=3_000, repair_note="换拉链"
        )
    else:
        drive_to(item, start, ops)
    before = snapshot(item)

    # When a different seller (or nobody) answers it
    for who in (other_seller, None):
        with pytest.raises(NotFound) as error:
            call(item, who)

        # Then she learns nothing and nothing changes
        assert error.value.code == "item_not_found"
        assert error.value.status == 404
        assert snapshot(item) == before


# --- grading ------------------------------------------------------------------------------------------------------


def test_grade_c_needs_defects(ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), S.RECEIVED, ops)
    before = snapshot(item)
    with pytest.raises(ValidationFailed) as error:
        services.item_grade(item_id=item.pk, actor=ops.clerk, grade="C", defects="  ")
    assert error.value.code == "defects_required"
    assert "defects" in error.value.fields
    assert snapshot(item) == before


@pytest.mark.parametrize(
    ("grade", "quote", "note", "code"),
    [
        ("X", None, "", "grade_required"),
        ("A", 0, "换拉链", "repair_quote_invalid"),
        ("A", 3_000, " ", "repair_quote_invalid"),
    ],
)
def test_grade_input_is_validated(grade, quote, note, code, ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), S.RECEIVED, ops)
    before = snapshot(item)
    with pytest.raises(ValidationFailed) as error:
        services.item_grade(item_id=item.pk, actor=ops.clerk, grade=grade, repair_quote_fen=quote, repair_note=note)
    assert error.value.code == code
    assert snapshot(item) == before


def test_grade_records_grade_defects_measurements_and_asks_for_repair_consent(ops, seller):
    item = drive_to(submit_item(seller, "womens-tops", declared_grade="S"), S.RECEIVED, ops)
    services.item_grade(
        item_id=item.pk,
        actor=ops.clerk,
        grade="C",
        defects="袖口磨损",
        measurements={"chest": 96, "length": "62"},
        repair_quote_fen=3_000,
        repair_note="缝补袖口",
    )
    item.refresh_from_db()
    consignment = Consignment.objects.get(item=item)
    assert (item.grade, item.defects, item.measurements) == ("C", "袖口磨损", {"chest": "96", "length": "62"})
    assert (consignment.repair_quote_fen, consignment.repair_note, consignment.repair_consent) == (
        3_000,
        "缝补袖口",
        Consignment.RepairConsent.ASKED,
    )
    assert item.transitions.get(to_state=S.GRADED).data == {
        "grade": "C",
        "declared_grade": "S",
        "declared_defects": "",
        "repair_quote_fen": 3_000,
    }


# --- authentication -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"checks": []}, "checks_required"),
        ({"checks": [{"point": "  ", "finding": "x"}]}, "checks_required"),
        ({"photos": []}, "evidence_required"),
        ({"photos": [photo(K.FLAT)]}, "photo_kind_invalid"),
    ],
)
def test_authentication_needs_checks_and_evidence_photos(overrides, code, ops, seller):
    item = drive_to(submit_item(seller, "luxury-bags", declared_value_fen=900_000), S.GRADED, ops)
    before = snapshot(item)
    with pytest.raises(ValidationFailed) as error:
        services.item_authenticate(item_id=item.pk, actor=ops.authenticator, **auth_kwargs(**overrides))
    assert error.value.code == code
    assert snapshot(item) == before


def test_only_items_needing_authentication_can_be_authenticated(ops, seller):
    # A bag below the category's threshold does not need it
    item = drive_to(submit_item(seller, "bags-tote", declared_value_fen=199_999), S.GRADED, ops)
    assert Consignment.objects.get(item=item).needs_authentication is False
    before = snapshot(item)
    with pytest.raises(services.PipelineError) as error:
        services.item_authenticate(item_id=item.pk, actor=ops.authenticator, **auth_kwargs())
    assert error.value.code == "authentication_not_needed"
    assert snapshot(item) == before


@pytest.mark.parametrize(
    ("slug", "declared", "needed"),
    [
        ("bags-tote", 199_999, False),
        ("bags-tote", 200_000, True),
        ("luxury-bags", 100, True),
        ("womens-tops", 299_999, False),
        ("womens-tops", 300_000, True),
        ("baby-toys", 10_000_000, False),
    ],
)
def test_receiving_decides_authentication_care_steps_and_liability_from_the_category(
    slug, declared, needed, ops, seller
):
    item = drive_to(submit_item(seller, slug, declared_value_fen=declared), S.RECEIVED, ops)
    consignment = Consignment.objects.get(item=item)
    assert consignment.needs_authentication is needed
    assert consignment.required_care_steps == Category.objects.get(slug=slug).effective_care_steps()
    assert consignment.liability_fen == min(declared, services.LIABILITY_CAP_FEN)


def test_an_item_needing_authentication_cannot_skip_it(ops, seller):
    item = drive_to(submit_item(seller, "luxury-bags", declared_value_fen=900_000), S.GRADED, ops)
    before = snapshot(item)
    with pytest.raises(services.PipelineError) as error:
        services.item_care_complete(item_id=item.pk, actor=ops.care)
    assert error.value.code == "authentication_required"
    with pytest.raises(states.TransitionNotAllowed):
        services.item_care_record(item_id=item.pk, actor=ops.care, step="spot_clean")
    assert snapshot(item) == before


def test_failed_authentication_returns_the_item_at_the_sellers_cost(ops, seller):
    # Given a luxury bag at authentication
    item = drive_to(submit_item(seller, "luxury-bags", declared_value_fen=900_000), S.GRADED, ops)

    # When it fails
    report = services.item_authenticate(
        item_id=item.pk, actor=ops.authenticator, **auth_kwargs(passed=False, notes="五金字体不符")
    )

    # Then the report says so, and the item goes back with the return shipping charged
    item.refresh_from_db()
    consignment = Consignment.objects.get(item=item)
    assert report.result == AuthenticationReport.Result.FAIL
    assert report.authenticator == ops.authenticator
    assert item.status == S.RETURN_TO_SELLER
    assert chain(item)[-2:] == [(S.GRADED, S.AUTHENTICATION_FAILED), (S.AUTHENTICATION_FAILED, S.RETURN_TO_SELLER)]
    assert consignment.return_shipping_fee_fen == services.RETURN_SHIPPING_FEE_FEN == 1_500
    assert consignment.return_reason == "Failed authentication"
    assert list(item.transitions.get(to_state=S.AUTHENTICATION_FAILED).photos.values_list("kind", flat=True)) == [
        K.AUTHENTICATION
    ]
    with pytest.raises(states.TransitionNotAllowed):
        services.item_care_complete(item_id=item.pk, actor=ops.care)


def test_passing_report_is_public_with_its_checks(ops, seller):
    item = drive_to(submit_item(seller, "luxury-bags", declared_value_fen=900_000), S.GRADED, ops)
    services.item_authenticate(
        item_id=item.pk,
        actor=ops.authenticator,
        **auth_kwargs(checks=[{"point": " 刻印 ", "finding": "清晰", "ok": 1}, {"point": "", "finding": "ignored"}]),
    )
    report = selectors.public_authentication_report(item_id=item.pk)
    assert report.result == "pass"
    assert report.checks == [{"point": "刻印", "finding": "清晰", "ok": True}]


# --- care -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "partial", "missing"),
    [
        ("baby-toys", ["spot_clean"], "disinfect"),
        ("baby-clothes", ["wash"], "disinfect"),
        ("baby-clothes", ["disinfect"], "wash"),
    ],
)
def test_care_complete_refuses_while_a_required_step_is_missing(slug, partial, missing, ops, seller):
    # Given a baby item with only some of its care steps recorded
    item = drive_to(submit_item(seller, slug), S.GRADED, ops)
    assert missing in Consignment.objects.get(item=item).required_care_steps
    for step in partial:
        services.item_care_record(item_id=item.pk, actor=ops.care, step=step)
    before = snapshot(item)

    # When care is declared complete, it is refused and nothing changes
    with pytest.raises(services.PipelineError) as error:
        services.item_care_complete(item_id=item.pk, actor=ops.care)
    assert error.value.code == "care_steps_missing"
    assert snapshot(item) == before

    # Once the missing step is recorded, care completes
    services.item_care_record(item_id=item.pk, actor=ops.care, step=missing, photos=[photo(K.CARE)])
    services.item_care_complete(item_id=item.pk, actor=ops.care)
    assert Item.objects.get(pk=item.pk).status == S.CARED


def test_care_record_validates_step_and_refuses_a_duplicate(ops, seller):
    item = drive_to(submit_item(seller, "baby-toys"), S.GRADED, ops)
    with pytest.raises(ValidationFailed) as error:
        services.item_care_record(item_id=item.pk, actor=ops.care, step="bleach")
    assert error.value.code == "care_step_invalid"
    services.item_care_record(item_id=item.pk, actor=ops.care, step="disinfect", note="84 消毒液")
    before = snapshot(item)
    with pytest.raises(DomainError) as error:
        services.item_care_record(item_id=item.pk, actor=ops.care, step="disinfect", photos=[photo(K.CARE)])
    assert error.value.code == "care_step_done"
    assert snapshot(item) == before
    record = CareRecord.objects.get(item=item)
    assert (record.step, record.done_by, record.note) == ("disinfect", ops.care, "84 消毒液")
    # A care step is not a move: the item stays where it is
    assert Item.objects.get(pk=item.pk).status == S.GRADED


def _graded_with_repair_quote(ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), S.RECEIVED, ops)
    services.item_grade(
        item_id=item.pk, actor=ops.clerk, grade="B", defects="扣子掉了", repair_quote_fen=2_000, repair_note="钉扣子"
    )
    services.item_care_record(item_id=item.pk, actor=ops.care, step="steam")
    return item


def test_repair_only_after_consent_and_care_waits_for_the_answer(ops, seller):
    # Given a graded item with a repair quote the seller has not answered
    item = _graded_with_repair_quote(ops, seller)
    before = snapshot(item)

    # Then neither the repair nor the end of care is possible
    with pytest.raises(services.PipelineError) as error:
        services.item_care_record(item_id=item.pk, actor=ops.care, step="repair")
    assert error.value.code == "repair_not_consented"
    with pytest.raises(services.PipelineError) as error:
        services.item_care_complete(item_id=item.pk, actor=ops.care)
    assert error.value.code == "repair_answer_pending"
    assert snapshot(item) == before

    # When the seller accepts the fee, the repair becomes a required step
    consignment = services.seller_repair_answer(item_id=item.pk, seller=seller, accept=True)
    assert consignment.repair_consent == Consignment.RepairConsent.ACCEPTED
    with pytest.raises(services.PipelineError) as error:
        services.item_care_complete(item_id=item.pk, actor=ops.care)
    assert error.value.code == "care_steps_missing"
    services.item_care_record(item_id=item.pk, actor=ops.care, step="repair")
    services.item_care_complete(item_id=item.pk, actor=ops.care)
    item.refresh_from_db()
    assert item.status == S.CARED
    assert item.transitions.get(to_state=S.CARED).data == {"steps": ["repair", "steam"]}

    # And the question cannot be answered twice
    with pytest.raises(services.PipelineError) as error:
        services.seller_repair_answer(item_id=item.pk, seller=seller, accept=False)
    assert error.value.code == "no_repair_question"


def test_declined_repair_is_not_done_and_care_completes(ops, seller):
    item = _graded_with_repair_quote(ops, seller)
    services.seller_repair_answer(item_id=item.pk, seller=seller, accept=False)
    with pytest.raises(services.PipelineError) as error:
        services.item_care_record(item_id=item.pk, actor=ops.care, step="repair")
    assert error.value.code == "repair_not_consented"
    services.item_care_complete(item_id=item.pk, actor=ops.care)
    assert Item.objects.get(pk=item.pk).status == S.CARED


# --- photography --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "grade", "kinds", "ok"),
    [
        ("womens-tops", "A", [K.FLAT, K.ON_BODY], True),
        ("womens-tops", "A", [K.FLAT], False),  # clothing needs on-body
        ("womens-tops", "A", [K.ON_BODY, K.DETAIL], False),  # every item needs flat
        ("womens-underwear", "A", [K.FLAT], True),  # hygiene clothing is not shown on a body
        ("bags-tote", "A", [K.FLAT], True),
        ("bags-tote", "C", [K.FLAT], False),  # defects listed: a defect photo
        ("bags-tote", "C", [K.FLAT, K.DEFECT], True),
    ],
)
def test_photograph_requires_the_photos_of_the_category_and_defects(slug, grade, kinds, ok, ops, seller):
    item = drive_to(submit_item(seller, slug), S.CARED, ops, grade=grade)
    before = snapshot(item)
    call = lambda: services.item_photograph(  # noqa: E731
        item_id=item.pk, actor=ops.photographer, photos=[photo(kind) for kind in kinds]
    )
    if ok:
        call()
        item.refresh_from_db()
        assert item.status == S.PHOTOGRAPHED
        step = item.transitions.get(to_state=S.PHOTOGRAPHED)
        assert sorted(step.photos.values_list("kind", flat=True)) == sorted(kinds)
        assert len(media_files()) == len(before["files"]) + 2 * len(kinds)  # image + thumbnail
    else:
        with pytest.raises(ValidationFailed) as error:
            call()
        assert error.value.code == "photos_missing"
        assert snapshot(item) == before


def test_photograph_refuses_a_kind_that_does_not_belong_to_the_step(ops, seller):
    item = drive_to(submit_item(seller, "bags-tote"), S.CARED, ops)
    before = snapshot(item)
    with pytest.raises(ValidationFailed) as error:
        services.item_photograph(item_id=item.pk, actor=ops.photographer, photos=[photo(K.FLAT), photo(K.SELLER)])
    assert error.value.code == "photo_kind_invalid"
    assert snapshot(item) == before


def test_photograph_refuses_a_broken_image_and_writes_no_file(ops, seller):
    item = drive_to(submit_item(seller, "bags-tote"), S.CARED, ops)
    before = snapshot(item)
    broken = services.PhotoUpload(kind=K.FLAT, file=bad_upload())
    with pytest.raises(ValidationFailed) as error:
        services.item_photograph(item_id=item.pk, actor=ops.photographer, photos=[photo(K.FLAT), broken])
    assert error.value.code == "image_invalid"
    assert snapshot(item) == before


# --- pricing --------------------------------------------------------------------------------------------------------


def test_price_uses_the_rule_with_brand_grade_and_age(ops, seller):
    # Given a Coach bag bought two years ago for ¥2,000, graded A
    year = timezone.localdate().year - 2
    item = submit_item(
        seller, "bags-tote", brand="Coach", original_price_fen=200_000, purchase_year=year, declared_value_fen=80_000
    )
    drive_to(item, S.PHOTOGRAPHED, ops, grade="A")

    # When it is priced by the rule
    consignment = services.item_price(item_id=item.pk, actor=ops.pricer)

    # Then 200000 × 0.45 × 0.80 × 0.84 = 60480 → ¥600, range ¥510 – ¥700, deadline in 48 h
    consignment.refresh_from_db()
    assert (consignment.suggested_low_fen, consignment.suggested_price_fen, consignment.suggested_high_fen) == (
        51_000,
        60_000,
        70_000,
    )
    assert consignment.price_reasons == [
        "Original price ¥2,000.00",
        "Brand tier keeps 45% of its value",
        "Condition A: × 0.80",
        "Bought 2 year(s) ago: × 0.84",
    ]
    assert consignment.price_decision == Consignment.PriceDecision.PENDING
    assert consignment.counter_price_fen is None
    deadline = consignment.price_deadline - timezone.now()
    assert timedelta(hours=47, minutes=59) < deadline <= timedelta(hours=48)
    assert Item.objects.get(pk=item.pk).status == S.PRICED


def test_price_override_widens_the_range_and_says_so(ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), S.PHOTOGRAPHED, ops)
    consignment = services.item_price(item_id=item.pk, actor=ops.pricer, price_fen=25_000)
    assert (consignment.suggested_low_fen, consignment.suggested_price_fen, consignment.suggested_high_fen) == (
        14_000,
        25_000,
        25_000,
    )
    assert consignment.price_reasons[-1] == "Adjusted by our pricing team"
    assert item.transitions.get(to_state=S.PRICED).data == {"suggested_price_fen": 25_000}


@pytest.mark.parametrize("price", [0, -100])
def test_price_must_be_positive(price, ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), S.PHOTOGRAPHED, ops)
    before = snapshot(item)
    with pytest.raises(ValidationFailed) as error:
        services.item_price(item_id=item.pk, actor=ops.pricer, price_fen=price)
    assert error.value.code == "price_invalid"
    assert snapshot(item) == before


def test_seller_accepts_with_a_floor_and_the_item_is_listed(ops, seller):
    # Given a priced item (rule: ¥160)
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)

    # When the seller accepts with a floor of ¥120
    services.seller_price_accept(item_id=item.pk, seller=seller, floor_price_fen=12_000)

    # Then it is listed at the price, with her floor, by her
    item.refresh_from_db()
    assert (item.status, item.price_fen, item.floor_price_fen) == (S.LISTED, 16_000, 12_000)
    assert item.listed_at is not None
    assert Consignment.objects.get(item=item).price_decision == Consignment.PriceDecision.ACCEPTED
    row = item.transitions.get(to_state=S.LISTED)
    assert (row.actor, row.note, row.data) == (seller, "Seller accepted the price", {"price_fen": 16_000})


@pytest.mark.parametrize("floor", [16_001, 0, -1])
def test_accept_with_a_floor_above_the_price_is_refused(floor, ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    before = snapshot(item)
    with pytest.raises(ValidationFailed) as error:
        services.seller_price_accept(item_id=item.pk, seller=seller, floor_price_fen=floor)
    assert error.value.code == "floor_invalid"
    assert snapshot(item) == before


def test_accept_with_a_floor_equal_to_the_price_is_allowed(ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    services.seller_price_accept(item_id=item.pk, seller=seller, floor_price_fen=16_000)
    assert Item.objects.get(pk=item.pk).floor_price_fen == 16_000


@pytest.mark.parametrize("counter", [36_001, 0, -5])
def test_counter_over_twice_the_high_estimate_is_refused(counter, ops, seller):
    # The rule's range for this item is ¥140 – ¥180: a counter may go up to ¥360
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    assert Consignment.objects.get(item=item).suggested_high_fen == 18_000
    before = snapshot(item)
    with pytest.raises(ValidationFailed) as error:
        services.seller_price_counter(item_id=item.pk, seller=seller, counter_price_fen=counter)
    assert error.value.code == "counter_invalid"
    assert snapshot(item) == before


def test_counter_accepted_lists_at_the_counter_price(ops, seller):
    # Given the seller counters at the maximum, ¥360
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    consignment = services.seller_price_counter(item_id=item.pk, seller=seller, counter_price_fen=36_000)
    assert (consignment.price_decision, consignment.counter_price_fen) == ("countered", 36_000)
    assert Item.objects.get(pk=item.pk).status == S.PRICED
    assert list(selectors.station_queue(station="price")) == [item]
    with pytest.raises(services.PipelineError) as error:
        services.seller_price_counter(item_id=item.pk, seller=seller, counter_price_fen=30_000)
    assert error.value.code == "price_answered"

    # When pricing accepts it
    services.item_counter_answer(item_id=item.pk, actor=ops.pricer, accept=True)

    # Then the item is listed at ¥360 by the pricer
    item.refresh_from_db()
    assert (item.status, item.price_fen) == (S.LISTED, 36_000)
    row = item.transitions.get(to_state=S.LISTED)
    assert (row.actor, row.note, row.data) == (ops.pricer, "Counter-offer accepted", {"price_fen": 36_000})
    assert Consignment.objects.get(item=item).price_decision == Consignment.PriceDecision.ACCEPTED


def test_counter_declined_proposes_the_price_again(ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    services.seller_price_counter(item_id=item.pk, seller=seller, counter_price_fen=30_000)
    chain_before = chain(item)
    services.item_counter_answer(item_id=item.pk, actor=ops.pricer, accept=False)
    consignment = Consignment.objects.get(item=item)
    assert consignment.price_decision == Consignment.PriceDecision.PENDING
    assert consignment.suggested_price_fen == 16_000
    assert consignment.price_deadline > timezone.now() + timedelta(hours=47)
    assert chain(item) == chain_before
    with pytest.raises(services.PipelineError) as error:
        services.item_counter_answer(item_id=item.pk, actor=ops.pricer, accept=True)
    assert error.value.code == "no_counter_offer"
    # She may now simply accept
    services.seller_price_accept(item_id=item.pk, seller=seller)
    assert Item.objects.get(pk=item.pk).price_fen == 16_000


def test_price_deadline_lists_at_the_suggested_price_once(ops, seller):
    # Given a priced item and one the seller has countered
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    countered = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    services.seller_price_counter(item_id=countered.pk, seller=seller, counter_price_fen=20_000)
    deadline = Consignment.objects.get(item=item).price_deadline

    # Before the deadline nothing happens
    assert services.price_deadlines_settle(now=deadline - timedelta(seconds=1)) == 0
    assert Item.objects.get(pk=item.pk).status == S.PRICED

    # At the deadline the unanswered one is listed at the suggested price; the countered one waits for pricing
    assert services.price_deadlines_settle(now=deadline + timedelta(hours=1)) == 1
    item.refresh_from_db()
    assert (item.status, item.price_fen) == (S.LISTED, 16_000)
    assert Consignment.objects.get(item=item).price_decision == Consignment.PriceDecision.AUTO_ACCEPTED
    row = item.transitions.get(to_state=S.LISTED)
    assert (row.actor, row.data) == (None, {"price_fen": 16_000})
    assert Item.objects.get(pk=countered.pk).status == S.PRICED

    # And settling again changes nothing
    rows = ItemTransition.objects.count()
    assert services.price_deadlines_settle(now=deadline + timedelta(hours=2)) == 0
    assert ItemTransition.objects.count() == rows


# --- unsold items ---------------------------------------------------------------------------------------------------


def _listed(ops, seller, *, floor=None, unsold_choice="return", slug="womens-tops"):
    item = drive_to(submit_item(seller, slug, unsold_choice=unsold_choice), S.PRICED, ops)
    services.seller_price_accept(item_id=item.pk, seller=seller, floor_price_fen=floor)
    item.refresh_from_db()
    return item


def test_unsold_items_are_marked_down_on_schedule_once_per_step(ops, seller):
    # Given an item listed at ¥160 with no floor
    item = _listed(ops, seller)
    start = item.listed_at
    assert services.MARKDOWN_SCHEDULE == ((14, 0.90), (28, 0.80))

    # Day 13: nothing; day 14: 90 %; again on day 20: nothing more; day 28: 80 %
    assert services.unsold_items_settle(now=start + timedelta(days=13)) == {
        "marked_down": 0,
        "returned": 0,
        "donated": 0,
    }
    assert services.unsold_items_settle(now=start + timedelta(days=14)) == {
        "marked_down": 1,
        "returned": 0,
        "donated": 0,
    }
    assert Item.objects.get(pk=item.pk).price_fen == 14_400
    assert services.unsold_items_settle(now=start + timedelta(days=20))["marked_down"] == 0
    assert Item.objects.get(pk=item.pk).price_fen == 14_400
    assert services.unsold_items_settle(now=start + timedelta(days=28))["marked_down"] == 1
    item.refresh_from_db()
    assert (item.status, item.price_fen) == (S.LISTED, 12_800)
    rows = list(
        item.transitions.filter(note="Marked down").order_by("pk").values_list("from_state", "to_state", "data")
    )
    assert rows == [
        (S.LISTED, S.LISTED, {"from_price_fen": 16_000, "to_price_fen": 14_400}),
        (S.LISTED, S.LISTED, {"from_price_fen": 14_400, "to_price_fen": 12_800}),
    ]
    assert Consignment.objects.get(item=item).markdown_steps_applied == 2


def test_markdowns_never_go_below_the_sellers_floor(ops, seller):
    item = _listed(ops, seller, floor=15_000)
    start = item.listed_at
    assert services.unsold_items_settle(now=start + timedelta(days=14))["marked_down"] == 1
    assert Item.objects.get(pk=item.pk).price_fen == 15_000
    assert services.unsold_items_settle(now=start + timedelta(days=28))["marked_down"] == 0
    assert Item.objects.get(pk=item.pk).price_fen == 15_000
    assert Consignment.objects.get(item=item).markdown_steps_applied == 2


@pytest.mark.parametrize(
    ("choice", "status", "key"), [("return", S.RETURN_TO_SELLER, "returned"), ("donate", S.DONATED, "donated")]
)
def test_unsold_after_the_limit_goes_back_or_is_donated_by_the_sellers_choice(choice, status, key, ops, seller):
    item = _listed(ops, seller, unsold_choice=choice)
    start = item.listed_at
    assert services.UNSOLD_AFTER_DAYS == 45
    services.unsold_items_settle(now=start + timedelta(days=44))
    assert Item.objects.get(pk=item.pk).status == S.LISTED
    counts = services.unsold_items_settle(now=start + timedelta(days=45))
    assert counts[key] == 1
    item.refresh_from_db()
    assert item.status == status
    row = item.transitions.order_by("-pk").first()
    assert (row.from_state, row.to_state, row.actor, row.note) == (S.LISTED, status, None, "Unsold after 45 days")
    if choice == "return":
        assert Consignment.objects.get(item=item).return_reason == "Unsold after 45 days"
    # Idempotent
    assert services.unsold_items_settle(now=start + timedelta(days=60)) == {
        "marked_down": 0,
        "returned": 0,
        "donated": 0,
    }


def test_unsold_self_ship_item_is_withdrawn_rather_than_returned(ops, seller):
    item = _listed(ops, seller, slug="womens-tops")  # platform, for contrast below
    cheap = submit_item(seller, "womens-tops", fulfilment="self_ship", declared_value_fen=10_000)
    drive_to(cheap, S.LISTED, ops)
    cheap.refresh_from_db()
    services.unsold_items_settle(now=max(item.listed_at, cheap.listed_at) + timedelta(days=45))
    assert Item.objects.get(pk=cheap.pk).status == S.WITHDRAWN
    assert Item.objects.get(pk=item.pk).status == S.RETURN_TO_SELLER


# --- withdrawal -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", [S.SUBMITTED, S.ACCEPTED])
def test_withdraw_before_shipping_is_free(start, ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), start, ops)
    services.seller_withdraw(item_id=item.pk, seller=seller, note="不卖了")
    item.refresh_from_db()
    consignment = Consignment.objects.get(item=item)
    assert item.status == S.WITHDRAWN
    assert (consignment.withdrawal_fee_fen, consignment.return_shipping_fee_fen) == (0, 0)
    row = item.transitions.order_by("-pk").first()
    assert (row.from_state, row.to_state, row.actor, row.note) == (start, S.WITHDRAWN, seller, "不卖了")


@pytest.mark.parametrize("start", [S.RECEIVED, S.CARED, S.PRICED, S.LISTED])
def test_withdraw_in_the_warehouse_charges_the_fee_and_the_return_shipping(start, ops, seller):
    item = drive_to(submit_item(seller, "womens-tops"), start, ops)
    services.seller_withdraw(item_id=item.pk, seller=seller)
    item.refresh_from_db()
    consignment = Consignment.objects.get(item=item)
    assert item.status == S.RETURN_TO_SELLER
    assert (consignment.withdrawal_fee_fen, consignment.return_shipping_fee_fen) == (2_000, 1_500)
    assert (services.WITHDRAWAL_FEE_FEN, services.RETURN_SHIPPING_FEE_FEN) == (2_000, 1_500)
    assert consignment.return_reason == "Withdrawn by the seller"
    row = item.transitions.order_by("-pk").first()
    assert (row.from_state, row.to_state, row.data) == (
        start,
        S.RETURN_TO_SELLER,
        {"withdrawal_fee_fen": 2_000, "return_shipping_fee_fen": 1_500},
    )
    # The returns station sends it back
    services.item_return_shipped(item_id=item.pk, actor=ops.clerk, carrier="顺丰", tracking_number="SF9")
    assert Item.objects.get(pk=item.pk).status == S.RETURNED


@pytest.mark.parametrize("start", [S.REJECTED, S.WITHDRAWN])
def test_withdraw_of_a_finished_item_is_refused(start, ops, seller):
    item = submit_item(seller, "womens-tops")
    if start == S.REJECTED:
        services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=False, reason="season")
    else:
        services.seller_withdraw(item_id=item.pk, seller=seller)
    before = snapshot(item)
    with pytest.raises(states.TransitionNotAllowed):
        services.seller_withdraw(item_id=item.pk, seller=seller)
    assert snapshot(item) == before


# --- self-ship ------------------------------------------------------------------------------------------------------


def test_self_ship_item_goes_accepted_priced_listed_without_warehouse_steps(ops, seller):
    # Given a top worth exactly the category's self-ship limit (¥300)
    assert Category.objects.get(slug="womens-tops").effective_self_ship_max_fen() == 30_000
    item = submit_item(seller, "womens-tops", fulfilment="self_ship", declared_value_fen=30_000)

    # When it is accepted, priced and accepted by the seller
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)
    assert IntakeBatch.objects.get(consignments__item=item).status == IntakeBatch.Status.CLOSED
    assert list(selectors.station_queue(station="price")) == [Item.objects.get(pk=item.pk)]
    with pytest.raises(services.PipelineError) as error:
        services.item_receive(item_id=item.pk, actor=ops.clerk)
    assert error.value.code == "self_ship_item"
    services.item_price(item_id=item.pk, actor=ops.pricer)
    services.seller_price_accept(item_id=item.pk, seller=seller)

    # Then its chain has no warehouse step
    assert chain(item) == [("", S.SUBMITTED), (S.SUBMITTED, S.ACCEPTED), (S.ACCEPTED, S.PRICED), (S.PRICED, S.LISTED)]
    item.refresh_from_db()
    assert item.status == S.LISTED
    assert Consignment.objects.get(item=item).label_code is None
    # And she can withdraw it for free
    services.seller_withdraw(item_id=item.pk, seller=seller)
    consignment = Consignment.objects.get(item=item)
    assert Item.objects.get(pk=item.pk).status == S.WITHDRAWN
    assert (consignment.withdrawal_fee_fen, consignment.return_shipping_fee_fen) == (0, 0)


@pytest.mark.parametrize(("slug", "declared"), [("womens-tops", 30_001), ("luxury-bags", 100), ("baby-strollers", 100)])
def test_self_ship_is_refused_above_the_category_limit(slug, declared, seller):
    with pytest.raises(ValidationFailed) as error:
        submit_item(seller, slug, fulfilment="self_ship", declared_value_fen=declared)
    assert error.value.code == "validation_error"
    assert list(error.value.fields) == ["items.0.fulfilment"]
    assert (IntakeBatch.objects.count(), Item.objects.count()) == (0, 0)


def test_self_ship_is_refused_for_items_that_must_be_disinfected(seller):
    # Baby toys must be disinfected by us, so they never stay with the seller, whatever the setting
    Category.objects.filter(slug="baby").update(self_ship_max_fen=20_000)
    assert Category.objects.get(slug="baby-toys").effective_self_ship_max_fen() == 20_000
    with pytest.raises(ValidationFailed) as error:
        submit_item(seller, "baby-toys", fulfilment="self_ship", declared_value_fen=5_000)
    assert list(error.value.fields) == ["items.0.fulfilment"]
    assert (IntakeBatch.objects.count(), Item.objects.count()) == (0, 0)
    # Sealed diapers need no disinfection and may
    item = submit_item(seller, "baby-diapers", fulfilment="self_ship", declared_value_fen=30_000)
    assert item.fulfilment == "self_ship"


def test_self_ship_item_whose_category_now_needs_disinfection_is_not_listed(ops, seller):
    # Given a priced self-ship top and a priced platform top, both past their deadline
    item = drive_to(
        submit_item(seller, "womens-tops", fulfilment="self_ship", declared_value_fen=10_000), S.PRICED, ops
    )
    other = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    # When the category's rules change to require disinfection
    Category.objects.filter(slug="womens").update(care_steps=["steam", "disinfect"])
    before = snapshot(item)

    # Then the seller cannot list it, and the deadline skips it but still settles the other
    with pytest.raises(services.PipelineError) as error:
        services.seller_price_accept(item_id=item.pk, seller=seller)
    assert error.value.code == "self_ship_not_allowed"
    assert snapshot(item) == before
    assert services.price_deadlines_settle(now=timezone.now() + timedelta(days=3)) == 1
    assert snapshot(item) == before
    assert Item.objects.get(pk=other.pk).status == S.LISTED


# --- submission -----------------------------------------------------------------------------------------------------


def _row_counts():
    return {
        "batches": IntakeBatch.objects.count(),
        "items": Item.objects.count(),
        "consignments": Consignment.objects.count(),
        "photos": ItemPhoto.objects.count(),
        "transitions": ItemTransition.objects.count(),
    }


EMPTY = {"batches": 0, "items": 0, "consignments": 0, "photos": 0, "transitions": 0}


def test_batch_submit_creates_items_consignments_photos_and_the_first_step(seller, settings):
    drafts = [
        draft_for("womens-tops", title=" 真丝衬衫 ", photos=[photo(K.SELLER), photo(K.SELLER)], declared_grade="A"),
        draft_for("baby-toys", title="积木", brand="LEGO", unsold_choice="donate"),
    ]
    batch = services.batch_submit(seller=seller, drafts=drafts, note="周末寄出")
    assert batch.status == IntakeBatch.Status.SUBMITTED
    assert batch.code.startswith("B") and len(batch.code) == 13
    items = list(Item.objects.filter(consignment__batch=batch).order_by("pk"))
    assert [i.title for i in items] == ["真丝衬衫", "积木"]
    assert [i.photos.count() for i in items] == [2, 1]
    assert {p.kind for i in items for p in i.photos.all()} == {K.SELLER}
    assert [chain(i) for i in items] == [[("", S.SUBMITTED)]] * 2
    first = items[0].transitions.get()
    assert (first.actor, first.note) == (seller, f"Submitted in batch {batch.code}")
    assert list(first.photos.values_list("kind", flat=True)) == [K.SELLER, K.SELLER]
    assert Consignment.objects.get(item=items[1]).unsold_choice == "donate"
    assert len(media_files()) == 6  # three images and their thumbnails


def test_a_member_who_is_not_a_seller_cannot_submit(db):
    member = UserFactory(roles=[roles.MEMBER])
    for who in (member, None):
        with pytest.raises(PermissionRefused) as error:
            services.batch_submit(seller=who, drafts=[draft_for("womens-tops")])
        assert error.value.code == "not_a_seller"
    assert _row_counts() == EMPTY


def test_batch_submit_with_one_bad_image_creates_nothing_and_leaves_no_file(seller, settings):
    # Given three drafts, the last with one photo that is not an image
    drafts = [
        draft_for("womens-tops"),
        draft_for("baby-toys", photos=[photo(K.SELLER), photo(K.SELLER)]),
        draft_for("bags-tote", photos=[photo(K.SELLER), services.PhotoUpload(kind=K.SELLER, file=bad_upload())]),
    ]

    # When the seller submits them
    with pytest.raises(ValidationFailed) as error:
        services.batch_submit(seller=seller, drafts=drafts)

    # Then nothing was created, and no file is left in the media directory
    assert error.value.code == "image_invalid"
    assert list(error.value.fields) == ["items.2.photos"]
    assert _row_counts() == EMPTY
    assert media_files() == []


def test_batch_submit_that_fails_after_writing_files_removes_them(seller, monkeypatch):
    # Given a failure in the middle of the transaction, after the first item's photos are saved
    calls = []
    real_record_start = states.record_start

    def failing_record_start(item, **kwargs):
        calls.append(item.pk)
        if len(calls) == 2:
            raise RuntimeError("database went away")
        return real_record_start(item, **kwargs)

    monkeypatch.setattr(services.states, "record_start", failing_record_start)
    with pytest.raises(RuntimeError):
        services.batch_submit(seller=seller, drafts=[draft_for("womens-tops"), draft_for("baby-toys")])

    # Then the rows are rolled back and the files that were written are deleted
    assert len(calls) == 2
    assert _row_counts() == EMPTY
    assert media_files() == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": " "}, "items.0.title"),
        ({"title": "长" * 81}, "items.0.title"),
        ({"category_id": 999_999}, "items.0.category_id"),
        ({"declared_value_fen": 0}, "items.0.declared_value_fen"),
        ({"original_price_fen": -1}, "items.0.original_price_fen"),
        ({"purchase_year": 1900}, "items.0.purchase_year"),
        ({"declared_grade": "Z"}, "items.0.declared_grade"),
        ({"fulfilment": "drone"}, "items.0.fulfilment"),
        ({"unsold_choice": "burn"}, "items.0.unsold_choice"),
        ({"photos": []}, "items.0.photos"),
        ({"brand_id": 999_999}, "items.0.brand_id"),
    ],
)
def test_batch_submit_validates_each_draft_before_writing(overrides, field, seller):
    with pytest.raises(ValidationFailed) as error:
        services.batch_submit(seller=seller, drafts=[draft_for("womens-tops", **overrides)])
    assert list(error.value.fields) == [field]
    assert _row_counts() == EMPTY


def test_batch_size_limits(seller):
    with pytest.raises(ValidationFailed) as error:
        services.batch_submit(seller=seller, drafts=[])
    assert error.value.code == "batch_empty"
    with pytest.raises(ValidationFailed) as error:
        services.batch_submit(seller=seller, drafts=[draft_for("womens-tops") for _ in range(21)])
    assert error.value.code == "batch_too_large"
    with pytest.raises(ValidationFailed) as error:
        services.batch_submit(
            seller=seller, drafts=[draft_for("womens-tops", photos=[photo(K.SELLER) for _ in range(13)])]
        )
    assert error.value.code == "too_many_photos"
    assert _row_counts() == EMPTY


# --- batches --------------------------------------------------------------------------------------------------------


def _batch(seller, *slugs_or_drafts):
    drafts = [d if isinstance(d, services.ItemDraft) else draft_for(d) for d in slugs_or_drafts]
    batch = services.batch_submit(seller=seller, drafts=drafts)
    return batch, list(Item.objects.filter(consignment__batch=batch).order_by("pk"))


def _status(batch):
    return IntakeBatch.objects.get(pk=batch.pk).status


def test_batch_status_settles_submitted_screened_shipped_received(ops, seller, other_seller):
    batch, (first, second) = _batch(seller, "womens-tops", "bags-tote")
    services.item_prescreen(item_id=first.pk, actor=ops.clerk, accept=True)
    assert _status(batch) == IntakeBatch.Status.SUBMITTED
    with pytest.raises(services.PipelineError):
        services.batch_mark_shipped(batch_id=batch.pk, seller=seller, carrier="顺丰", tracking_number="SF1")
    services.item_prescreen(item_id=second.pk, actor=ops.clerk, accept=False, reason="brand")
    assert _status(batch) == IntakeBatch.Status.SCREENED

    # Only the batch's seller can ship it, with a carrier and a tracking number
    with pytest.raises(NotFound) as error:
        services.batch_mark_shipped(batch_id=batch.pk, seller=other_seller, carrier="顺丰", tracking_number="SF1")
    assert error.value.code == "batch_not_found"
    with pytest.raises(ValidationFailed) as error:
        services.batch_mark_shipped(batch_id=batch.pk, seller=seller, carrier="顺丰", tracking_number=" ")
    assert error.value.code == "tracking_required"
    assert list(error.value.fields) == ["tracking_number"]
    assert _status(batch) == IntakeBatch.Status.SCREENED

    shipped = services.batch_mark_shipped(batch_id=batch.pk, seller=seller, carrier="顺丰", tracking_number="SF1")
    assert (shipped.status, shipped.carrier, shipped.tracking_number) == ("shipped", "顺丰", "SF1")
    assert Item.objects.get(pk=first.pk).status == S.IN_TRANSIT
    assert Item.objects.get(pk=second.pk).status == S.REJECTED
    row = first.transitions.get(to_state=S.IN_TRANSIT)
    assert (row.actor, row.note) == (seller, "顺丰 SF1")
    with pytest.raises(services.PipelineError) as error:
        services.batch_mark_shipped(batch_id=batch.pk, seller=seller, carrier="顺丰", tracking_number="SF2")
    assert error.value.code == "batch_not_shippable"

    services.item_receive(item_id=first.pk, actor=ops.clerk)
    assert _status(batch) == IntakeBatch.Status.RECEIVED


def test_batch_with_nothing_to_ship_is_closed(ops, seller):
    batch, (first, second) = _batch(
        seller, "womens-tops", draft_for("womens-tops", fulfilment="self_ship", declared_value_fen=10_000)
    )
    services.item_prescreen(item_id=first.pk, actor=ops.clerk, accept=False, reason="season")
    services.item_prescreen(item_id=second.pk, actor=ops.clerk, accept=True)
    assert _status(batch) == IntakeBatch.Status.CLOSED
    with pytest.raises(services.PipelineError) as error:
        services.batch_mark_shipped(batch_id=batch.pk, seller=seller, carrier="顺丰", tracking_number="SF1")
    assert error.value.code == "batch_not_shippable"


def test_batch_is_screened_when_the_other_item_is_withdrawn_during_screening(ops, seller):
    batch, (first, second) = _batch(seller, "womens-tops", "bags-tote")
    services.item_prescreen(item_id=first.pk, actor=ops.clerk, accept=True)
    services.seller_withdraw(item_id=second.pk, seller=seller)
    assert _status(batch) == IntakeBatch.Status.SCREENED


def test_batch_whose_accepted_items_are_all_withdrawn_is_closed(ops, seller):
    # Given a screened batch with two accepted items
    batch, (first, second) = _batch(seller, "womens-tops", "bags-tote")
    for item in (first, second):
        services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)
    assert _status(batch) == IntakeBatch.Status.SCREENED

    # When the seller withdraws both before shipping
    services.seller_withdraw(item_id=first.pk, seller=seller)
    assert _status(batch) == IntakeBatch.Status.SCREENED
    services.seller_withdraw(item_id=second.pk, seller=seller)

    # Then there is nothing left to ship
    assert _status(batch) == IntakeBatch.Status.CLOSED
    with pytest.raises(services.PipelineError):
        services.batch_mark_shipped(batch_id=batch.pk, seller=seller, carrier="顺丰", tracking_number="SF1")


def test_batch_is_received_when_the_rest_is_withdrawn_after_an_early_arrival(ops, seller):
    batch, (first, second) = _batch(seller, "womens-tops", "bags-tote")
    for item in (first, second):
        services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)
    services.item_receive(item_id=first.pk, actor=ops.clerk)  # arrived without a shipping notice
    assert _status(batch) == IntakeBatch.Status.SCREENED
    services.seller_withdraw(item_id=second.pk, seller=seller)
    assert _status(batch) == IntakeBatch.Status.RECEIVED


def test_batch_is_received_when_an_item_arrived_before_the_rest_was_screened(ops, seller):
    batch, (first, second) = _batch(seller, "womens-tops", "bags-tote")
    services.item_prescreen(item_id=first.pk, actor=ops.clerk, accept=True)
    services.item_receive(item_id=first.pk, actor=ops.clerk)
    assert _status(batch) == IntakeBatch.Status.SUBMITTED
    services.item_prescreen(item_id=second.pk, actor=ops.clerk, accept=False, reason="brand")
    assert _status(batch) == IntakeBatch.Status.RECEIVED


# --- labels, liability, loss ----------------------------------------------------------------------------------------


def _check_digit_ok(code: str) -> bool:
    digits = code[2:]
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(digits[:-1]))
    return (total + int(digits[-1])) % 10 == 0


def test_label_codes_carry_a_valid_check_digit_and_are_unique():
    assert services.label_code_for(1) == "EH00000017"
    assert services.label_code_for(1234567) == "EH12345670"
    codes = [services.label_code_for(n) for n in range(1, 5_001)]
    assert len(set(codes)) == 5_000
    assert all(code.startswith("EH") and len(code) == 10 and _check_digit_ok(code) for code in codes)
    # A single wrong digit is detected
    assert not _check_digit_ok("EH00000027")
    assert _check_digit_ok(services.label_code_for(12_345_678))


def test_received_items_get_distinct_labels_that_find_them(ops, seller):
    items = [drive_to(submit_item(seller, "womens-tops"), S.RECEIVED, ops) for _ in range(3)]
    labels = [Consignment.objects.get(item=item).label_code for item in items]
    assert labels == [services.label_code_for(item.pk) for item in items]
    assert len(set(labels)) == 3
    assert selectors.item_by_label(labels[1].lower()) == items[1]
    assert selectors.item_by_label(f"https://erhuo.example/l/{labels[2]}/") == items[2]


@pytest.mark.parametrize(("declared", "liability"), [(20_000, 20_000), (5_000_000, 5_000_000), (9_000_000, 5_000_000)])
def test_liability_is_the_declared_value_up_to_the_cap(declared, liability, ops, seller):
    assert services.LIABILITY_CAP_FEN == 5_000_000
    item = drive_to(submit_item(seller, "luxury-bags", declared_value_fen=declared), S.RECEIVED, ops)
    assert Consignment.objects.get(item=item).liability_fen == liability


def test_record_loss_is_owner_only_and_needs_a_note(ops, seller):
    item = drive_to(submit_item(seller, "luxury-bags", declared_value_fen=9_000_000), S.GRADED, ops)
    before = snapshot(item)
    for who in (ops.clerk, ops.authenticator, seller, None):
        with pytest.raises(PermissionRefused) as error:
            services.item_record_loss(item_id=item.pk, actor=who, note="丢了")
        assert error.value.code == "loss_permission_denied"
    with pytest.raises(ValidationFailed) as error:
        services.item_record_loss(item_id=item.pk, actor=ops.owner, note="  ")
    assert error.value.code == "note_required"
    assert snapshot(item) == before

    services.item_record_loss(item_id=item.pk, actor=ops.owner, note="仓库漏水，包身受损")
    item.refresh_from_db()
    assert item.status == S.LOST
    row = item.transitions.order_by("-pk").first()
    assert (row.from_state, row.actor, row.note, row.data) == (
        S.GRADED,
        ops.owner,
        "仓库漏水，包身受损",
        {"liability_fen": 5_000_000},
    )


def test_record_loss_refuses_a_self_ship_item(ops, seller):
    item = drive_to(
        submit_item(seller, "womens-tops", fulfilment="self_ship", declared_value_fen=10_000), S.LISTED, ops
    )
    before = snapshot(item)
    with pytest.raises(services.PipelineError) as error:
        services.item_record_loss(item_id=item.pk, actor=ops.owner, note="丢了")
    assert error.value.code == "self_ship_item"
    assert snapshot(item) == before


# --- two operators at once ------------------------------------------------------------------------------------------


def _stale_reads(monkeypatch, stale: Item):
    """The second operator read the item before the first one's move committed (no row lock on SQLite)."""
    monkeypatch.setattr(services, "_locked_item", lambda item_id: stale)


def test_two_operators_prescreening_at_once_one_wins(ops, seller, monkeypatch):
    # Given two clerks with the item open
    item = submit_item(seller, "womens-tops")
    other_clerk = UserFactory(roles=[roles.INTAKE_CLERK])
    stale = Item.objects.select_related("category", "brand").get(pk=item.pk)

    # When the first accepts and the second, from her stale copy, rejects
    services.item_prescreen(item_id=item.pk, actor=ops.clerk, accept=True)
    _stale_reads(monkeypatch, stale)
    with pytest.raises(states.StateChanged) as error:
        services.item_prescreen(item_id=item.pk, actor=other_clerk, accept=False, reason="condition", note="旧")
    monkeypatch.undo()

    # Then the second is told, and only the first move is recorded
    assert error.value.code == "state_changed"
    assert error.value.status == 409
    assert chain(item) == [("", S.SUBMITTED), (S.SUBMITTED, S.ACCEPTED)]
    consignment = Consignment.objects.get(item=item)
    assert (consignment.rejection_reason, consignment.rejection_note) == ("", "")
    assert Item.objects.get(pk=item.pk).status == S.ACCEPTED

    # And a second call with a fresh read is refused as an illegal move
    with pytest.raises(states.TransitionNotAllowed):
        services.item_prescreen(item_id=item.pk, actor=other_clerk, accept=True)
    assert len(chain(item)) == 2


@pytest.mark.parametrize("start", [S.ACCEPTED, S.IN_TRANSIT])
def test_two_operators_receiving_at_once_one_wins(start, ops, seller, monkeypatch):
    item = drive_to(submit_item(seller, "womens-tops"), start, ops)
    other_clerk = UserFactory(roles=[roles.INTAKE_CLERK])
    stale = Item.objects.select_related("category", "brand").get(pk=item.pk)
    services.item_receive(item_id=item.pk, actor=ops.clerk, photos=[photo(K.RECEIVED)])
    after_first = snapshot(item)

    _stale_reads(monkeypatch, stale)
    with pytest.raises(states.StateChanged):
        services.item_receive(item_id=item.pk, actor=other_clerk, photos=[photo(K.RECEIVED)])
    monkeypatch.undo()
    assert snapshot(item) == after_first  # no second row, photo or file
    assert [r for r in chain(item) if r[1] == S.RECEIVED] == [(S.IN_TRANSIT, S.RECEIVED)]

    with pytest.raises(states.TransitionNotAllowed):
        services.item_receive(item_id=item.pk, actor=other_clerk)
    assert snapshot(item) == after_first


def test_double_tapped_price_acceptance_lists_the_item_once(ops, seller, monkeypatch):
    # Given a priced item accepted twice at once (double tap), the second request reading before the first commits
    item = drive_to(submit_item(seller, "womens-tops"), S.PRICED, ops)
    stale = Item.objects.select_related("category", "brand").get(pk=item.pk)
    services.seller_price_accept(item_id=item.pk, seller=seller)
    _stale_reads(monkeypatch, stale)
    with pytest.raises(states.StateChanged):
        services.seller_price_accept(item_id=item.pk, seller=seller, floor_price_fen=1_000)
    monkeypatch.undo()

    # Then it is listed once, and the losing request's floor was not written
    assert [r for r in chain(item) if r[1] == S.LISTED] == [(S.PRICED, S.LISTED)]
    assert Item.objects.get(pk=item.pk).floor_price_fen is None


def _prescreen_with_busy_wait(**kwargs):
    """SQLite's shared in-memory test database answers "table is locked" at once where a file database
    (production: WAL, IMMEDIATE transactions, a 20 s busy timeout) waits for the other writer; wait here."""
    from django.db import OperationalError

    for _attempt in range(200):
        try:
            return services.item_prescreen(**kwargs)
        except OperationalError as error:
            if connection.vendor != "sqlite" or "locked" not in str(error):
                raise
            time.sleep(0.01)
    raise AssertionError("the database stayed locked")


@pytest.mark.django_db(transaction=True)
def test_two_threads_prescreening_at_once_one_wins(catalog_reference_data, seller_and_ops_committed):
    """Two real connections at once: one move wins, the other is told, one row."""
    item, clerks = seller_and_ops_committed
    barrier = threading.Barrier(2)
    outcomes = []

    def work(clerk, accept):
        try:
            barrier.wait(timeout=5)
            _prescreen_with_busy_wait(item_id=item.pk, actor=clerk, accept=accept, reason="condition")
            outcomes.append("ok")
        except (states.StateChanged, states.TransitionNotAllowed) as error:
            outcomes.append(error.code)
        except Exception as error:  # reported by the assertion below
            outcomes.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(clerk, accept)) for clerk, accept in zip(clerks, (True, False))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) in (["ok", "state_changed"], ["ok", "transition_not_allowed"])
    rows = chain(item)
    assert len(rows) == 2
    assert rows[0] == ("", S.SUBMITTED)
    assert Item.objects.get(pk=item.pk).status == rows[1][1]


@pytest.fixture
def seller_and_ops_committed(transactional_db):
    seller = make_seller()
    item = submit_item(seller, "womens-tops")
    return item, [UserFactory(roles=[roles.INTAKE_CLERK]) for _ in range(2)]
