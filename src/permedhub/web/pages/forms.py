"""The curator's record forms: which fields each kind of record shows, and form text <-> input.

Field names are those of the importer's schemas (`graph.schemas`), so a form is validated exactly
as a file or an API payload is; this module only turns text boxes into schema input and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from permedhub.graph.schemas import InitiativeKind, OrganisationKind, Role


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: str = "text"  # text | url | select | textarea
    hint: str = ""
    options: tuple[str, ...] = ()
    separator: str | None = None  # a list field: items separated by this in the text box
    required: bool = False


def _choices(literal: Any) -> tuple[str, ...]:
    return tuple(literal.__args__)


ID_FIELD = FormField(
    "id", "Id", hint="lower-case letters, digits, '.', '_' or '-'; never changes", required=True
)
SOURCE = FormField("source", "Source", hint="URL or citation the facts come from")

FORMS: dict[str, tuple[FormField, ...]] = {
    "organisation": (
        FormField("name", "Name", hint="Full official name", required=True),
        FormField("acronym", "Acronym"),
        FormField("kind", "Kind", "select", options=_choices(OrganisationKind)),
        FormField("country", "Country", hint="ISO 3166-1 code, e.g. DE"),
        FormField("subdivision", "Region or province", hint="ISO 3166-2 code, e.g. ES-NC"),
        FormField("city", "City"),
        FormField("latitude", "Latitude", hint="decimal degrees, -90 to 90"),
        FormField("longitude", "Longitude", hint="decimal degrees, -180 to 180"),
        FormField("website", "Website", "url"),
        FormField("ror_id", "ROR id"),
        FormField("expertise", "Expertise", hint="separate topics with ';'", separator=";"),
        FormField("notes", "Notes", "textarea"),
        SOURCE,
    ),
    "initiative": (
        FormField("name", "Name", required=True),
        FormField("acronym", "Acronym"),
        FormField("kind", "Kind", "select", options=_choices(InitiativeKind), required=True),
        FormField("programme", "Programme", hint="e.g. Horizon 2020"),
        FormField("grant_id", "Grant id"),
        FormField("call_topic", "Call topic"),
        FormField("eu_contribution_eur", "EU contribution (EUR)"),
        FormField("total_budget_eur", "Total budget (EUR)"),
        FormField("start", "Start", hint="YYYY, YYYY-MM or YYYY-MM-DD"),
        FormField("end", "End", hint="YYYY, YYYY-MM or YYYY-MM-DD"),
        FormField("website", "Website", "url"),
        FormField("summary", "Summary", "textarea"),
        FormField("aims", "Aims", "textarea", hint="one aim per line", separator="\n"),
        FormField("countries", "Countries", hint="ISO codes separated by ';'", separator=";"),
        FormField(
            "target_regions", "Target regions", hint="region ids or ISO codes, ';'", separator=";"
        ),
        SOURCE,
    ),
    "participation": (
        FormField("organisation", "Organisation id", required=True),
        FormField("initiative", "Initiative id", required=True),
        FormField("role", "Role", "select", options=_choices(Role), required=True),
        FormField("start", "From", hint="YYYY, YYYY-MM or YYYY-MM-DD"),
        FormField("end", "To", hint="YYYY, YYYY-MM or YYYY-MM-DD"),
        SOURCE,
    ),
}
PLURAL = {
    "organisation": "organisations",
    "initiative": "initiatives",
    "participation": "participations",
}
SINGULAR = {plural: single for single, plural in PLURAL.items()}


def fields_for(entity_type: str, *, creating: bool) -> tuple[FormField, ...]:
    """The form's fields; a new organisation or initiative also chooses its id."""
    fields = FORMS[entity_type]
    return (ID_FIELD, *fields) if creating and entity_type != "participation" else fields


def to_text(entity_type: str, record: dict[str, Any], *, creating: bool) -> dict[str, str]:
    """A stored record (schema field names) as the text each form field shows."""
    values = {}
    for f in fields_for(entity_type, creating=creating):
        value = record.get(f.name)
        if isinstance(value, list):
            value = ("\n" if f.separator == "\n" else "; ").join(str(v) for v in value)
        values[f.name] = "" if value is None else str(value)
    return values


def to_input(entity_type: str, form: dict[str, str], *, creating: bool) -> dict[str, Any]:
    """Form text as schema input: blank -> None, lists split; the schema does all checking."""
    data: dict[str, Any] = {}
    for f in fields_for(entity_type, creating=creating):
        text = form.get(f.name, "").strip()
        if f.separator:
            data[f.name] = [part.strip() for part in text.split(f.separator) if part.strip()]
        else:
            data[f.name] = text or None
    return data
