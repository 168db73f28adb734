"""Which of English, Spanish and Portuguese a short question is in, offline, and its stop words.

No installed package detects languages, and questions are a dozen words: a count of each
language's function words (articles, prepositions, question words, auxiliaries) decides, with
the letters only one of the languages has ("ñ", "¿", "¡" for Spanish; "ã", "õ", "ç" for
Portuguese) as strong evidence. Words two languages share ("de", "en"/"em" differ, "que" is
both) count for both. A question with no evidence is English, the base's own language.
"""

from __future__ import annotations

import re

from permedhub.search.text import words

LANGUAGES = ("en", "es", "pt")


def _listed(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


# Folded function words per language: also the words retrieval sets aside (see `content_words`).
STOP_WORDS: dict[str, frozenset[str]] = {
    "en": _listed(
        """a an the of in on at to for from by with and or is are was were be been do does
        did what which who whom whose how when where why that this these those there it its
        can could should would must may i we you my our your their they he she any some
        about into under as if not no than then so much many get have has had
        will"""
    ),
    "es": _listed(
        """el la los las un una unos unas de del en por para con sin y o u es son fue ser
        esta estan este esto estos estas que cual cuales quien quienes como cuando donde
        cuanto cuanta cuantos cuantas al lo le les se su sus mi mis hay puede pueden debe
        deben necesito necesita tiene tienen hace muy mas sobre entre ante tras"""
    ),
    "pt": _listed(
        """o a os as um uma uns umas de do da dos das em no na nos nas por pelo pela pelos
        pelas para com sem e ou e sao foi ser esta estao este isto estes estas que qual
        quais quem como quando onde quanto quanta quantos quantas ao aos lhe se seu sua
        seus suas meu minha ha pode podem deve devem preciso precisa tem faz muito
        mais sobre entre ate"""
    ),
}
STOP_WORDS_ANY = frozenset().union(*STOP_WORDS.values())
# Words that say one language and not the others (folded); a shared word such as "que" or
# "de" is no evidence.
_DISTINCT = {
    lang: STOP_WORDS[lang] - frozenset().union(*(STOP_WORDS[o] for o in LANGUAGES if o != lang))
    for lang in LANGUAGES
}
_LETTERS = {"es": re.compile("[ñ¿¡]"), "pt": re.compile("[ãõç]|ões|ção")}
# Frequent word endings of one language only (folded): "-cion", "-ción" against "-cao", "-ção".
_ENDINGS = {
    "en": ("tion", "ing", "ies"),
    "es": ("cion", "ciones", "dad", "dades"),
    "pt": ("cao", "coes", "dade", "dades", "agem"),
}
LETTER_WEIGHT = 3


def detect_language(text: str) -> str:
    """ "en", "es" or "pt": the language with most evidence in `text` (ties go to English,
    then Spanish)."""
    lowered = text.lower()
    found = words(text)
    scores = dict.fromkeys(LANGUAGES, 0)
    for lang in LANGUAGES:
        scores[lang] += sum(1 for w in found if w in _DISTINCT[lang])
        scores[lang] += sum(1 for w in found if w.endswith(_ENDINGS[lang]) and len(w) > 5)
    for lang, pattern in _LETTERS.items():
        scores[lang] += LETTER_WEIGHT * len(pattern.findall(lowered))
    return max(LANGUAGES, key=lambda lang: (scores[lang], -LANGUAGES.index(lang)))


def content_words(text: str) -> list[str]:
    """The folded words of `text` that are not function words of any of the three languages."""
    return [w for w in words(text) if w not in STOP_WORDS_ANY]
