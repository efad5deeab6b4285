"""Communities (社群): tags, segments, groups and memberships, invites and admission, placement,
drops of community items into groups, micro-classes (微课) and activities (ADR 12).

- A **tag** belongs to one dimension (category of interest, size, style, child's
  age, spending tier, lifestyle, city); operators manage the taxonomy. A member
  carries tags with a source (questionnaire, behaviour, operator) and a weight.
- A **segment** is a tag rule (`rule`: every tag of `all`, at least one of
  `any`, none of `none`); its groups are numbered ("女装·轻奢 3群"). When every
  open group of a segment is full, the next one opens.
- A **membership** is one member in one group, with a role (member, assistant,
  leader) and a status (pending approval, active, left, removed, banned).
- An **invite** opens admission: a community invite places the newcomer by the
  questionnaire; a group invite proposes that group first.
- A **placement run** computes proposed moves for mixed groups; an operator
  approves or rejects each.
- A **drop** puts one item or a set into groups at a time; a community-only item
  is visible only to active members of the groups it was dropped into.
- A **micro-class** has a speaker, target groups, sign-ups, reminders,
  attendance, materials and a replay.
- An **activity** is a buy-with-gift offer, a giveaway with a committed seed and
  entrants list (anyone can re-check the winner), or a themed drop.

Lifecycles go through `core.states.transition` with an audit row per move.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from erhuo.core.models import AuditTransition, TimeStampedModel
from erhuo.core.pii import EncryptedTextField

DEFAULT_GROUP_CAPACITY = 500


# --- tags --------------------------------------------------------------------------------------


class Dimension(models.TextChoices):
    CATEGORY = "category", _("Categories of interest")
    SIZE = "size", _("Sizes")
    STYLE = "style", _("Styles")
    CHILD_AGE = "child_age", _("Children's ages")
    SPENDING = "spending", _("Spending tier")
    LIFESTYLE = "lifestyle", _("Lifestyle")
    CITY = "city", _("City")


class Tag(TimeStampedModel):
    """One value of a dimension, e.g. 女装 (category), M (size), 0–3岁 (child's age), 轻奢 (spending)."""

    dimension = models.CharField(_("dimension"), max_length=16, choices=Dimension.choices)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=40)
    sort = models.PositiveSmallIntegerField(_("order"), default=0)
    active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["dimension", "sort", "pk"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [models.UniqueConstraint(fields=["dimension", "name"], name="tag_name_unique_in_dimension")]

    def __str__(self):
        return self.name


class MemberTag(models.Model):
    """A tag a member carries, from one source, with a weight in 0..1. One row per (member, tag, source)."""

    class Source(models.TextChoices):
        QUESTIONNAIRE = "questionnaire", _("Questionnaire")
        BEHAVIOUR = "behaviour", _("Behaviour")
        OPERATOR = "operator", _("Operator")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="member_tags")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="member_tags")
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    weight = models.FloatField(_("weight"), default=1.0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("member tag")
        verbose_name_plural = _("member tags")
        constraints = [
            models.UniqueConstraint(fields=["user", "tag", "source"], name="member_tag_unique"),
            models.CheckConstraint(condition=Q(weight__gte=0) & Q(weight__lte=1), name="member_tag_weight_0_1"),
        ]
        indexes = [models.Index(fields=["tag", "source"], name="member_tag_by_tag")]

    def __str__(self):
        return f"{self.user_id}:{self.tag_id} ({self.source} {self.weight:.2f})"


class MemberProfile(TimeStampedModel):
    """What a member told us when she joined: the questionnaire's answers, kept as given."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="community_profile")
    answers = models.JSONField(_("questionnaire answers"), default=dict, blank=True)
    onboarded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # Banned from the whole community by an operator: no invite admits her, no group takes her.
    banned_at = models.DateTimeField(_("banned at"), null=True, blank=True)
    ban_reason = models.CharField(_("ban reason"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("community profile")
        verbose_name_plural = _("community profiles")


# --- segments and groups -------------------------------------------------------------------------


class Segment(TimeStampedModel):
    """A tag rule that defines who a family of groups is for, e.g. 女装 + 轻奢, or 母婴 + 0–3岁."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    slug = models.SlugField(_("code"), max_length=40, unique=True)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # {"all": [tag codes], "any": [tag codes], "none": [tag codes]}; validated by the service.
    rule = models.JSONField(_("tag rule"), default=dict)
    capacity = models.PositiveIntegerField(_("capacity of its groups"), default=DEFAULT_GROUP_CAPACITY)
    active = models.BooleanField(_("open to newcomers"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")

    def __str__(self):
        return self.name


class Group(TimeStampedModel):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        FULL = "full", _("Full")
        ARCHIVED = "archived", _("Archived")

    class JoinPolicy(models.TextChoices):
        OPEN = "open", _("Anyone placed here joins")
        APPROVAL = "approval", _("The leader approves each join")

    S = Status
    TRANSITIONS = {
        S.OPEN: {S.FULL, S.ARCHIVED},
        S.FULL: {S.OPEN, S.ARCHIVED},
        S.ARCHIVED: set(),
    }

    segment = models.ForeignKey(Segment, on_delete=models.PROTECT, related_name="groups", null=True, blank=True)
    # Within its segment: 1, 2, 3 … ("女装·轻奢 3群"); null for a group outside any segment (an expert's own).
    number = models.PositiveSmallIntegerField(_("number"), null=True, blank=True)
    name = models.CharField(_("name"), max_length=60)
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("leader"), on_delete=models.PROTECT, related_name="led_groups"
    )
    capacity = models.PositiveIntegerField(_("capacity"), default=DEFAULT_GROUP_CAPACITY)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    join_policy = models.CharField(_("joining"), max_length=16, choices=JoinPolicy.choices, default=JoinPolicy.OPEN)
    # Active members (leader and assistants included), kept by the membership services under the group's lock.
    member_count = models.PositiveIntegerField(_("members"), default=0)
    invite_code = models.CharField(_("invite code"), max_length=16, unique=True)
    wechat_group_id = models.CharField(_("WeChat group it mirrors"), max_length=64, blank=True)
    announcement = models.TextField(_("announcement"), blank=True, max_length=1000)

    class Meta:
        ordering = ["segment__name", "number", "pk"]
        verbose_name = _("group")
        verbose_name_plural = _("groups")
        permissions = [
            ("manage_community", _("Can manage tags, segments, groups, placement, drops, classes and activities")),
        ]
        constraints = [
            models.UniqueConstraint(fields=["segment", "number"], name="group_number_unique_in_segment"),
            models.CheckConstraint(condition=Q(capacity__gte=2), name="group_capacity_at_least_2"),
        ]
        indexes = [models.Index(fields=["segment", "status"], name="group_by_segment_status")]

    def __str__(self):
        return self.name

    @property
    def is_full(self) -> bool:
        return self.member_count >= self.capacity


class GroupTransition(AuditTransition):
    subject = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="transitions")


class Membership(TimeStampedModel):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        ASSISTANT = "assistant", _("Assistant")
        LEADER = "leader", _("Leader")

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the leader")
        ACTIVE = "active", _("Member")
        REJECTED = "rejected", _("Not admitted")
        LEFT = "left", _("Left")
        REMOVED = "removed", _("Removed")
        MOVED = "moved", _("Moved to another group")

    class Source(models.TextChoices):
        PLACEMENT = "placement", _("Placed by the questionnaire")
        INVITE = "invite", _("Group invite")
        CHOSEN = "chosen", _("Chose it among the offered groups")
        MOVE = "move", _("Moved by an operator")
        OPERATOR = "operator", _("Added by an operator")

    S = Status
    TRANSITIONS = {
        S.PENDING: {S.ACTIVE, S.REJECTED, S.LEFT},
        S.ACTIVE: {S.LEFT, S.REMOVED, S.MOVED},
        S.REJECTED: set(),
        S.LEFT: set(),
        S.REMOVED: set(),
        S.MOVED: set(),
    }
    LIVE = (S.PENDING, S.ACTIVE)

    group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(_("how she came"), max_length=16, choices=Source.choices, default=Source.PLACEMENT)
    # How well she fitted the group when she joined (0..1), for the leader's and operators' pages.
    fit = models.FloatField(_("fit"), null=True, blank=True)
    joined_at = models.DateTimeField(_("joined at"), null=True, blank=True)
    muted_until = models.DateTimeField(_("muted until"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status since"), null=True, blank=True)

    class Meta:
        ordering = ["group", "-role", "joined_at", "pk"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            # One live place per member and group (a past one may stay beside it).
            models.UniqueConstraint(
                fields=["group", "user"], condition=Q(status__in=["pending", "active"]), name="membership_one_live"
            ),
        ]
        indexes = [
            models.Index(fields=["user", "status"], name="membership_by_user"),
            models.Index(fields=["group", "status", "role"], name="membership_by_group"),
        ]

    def __str__(self):
        return f"{self.user_id} in {self.group_id} ({self.role}, {self.status})"


class MembershipTransition(AuditTransition):
    subject = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="transitions")


class Invite(TimeStampedModel):
    """A link (and QR code) that admits newcomers: to the community (placed by the questionnaire) or one group."""

    code = models.CharField(_("code"), max_length=16, unique=True)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, null=True, blank=True, related_name="invites")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    label = models.CharField(_("label"), max_length=60, blank=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    max_uses = models.PositiveIntegerField(_("uses allowed"), null=True, blank=True)
    uses = models.PositiveIntegerField(_("used"), default=0)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invite")
        verbose_name_plural = _("invites")

    def __str__(self):
        return self.code


# --- placement -----------------------------------------------------------------------------------


class PlacementRun(TimeStampedModel):
    """One computation of the groups' purity and the moves that would make them purer."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    # {group id: purity 0..1} before, and as it would be with every proposed move applied.
    purity_before = models.JSONField(default=dict)
    purity_after = models.JSONField(default=dict)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("placement run")
        verbose_name_plural = _("placement runs")


class ProposedMove(TimeStampedModel):
    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        APPROVED = "approved", _("Approved and applied")
        REJECTED = "rejected", _("Rejected")
        STALE = "stale", _("No longer possible")

    S = Status
    TRANSITIONS = {
        S.PROPOSED: {S.APPROVED, S.REJECTED, S.STALE},
        S.APPROVED: set(),
        S.REJECTED: set(),
        S.STALE: set(),
    }

    run = models.ForeignKey(PlacementRun, on_delete=models.CASCADE, related_name="moves")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    from_group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    to_group = models.ForeignKey(Group, on_delete=models.PROTECT, related_name="+")
    fit_before = models.FloatField(_("fit now"))
    fit_after = models.FloatField(_("fit after the move"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["run", "-fit_after", "pk"]
        verbose_name = _("proposed move")
        verbose_name_plural = _("proposed moves")


class ProposedMoveTransition(AuditTransition):
    subject = models.ForeignKey(ProposedMove, on_delete=models.PROTECT, related_name="transitions")


# --- drops ---------------------------------------------------------------------------------------


class Drop(TimeStampedModel):
    """Items posted into groups at a time. Community-only items are visible to those groups' members only."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("Live")
        CANCELLED = "cancelled", _("Cancelled")

    S = Status
    TRANSITIONS = {S.SCHEDULED: {S.LIVE, S.CANCELLED}, S.LIVE: set(), S.CANCELLED: set()}

    title = models.CharField(_("title"), max_length=80, blank=True)
    items = models.ManyToManyField("catalog.Item", related_name="drops", verbose_name=_("items"))
    groups = models.ManyToManyField(Group, related_name="drops", verbose_name=_("groups"))
    drop_at = models.DateTimeField(_("drops at"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The themed drop (sales party) it belongs to, if any.
    activity = models.ForeignKey(
        "community.Activity", on_delete=models.SET_NULL, null=True, blank=True, related_name="drops"
    )

    class Meta:
        ordering = ["-drop_at", "-pk"]
        verbose_name = _("drop")
        verbose_name_plural = _("drops")
        indexes = [models.Index(fields=["status", "drop_at"], name="drop_due")]


class DropTransition(AuditTransition):
    subject = models.ForeignKey(Drop, on_delete=models.PROTECT, related_name="transitions")


# --- micro-classes -------------------------------------------------------------------------------


class MicroClass(TimeStampedModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        LIVE = "live", _("On now")
        ENDED = "ended", _("Ended")
        CANCELLED = "cancelled", _("Cancelled")

    S = Status
    TRANSITIONS = {
        S.SCHEDULED: {S.LIVE, S.ENDED, S.CANCELLED},
        S.LIVE: {S.ENDED},
        S.ENDED: set(),
        S.CANCELLED: set(),
    }

    title = models.CharField(_("title"), max_length=80)
    topic = models.CharField(_("topic"), max_length=40)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    speaker = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("speaker"), on_delete=models.PROTECT, related_name="classes_given"
    )
    starts_at = models.DateTimeField(_("starts at"))
    duration_minutes = models.PositiveSmallIntegerField(_("length (minutes)"), default=45)
    groups = models.ManyToManyField(Group, related_name="classes", verbose_name=_("for groups"))
    capacity = models.PositiveIntegerField(_("places"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    replay_url = models.URLField(_("replay link"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("micro-class")
        verbose_name_plural = _("micro-classes")
        indexes = [models.Index(fields=["status", "starts_at"], name="class_due")]

    def __str__(self):
        return self.title


class MicroClassTransition(AuditTransition):
    subject = models.ForeignKey(MicroClass, on_delete=models.PROTECT, related_name="transitions")


class ClassMaterial(TimeStampedModel):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        IMAGE = "image", _("Image")
        LINK = "link", _("Link")

    micro_class = models.ForeignKey(MicroClass, on_delete=models.CASCADE, related_name="materials")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=80, blank=True)
    text = models.TextField(_("text"), blank=True, max_length=5000)
    image = models.ImageField(_("image"), upload_to="classes/%Y/%m/", blank=True)
    url = models.URLField(_("link"), blank=True)
    sort = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["micro_class", "sort", "pk"]
        verbose_name = _("class material")
        verbose_name_plural = _("class materials")


class ClassSignup(TimeStampedModel):
    micro_class = models.ForeignKey(MicroClass, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="class_signups")
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    attended_at = models.DateTimeField(_("attended at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("class sign-up")
        verbose_name_plural = _("class sign-ups")
        constraints = [models.UniqueConstraint(fields=["micro_class", "user"], name="class_signup_once")]


# --- activities ----------------------------------------------------------------------------------


class Activity(TimeStampedModel):
    class Kind(models.TextChoices):
        BUY_WITH_GIFT = "buy_with_gift", _("Buy with gift (买赠)")
        GIVEAWAY = "giveaway", _("Giveaway (抽奖)")
        THEMED_DROP = "themed_drop", _("Themed drop (主题专场)")

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("Scheduled")
        RUNNING = "running", _("Running")
        ENDED = "ended", _("Ended")
        DRAWN = "drawn", _("Drawn")
        CANCELLED = "cancelled", _("Cancelled")

    S = Status
    TRANSITIONS = {
        S.SCHEDULED: {S.RUNNING, S.ENDED, S.CANCELLED},
        S.RUNNING: {S.ENDED, S.CANCELLED},
        S.ENDED: {S.DRAWN},
        S.DRAWN: set(),
        S.CANCELLED: set(),
    }

    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=80)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    groups = models.ManyToManyField(Group, related_name="activities", verbose_name=_("groups"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.SCHEDULED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Buy-with-gift: an order of at least this much in the window gets the gift item added.
    threshold_fen = models.BigIntegerField(_("spend at least"), null=True, blank=True)
    gift_item = models.ForeignKey(
        "catalog.Item", on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("gift")
    )
    gifts_left = models.PositiveIntegerField(_("gifts left"), null=True, blank=True)
    # Giveaway: the prize, how many win, and the fair draw (community/draw.py): the seed's SHA-256 is
    # published when the giveaway is created, before anyone can enter; the entrants list's SHA-256 when
    # entries close; the seed itself after the draw, so anyone can re-check the winners.
    prize = models.CharField(_("prize"), max_length=120, blank=True)
    winners_count = models.PositiveSmallIntegerField(_("winners"), default=1)
    seed_hash = models.CharField(_("committed seed (SHA-256)"), max_length=64, blank=True)
    # The revealed seed (hex), empty until the draw; until then it lives only in `seed_secret`, encrypted.
    seed = models.CharField(_("seed"), max_length=64, blank=True)
    seed_secret = EncryptedTextField(_("seed (secret until the draw)"), blank=True, editable=False)
    entrants_hash = models.CharField(_("entrants list (SHA-256)"), max_length=64, blank=True)
    drawn_at = models.DateTimeField(_("drawn at"), null=True, blank=True)

    class Meta:
        ordering = ["-starts_at", "-pk"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [models.Index(fields=["kind", "status", "ends_at"], name="activity_due")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after")
        ]

    def __str__(self):
        return self.title


class ActivityTransition(AuditTransition):
    subject = models.ForeignKey(Activity, on_delete=models.PROTECT, related_name="transitions")


class ActivityEntry(TimeStampedModel):
    """A member taking part: a giveaway entrant (winner once drawn), or a buy-with-gift order that got the gift."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="activity_entries")
    # Buy-with-gift: the order's reference ("order:<id>"): the community does not know orders.
    reference = models.CharField(_("reference"), max_length=40, blank=True)
    won = models.BooleanField(_("won"), default=False)
    rank = models.PositiveSmallIntegerField(_("draw rank"), null=True, blank=True)

    class Meta:
        ordering = ["activity", "pk"]
        verbose_name = _("activity entry")
        verbose_name_plural = _("activity entries")
        constraints = [models.UniqueConstraint(fields=["activity", "user", "reference"], name="activity_entry_once")]


class ActivityGift(TimeStampedModel):
    """One gift of a buy-with-gift activity: a unique listed item its seller (the activity's creator) gives.

    Held off sale (item reserved) from the activity's creation; put into one qualifying order at a time
    (`reference` "order:<id>"); back in stock if that order is cancelled while the activity runs; back on
    sale (`released_at`) when the activity ends or is cancelled with the gift still unused.
    """

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="gifts")
    item = models.ForeignKey("catalog.Item", on_delete=models.PROTECT, related_name="+", verbose_name=_("item"))
    reference = models.CharField(_("in order"), max_length=40, blank=True)
    given_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    given_at = models.DateTimeField(_("given at"), null=True, blank=True)
    released_at = models.DateTimeField(_("back on sale at"), null=True, blank=True)

    class Meta:
        ordering = ["activity", "pk"]
        verbose_name = _("activity gift")
        verbose_name_plural = _("activity gifts")
        constraints = [
            models.UniqueConstraint(fields=["activity", "item"], name="activity_gift_once"),
            # An item is a gift of one activity at a time.
            models.UniqueConstraint(
                fields=["item"], condition=Q(released_at__isnull=True), name="activity_gift_item_held_once"
            ),
        ]
        indexes = [models.Index(fields=["activity", "reference"], name="activity_gift_by_reference")]

    def __str__(self):
        return f"gift {self.item_id} of activity {self.activity_id}"
