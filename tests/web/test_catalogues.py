"""The web app's translation catalogues: every string of the pages is in
the template (messages.pot, extracted from them), and every language has
all of them translated."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from node.web.i18n import LANGUAGES, LOCALES, translations

PROJECT = Path(__file__).resolve().parents[2]


def _ids(path: Path) -> set[str]:
    with path.open("rb") as source:
        return {message.id for message in read_po(source) if message.id}


def test_the_template_holds_every_string_of_the_pages() -> None:
    method_map, options = parse_mapping_cfg(io.StringIO((PROJECT / "babel.cfg").read_text()))
    found = {m[2] for m in extract_from_dir(str(LOCALES.parent), method_map, options)}
    assert found == _ids(LOCALES / "messages.pot"), "run pybabel extract (README)"


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_language_translates_every_string(lang: str) -> None:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as source:
        catalog = read_po(source)
    wanted = _ids(LOCALES / "messages.pot")
    translated = {m.id for m in catalog if m.id and m.string and not m.fuzzy}
    assert wanted <= translated, sorted(wanted - translated)[:5]
    # And the catalogue is what the pages get.
    if lang != "en":
        assert translations(lang).gettext("Your member key") != "Your member key"
