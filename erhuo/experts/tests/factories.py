"""Test helpers for experts: photos, applications and experts made through the services."""

import io
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from erhuo.accounts import roles
from erhuo.accounts.tests.factories import UserFactory
from erhuo.experts import services
from erhuo.experts.models import (
    Expert,
    ExpertApplication,
    ExpertApplicationTransition,
    ExpertCommission,
    ExpertLevelChange,
    PortfolioPhoto,
    ReferralAttribution,
)
from erhuo.experts.standards import STANDARD_CODES

EXPERIENCE = "十年母婴店店长，帮上千位妈妈挑过童装和包袋，熟悉面料、尺码和正品细节。" * 2


def make_png(width: int = 8, height: int = 8, colour=(200, 80, 120)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "look.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_png(), content_type="image/png")


def bad_upload(name: str = "not-an-image.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"this is not an image at all", content_type="image/png")


def photos(count: int = 3) -> list[SimpleUploadedFile]:
    return [png_upload(f"look-{index}.png") for index in range(count)]


def all_met() -> dict[str, bool]:
    return dict.fromkeys(STANDARD_CODES, True)


def application_fields(**overrides) -> dict:
    values = {
        "style_focus": "通勤简约，少而精",
        "specialties": ["luxury_bags", "office_wear"],
        "experience": EXPERIENCE,
        "years_experience": 10,
        "links": ["https://www.xiaohongshu.com/user/profile/abc"],
    }
    values.update(overrides)
    if "photos" not in values:
        values["photos"] = photos(3)
    return values


def make_member(**kwargs):
    return UserFactory(roles=[roles.MEMBER], **kwargs)


def make_reviewer(**kwargs):
    return UserFactory(roles=[roles.COMMUNITY_MANAGER], **kwargs)


def submit(applicant=None, **overrides) -> ExpertApplication:
    applicant = applicant or make_member()
    return services.application_submit(applicant=applicant, **application_fields(**overrides))


def make_expert(user=None, *, level: str = "certified", reviewer=None, **overrides) -> Expert:
    """A member who applied and was approved at `level` (the whole real flow)."""
    application = submit(user, **overrides)
    services.application_decide(
        application_id=application.pk,
        actor=reviewer or make_reviewer(),
        approve=True,
        checklist=all_met(),
        level=level,
        note="",
    )
    return Expert.objects.select_related("user").get(application=application)


def media_files() -> list[str]:
    root = Path(settings.MEDIA_ROOT)
    if not root.exists():
        return []
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def snapshot() -> dict:
    """Every row the experts app writes, and the media files: compare before and after a refused request."""
    return {
        "applications": list(ExpertApplication.objects.order_by("pk").values()),
        "application_transitions": list(
            ExpertApplicationTransition.objects.order_by("pk").values_list("pk", flat=True)
        ),
        "photos": list(PortfolioPhoto.objects.order_by("pk").values_list("pk", flat=True)),
        "experts": list(Expert.objects.order_by("pk").values()),
        "level_changes": list(ExpertLevelChange.objects.order_by("pk").values_list("pk", flat=True)),
        "attributions": list(ReferralAttribution.objects.order_by("pk").values()),
        "commissions": list(ExpertCommission.objects.order_by("pk").values()),
        "files": media_files(),
    }
