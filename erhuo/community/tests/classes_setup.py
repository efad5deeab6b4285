"""Shared set-up for the micro-class tests: people, groups, a scheduled class, a snapshot of what they write."""

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.community.models import ClassMaterial, ClassSignup, Group, MicroClass, MicroClassTransition
from erhuo.community.services import classes as services
from erhuo.community.tests.factories import group, member_of
from erhuo.notifications.models import Notice


def expert(**kwargs):
    return UserFactory(roles=[roles.MEMBER, roles.EXPERT], **kwargs)


def leader_group(**kwargs) -> Group:
    """A group led by an expert who is not an operator."""
    return group(leader=UserFactory(roles=[roles.MEMBER, roles.EXPERT]), **kwargs)


def png(name: str = "slide.png", size=(20, 10)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 80, 120)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def schedule(actor, groups, *, speaker=None, starts_in=timedelta(days=2), now=None, **overrides) -> MicroClass:
    now = now or timezone.now()
    fields = {
        "title": "奢侈品包袋鉴定入门",
        "topic": "鉴定",
        "speaker": speaker or expert(),
        "starts_at": now + starts_in,
        "duration_minutes": 45,
        "group_ids": [g.pk for g in groups],
        "description": "How to tell a real Speedy from a fake one.",
        "capacity": None,
    }
    fields.update(overrides)
    return services.class_create(actor=actor, now=now, **fields)


def snapshot() -> dict:
    """Every row the classes services write (and the notices they send)."""
    return {
        "classes": list(MicroClass.objects.order_by("pk").values()),
        "class_groups": sorted(MicroClass.groups.through.objects.values_list("microclass_id", "group_id")),
        "transitions": list(MicroClassTransition.objects.order_by("pk").values_list("pk", "to_state")),
        "signups": list(ClassSignup.objects.order_by("pk").values()),
        "materials": list(ClassMaterial.objects.order_by("pk").values()),
        "notices": list(Notice.objects.order_by("pk").values()),
    }


def refused(error_type, code, call):
    before = snapshot()
    with pytest.raises(error_type) as raised:
        call()
    assert raised.value.code == code
    assert snapshot() == before
    return raised.value


@pytest.fixture(name="world")
def world_fixture(db):
    """Two groups with their (non-operator) leaders, a member in each, an operator and an expert speaker."""
    mine = leader_group()
    theirs = leader_group()
    return {
        "group": mine,
        "leader": mine.leader,
        "member": member_of(mine).user,
        "other_group": theirs,
        "other_leader": theirs.leader,
        "other_member": member_of(theirs).user,
        "operator": UserFactory(roles=[roles.COMMUNITY_MANAGER]),
        "speaker": expert(),
    }
