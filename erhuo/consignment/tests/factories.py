"""Helpers for consignment tests: images, submissions, and driving an item through the real services.

Stable API (other test modules import these):

    make_png(width=8, height=8) -> bytes
    png_upload(name="photo.png", width=8, height=8) -> SimpleUploadedFile
    photo(kind, name=None) -> services.PhotoUpload
    make_seller() -> User with the member and seller roles
    make_operators() -> Operators (one user per station role, plus the owner)
    submit_item(seller, category_slug, **overrides) -> Item   (one item in its own batch)
    drive_to(item, status, operators) -> Item   (the happy path, through the services)
    happy_step(item, operators, grade="A")   (one step of the happy path)
    snapshot(item) -> dict   (every row and file a refused action must leave unchanged)

`drive_to` uses the seller's own answers where the path needs them (accepting
the price) and records every required care step; it passes authentication
when the item needs it.
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.catalog.models import Brand, Category, ItemPhoto, ItemTransition
from erhuo.catalog.models import Item as ItemModel
from erhuo.consignment import services
from erhuo.consignment.models import AuthenticationReport, CareRecord, Consignment, IntakeBatch
from erhuo.core.testing import bad_upload, make_png, png_upload  # noqa: F401  (re-exported for the tests)

S = ItemModel.Status


def photo(kind: str, name: str | None = None) -> services.PhotoUpload:
    return services.PhotoUpload(kind=kind, file=png_upload(name or f"{kind}.png"))


def make_seller(*, level: str = "trusted", deposit: bool = True, **kwargs):
    """A seller who may consign: verified through the trust services, at `level`, with her deposit paid.

    Trusted by default, so that self-shipping is allowed unless a test says otherwise.
    """
    from erhuo.trust.models import SellerRecord
    from erhuo.trust.tests.factories import make_verification, pay_deposit

    user = UserFactory(roles=[roles.MEMBER], **kwargs)
    make_verification(user, status="approved")
    if level != "new":
        SellerRecord.objects.update_or_create(user=user, defaults={"level": level})
    if deposit:
        pay_deposit(user)
    return type(user).objects.get(pk=user.pk)  # fresh: roles are cached per instance


@dataclass
class Operators:
    clerk: object  # intake clerk: prescreen, receive, grade, returns
    authenticator: object
    care: object
    photographer: object
    pricer: object  # community manager: pricing
    owner: object  # every station, and recording losses

    def __getitem__(self, key):
        return getattr(self, key)


def make_operators() -> Operators:
    return Operators(
        clerk=UserFactory(roles=[roles.INTAKE_CLERK]),
        authenticator=UserFactory(roles=[roles.AUTHENTICATOR]),
        care=UserFactory(roles=[roles.CARE_TECHNICIAN]),
        photographer=UserFactory(roles=[roles.PHOTOGRAPHER]),
        pricer=UserFactory(roles=[roles.COMMUNITY_MANAGER]),
        owner=UserFactory(roles=[roles.OWNER]),
    )


def draft_for(category_slug: str, **overrides) -> services.ItemDraft:
    """An ItemDraft for a category given by slug; `brand` may name a brand, `photos` defaults to one seller photo."""
    category = Category.objects.get(slug=category_slug)
    brand_name = overrides.pop("brand", None)
    if brand_name is not None:
        overrides["brand_id"] = Brand.objects.get(name=brand_name).pk
    values = {
        "title": f"测试 {category.name}",
        "category_id": category.pk,
        "declared_value_fen": 20_000,
        "photos": [photo(ItemPhoto.Kind.SELLER)],
    }
    values.update(overrides)
    return services.ItemDraft(**values)


def submit_item(seller, category_slug: str, **overrides):
    """Submit one item (in a batch of its own) and return it."""
    batch = services.batch_submit(seller=seller, drafts=[draft_for(category_slug, **overrides)])
    return ItemModel.objects.get(consignment__batch=batch)


def _ops(operators) -> Operators:
    return Operators(**operators) if isinstance(operators, dict) else operators


def _photograph_kinds(item) -> list[str]:
    kinds = [ItemPhoto.Kind.FLAT]
    if item.category.effective_needs_on_body_photo():
        kinds.append(ItemPhoto.Kind.ON_BODY)
    if item.defects or item.grade == "C":
        kinds.append(ItemPhoto.Kind.DEFECT)
    return kinds


# The platform path, in order; self-ship items skip from accepted to priced.
PLATFORM_PATH = [
    S.SUBMITTED,
    S.ACCEPTED,
    S.IN_TRANSIT,
    S.RECEIVED,
    S.GRADED,
    S.AUTHENTICATED,
    S.CARED,
    S.PHOTOGRAPHED,
    S.PRICED,
    S.LISTED,
]
SELF_SHIP_PATH = [S.SUBMITTED, S.ACCEPTED, S.PRICED, S.LISTED]


def happy_step(item, operators: Operators, grade: str = "A"):
    """Move the item one step along its happy path."""
    status = item.status
    if status == S.SUBMITTED:
        services.item_prescreen(item_id=item.pk, actor=operators.clerk, accept=True)
    elif status == S.ACCEPTED and item.fulfilment == ItemModel.Fulfilment.SELF_SHIP:
        services.item_price(item_id=item.pk, actor=operators.pricer)
    elif status == S.ACCEPTED:
        batch = IntakeBatch.objects.get(consignments__item=item)
        if batch.status == IntakeBatch.Status.SCREENED:
            services.batch_mark_shipped(batch_id=batch.pk, seller=item.seller, carrier="顺丰", tracking_number="SF1")
        else:
            services.item_receive(item_id=item.pk, actor=operators.clerk)
    elif status == S.IN_TRANSIT:
        services.item_receive(item_id=item.pk, actor=operators.clerk)
    elif status == S.RECEIVED:
        defects = "袖口轻微起球" if grade == "C" else ""
        services.item_grade(item_id=item.pk, actor=operators.clerk, grade=grade, defects=defects)
    elif status == S.GRADED and Consignment.objects.get(item=item).needs_authentication:
        services.item_authenticate(
            item_id=item.pk,
            actor=operators.authenticator,
            passed=True,
            checks=[{"point": "stitching", "finding": "even", "ok": True}],
            photos=[photo(ItemPhoto.Kind.AUTHENTICATION)],
        )
    elif status in (S.GRADED, S.AUTHENTICATED):
        consignment = Consignment.objects.get(item=item)
        if consignment.repair_consent == Consignment.RepairConsent.ASKED:
            services.seller_repair_answer(item_id=item.pk, seller=item.seller, accept=False)
            consignment.refresh_from_db()
        done = set(item.care_records.values_list("step", flat=True))
        for step in services.missing_care_steps(consignment, done):
            services.item_care_record(item_id=item.pk, actor=operators.care, step=step)
        services.item_care_complete(item_id=item.pk, actor=operators.care)
    elif status == S.CARED:
        services.item_photograph(
            item_id=item.pk, actor=operators.photographer, photos=[photo(kind) for kind in _photograph_kinds(item)]
        )
    elif status == S.PHOTOGRAPHED:
        services.item_price(item_id=item.pk, actor=operators.pricer)
    elif status == S.PRICED:
        services.seller_price_accept(item_id=item.pk, seller=item.seller)
    else:
        raise AssertionError(f"no happy-path step from {status}")


def drive_to(item, status: str, operators, *, grade: str = "A"):
    """Move `item` along its happy path, through the real services, until it is in `status`.

    `authenticated` is skipped for items that do not need authentication
    (asking for it stops at `graded`).
    """
    operators = _ops(operators)
    item.refresh_from_db()
    path = SELF_SHIP_PATH if item.fulfilment == ItemModel.Fulfilment.SELF_SHIP else PLATFORM_PATH
    if status not in path:
        raise AssertionError(f"{status} is not on the happy path of a {item.fulfilment} item")
    target = path.index(status)
    for _ in range(len(path) + 2):
        if item.status == status or path.index(item.status) >= target:
            return item
        if (
            status == S.AUTHENTICATED
            and item.status == S.GRADED
            and not Consignment.objects.get(item=item).needs_authentication
        ):
            return item
        happy_step(item, operators, grade)
        item.refresh_from_db()
    raise AssertionError(f"could not drive item {item.pk} to {status}; it is {item.status}")


def media_files() -> list[str]:
    """Every file under MEDIA_ROOT, relative, sorted."""
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def snapshot(item) -> dict:
    """The item, its consignment and batch rows, its chain, care records, reports, photos, and the media files."""
    return {
        "item": ItemModel.objects.filter(pk=item.pk).values().get(),
        "consignment": Consignment.objects.filter(item_id=item.pk).values().get(),
        "batch": IntakeBatch.objects.filter(consignments__item_id=item.pk).values().get(),
        "transitions": list(
            ItemTransition.objects.filter(subject_id=item.pk).order_by("pk").values_list("pk", "from_state", "to_state")
        ),
        "care_records": list(CareRecord.objects.filter(item_id=item.pk).order_by("pk").values_list("pk", "step")),
        "reports": list(AuthenticationReport.objects.filter(item_id=item.pk).values_list("pk", "result")),
        "photos": list(ItemPhoto.objects.filter(item_id=item.pk).order_by("pk").values_list("pk", "kind")),
        "files": media_files(),
    }
