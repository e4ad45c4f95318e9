"""The web app's languages: gettext catalogues (``locales/LANG/LC_MESSAGES/
messages.po``, extracted from the templates and app.js with Babel, see
README "Translating the web app"), compiled in memory when first used so
that only the text sources live in the repository.

Spanish is the default: the language most members share. A reader's
choice is kept in a cookie; an unknown or missing one falls back to it.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALES = Path(__file__).with_name("locales")
#: The languages, in the order the switcher shows them, with their own names.
LANGUAGES = {"es": "Español", "qu": "Runasimi", "ay": "Aymar aru", "en": "English"}
DEFAULT = "es"
COOKIE = "lang"


def pick(requested: str | None) -> str:
    """``requested`` if it is one of ours, else the default."""
    return requested if requested in LANGUAGES else DEFAULT


@functools.cache
def translations(lang: str) -> Translations:
    """The catalogue of ``lang`` (empty, so English source strings show,
    for English, which has no catalogue of its own beyond the sources)."""
    path = LOCALES / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return Translations()
    with path.open("rb") as source:
        catalog = read_po(source, locale=lang if lang != "ay" else None)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)
