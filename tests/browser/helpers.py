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


# --- journeys: several people, each in a phone browser of her own (the `open_page` fixture) -------------

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def log_in(page, user) -> None:
    """Log `user` in through the login form with the factories' password, by her phone number."""
    from playwright.sync_api import expect

    from erhuo.accounts.tests.factories import DEFAULT_PASSWORD

    page.goto("/accounts/login/")
    page.fill("input[name=username]", user.phone)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    submit(page)
    expect(page).to_have_url(at_path("/accounts/me/"))


def scroll_to(page, selector: str) -> None:
    """Scroll so that the element starts just below the sticky header."""
    page.evaluate(
        "selector => window.scrollTo(0, document.querySelector(selector).getBoundingClientRect().top + scrollY"
        " - document.querySelector('.site-header').offsetHeight - 8)",
        selector,
    )


def shoot(page, name: str, *, fits: bool = True) -> None:
    """A screenshot for the docs (docs/img/`name`), once the fonts and the pictures in view are loaded.

    With `fits`, also asserts that nothing is wider than the phone: a page that scrolls sideways is
    zoomed out by a mobile browser.
    """
    from .conftest import PHONE

    page.evaluate("document.fonts.ready")
    # Lazy pictures further down are not asked for, so only those in view are waited for.
    page.wait_for_function(
        "() => [...document.images].filter(img => { const box = img.getBoundingClientRect();"
        " return box.bottom > 0 && box.top < innerHeight; }).every(img => img.complete && img.naturalWidth > 0)"
    )
    page.screenshot(path=str(DOCS_IMG / name), scale="css", animations="disabled", caret="hide")
    if fits:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"], name


def success(page, message: str) -> None:
    """The page shows `message` as its success message."""
    from playwright.sync_api import expect

    expect(page.locator(".message-success")).to_have_text(message)


def posted(page, path: str):
    """A context manager waiting for the POST to `path` (a page's form); `.value` is its response."""
    return page.expect_response(
        lambda response: response.request.method == "POST" and re.search(re.escape(path) + r"$", response.url)
    )
