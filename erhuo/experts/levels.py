"""Expert levels and the rights each level carries, as data.

Later apps (community groups, micro-classes, chat consultations, curation)
ask `erhuo.experts.selectors.expert_can(user, right)` instead of comparing
levels themselves, so that a change of what a level may do is one edit here.
The commission share of each level is money, not a right: it lives in
`ExpertPolicy` (basis points of the sale price) so operators can see it on
the standards page and change it without a release.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    TRAINEE = "trainee", _("Trainee expert")
    CERTIFIED = "certified", _("Certified expert")
    GOLD = "gold", _("Gold expert")


class Right(models.TextChoices):
    ANSWER_CONSULTATIONS = "answer_consultations", _("Answer members' styling consultations")
    CURATE_ITEMS = "curate_items", _("Curate items into recommended lists")
    LEAD_GROUP = "lead_group", _("Lead a community group")
    HOST_MICRO_CLASSES = "host_micro_classes", _("Host micro-classes")


@dataclass(frozen=True)
class LevelRights:
    level: str
    summary: str
    rights: tuple[str, ...]


_TRAINEE_RIGHTS = (Right.ANSWER_CONSULTATIONS, Right.CURATE_ITEMS)
_CERTIFIED_RIGHTS = (*_TRAINEE_RIGHTS, Right.LEAD_GROUP, Right.HOST_MICRO_CLASSES)

# In ascending order: a later level never has fewer rights than an earlier one (a test keeps it so).
LEVELS: tuple[LevelRights, ...] = (
    LevelRights(
        Level.TRAINEE,
        _("New experts start here: they answer consultations and curate items while the community gets to know them."),
        _TRAINEE_RIGHTS,
    ),
    LevelRights(
        Level.CERTIFIED,
        _("Proven experts: they may also lead a group and host micro-classes."),
        _CERTIFIED_RIGHTS,
    ),
    LevelRights(
        Level.GOLD,
        _("Our most trusted experts: every right above, and a higher commission share on the sales they bring."),
        _CERTIFIED_RIGHTS,
    ),
)

LEVEL_RIGHTS: dict[str, frozenset[str]] = {entry.level: frozenset(entry.rights) for entry in LEVELS}
LEVEL_ORDER: dict[str, int] = {entry.level: index for index, entry in enumerate(LEVELS)}


def rights_of(level: str) -> list[tuple[str, str]]:
    """(code, label) of the rights of `level`, in the order of `Right`, for pages and the API."""
    allowed = LEVEL_RIGHTS.get(level, frozenset())
    return [(right.value, str(right.label)) for right in Right if right.value in allowed]


def level_label(level: str) -> str:
    return str(Level(level).label) if level in Level.values else level
