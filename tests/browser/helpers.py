"""Helpers for the browser tests."""

import re
from pathlib import Path

from django.utils import translation
from django.utils.functional import Promise
from PIL import Image


def _in(language: str, message) -> str:
    with translation.override(language):
        return str(message) if isinstance(message, Promise) else translation.gettext(message)


def zh(message) -> str:
    """What the Chinese interface shows for a UI string (a msgid or a lazy label).

    Its translation once the zh-hans catalogue has one, its msgid until then:
    the assertion holds before and after the strings are translated.
    """
    return _in("zh-hans", message)


def en(message) -> str:
    """What the English interface shows for a UI string."""
    return _in("en", message)


def at_path(path: str) -> re.Pattern:
    """Matches the live server's URL for `path` (with no query string), for `expect(page).to_have_url`."""
    return re.compile(r"^https?://[^/]+" + re.escape(path) + "$")


def make_png(path: Path, *, size: int = 96, colour=(180, 71, 95)) -> Path:
    """A small PNG with a lighter square in the middle (so a broken crop would show)."""
    image = Image.new("RGB", (size, size), colour)
    inner = Image.new("RGB", (size // 2, size // 2), (251, 238, 241))
    image.paste(inner, (size // 4, size // 4))
    image.save(path, format="PNG")
    return path


def submit(page) -> None:
    """Tap the submit button of the page's main form."""
    page.locator("#main form button[type=submit]").tap()
