"""Test helpers every app may use (core is below every app, so any app's tests can import this)."""

import io

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def make_png(width: int = 8, height: int = 8, colour=(200, 120, 140)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def png_upload(name: str = "photo.png", width: int = 8, height: int = 8) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, make_png(width, height), content_type="image/png")


def bad_upload(name: str = "not-an-image.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"this is not an image at all", content_type="image/png")
