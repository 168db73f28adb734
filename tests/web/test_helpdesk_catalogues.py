"""The helpdesk pages' catalogues: every text of the templates and every library label they show
is translated into Spanish and Portuguese, and the shipped .mo files are the .po files compiled
(`make catalogues` forgotten after an edit fails here)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from permedhub.helpdesk import comparing
from permedhub.web import i18n_labels
from permedhub.web.i18n import LANGUAGES, translations

ROOT = Path(__file__).resolve().parents[2]
LOCALE = ROOT / "src" / "permedhub" / "web" / "locale"
TEMPLATES = ROOT / "src" / "permedhub" / "web" / "templates" / "helpdesk"


def template_texts() -> set[str]:
    found = list(extract_from_dir(str(TEMPLATES), method_map=[("**.html", "jinja2")]))
    # The header and navigation of base.html, which the helpdesk's pages show translated.
    found += extract_from_dir(str(TEMPLATES.parent), method_map=[("base.html", "jinja2")])
    return {message for _file, _line, message, _comments, _context in found if message}


def test_the_library_labels_listed_for_translation_are_the_libraries_own():
    shown = {
        *comparing.ROLE_LABELS.values(),
        *comparing.ASPECT_LABELS.values(),
        *comparing.FUNDING_LABELS.values(),
        *comparing.SECTION_LABELS.values(),
        "body",
        "rule",
        "funding",
        "faq",
    }
    assert set(i18n_labels.LABELS) == shown


@pytest.mark.parametrize("language", [code for code in LANGUAGES if code != "en"])
def test_every_text_is_translated_and_the_mo_is_the_po_compiled(language):
    po_path = LOCALE / language / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as handle:
        po = {m.id: m.string for m in read_po(handle) if m.id}
    with (po_path.with_suffix(".mo")).open("rb") as handle:
        mo = {m.id: m.string for m in read_mo(handle) if m.id}
    wanted = template_texts() | set(i18n_labels.LABELS)
    untranslated = sorted(text for text in wanted if not po.get(text))
    assert not untranslated, f"{language}: no translation for {untranslated}"
    assert mo == po, f"{po_path.with_suffix('.mo')} is not {po_path} compiled: run make catalogues"
    catalogue = translations(language)
    assert all(catalogue.gettext(text) == po[text] for text in wanted)
    # The placeholders of a translated sentence are those of the English one.
    for text in wanted:
        assert sorted(_placeholders(po[text])) == sorted(_placeholders(text)), text


def _placeholders(text: str) -> list[str]:
    import re

    return re.findall(r"%\((\w+)\)s", text)
