"""Country names and demonyms in English, Spanish, Portuguese and French, for search.

"Alemania", "alemão", "allemand" and "German" must find Germany's records. Organisation
documents hold their country's English name (as `graph.indexing` writes it: pycountry's common
name, else its name), so a query word that names a country is matched as that English name too.

Names come from pycountry's own translations of ISO 3166-1 (its gettext catalogues), in every
form it has: name, common name, official name, and "Corea, República de" also read as
"República de Corea" and "Corea". A name that two countries share is left out: it says nothing
certain. No installed package lists demonyms, so `DEMONYMS` is a table of its own: one
masculine singular form per language for the countries of the ICPerMed family and its
partners, inflected by each language's regular rules (`_inflections`).
"""

from __future__ import annotations

import gettext
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import pycountry

from permedhub.search.text import words

LANGUAGES = ("es", "pt", "pt_BR", "fr")
# The longest country name, in words, that a query is scanned for ("república democrática del
# congo" is five).
MAX_NAME_WORDS = 6

# code: English | Spanish | Portuguese | French, each the masculine singular (alternatives
# separated by commas; accents are folded away before matching); `_inflections` inflects them.
DEMONYMS = {
    "AR": "argentinian, argentine | argentino | argentino | argentin",
    "AT": "austrian | austriaco | austriaco | autrichien",
    "BE": "belgian | belga | belga | belge",
    "BG": "bulgarian | bulgaro | bulgaro | bulgare",
    "BR": "brazilian | brasileno | brasileiro | bresilien",
    "CA": "canadian | canadiense | canadense | canadien",
    "CH": "swiss | suizo | suico | suisse",
    "CL": "chilean | chileno | chileno | chilien",
    "CN": "chinese | chino | chines | chinois",
    "CO": "colombian | colombiano | colombiano | colombien",
    "CU": "cuban | cubano | cubano | cubain",
    "CY": "cypriot | chipriota | cipriota | chypriote",
    "CZ": "czech | checo | checo | tcheque",
    "DE": "german | aleman | alemao | allemand",
    "DK": "danish, dane | danes | dinamarques | danois",
    "EE": "estonian | estonio | estonio | estonien",
    "EG": "egyptian | egipcio | egipcio | egyptien",
    "ES": "spanish, spaniard | espanol | espanhol | espagnol",
    "ET": "ethiopian | etiope | etiope | ethiopien",
    "FI": "finnish, finn | finlandes | finlandes | finlandais",
    "FR": "french | frances | frances | francais",
    "GB": "british | britanico | britanico | britannique",
    "GH": "ghanaian | ghanes | ganes | ghaneen",
    "GR": "greek | griego | grego | grec",
    "HR": "croatian, croat | croata | croata | croate",
    "HU": "hungarian | hungaro | hungaro | hongrois",
    "IE": "irish | irlandes | irlandes | irlandais",
    "IL": "israeli | israeli | israelense | israelien",
    "IN": "indian | indio | indiano | indien",
    "IS": "icelandic, icelander | islandes | islandes | islandais",
    "IT": "italian | italiano | italiano | italien",
    "JP": "japanese | japones | japones | japonais",
    "KE": "kenyan | keniano | queniano | kenyan",
    "KR": "korean | coreano | coreano | coreen",
    "LT": "lithuanian | lituano | lituano | lituanien",
    "LU": "luxembourgish, luxembourger | luxemburgues | luxemburgues | luxembourgeois",
    "LV": "latvian | leton | letao | letton",
    "MA": "moroccan | marroqui | marroquino | marocain",
    "MT": "maltese | maltes | maltes | maltais",
    "MX": "mexican | mexicano | mexicano | mexicain",
    "NG": "nigerian | nigeriano | nigeriano | nigerian",
    "NL": "dutch | neerlandes | holandes | neerlandais",
    "NO": "norwegian | noruego | noruegues | norvegien",
    "PA": "panamanian | panameno | panamenho | panameen",
    "PE": "peruvian | peruano | peruano | peruvien",
    "PL": "polish, pole | polaco | polaco | polonais",
    "PT": "portuguese | portugues | portugues | portugais",
    "RO": "romanian | rumano | romeno | roumain",
    "RW": "rwandan | ruandes | ruandes | rwandais",
    "SE": "swedish, swede | sueco | sueco | suedois",
    "SI": "slovenian, slovene | esloveno | esloveno | slovene",
    "SK": "slovak | eslovaco | eslovaco | slovaque",
    "SN": "senegalese | senegales | senegales | senegalais",
    "TN": "tunisian | tunecino | tunisiano | tunisien",
    "TR": "turkish, turk | turco | turco | turc",
    "TZ": "tanzanian | tanzano | tanzaniano | tanzanien",
    "UG": "ugandan | ugandes | ugandense | ougandais",
    "US": "american | estadounidense | americano | americain",
    "UY": "uruguayan | uruguayo | uruguaio | uruguayen",
    "ZA": "south african | sudafricano | sul africano | sud africain",
}


def _inflections(form: str, language: int) -> set[str]:
    """The regular feminine and plural forms of a folded masculine singular demonym."""
    out = {form}
    if language == 0:  # English: "Germans"
        out.add(form + "s")
    elif language in (1, 2):  # Spanish, Portuguese
        if form.endswith("ao"):  # alemão, alemã, alemães
            out |= {form[:-1], form[:-2] + "aes", form[:-1] + "s"}
        elif form.endswith("o"):
            out |= {form[:-1] + "a", form + "s", form[:-1] + "as"}
        elif form.endswith(("es", "an", "ol", "on", "al")):  # francés, alemán, español
            out |= {form + "a", form + "es", form + "as"}
            if language == 2 and form.endswith("ol"):
                out.add(form[:-1] + "is")  # espanhóis
        else:  # belga, canadiense, israelí
            out |= {form + "s", form + "es"}
    elif form.endswith("ien") or form.endswith("een"):  # French: italienne
        out |= {form + "ne", form + "s", form + "nes"}
    elif form.endswith("e"):
        out.add(form + "s")
    elif form.endswith(("ais", "ois")):
        out |= {form + "e", form + "es"}
    else:
        out |= {form + "e", form + "s", form + "es"}
    return out


@dataclass(frozen=True)
class CountryMention:
    """Words of a query that name a country."""

    code: str
    words: tuple[str, ...]  # the query's folded words, as typed
    indexed_name: tuple[str, ...]  # the country's English name as documents hold it


def indexed_name(code: str) -> str:
    """The country's name as organisation documents hold it (see `graph.indexing`)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        raise ValueError(f"country code {code!r}: expected an ISO 3166-1 alpha-2 code")
    return str(getattr(country, "common_name", None) or country.name)


def _names(name: str) -> Iterator[str]:
    """A name and, for an inverted one ("Corea, República de"), its two readings."""
    yield name
    if ", " in name:
        head, _, tail = name.partition(", ")
        yield head
        yield f"{tail} {head}"


@cache
def country_words() -> dict[tuple[str, ...], str]:
    """Folded name or demonym (as words) -> ISO 3166-1 alpha-2 code; shared names left out."""
    catalogues = [gettext.NullTranslations()] + [
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        for lang in LANGUAGES
    ]
    found: dict[tuple[str, ...], set[str]] = {}
    for country in pycountry.countries:
        forms = {
            getattr(country, attribute, None)
            for attribute in ("name", "common_name", "official_name")
        } - {None}
        for form in forms:
            for catalogue in catalogues:
                for name in _names(catalogue.gettext(str(form))):
                    key = tuple(words(name))
                    if key:
                        found.setdefault(key, set()).add(country.alpha_2)
    for code, row in DEMONYMS.items():
        for language, cell in enumerate(row.split("|")):
            for demonym in cell.split(","):
                *first, last = words(demonym)  # "sul africano": inflect the last word
                for form in _inflections(last, language):
                    found.setdefault((*first, form), set()).add(code)
    return {key: codes.pop() for key, codes in found.items() if len(codes) == 1}


def country_mentions(query_words: list[str]) -> list[CountryMention]:
    """The runs of `query_words` (folded) that name a country, longest first, left to right."""
    table = country_words()
    mentions: list[CountryMention] = []
    i = 0
    while i < len(query_words):
        for size in range(min(MAX_NAME_WORDS, len(query_words) - i), 0, -1):
            run = tuple(query_words[i : i + size])
            code = table.get(run)
            if code is not None:
                mentions.append(CountryMention(code, run, tuple(words(indexed_name(code)))))
                i += size
                break
        else:
            i += 1
    return mentions
