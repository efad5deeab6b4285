"""Random sequences of every pipeline action, by the right and the wrong people, against the guarantees.

Hypothesis drives the real services on items of the categories whose rules
matter (baby toys and clothes: disinfection; luxury bags and bags above the
threshold: authentication; women's tops: on-body photos; cheap self-ship
items). After every step it checks that:

- no item was ever listed (or got beyond) without its passing authentication
  report when it needs one, every required care step (disinfection for baby
  toys and clothes), and its photos;
- each item's chain of custody is continuous, starts from nothing, uses only
  moves of `Item.TRANSITIONS` (plus same-state markdown rows on listed items),
  and ends in the item's current status;
- a refused action (any DomainError) changed nothing: rows and files.

Each example runs inside a savepoint of the test's transaction and rolls it
back in `teardown()`, so every example starts from the same database.
"""

import itertools
import shutil
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import CareStep, Category, Grade, Item, ItemPhoto, ItemTransition
from erhuo.consignment import services
from erhuo.consignment.models import (
    AuthenticationReport,
    CareRecord,
    Consignment,
    IntakeBatch,
    RejectionReason,
    Station,
)
from erhuo.consignment.tests import factories
from erhuo.consignment.tests.factories import bad_upload, draft_for, make_seller, media_files, photo
from erhuo.core.errors import DomainError, NotFound, PermissionRefused

S = Item.Status
K = ItemPhoto.Kind

# (category slug, declared value, fulfilment, brand)
KINDS = {
    "baby_toy": ("baby-toys", 20_000, "platform", "LEGO"),
    "baby_clothes": ("baby-clothes", 15_000, "platform", "Balabala"),
    "luxury_bag": ("luxury-bags", 1_200_000, "platform", "Chanel"),
    "bag_above_threshold": ("bags-shoulder", 250_000, "platform", "Coach"),
    "bag_below_threshold": ("bags-shoulder", 150_000, "platform", "Coach"),
    "womens_top": ("womens-tops", 40_000, "platform", "COS"),
    "self_ship_top": ("womens-tops", 12_000, "self_ship", "UNIQLO"),
    "self_ship_diapers": ("baby-diapers", 8_000, "self_ship", "Pampers"),
    "self_ship_toy": ("baby-toys", 5_000, "self_ship", "LEGO"),  # refused: toys are disinfected by us
}
ON_THE_WAY = [
    S.SUBMITTED,
    S.ACCEPTED,
    S.IN_TRANSIT,
    S.RECEIVED,
    S.GRADED,
    S.AUTHENTICATED,
    S.CARED,
    S.PHOTOGRAPHED,
    S.PRICED,
]
REACHED_LISTED = {S.LISTED, S.RESERVED, S.SOLD, S.PACKED, S.SHIPPED, S.DELIVERED, S.COMPLETED}
DISINFECTED_CATEGORIES = {"baby-toys", "baby-clothes"}

# Who does each station's work on the happy path.
RIGHT = {
    Station.PRESCREEN: "clerk",
    Station.RECEIVE: "clerk",
    Station.GRADE: "clerk",
    Station.AUTHENTICATE: "authenticator",
    Station.CARE: "care",
    Station.PHOTOGRAPH: "photographer",
    Station.PRICE: "pricer",
    Station.RETURNS: "clerk",
}

WHO = st.sampled_from(["right", "right", "right", "owner", "wrong"])
PICK = st.integers(min_value=0, max_value=1_000)


@dataclass
class People:
    clerk: object
    authenticator: object
    care: object
    photographer: object
    pricer: object
    owner: object
    seller: object
    other_seller: object
    member: object

    @classmethod
    def create(cls):
        return cls(
            clerk=UserFactory(roles=[roles.INTAKE_CLERK]),
            authenticator=UserFactory(roles=[roles.AUTHENTICATOR]),
            care=UserFactory(roles=[roles.CARE_TECHNICIAN]),
            photographer=UserFactory(roles=[roles.PHOTOGRAPHER]),
            pricer=UserFactory(roles=[roles.COMMUNITY_MANAGER]),
            owner=UserFactory(roles=[roles.OWNER]),
            seller=make_seller(),
            other_seller=make_seller(),
            member=UserFactory(roles=[roles.MEMBER]),
        )

    def everyone(self):
        return [getattr(self, name) for name in self.__dataclass_fields__]

    def operators(self) -> factories.Operators:
        return factories.Operators(
            clerk=self.clerk,
            authenticator=self.authenticator,
            care=self.care,
            photographer=self.photographer,
            pricer=self.pricer,
            owner=self.owner,
        )


class PipelineMachine(RuleBasedStateMachine):
    people: People  # set by the test before running

    def __init__(self):
        super().__init__()
        self.savepoint = transaction.savepoint()
        self.items: list[int] = []
        self.kind_of: dict[int, str] = {}
        self.days = 0  # how far the clock has been advanced for the periodic settlements
        self.refusals: dict[str, int] = {}

    def teardown(self):
        transaction.savepoint_rollback(self.savepoint)
        # The rollback does not remove the photo files of this example.
        shutil.rmtree(django_settings.MEDIA_ROOT, ignore_errors=True)

    # --- helpers -----------------------------------------------------------------------------------------------

    def item(self, pick: int, *statuses: str) -> Item:
        """Mostly an item waiting for this action (so that sequences go deep), sometimes any item."""
        candidates = self.items
        if statuses and pick % 4:
            waiting = list(Item.objects.filter(pk__in=self.items, status__in=statuses).values_list("pk", flat=True))
            candidates = sorted(waiting) or self.items
        return Item.objects.select_related("category").get(pk=candidates[pick % len(candidates)])

    def operator(self, station: str, who: str, pick: int):
        if who == "right":
            return getattr(self.people, RIGHT[station])
        if who == "owner":
            return self.people.owner
        permission = services.STATION_PERMISSION[station]
        wrong = [user for user in self.people.everyone() if not user.has_perm(permission)]
        return wrong[pick % len(wrong)]

    def seller_of(self, item: Item, own: bool):
        if own:
            return item.seller
        return self.people.other_seller if item.seller_id == self.people.seller.pk else self.people.seller

    def state(self) -> dict:
        """Every row and file an action may write, for comparing before and after a refusal."""
        return {
            "items": list(Item.objects.order_by("pk").values()),
            "consignments": list(Consignment.objects.order_by("pk").values()),
            "batches": list(IntakeBatch.objects.order_by("pk").values()),
            "transitions": ItemTransition.objects.count(),
            "care_records": CareRecord.objects.count(),
            "reports": AuthenticationReport.objects.count(),
            "photos": ItemPhoto.objects.count(),
            "files": media_files(),
        }

    def attempt(self, action, *, refused: type[DomainError] | None = None, code: str | None = None):
        """Run an action; if it is refused, nothing may have changed. `refused`: it must be refused so."""
        before = self.state()
        try:
            result = action()
        except DomainError as error:
            assert self.state() == before, f"refused ({error.code}) but something changed"
            if refused is not None:
                assert isinstance(error, refused), error
                assert code is None or error.code == code, error.code
            self.refusals[error.code] = self.refusals.get(error.code, 0) + 1
            return None
        assert refused is None, f"{action} should have been refused with {code}"
        return result

    def station_attempt(self, station: str, who: str, pick: int, call):
        actor = self.operator(station, who, pick)
        if who == "wrong":
            self.attempt(lambda: call(actor), refused=PermissionRefused, code="station_permission_denied")
        else:
            self.attempt(lambda: call(actor))

    def seller_attempt(self, item: Item, own: bool, call):
        seller = self.seller_of(item, own)
        if own:
            self.attempt(lambda: call(seller))
        else:
            self.attempt(lambda: call(seller), refused=NotFound, code="item_not_found")

    # --- seller: submit, ship, answer, withdraw --------------------------------------------------------------

    @initialize(kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=3))
    def first_batch(self, kinds):
        self.submit(kinds=kinds, who="seller", bad_photo=False, donate=False, original=True, year=True)

    @rule(
        kinds=st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=3),
        who=st.sampled_from(["seller", "seller", "other_seller", "member"]),
        bad_photo=st.booleans(),
        donate=st.booleans(),
        original=st.booleans(),
        year=st.booleans(),
    )
    def submit(self, kinds, who, bad_photo, donate, original, year):
        seller = getattr(self.people, who)
        drafts = []
        for index, kind in enumerate(kinds):
            slug, declared, fulfilment, brand = KINDS[kind]
            photos = [photo(K.SELLER)]
            if bad_photo and index == len(kinds) - 1:
                photos.append(services.PhotoUpload(kind=K.SELLER, file=bad_upload()))
            drafts.append(
                draft_for(
                    slug,
                    declared_value_fen=declared,
                    fulfilment=fulfilment,
                    brand=brand,
                    photos=photos,
                    unsold_choice="donate" if donate else "return",
                    original_price_fen=declared * 2 if original else None,
                    purchase_year=timezone.localdate().year - 3 if year else None,
                )
            )
        must_refuse = who == "member" or bad_photo or "self_ship_toy" in kinds
        batch = self.attempt(lambda: services.batch_submit(seller=seller, drafts=drafts))
        assert (batch is None) == must_refuse, (who, bad_photo, kinds)
        if batch is not None:
            new = list(Item.objects.filter(consignment__batch=batch).order_by("pk").values_list("pk", flat=True))
            for item_id, kind in zip(new, kinds, strict=True):
                self.items.append(item_id)
                self.kind_of[item_id] = kind

    @precondition(lambda self: self.items)
    @rule(pick=PICK, own=st.booleans())
    def ship_batch(self, pick, own):
        item = self.item(pick, S.ACCEPTED)
        batch = IntakeBatch.objects.get(consignments__item=item)
        seller = self.seller_of(item, own)
        call = lambda: services.batch_mark_shipped(  # noqa: E731
            batch_id=batch.pk, seller=seller, carrier="顺丰", tracking_number="SF100"
        )
        if own:
            self.attempt(call)
        else:
            self.attempt(call, refused=NotFound, code="batch_not_found")

    @precondition(lambda self: self.items)
    @rule(pick=PICK, own=st.booleans(), accept=st.booleans())
    def repair_answer(self, pick, own, accept):
        item = self.item(pick, S.GRADED)
        self.seller_attempt(
            item, own, lambda seller: services.seller_repair_answer(item_id=item.pk, seller=seller, accept=accept)
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, own=st.booleans(), floor=st.sampled_from([None, "half", "equal", "above", "zero"]))
    def seller_accept(self, pick, own, floor):
        item = self.item(pick, S.PRICED)
        price = Consignment.objects.get(item=item).suggested_price_fen or 10_000
        floor_fen = {"half": price // 2, "equal": price, "above": price + 100, "zero": 0}.get(floor)
        self.seller_attempt(
            item,
            own,
            lambda seller: services.seller_price_accept(item_id=item.pk, seller=seller, floor_price_fen=floor_fen),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, own=st.booleans(), factor=st.sampled_from([0.5, 1.2, 2.0, 2.5]))
    def seller_counter(self, pick, own, factor):
        item = self.item(pick, S.PRICED)
        consignment = Consignment.objects.get(item=item)
        high = consignment.suggested_high_fen or 10_000
        self.seller_attempt(
            item,
            own,
            lambda seller: services.seller_price_counter(
                item_id=item.pk, seller=seller, counter_price_fen=int(high * factor)
            ),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, own=st.booleans(), changed_her_mind=st.integers(min_value=0, max_value=2))
    def withdraw(self, pick, own, changed_her_mind):
        if own and changed_her_mind:
            return  # sellers rarely withdraw: let most items go on
        item = self.item(pick)
        self.seller_attempt(item, own, lambda seller: services.seller_withdraw(item_id=item.pk, seller=seller))

    # --- stations ------------------------------------------------------------------------------------------------

    @precondition(lambda self: self.items)
    @rule(
        pick=PICK,
        who=WHO,
        accept=st.sampled_from([True, True, True, False]),
        reason=st.sampled_from([*RejectionReason.values, "", "bogus"]),
        note=st.sampled_from(["", "照片不清楚"]),
    )
    def prescreen(self, pick, who, accept, reason, note):
        item = self.item(pick, S.SUBMITTED)
        self.station_attempt(
            Station.PRESCREEN,
            who,
            pick,
            lambda actor: services.item_prescreen(
                item_id=item.pk, actor=actor, accept=accept, reason=reason, note=note
            ),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, who=WHO, with_photo=st.booleans())
    def receive(self, pick, who, with_photo):
        item = self.item(pick, S.ACCEPTED, S.IN_TRANSIT)
        photos = [photo(K.RECEIVED)] if with_photo else []
        self.station_attempt(
            Station.RECEIVE,
            who,
            pick,
            lambda actor: services.item_receive(item_id=item.pk, actor=actor, photos=photos),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, who=WHO, grade=st.sampled_from(Grade.values), defects=st.booleans(), repair=st.booleans())
    def grade(self, pick, who, grade, defects, repair):
        item = self.item(pick, S.RECEIVED)
        self.station_attempt(
            Station.GRADE,
            who,
            pick,
            lambda actor: services.item_grade(
                item_id=item.pk,
                actor=actor,
                grade=grade,
                defects="包角磨损" if defects else "",
                repair_quote_fen=3_000 if repair else None,
                repair_note="补色" if repair else "",
                photos=[photo(K.DEFECT)] if defects else [],
            ),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, who=WHO, passed=st.booleans(), checks=st.booleans(), evidence=st.booleans())
    def authenticate(self, pick, who, passed, checks, evidence):
        item = self.item(pick, S.GRADED)
        self.station_attempt(
            Station.AUTHENTICATE,
            who,
            pick,
            lambda actor: services.item_authenticate(
                item_id=item.pk,
                actor=actor,
                passed=passed,
                checks=[{"point": "刻印", "finding": "清晰", "ok": passed}] if checks else [],
                notes="五金与走线",
                photos=[photo(K.AUTHENTICATION)] if evidence else [],
            ),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, who=WHO, step=st.sampled_from([*CareStep.values, "bleach"]), with_photo=st.booleans())
    def care_record(self, pick, who, step, with_photo):
        item = self.item(pick, S.GRADED, S.AUTHENTICATED)
        photos = [photo(K.CARE)] if with_photo else []
        self.station_attempt(
            Station.CARE,
            who,
            pick,
            lambda actor: services.item_care_record(item_id=item.pk, actor=actor, step=step, photos=photos),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, who=WHO)
    def care_complete(self, pick, who):
        item = self.item(pick, S.GRADED, S.AUTHENTICATED)
        self.station_attempt(
            Station.CARE, who, pick, lambda actor: services.item_care_complete(item_id=item.pk, actor=actor)
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, who=WHO, kinds=st.lists(st.sampled_from([K.FLAT, K.ON_BODY, K.DETAIL, K.DEFECT]), max_size=3))
    def photograph(self, pick, who, kinds):
        item = self.item(pick, S.CARED)
        self.station_attempt(
            Station.PHOTOGRAPH,
            who,
            pick,
            lambda actor: services.item_photograph(
                item_id=item.pk, actor=actor, photos=[photo(kind) for kind in kinds]
            ),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, who=WHO, override=st.sampled_from([None, None, 5_000, 88_000, 0]))
    def price(self, pick, who, override):
        item = self.item(pick, S.PHOTOGRAPHED, S.ACCEPTED)
        self.station_attempt(
            Station.PRICE,
            who,
            pick,
            lambda actor: services.item_price(item_id=item.pk, actor=actor, price_fen=override),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, who=WHO, accept=st.booleans())
    def counter_answer(self, pick, who, accept):
        item = self.item(pick, S.PRICED)
        self.station_attempt(
            Station.PRICE,
            who,
            pick,
            lambda actor: services.item_counter_answer(item_id=item.pk, actor=actor, accept=accept),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, who=WHO)
    def return_shipped(self, pick, who):
        item = self.item(pick, S.RETURN_TO_SELLER)
        self.station_attempt(
            Station.RETURNS,
            who,
            pick,
            lambda actor: services.item_return_shipped(
                item_id=item.pk, actor=actor, carrier="中通", tracking_number="ZT1"
            ),
        )

    @precondition(lambda self: self.items)
    @rule(pick=PICK, owner=st.booleans(), note=st.sampled_from(["", "仓库漏水"]))
    def record_loss(self, pick, owner, note):
        item = self.item(pick)
        actor = self.people.owner if owner else self.people.clerk
        call = lambda: services.item_record_loss(item_id=item.pk, actor=actor, note=note)  # noqa: E731
        if owner:
            self.attempt(call)
        else:
            self.attempt(call, refused=PermissionRefused, code="loss_permission_denied")

    # --- diligent people: the next happy-path step, so that items do reach the end (three rules: more often) --------

    def _advance(self, pick, grade, repeat, fake=False):
        item = self.item(pick, *ON_THE_WAY)
        for _ in range(repeat):
            item.refresh_from_db()
            path = factories.SELF_SHIP_PATH if item.fulfilment == "self_ship" else factories.PLATFORM_PATH
            if item.status not in path or item.status == S.LISTED:
                return
            if fake and item.status == S.GRADED and Consignment.objects.get(item=item).needs_authentication:
                # The authenticator finds a fake: it goes back to its seller.
                self.attempt(
                    lambda: services.item_authenticate(
                        item_id=item.pk,
                        actor=self.people.authenticator,
                        passed=False,
                        checks=[{"point": "刻印", "finding": "字体不符", "ok": False}],
                        photos=[photo(K.AUTHENTICATION)],
                    )
                )
                return
            self.attempt(lambda: factories.happy_step(item, self.people.operators(), grade))

    @precondition(lambda self: self.items)
    @rule(pick=PICK, grade=st.sampled_from(Grade.values), repeat=st.integers(min_value=1, max_value=9))
    def advance(self, pick, grade, repeat):
        self._advance(pick, grade, repeat)

    @precondition(lambda self: self.items)
    @rule(pick=PICK, grade=st.sampled_from(Grade.values), repeat=st.integers(min_value=1, max_value=9))
    def advance_another(self, pick, grade, repeat):
        self._advance(pick, grade, repeat)

    @precondition(lambda self: self.items)
    @rule(pick=PICK, grade=st.sampled_from(Grade.values), repeat=st.integers(min_value=1, max_value=9))
    def advance_once_more(self, pick, grade, repeat):
        self._advance(pick, grade, repeat, fake=pick % 3 == 0)

    # --- the clock -----------------------------------------------------------------------------------------------

    @rule(days=st.integers(min_value=0, max_value=4))
    def price_deadlines(self, days):
        self.days += days
        services.price_deadlines_settle(now=timezone.now() + timedelta(days=self.days))

    @rule(days=st.integers(min_value=1, max_value=25))
    def unsold_settle(self, days):
        self.days += days
        services.unsold_items_settle(now=timezone.now() + timedelta(days=self.days))

    # --- the guarantees ------------------------------------------------------------------------------------------

    @invariant()
    def chain_of_custody_is_continuous(self):
        if not self.items:
            return
        statuses = dict(Item.objects.filter(pk__in=self.items).values_list("pk", "status"))
        chains: dict[int, list] = {pk: [] for pk in self.items}
        for row in ItemTransition.objects.filter(subject_id__in=self.items).order_by("subject_id", "pk"):
            chains[row.subject_id].append(row)
        for pk, rows in chains.items():
            assert rows, f"item {pk} has no chain"
            assert (rows[0].from_state, rows[0].to_state) == ("", S.SUBMITTED)
            for previous, row in itertools.pairwise(rows):
                assert row.from_state == previous.to_state, (pk, previous.to_state, row.from_state)
                if row.from_state == row.to_state:
                    # A markdown: a price change of a listed item, not a move.
                    assert row.to_state == S.LISTED and set(row.data) == {"from_price_fen", "to_price_fen"}, row
                else:
                    assert row.to_state in Item.TRANSITIONS[row.from_state], (pk, row.from_state, row.to_state)
            assert rows[-1].to_state == statuses[pk], (pk, rows[-1].to_state, statuses[pk])

    @invariant()
    def no_item_skips_a_guarantee(self):
        if not self.items:
            return
        items = {
            item.pk: item
            for item in Item.objects.filter(pk__in=self.items).select_related("category", "category__parent")
        }
        consignments = {c.item_id: c for c in Consignment.objects.filter(item_id__in=self.items)}
        reached: dict[int, set[str]] = {pk: set() for pk in self.items}
        for subject_id, to_state in ItemTransition.objects.filter(subject_id__in=self.items).values_list(
            "subject_id", "to_state"
        ):
            reached[subject_id].add(to_state)
        care: dict[int, set[str]] = {pk: set() for pk in self.items}
        for item_id, step in CareRecord.objects.filter(item_id__in=self.items).values_list("item_id", "step"):
            care[item_id].add(step)
        passed = set(
            AuthenticationReport.objects.filter(item_id__in=self.items, result="pass").values_list("item_id", flat=True)
        )
        failed = set(
            AuthenticationReport.objects.filter(item_id__in=self.items, result="fail").values_list("item_id", flat=True)
        )
        photos: dict[int, set[str]] = {pk: set() for pk in self.items}
        for item_id, kind in ItemPhoto.objects.filter(item_id__in=self.items).values_list("item_id", "kind"):
            photos[item_id].add(kind)

        for pk, item in items.items():
            consignment = consignments[pk]
            category: Category = item.category
            needs_auth = category.requires_authentication(consignment.declared_value_fen)
            required_care = set(category.effective_care_steps())
            ever_listed = bool(reached[pk] & REACHED_LISTED)
            assert not (pk in failed and ever_listed), f"item {pk} failed authentication and was listed"
            if item.fulfilment == Item.Fulfilment.SELF_SHIP:
                # It never passes our stations, so it must need none of them.
                assert not reached[pk] & {S.IN_TRANSIT, S.RECEIVED, S.GRADED, S.CARED, S.PHOTOGRAPHED}, pk
                if ever_listed:
                    assert not needs_auth, f"self-ship item {pk} listed without authentication"
                    assert CareStep.DISINFECT not in required_care, f"self-ship item {pk} listed undisinfected"
                continue
            if S.RECEIVED in reached[pk]:
                # The warehouse decided from the category's rules (checked independently here).
                assert consignment.needs_authentication == needs_auth, pk
                assert set(consignment.required_care_steps) == required_care, pk
            if reached[pk] & ({S.CARED} | REACHED_LISTED):
                if needs_auth:
                    assert pk in passed, f"item {pk} ({self.kind_of[pk]}) cared for or listed without authentication"
                missing = required_care - care[pk]
                assert not missing, f"item {pk} ({self.kind_of[pk]}) past care without {missing}"
                if category.slug in DISINFECTED_CATEGORIES:
                    assert CareStep.DISINFECT in care[pk], f"baby item {pk} past care undisinfected"
                if consignment.repair_consent == Consignment.RepairConsent.ACCEPTED:
                    assert CareStep.REPAIR in care[pk], pk
                assert consignment.repair_consent != Consignment.RepairConsent.ASKED, pk
            if CareStep.REPAIR in care[pk]:
                assert consignment.repair_consent == Consignment.RepairConsent.ACCEPTED, f"item {pk} repaired unasked"
            if reached[pk] & ({S.PHOTOGRAPHED} | REACHED_LISTED):
                assert K.FLAT in photos[pk], f"item {pk} photographed or listed without a flat photo"
                if category.effective_needs_on_body_photo():
                    assert K.ON_BODY in photos[pk], f"item {pk} without its on-body photo"
                if item.defects or item.grade == "C":
                    assert K.DEFECT in photos[pk], f"item {pk} with defects but no defect photo"
            if item.status == S.LISTED:
                assert item.price_fen and item.price_fen > 0, pk
                assert item.floor_price_fen is None or item.price_fen >= item.floor_price_fen, pk
                assert item.price_fen <= consignment.suggested_price_fen, pk

    @invariant()
    def batches_match_their_items(self):
        for batch_id, status in IntakeBatch.objects.values_list("pk", "status"):
            items = Item.objects.filter(consignment__batch_id=batch_id)
            if status in (IntakeBatch.Status.SCREENED, IntakeBatch.Status.SHIPPED, IntakeBatch.Status.CLOSED):
                assert not items.filter(status=S.SUBMITTED).exists(), (batch_id, status)
            if status == IntakeBatch.Status.CLOSED:
                assert not items.filter(status__in=[S.ACCEPTED, S.IN_TRANSIT], fulfilment="platform").exists()


SETTINGS = hypothesis_settings(
    max_examples=30,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


@pytest.mark.django_db
def test_random_pipeline_sequences_keep_the_guarantees(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    PipelineMachine.people = People.create()
    run_state_machine_as_test(PipelineMachine, settings=SETTINGS)
