"""Community API: micro-classes (微课) — reading, scheduling, sign-ups, attendance, materials and the replay.

- A class is readable by the active members of its groups, its speaker and
  operators: anyone else gets 404 `class_not_found`, as if it did not exist.
- Scheduling: operators (`community.manage_community`) into any group; a
  group's leader or assistant into the groups she runs, and only those (403
  `not_your_group` when one is another leader's, `not_group_admin` when she
  runs none); nothing is written when refused. Changing and cancelling: the
  operators and whoever runs every one of the class's groups. Starting,
  ending, materials and the replay: those, and the class's speaker.
- Times are ISO 8601 with their zone; pages show them in China time.
- Reads settle the clock first: a class whose time came is `live`, one whose
  time is over is `ended`, whether or not the background worker ran.
"""

from datetime import datetime
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Form, Query, Router, Schema, Status

from erhuo.accounts.models import User
from erhuo.community import selectors
from erhuo.community.models import ClassMaterial, ClassSignup, MicroClass
from erhuo.community.services import classes as services
from erhuo.core.api import ErrorOut
from erhuo.core.errors import NotFound, PermissionRefused, ValidationFailed

router = Router(tags=["community: classes"])

MAX_ID = 2**63 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- schemas ----------------------------------------------------------------------------------


class ClassGroupOut(Schema):
    id: int
    name: str


class SpeakerOut(Schema):
    username: str
    display_name: str


class MySignupOut(Schema):
    signed_up_at: datetime
    reminded_at: datetime | None
    attended_at: datetime | None
    cancelled_at: datetime | None = Field(..., description="Set when you gave up your place")


class ParticipationOut(Schema):
    signed_up: int = Field(..., description="Coming (sign-ups not given up)", examples=[38])
    reminded: int = Field(..., description="Of those, reminded before it started", examples=[38])
    attended: int = Field(..., examples=[29])
    cancelled: int = Field(..., description="Gave up their place", examples=[2])


class MaterialOut(Schema):
    id: int
    kind: str = Field(..., description="text, image or link", examples=["link"])
    title: str
    text: str
    image_url: str | None
    url: str
    created_at: datetime


class ClassOut(Schema):
    id: int = Field(..., examples=[7])
    title: str = Field(..., examples=["奢侈品包袋鉴定入门"])
    topic: str = Field(..., examples=["鉴定"])
    description: str
    status: str = Field(..., description="scheduled, live (on now), ended or cancelled", examples=["scheduled"])
    status_label: str
    starts_at: datetime = Field(..., examples=["2025-06-06T20:00:00+08:00"])
    ends_at: datetime
    duration_minutes: int = Field(..., examples=[45])
    capacity: int | None = Field(..., description="Places; null for no limit")
    signed_up: int = Field(..., description="How many are signed up and coming")
    speaker: SpeakerOut
    groups: list[ClassGroupOut]
    replay_url: str = Field(..., description="The replay's link once the class has ended; empty until then")
    signed_up_by_me: bool


class ClassDetailOut(ClassOut):
    attended: int
    mine: MySignupOut | None = Field(..., description="Your sign-up, if you signed up")
    materials: list[MaterialOut]
    can_manage: bool = Field(..., description="You may change, cancel, start and end it and see who signed up")
    participation: ParticipationOut | None = Field(
        ..., description="For its organisers (managers and the speaker); null for members"
    )
    cancel_reason: str


class ClassIn(Schema):
    title: str = Field(..., max_length=services.TITLE_MAX, examples=["奢侈品包袋鉴定入门"])
    topic: str = Field(..., max_length=services.TOPIC_MAX, examples=["鉴定"])
    description: str = Field("", max_length=services.DESCRIPTION_MAX)
    speaker: str = Field(..., max_length=40, description="The speaker's username (an expert)", examples=["shenwei"])
    starts_at: datetime = Field(..., description="With its zone; in the future", examples=["2025-06-06T20:00:00+08:00"])
    duration_minutes: int = Field(45, ge=services.MIN_MINUTES, le=services.MAX_MINUTES)
    capacity: int | None = Field(None, ge=1, le=services.MAX_CAPACITY, description="Places; null for no limit")
    group_ids: list[Id] = Field(..., min_length=1, max_length=services.MAX_GROUPS, examples=[[3, 4]])


class ClassPatchIn(Schema):
    title: str | None = Field(None, max_length=services.TITLE_MAX)
    topic: str | None = Field(None, max_length=services.TOPIC_MAX)
    description: str | None = Field(None, max_length=services.DESCRIPTION_MAX)
    speaker: str | None = Field(None, max_length=40, description="The speaker's username")
    starts_at: datetime | None = None
    duration_minutes: int | None = Field(None, ge=services.MIN_MINUTES, le=services.MAX_MINUTES)
    capacity: int | None = Field(None, ge=0, le=services.MAX_CAPACITY, description="0 for no limit")


class CancelIn(Schema):
    reason: str = Field(..., min_length=1, max_length=services.REASON_MAX, examples=["The speaker is ill"])


class AttendanceIn(Schema):
    user_id: Id = Field(..., description="The member who came (an active member of one of its groups)")


class ReplayIn(Schema):
    url: str = Field(..., max_length=services.URL_MAX, description="http(s) link; empty removes it")


class MaterialFormIn(Schema):
    kind: str = Field(..., description="text, image or link", examples=["text"])
    title: str = Field("", max_length=services.MATERIAL_TITLE_MAX)
    text: str = Field("", max_length=services.MATERIAL_TEXT_MAX, description="For a text")
    url: str = Field("", max_length=services.URL_MAX, description="For a link")


class SignupOut(Schema):
    user_id: int
    username: str
    display_name: str
    signed_up_at: datetime
    reminded_at: datetime | None
    attended_at: datetime | None
    cancelled_at: datetime | None


# --- shaping ----------------------------------------------------------------------------------


def _class(micro_class: MicroClass, user) -> dict:
    signed_up = getattr(micro_class, "signed_up_count", None)
    return {
        "id": micro_class.pk,
        "title": micro_class.title,
        "topic": micro_class.topic,
        "description": micro_class.description,
        "status": micro_class.status,
        "status_label": micro_class.get_status_display(),
        "starts_at": micro_class.starts_at,
        "ends_at": services.ends_at(micro_class),
        "duration_minutes": micro_class.duration_minutes,
        "capacity": micro_class.capacity,
        "signed_up": signed_up if signed_up is not None else selectors.class_participation(micro_class)["signed_up"],
        "speaker": {"username": micro_class.speaker.username, "display_name": micro_class.speaker.display_name},
        "groups": [{"id": group.pk, "name": group.name} for group in micro_class.groups.all()],
        "replay_url": micro_class.replay_url,
        "signed_up_by_me": bool(getattr(micro_class, "signed_up_by_me", False)),
    }


def _material(request, material: ClassMaterial) -> dict:
    return {
        "id": material.pk,
        "kind": material.kind,
        "title": material.title,
        "text": material.text,
        "image_url": request.build_absolute_uri(material.image.url) if material.image else None,
        "url": material.url,
        "created_at": material.created_at,
    }


def _signup(signup: ClassSignup | None) -> dict | None:
    if signup is None:
        return None
    return {
        "signed_up_at": signup.created_at,
        "reminded_at": signup.reminded_at,
        "attended_at": signup.attended_at,
        "cancelled_at": signup.cancelled_at,
    }


def _visible(request, class_id: int) -> MicroClass:
    services.classes_settle(class_ids=[class_id])
    micro_class = selectors.visible_class(request.user, class_id)
    if micro_class is None:
        raise NotFound(_("No such class."), code="class_not_found")
    return micro_class


def _manages(user, micro_class: MicroClass) -> bool:
    return services.may_manage(user, micro_class, group_ids=[group.pk for group in micro_class.groups.all()])


def _detail(request, class_id: int) -> dict:
    micro_class = _visible(request, class_id)
    manages = _manages(request.user, micro_class)
    participation = selectors.class_participation(micro_class)
    signup = selectors.class_signup_of(micro_class, request.user)
    micro_class.signed_up_count = participation["signed_up"]
    micro_class.signed_up_by_me = signup is not None and signup.cancelled_at is None
    cancel_reason = ""
    if micro_class.status == MicroClass.Status.CANCELLED:
        cancel_reason = (
            micro_class.transitions.filter(to_state=MicroClass.Status.CANCELLED).values_list("note", flat=True).first()
        ) or ""
    organiser = manages or micro_class.speaker_id == request.user.pk
    return {
        **_class(micro_class, request.user),
        "attended": participation["attended"],
        "mine": _signup(signup),
        "materials": [_material(request, material) for material in selectors.class_materials(micro_class)],
        "can_manage": manages,
        "participation": participation if organiser else None,
        "cancel_reason": cancel_reason,
    }


def _speaker(username: str) -> User | None:
    user = User.objects.filter(username=username.strip().lstrip("@")).first()
    if user is None:
        message = _("No member with this username.")
        raise ValidationFailed(message, code="speaker_not_found", fields={"speaker": [message]})
    return user


# --- reading ----------------------------------------------------------------------------------


@router.get(
    "/classes",
    response={200: list[ClassOut], 401: ErrorOut, 422: ErrorOut},
    summary="Classes I may read, soonest first",
)
def class_list(
    request,
    status: str = Query("", description="scheduled, live, ended or cancelled; empty for all"),
    group_id: int | None = Query(None, ge=1, le=MAX_ID, description="Only this group's classes"),
    limit: int = Query(50, ge=1, le=200),
    offset: int = Query(0, ge=0, le=100_000),
):
    """The classes of the groups you are an active member of, and those you give (operators: all)."""
    if status and status not in MicroClass.Status.values:
        raise ValidationFailed(_("Unknown value."), code="filter_invalid", fields={"status": [_("Unknown value.")]})
    services.classes_settle()
    classes = selectors.classes_for(request.user, status=status, group_id=group_id).prefetch_related("groups")
    return [_class(micro_class, request.user) for micro_class in classes[offset : offset + limit]]


@router.get("/classes/{int:class_id}", response={200: ClassDetailOut, **ERRORS}, summary="One class")
def class_detail(request, class_id: Id):
    """With its materials and your sign-up; its organisers also get `participation`."""
    return Status(200, _detail(request, class_id))


@router.get(
    "/classes/{int:class_id}/signups",
    response={200: list[SignupOut], **ERRORS},
    summary="Who signed up, was reminded and came (organisers)",
)
def class_signups(request, class_id: Id):
    micro_class = _visible(request, class_id)
    if micro_class.speaker_id != request.user.pk and not _manages(request.user, micro_class):
        raise PermissionRefused(_("Only the class's organisers see who signed up."), code="not_class_organiser")
    return [
        {
            "user_id": signup.user_id,
            "username": signup.user.username,
            "display_name": signup.user.display_name,
            "signed_up_at": signup.created_at,
            "reminded_at": signup.reminded_at,
            "attended_at": signup.attended_at,
            "cancelled_at": signup.cancelled_at,
        }
        for signup in selectors.class_signups(micro_class)
    ]


# --- scheduling -------------------------------------------------------------------------------


@router.post("/classes", response={201: ClassDetailOut, **ERRORS}, summary="Schedule a class into groups")
def class_create(request, payload: ClassIn):
    """403 `not_your_group` (a group is another leader's), `not_group_admin` (you run no group); 422
    `speaker_not_expert`, `speaker_not_found`, `class_starts_in_the_past`, `group_not_found`, `group_archived`, …
    Nothing is written when refused."""
    micro_class = services.class_create(
        actor=request.user,
        title=payload.title,
        topic=payload.topic,
        description=payload.description,
        speaker=_speaker(payload.speaker),
        starts_at=payload.starts_at,
        duration_minutes=payload.duration_minutes,
        capacity=payload.capacity,
        group_ids=payload.group_ids,
    )
    return Status(201, _detail(request, micro_class.pk))


@router.patch("/classes/{int:class_id}", response={200: ClassDetailOut, **ERRORS}, summary="Change a class")
def class_update(request, class_id: Id, payload: ClassPatchIn):
    """Only the fields sent. Before it starts only (409 `class_not_scheduled`); fewer places than sign-ups: 409
    `capacity_below_signups`. A new time tells the signed-up members and reminds them again."""
    _visible(request, class_id)
    changes = payload.dict(exclude_unset=True)
    if "speaker" in changes:
        changes["speaker"] = _speaker(changes["speaker"] or "")
    if "capacity" in changes and not changes["capacity"]:
        changes["capacity"] = None
    for required in ("title", "topic", "starts_at", "duration_minutes"):
        if required in changes and changes[required] is None:
            message = _("This field is required.")
            raise ValidationFailed(message, fields={required: [message]})
    services.class_update(class_id=class_id, actor=request.user, **changes)
    return Status(200, _detail(request, class_id))


@router.post("/classes/{int:class_id}/cancel", response={200: ClassDetailOut, **ERRORS}, summary="Cancel a class")
def class_cancel(request, class_id: Id, payload: CancelIn):
    """Before it starts only (409 `class_not_scheduled`). The members who signed up get a notice with the reason."""
    _visible(request, class_id)
    services.class_cancel(class_id=class_id, actor=request.user, reason=payload.reason)
    return Status(200, _detail(request, class_id))


@router.post("/classes/{int:class_id}/start", response={200: ClassDetailOut, **ERRORS}, summary="Start a class")
def class_start(request, class_id: Id):
    """The speaker or a manager, from 30 minutes before its time (409 `class_too_early`)."""
    _visible(request, class_id)
    services.class_start(class_id=class_id, actor=request.user)
    return Status(200, _detail(request, class_id))


@router.post("/classes/{int:class_id}/end", response={200: ClassDetailOut, **ERRORS}, summary="End a class")
def class_end(request, class_id: Id):
    _visible(request, class_id)
    services.class_end(class_id=class_id, actor=request.user)
    return Status(200, _detail(request, class_id))


# --- sign-ups and attendance ---------------------------------------------------------------------


@router.post("/classes/{int:class_id}/signup", response={200: ClassDetailOut, **ERRORS}, summary="Sign up")
def class_signup(request, class_id: Id):
    """For the active members of its groups. Again: the same sign-up (200). 409 `class_full`, `class_closed`."""
    _visible(request, class_id)
    services.class_signup(class_id=class_id, user=request.user)
    return Status(200, _detail(request, class_id))


@router.post(
    "/classes/{int:class_id}/signup/cancel", response={200: ClassDetailOut, **ERRORS}, summary="Give up my place"
)
def class_signup_cancel(request, class_id: Id):
    """404 `signup_not_found` if you had not signed up."""
    _visible(request, class_id)
    services.class_signup_cancel(class_id=class_id, user=request.user)
    return Status(200, _detail(request, class_id))


@router.post(
    "/classes/{int:class_id}/attend", response={200: ClassDetailOut, **ERRORS}, summary="I'm here (while it is on)"
)
def class_attend(request, class_id: Id):
    """Signed up, while the class is live: 409 `not_signed_up`, `class_not_live` otherwise."""
    _visible(request, class_id)
    services.class_attend(class_id=class_id, user=request.user)
    return Status(200, _detail(request, class_id))


@router.post(
    "/classes/{int:class_id}/attendance",
    response={200: list[SignupOut], **ERRORS},
    summary="Mark a member as having come (managers)",
)
def class_mark_attended(request, class_id: Id, payload: AttendanceIn):
    """Once the class has started (409 `class_not_started`); any active member of its groups (404
    `member_not_found` otherwise), signed up or not."""
    _visible(request, class_id)
    member = User.objects.filter(pk=payload.user_id).first()
    if member is None:
        raise NotFound(_("She is not a member of this class's groups."), code="member_not_found")
    services.class_attend(class_id=class_id, user=member, actor=request.user)
    return class_signups(request, class_id)


# --- materials and the replay ------------------------------------------------------------------------


@router.post(
    "/classes/{int:class_id}/materials",
    response={201: MaterialOut, **ERRORS, 413: ErrorOut},
    summary="Add a material: a text, a photo or a link (multipart)",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["kind"],
                        "properties": {
                            "kind": {"type": "string", "enum": list(ClassMaterial.Kind.values)},
                            "title": {"type": "string", "maxLength": services.MATERIAL_TITLE_MAX},
                            "text": {"type": "string", "maxLength": services.MATERIAL_TEXT_MAX},
                            "url": {"type": "string", "maxLength": services.URL_MAX},
                            "image": {"type": "string", "format": "binary"},
                        },
                    }
                }
            },
            "required": True,
        }
    },
)
def material_add(request, class_id: Id, payload: Form[MaterialFormIn]):
    """The speaker and managers. A photo is checked (JPEG, PNG or WebP) and re-encoded without its metadata;
    422 `image_invalid`, `material_kind_invalid`, `url_invalid`, `text_required`; 409 `materials_full`."""
    _visible(request, class_id)
    material = services.material_add(
        class_id=class_id,
        actor=request.user,
        kind=payload.kind,
        title=payload.title,
        text=payload.text,
        url=payload.url,
        image=request.FILES.get("image"),
    )
    return Status(201, _material(request, material))


@router.delete(
    "/classes/{int:class_id}/materials/{int:material_id}", response={204: None, **ERRORS}, summary="Remove a material"
)
def material_remove(request, class_id: Id, material_id: Id):
    micro_class = _visible(request, class_id)
    if not ClassMaterial.objects.filter(pk=material_id, micro_class=micro_class).exists():
        raise NotFound(_("No such material."), code="material_not_found")
    services.material_remove(material_id=material_id, actor=request.user)
    return Status(204, None)


@router.put("/classes/{int:class_id}/replay", response={200: ClassDetailOut, **ERRORS}, summary="Set the replay link")
def class_replay(request, class_id: Id, payload: ReplayIn):
    """Once the class has ended (409 `class_not_ended`); the members who signed up are told once."""
    _visible(request, class_id)
    services.class_replay_set(class_id=class_id, actor=request.user, url=payload.url)
    return Status(200, _detail(request, class_id))
