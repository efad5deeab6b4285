"""A member's community data when she erases her account (erhuo/web/privacy.py asks every app).

Erased: her tags, her questionnaire answers, her places in groups (she leaves
each one), her sign-ups to classes not yet given. Kept, and said so: giveaway
entries and buy-with-gift records (a published draw must stay re-checkable;
they name her by id only). Refused while she leads a group: an operator hands
it over first.
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from erhuo.community.models import ClassSignup, Group, MemberProfile, Membership, MemberTag, MicroClass
from erhuo.community.services.groups import membership_leave


def erase_blockers(*, user) -> list[str]:
    led = Group.objects.filter(leader=user).exclude(status=Group.Status.ARCHIVED).order_by("pk")
    if not led.exists():
        return []
    return [
        _("You lead groups (%(names)s): an operator must hand them over first.")
        % {"names": "、".join(led.values_list("name", flat=True)[:5])}
    ]


def personal_data_erase(*, user) -> None:
    with transaction.atomic():
        for membership_id in Membership.objects.filter(user=user, status__in=Membership.LIVE).values_list(
            "pk", flat=True
        ):
            membership_leave(membership_id=membership_id, user=user)
        MemberTag.objects.filter(user=user).delete()
        MemberProfile.objects.filter(user=user).update(answers={}, updated_at=timezone.now())
        ClassSignup.objects.filter(
            user=user, micro_class__status__in=(MicroClass.Status.SCHEDULED, MicroClass.Status.LIVE)
        ).delete()
