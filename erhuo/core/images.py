"""Validated image uploads.

Every uploaded image is opened with Pillow, checked against a format
allowlist, a byte cap and a pixel cap (decompression bombs), turned upright
from its EXIF orientation and re-encoded without its metadata, so that a
phone photo never publishes where it was taken.
"""

import io
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

from erhuo.core.errors import ValidationFailed

ALLOWED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


@dataclass(frozen=True)
class CleanImage:
    content: ContentFile
    width: int
    height: int
    format: str


def clean_image(upload, *, max_bytes: int | None = None, max_pixels: int | None = None, field: str = "image"):
    """Validate an uploaded file and return it re-encoded without metadata."""
    max_bytes = max_bytes or settings.ERHUO_AVATAR_MAX_BYTES
    max_pixels = max_pixels or settings.ERHUO_IMAGE_MAX_PIXELS
    size = getattr(upload, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationFailed(
            _("The image is too large (at most %(mb)s MB).") % {"mb": max_bytes // (1024 * 1024)},
            code="image_too_large",
            fields={field: [_("The image is too large.")]},
        )
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ValidationFailed(_("The image is too large."), code="image_too_large")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise ValidationFailed(
            _("This file is not an image we accept (JPEG, PNG or WebP)."),
            code="image_invalid",
            fields={field: [_("Not a JPEG, PNG or WebP image.")]},
        ) from None
    if image_format not in ALLOWED_FORMATS:
        raise ValidationFailed(
            _("This file is not an image we accept (JPEG, PNG or WebP)."),
            code="image_invalid",
            fields={field: [_("Not a JPEG, PNG or WebP image.")]},
        )
    if width * height > max_pixels:
        raise ValidationFailed(
            _("The image has too many pixels."), code="image_too_many_pixels", fields={field: [_("Too many pixels.")]}
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            if image_format == "JPEG" and upright.mode not in {"RGB", "L"}:
                upright = upright.convert("RGB")
            output = io.BytesIO()
            # Saving without exif=/pnginfo= drops every metadata block.
            save_options = {"quality": 88} if image_format in {"JPEG", "WEBP"} else {}
            upright.save(output, format=image_format, **save_options)
            width, height = upright.size
    except (OSError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(_("The image could not be read."), code="image_invalid") from None
    return CleanImage(
        content=ContentFile(output.getvalue()), width=width, height=height, format=ALLOWED_FORMATS[image_format]
    )


def thumbnail(source_bytes: bytes, *, size: int = 256, image_format: str = "JPEG") -> ContentFile:
    """A square-cropped thumbnail of an already-cleaned image."""
    with Image.open(io.BytesIO(source_bytes)) as image:
        fitted = ImageOps.fit(image.convert("RGB"), (size, size))
        output = io.BytesIO()
        fitted.save(output, format=image_format, quality=85)
    return ContentFile(output.getvalue())
