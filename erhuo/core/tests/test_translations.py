"""The Simplified Chinese catalog is complete, compiled and used.

The interface is Chinese first: every msgid in erhuo/locale/zh_Hans must be
translated, keep its placeholders, and the committed django.mo must match the
django.po (a fresh machine needs no gettext to run the site).

To update the catalog after changing UI strings:

    cd erhuo && ../.venv/bin/python ../manage.py makemessages -l zh_Hans --no-obsolete --no-location -i "static/*"
    # translate the new entries, then
    cd erhuo && ../.venv/bin/python ../manage.py compilemessages -l zh_Hans
"""

import re
import shutil
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

PACKAGE_DIR = Path(__file__).resolve().parents[2]
LOCALE_DIR = PACKAGE_DIR / "locale"
PO_PATH = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")

# %(name)s, %(count)d, %(price).2f ... (named printf-style, as gettext and blocktranslate write them)
NAMED_PERCENT = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
# %s, %d ... (positional printf-style; only meaningful in python-format entries)
POSITIONAL_PERCENT = re.compile(r"%(?!\()[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")
# {0}, {name}, {price:.2f}, {user.name!r}
BRACE = re.compile(r"\{[\w.\[\]]*(?:![rsa])?(?::[^{}]*)?\}")
# <code>, </a>, <a href="...">
HTML_TAG = re.compile(r"</?[a-zA-Z][^<>]*>")
# &lt; &amp; &#8230;
HTML_ENTITY = re.compile(r"&#?\w+;")


def _entries(catalog):
    return [entry for entry in catalog if not entry.obsolete]


def _key(entry):
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _value(entry):
    if entry.msgid_plural:
        return tuple(entry.msgstr_plural[index] for index in sorted(entry.msgstr_plural))
    return entry.msgstr


def _translations(entry):
    return list(_value(entry)) if entry.msgid_plural else [entry.msgstr]


@pytest.fixture(scope="module")
def po():
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run makemessages (see this module's docstring)"
    return polib.pofile(str(PO_PATH))


def test_header(po):
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == "zh_Hans"
    assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;"
    assert "charset=UTF-8" in po.metadata["Content-Type"]


def test_every_entry_is_translated_and_not_fuzzy(po):
    entries = _entries(po)
    assert len(entries) > 100
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    assert fuzzy == [], f"fuzzy entries: {fuzzy}"
    untranslated = [entry.msgid for entry in entries if not all(text.strip() for text in _translations(entry))]
    assert untranslated == [], f"untranslated entries: {untranslated}"
    # Chinese has one plural form.
    plurals = [entry.msgid for entry in entries if entry.msgid_plural and sorted(entry.msgstr_plural) != [0]]
    assert plurals == [], f"plural entries need exactly msgstr[0]: {plurals}"


def test_translations_are_chinese(po):
    # A msgstr copied from its msgid is a forgotten translation, not a translation.
    han = re.compile(r"[\u4e00-\u9fff]")
    copied = [
        entry.msgid
        for entry in _entries(po)
        if any(not han.search(text) or text == entry.msgid for text in _translations(entry))
    ]
    assert copied == [], f"entries without Chinese: {copied}"


def test_placeholders_are_kept(po):
    problems = []
    for entry in _entries(po):
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        patterns = [NAMED_PERCENT, BRACE, HTML_TAG, HTML_ENTITY]
        if "python-format" in entry.flags:
            patterns.append(POSITIONAL_PERCENT)
        for pattern in patterns:
            # Chinese has one plural form, so msgstr[0] serves every count and
            # must carry the placeholders of both the singular and the plural.
            wanted = Counter()
            for source in sources:
                wanted |= Counter(pattern.findall(source))
            for text in _translations(entry):
                found = Counter(pattern.findall(text))
                if found != wanted:
                    problems.append((entry.msgid, text, sorted(wanted.elements()), sorted(found.elements())))
    assert problems == [], "placeholders differ (msgid, msgstr, wanted, found):\n" + "\n".join(map(repr, problems))


def test_compiled_catalog_matches_the_po(po):
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run compilemessages (see this module's docstring)"
    mo = polib.mofile(str(MO_PATH))
    compiled = {_key(entry): _value(entry) for entry in mo if entry.msgid}
    source = {_key(entry): _value(entry) for entry in _entries(po)}
    assert compiled == source, "django.mo is stale: run compilemessages (see this module's docstring)"


def test_django_uses_the_catalog():
    with translation.override("zh-hans"):
        assert translation.gettext("Join the community") == "加入社群"
        assert translation.ngettext("%(counter)s member", "%(counter)s members", 3) % {"counter": 3} == "共 3 位会员"
    with translation.override("en"):
        assert translation.gettext("Join the community") == "Join the community"


@pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("xgettext", "msguniq", "msgmerge", "msgattrib")),
    reason="GNU gettext is not installed",
)
def test_catalog_covers_every_string_in_the_source(po, tmp_path, monkeypatch):
    """Extract the strings afresh, as makemessages does, into a copy; none may be missing from the .po."""
    source = tmp_path / "erhuo"
    shutil.copytree(
        PACKAGE_DIR, source, ignore=shutil.ignore_patterns("static", "locale", "__pycache__", "*.pyc", ".*")
    )
    output = tmp_path / "locale"
    output.mkdir()
    monkeypatch.chdir(source)
    with override_settings(LOCALE_PATHS=[str(output)]):
        call_command(
            "makemessages",
            locale=["zh_Hans"],
            no_obsolete=True,
            no_location=True,
            ignore_patterns=["static/*"],
            verbosity=0,
        )
    fresh = {_key(entry) for entry in _entries(polib.pofile(str(output / "zh_Hans" / "LC_MESSAGES" / "django.po")))}
    missing = sorted(fresh - {_key(entry) for entry in _entries(po)})
    assert missing == [], f"strings missing from the catalog (run makemessages and translate them): {missing}"


@pytest.mark.django_db
def test_home_is_chinese_then_english_after_switching(client):
    page = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in page
    assert "加入社群" in page
    assert "真实 · 干净 · 价格公道" in page
    assert "已有 0 位会员加入" in page
    assert "Join the community" not in page

    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/").content.decode()
    assert '<html lang="en">' in page
    assert "Join the community" in page
    assert "加入社群" not in page


@pytest.mark.django_db
def test_browser_language_is_honoured():
    page = Client(headers={"accept-language": "en-US,en;q=0.9"}).get("/").content.decode()
    assert "Join the community" in page
    page = Client(headers={"accept-language": "zh-CN,zh;q=0.9"}).get("/").content.decode()
    assert "加入社群" in page


@pytest.mark.django_db
def test_navigation_labels_are_chinese(client, member):
    client.force_login(member)
    labels = [str(item["label"]) for item in client.get("/").context["nav_items"]]
    assert labels == ["首页", "寄售", "我的"]


@pytest.mark.django_db
def test_admin_is_chinese(client):
    page = client.get("/admin/login/").content.decode()
    assert "用户名" in page
    assert "登录" in page


@pytest.mark.django_db
def test_form_errors_are_chinese(client):
    page = client.post(reverse("accounts:login"), {"username": "", "password": ""}).content.decode()
    assert "这个字段是必填项" in page or "此项为必填项" in page


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_error_pages_are_chinese(client):
    page = client.get("/no-such-page/").content.decode()
    assert "页面不存在" in page
    assert "返回首页" in page
    assert client.get("/api/v1/no-such-endpoint").json()["detail"] == "未找到。"
