"""The helpdesk pages' languages: English, Spanish and Portuguese, from gettext catalogues.

The catalogues are `web/locale/{es,pt}/LC_MESSAGES/messages.po`, compiled to the `.mo` files
shipped beside them (`make catalogues`; a test fails when a `.mo` is out of step with its `.po`
or a page's text has no translation). English is the text of the templates themselves.

A page's language is the `lang` query parameter when it names one (and is then remembered in a
cookie), else that cookie, else the browser's Accept-Language, else English.
"""

from __future__ import annotations

from functools import cache
from gettext import NullTranslations
from importlib import resources
from urllib.parse import urlencode

from babel import Locale
from babel.core import UnknownLocaleError
from babel.support import Translations
from fastapi import Request
from fastapi.responses import Response

from permedhub.search.text import fold

LANGUAGES = ("en", "es", "pt")
LANGUAGE_NAMES = {"en": "English", "es": "Español", "pt": "Português"}
LOCALE_DIR = resources.files("permedhub") / "web" / "locale"
DOMAIN = "messages"
LANGUAGE_COOKIE = "permedhub_lang"
COOKIE_MAX_AGE_S = 365 * 24 * 3600


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of `language` (English: the templates' own text)."""
    if language not in LANGUAGES or language == "en":
        return NullTranslations()
    return Translations.load(str(LOCALE_DIR), [language], domain=DOMAIN)


def _accepted(header: str) -> str | None:
    """The first of LANGUAGES the Accept-Language header asks for, by its q-values."""
    offers: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        try:
            language = Locale.parse(tag.strip().replace("-", "_")).language if tag.strip() else ""
        except (ValueError, UnknownLocaleError):
            continue
        if language in LANGUAGES and quality > 0:
            offers.append((-quality, position, language))
    return min(offers)[2] if offers else None


def page_language(request: Request) -> str:
    """The language a helpdesk page is shown in (see the module's docstring)."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    remembered = request.cookies.get(LANGUAGE_COOKIE, "")
    if remembered in LANGUAGES:
        return remembered
    return _accepted(request.headers.get("accept-language", "")) or "en"


def remember_language(request: Request, response: Response) -> None:
    """A `lang` chosen in the address is kept for the next pages."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES and request.cookies.get(LANGUAGE_COOKIE) != asked:
        response.set_cookie(
            LANGUAGE_COOKIE, asked, max_age=COOKIE_MAX_AGE_S, samesite="lax", httponly=True
        )


def language_context(request: Request) -> dict[str, object]:
    """What a translated template needs: `_`, `ngettext`, the page's language and the links of
    the language switch (the same page in each language)."""
    language = page_language(request)
    catalogue = translations(language)
    switch = []
    for code in LANGUAGES:
        query = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        query.append(("lang", code))
        switch.append((code, LANGUAGE_NAMES[code], f"{request.url.path}?{urlencode(query)}"))
    territories = Locale.parse(language).territories

    def country_name(code: str, english: str) -> str:
        """A country's name in the page's language (CLDR, through Babel), else as given."""
        return english if language == "en" else territories.get(code, english)

    def by_country_name(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """(code, English name) choices in the alphabetical order of the page's language
        (accents folded, so "Égypte" sorts among the E)."""
        return sorted(choices, key=lambda pair: fold(country_name(*pair)))

    return {
        "_": catalogue.gettext,
        "country_name": country_name,
        "by_country_name": by_country_name,
        "ngettext": catalogue.ngettext,
        "page_lang": language,
        "language_switch": switch,
    }
