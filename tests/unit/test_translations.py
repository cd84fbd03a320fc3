"""Every string a person reads must have its Chinese translation (zh_CN is the default)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}
METHODS = [("scoring/**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]


def messages_in_code() -> dict[str, str]:
    found = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), METHODS, keywords=KEYWORDS,
            directory_filter=lambda path: ".venv" not in path):
        for text in message if isinstance(message, tuple) else (message,):
            if text:
                found.setdefault(text, f"{filename}:{lineno}")
    return found


def test_every_message_has_a_chinese_translation() -> None:
    with (ROOT / "scoring/translations/zh_Hans_CN/LC_MESSAGES/messages.po").open("rb") as po:
        catalogue = read_po(po)
    missing = []
    for text, where in messages_in_code().items():
        entry = catalogue.get(text)
        if entry is None or not entry.string or entry.fuzzy:
            missing.append(f"{where}: {text!r}")
    assert not missing, "no zh_CN translation (run `make messages` and translate):\n" + \
        "\n".join(sorted(missing))


def test_the_code_has_messages_to_translate() -> None:
    assert len(messages_in_code()) > 50
