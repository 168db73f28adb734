"""Query words in English, Spanish and Portuguese as word stems, with the domain's synonyms.

The lexical index holds facts mostly written in English; a question asks "¿quién aprueba los
ensayos?" or "quem financia pesquisa?". Each content word of a query becomes one term whose
alternatives are its own stem and, when it is a word of clinical-trial regulation or research
funding, the English stems of its concept (`CONCEPTS`). A stem is matched as a prefix
("approv" finds approve, approves, approval, approved).

`CONCEPTS` is a table of this project: for each concept, the stems (folded, no accents) that
say it in any of the three languages, and the English stems the facts use. It covers trials,
approval, regulators, ethics review, funding, timelines, insurance, data protection, sample
transfer, fees, submission language, devices, medicines and registration: the aspects of the
helpdesk's schemas (helpdesk.schemas.Aspect and Role), and the questions researchers ask
about them. A query stem matches a concept when it begins with one of the concept's stems.
"""

from __future__ import annotations

from dataclasses import dataclass

# Suffixes stripped from a folded word to make its stem (longest first; the stem keeps at
# least MIN_STEM letters). English, Spanish and Portuguese plurals and common derivations.
SUFFIXES = (
    "aciones",
    "acoes",
    "ations",
    "ation",
    "acion",
    "acao",
    "mente",
    "ments",
    "ment",
    "ings",
    "ing",
    "ies",
    "ied",
    "ers",
    "er",
    "ed",
    "es",
    "os",
    "as",
    "al",
    "s",
    "o",
    "a",
    "e",
    "y",  # study, apply, agency: stud*, appl*, agenc*
)
MIN_STEM = 4

# concept: (stems that say it in EN/ES/PT, English stems the facts use); GLOSSES below
CONCEPTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "trial": (
        ("trial", "ensay", "ensai", "estudi", "estud", "investigac", "pesquis", "clinic"),
        ("trial", "clinic", "stud", "research"),
    ),
    "approval": (
        ("approv", "authori", "aprob", "aprueb", "aprov", "autoriz", "permis", "permit", "licen"),
        ("approv", "authoris", "authoriz", "permi", "licen"),
    ),
    "regulator": (
        # Not "regulat": a Regulation is a law, not a regulator.
        ("agenc", "agenci", "regulator", "regulad", "autorid", "authorit", "organ"),
        ("agenc", "regulat", "authorit", "competent", "administration", "institut"),
    ),
    "ethics": (
        ("ethic", "etic", "bioetic", "bioethic", "comit", "committ", "comis", "conselh"),
        ("ethic", "committ", "bioethic"),
    ),
    "funding": (
        ("fund", "financ", "fomen", "grant", "beca", "bols", "subsid", "subvenc", "patrocin"),
        ("fund", "grant", "financ", "programm", "foundation", "council"),
    ),
    "time": (
        (
            "long",
            "time",
            "tiemp",
            "temp",
            "plaz",
            "praz",
            "demor",
            "tard",
            "dura",
            "dias",
            "day",
            "week",
            "seman",
            "timeline",
            "deadlin",
            "rapid",
            "quick",
        ),
        ("day", "week", "within", "timeline", "period"),
    ),
    "insurance": (("insur", "segur", "cobertur", "coverag", "poliz", "apolic"), ("insur",)),
    "data": (
        (
            "privac",
            "privacid",
            "privacidad",
            "dato",
            "dado",
            "personal",
            "pesso",
            "protec",
            "protecc",
            "gdpr",
            "lgpd",
        ),
        ("data", "protect", "privac", "personal"),
    ),
    "samples": (
        (
            "sampl",
            "muestr",
            "amostr",
            "specimen",
            "biolog",
            "export",
            "import",
            "envi",
            "transfer",
            "material",
        ),
        ("sampl", "specimen", "export", "transfer", "material", "biolog"),
    ),
    "fees": (
        (
            "fee",
            "tasa",
            "taxa",
            "arancel",
            "cost",
            "cust",
            "cuest",
            "prec",
            "prez",
            "pag",
            "pay",
            "tarif",
            "cobr",
            "charg",
        ),
        ("fee", "cost", "payment", "charg"),
    ),
    "language": (
        ("language", "idiom", "lengu", "lingu", "ingles", "english", "espanol"),
        ("language", "english"),
    ),
    "submission": (
        (
            "submi",
            "solicit",
            "present",
            "pedid",
            "dossier",
            "aplicac",
            "applic",
            "requer",
            "someter",
            "submet",
        ),
        ("submi", "applic", "dossier"),
    ),
    "device": (("device", "dispositiv", "equip"), ("device",)),
    "medicine": (
        ("medicin", "medicam", "farmac", "drug", "pharmac", "produc"),
        ("medicin", "drug", "pharmac", "product"),
    ),
    "register": (("regist",), ("regist",)),
    "amendment": (
        ("modific", "amend", "enmiend", "emend", "alterac", "cambi", "mudanc"),
        ("modification", "amend"),
    ),
}


# Each concept in English words: what the semantic side embeds besides the question, so that a
# Spanish or Portuguese question meets English facts in English too (dictionary-based query
# translation, concept by concept).
GLOSSES: dict[str, str] = {
    "trial": "clinical trial research study",
    "approval": "approves authorises approval authorisation permit",
    "regulator": "regulatory agency competent authority",
    "ethics": "ethics committee ethical review",
    "funding": "funds funding funder grants",
    "time": "how many days timeline time limit",
    "insurance": "insurance policy",
    "data": "personal data protection privacy",
    "samples": "export of biological samples specimens",
    "fees": "fee cost payment",
    "language": "language",
    "submission": "submit application dossier",
    "device": "medical devices",
    "medicine": "medicines medicinal products drugs",
    "register": "registration registry",
    "amendment": "substantial modification amendment",
}


def stem(word: str) -> str:
    """A folded word without its plural or derivational ending."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= MIN_STEM:
            return word[: -len(suffix)]
    return word


@dataclass(frozen=True)
class QueryStem:
    word: str  # as typed (folded)
    stems: tuple[str, ...]  # its own stem first, then its concepts' English stems
    concepts: tuple[str, ...]

    @property
    def gloss(self) -> str:
        """The English words of the concepts the word names ("" for none)."""
        return " ".join(GLOSSES[c] for c in self.concepts)


def expand(word: str) -> QueryStem:
    """A folded content word as the stems that match it, with the concepts it names."""
    own = stem(word)
    concepts = tuple(
        name
        for name, (says, _) in CONCEPTS.items()
        if any(own.startswith(s) or word.startswith(s) for s in says)
    )
    stems = [own]
    for name in concepts:
        stems.extend(CONCEPTS[name][1])
    return QueryStem(word, tuple(dict.fromkeys(stems)), concepts)
