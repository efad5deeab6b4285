import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from erhuo.core.errors import ValidationFailed
from erhuo.core.images import clean_image, thumbnail


def _jpeg_with_gps(width=40, height=20) -> bytes:
    image = Image.new("RGB", (width, height), (200, 80, 90))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    exif[0x8825] = {1: "N", 2: (31.0, 12.0, 0.0), 3: "E", 4: (121.0, 28.0, 0.0)}  # GPS info
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", exif=exif)
    return buffer.getvalue()


def test_clean_image_strips_exif_and_applies_orientation():
    upload = SimpleUploadedFile("photo.jpg", _jpeg_with_gps(), content_type="image/jpeg")

    cleaned = clean_image(upload)

    with Image.open(io.BytesIO(cleaned.content.read())) as result:
        assert result.format == "JPEG"
        assert result.size == (20, 40)  # turned upright
        assert dict(result.getexif()) == {}
    assert (cleaned.width, cleaned.height, cleaned.format) == (20, 40, "jpg")


def test_refuses_a_file_that_is_not_an_allowed_image():
    upload = SimpleUploadedFile("evil.jpg", b"<?php echo 1; ?>", content_type="image/jpeg")
    with pytest.raises(ValidationFailed) as error:
        clean_image(upload)
    assert error.value.code == "image_invalid"


def test_refuses_a_gif_even_when_it_is_an_image():
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4)).save(buffer, format="GIF")
    with pytest.raises(ValidationFailed) as error:
        clean_image(SimpleUploadedFile("a.gif", buffer.getvalue()))
    assert error.value.code == "image_invalid"


def test_refuses_too_many_bytes_and_too_many_pixels():
    data = _jpeg_with_gps()
    with pytest.raises(ValidationFailed) as error:
        clean_image(SimpleUploadedFile("a.jpg", data), max_bytes=100)
    assert error.value.code == "image_too_large"
    with pytest.raises(ValidationFailed) as error:
        clean_image(SimpleUploadedFile("a.jpg", data), max_pixels=100)
    assert error.value.code == "image_too_many_pixels"


def test_thumbnail_is_square():
    cleaned = clean_image(SimpleUploadedFile("a.jpg", _jpeg_with_gps(80, 40)))
    with Image.open(io.BytesIO(thumbnail(cleaned.content.read(), size=16).read())) as thumb:
        assert thumb.size == (16, 16)
