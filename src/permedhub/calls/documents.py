"""Reading a call and its proposals from YAML/JSON files; every problem with its line.

Reading and syntax errors come from the one reader the trials documents use
(`permedhub.trials.documents.read_document`: file, line, column, parser's problem). A document
that parses but fails validation is reported problem by problem, each naming the field path
(`funders[2].budget_eur`), the value, what was expected and the line it is on, found by
walking the YAML node tree along the field path. Proposals are then checked against their
call: funders that do not take part, modules the call does not have.
"""

from __future__ import annotations

import functools
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from permedhub.calls.errors import MISSING, CallDocumentError, CallInputError, Problem
from permedhub.calls.model import RULE_SECTIONS, Call, ProposalSet, ReviewerPool
from permedhub.trials.documents import read_document
from permedhub.trials.errors import TrialInputError

ModelT = TypeVar("ModelT", bound=BaseModel)
Location = tuple[str | int, ...]
MAX_PROBLEMS = 20


def seeded_call_files() -> list[Path]:
    """The package's real call documents (calls/seed/*.yaml: the ERA PerMed calls), by name."""
    folder = Path(str(resources.files("permedhub.calls") / "seed"))
    return sorted(folder.glob("*.yaml"))


def load_call(path: str | Path) -> Call:
    """The call document at `path`, validated; CallDocumentError listing every problem."""
    data, text = _read(path, "call file")
    return _validate(Call, data, text, str(path))


def load_proposals(path: str | Path, call: Call) -> ProposalSet:
    """The proposals at `path` (a mapping with `proposals:` or a bare list), validated and
    checked against `call`; CallDocumentError listing every problem."""
    data, text = _read(path, "proposals file")
    prefix: Location = ()
    if isinstance(data, list):
        data, prefix = {"proposals": data}, ("proposals",)
    proposals = _validate(ProposalSet, data, text, str(path), strip=prefix)
    problems = [
        Problem(_dotted(loc[len(prefix) :]), value, expected, _line_of(text, loc[len(prefix) :]))
        for loc, value, expected in against_call(proposals, call)
    ]
    if problems:
        raise CallDocumentError(str(path), problems[:MAX_PROBLEMS])
    return proposals


def load_reviewers(path: str | Path) -> ReviewerPool:
    """The reviewer pool at `path` (a mapping with `reviewers:` or a bare list), validated;
    CallDocumentError listing every problem."""
    data, text = _read(path, "reviewers file")
    prefix: Location = ()
    if isinstance(data, list):
        data, prefix = {"reviewers": data}, ("reviewers",)
    return _validate(ReviewerPool, data, text, str(path), strip=prefix)


def against_call(proposals: ProposalSet, call: Call) -> list[tuple[Location, Any, str]]:
    """(location, value, expected) for each reference the call does not know."""
    funders = set(call.funder_ids())
    modules = {m.id for m in call.modules}
    found: list[tuple[Location, Any, str]] = []
    if proposals.call is not None and proposals.call != call.id:
        found.append((("call",), proposals.call, f"the call's id {call.id!r}"))
    for i, proposal in enumerate(proposals.proposals):
        for j, partner in enumerate(proposal.partners):
            if partner.funder is not None and partner.funder not in funders:
                found.append((
                    ("proposals", i, "partners", j, "funder"), partner.funder,
                    f"a funder of call {call.id!r}: {', '.join(sorted(funders))}",
                ))  # fmt: skip
        for j, module in enumerate(proposal.modules):
            if modules and module not in modules:
                found.append((
                    ("proposals", i, "modules", j), module,
                    f"a module of call {call.id!r}: {', '.join(sorted(modules))}",
                ))  # fmt: skip
    return found


def read_call_text(text: str | bytes, source: str = "call document") -> Call:
    """A call document given as text (pasted into a form or uploaded), validated as
    `load_call` validates a file; CallDocumentError listing every problem with its line."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            line = error.object[: error.start].count(b"\n") + 1
            raise CallDocumentError(
                source,
                [Problem("document", f"byte {error.start}", "UTF-8 text (save it as UTF-8)", line)],
            ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CallDocumentError(source, [_syntax_problem(text, error)]) from None
    return _validate(Call, data, text, source)


def _syntax_problem(text: str, error: yaml.YAMLError) -> Problem:
    """The parser's problem on the line it names, with that line's text as the value."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    begun = getattr(error, "context_mark", None)
    if context and begun is not None and begun is not mark:
        context += f" that starts on line {begun.line + 1}"
    expected = f"valid YAML ({problem}{f', {context}' if context else ''})"
    if mark is None:
        return Problem("document", None, expected)
    lines = text.splitlines()
    shown = lines[mark.line].strip() if mark.line < len(lines) else ""
    return Problem("document", shown, f"{expected} at column {mark.column + 1}", mark.line + 1)


def parse_call(data: Any, source: str = "call") -> Call:
    """A call from an already-parsed mapping (problems without lines)."""
    return _validate(Call, data, None, source)


def _read(path: str | Path, what: str) -> tuple[Any, str | None]:
    try:
        data = read_document(path, what)
    except TrialInputError as error:
        raise CallInputError(error.field, error.value, error.expected) from None
    try:
        text: str | None = Path(path).read_text(encoding="utf-8")
    except OSError:  # a pipe read once: problems then come without lines
        text = None
    return data, text


def _validate(
    model: type[ModelT], data: Any, text: str | None, source: str, strip: Location = ()
) -> ModelT:
    if not isinstance(data, dict):
        kind = "nothing" if data is None else type(data).__name__
        raise CallDocumentError(source, [Problem("document", kind, "a mapping (YAML/JSON object)")])
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = [_problem(model, item, text, strip) for item in error.errors()]
        raise CallDocumentError(source, problems[:MAX_PROBLEMS]) from None


def _problem(model: type[BaseModel], item: Any, text: str | None, strip: Location) -> Problem:
    loc: Location = tuple(item["loc"])
    cause = (item.get("ctx") or {}).get("error")
    if isinstance(cause, CallInputError):
        loc = (*loc, *_parse_field(cause.field))
        value, expected = cause.value, cause.expected
    elif item["type"] == "extra_forbidden":
        value, expected = item.get("input"), _known_names(model, loc)
    elif item["type"] == "missing":
        value, expected = MISSING, "a value (this field is required)"
    else:
        value = item.get("input")
        expected = str(item["msg"]).removeprefix("Value error, ").removeprefix("expected ")
        expected = expected.removeprefix("Input should be ")
        if expected.startswith(("greater than", "less than")):
            expected = f"a number {expected}"
    loc = loc[len(strip) :] if loc[: len(strip)] == strip else loc
    line = _line_of(text, loc) if text is not None else None
    return Problem(_dotted(loc), value, expected, line)


def _known_names(model: type[BaseModel], loc: Location) -> str:
    """'a known rule: one of ...' under a rule section, else 'a known field: one of ...'."""
    owner = _model_at(model, loc[:-1])
    names = ", ".join(owner.model_fields) if owner is not None else "?"
    if owner is not None and owner in RULE_SECTIONS.values():
        return f"a known rule (unknown rule {loc[-1]!r}): one of {names}"
    return f"a known field (unknown field {loc[-1]!r}): one of {names}"


def _model_at(model: type[BaseModel], loc: Location) -> type[BaseModel] | None:
    """The model class of the mapping at `loc` inside `model` (list indices skipped)."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(str(part))
        if field is None:
            return None
        current = _inner_model(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    """The model inside list[M], M | None, dict[str, M] (or the annotation itself)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (list, dict, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner_model(arg)
            if found is not None:
                return found
    return None


def _parse_field(field: str) -> Location:
    """'stages[1].deadline' -> ('stages', 1, 'deadline'); '[3].id' -> (3, 'id')."""
    parts: list[str | int] = []
    for piece in field.replace("[", ".[").split("."):
        if not piece:
            continue
        if piece.startswith("[") and piece.endswith("]") and piece[1:-1].isdigit():
            parts.append(int(piece[1:-1]))
        else:
            parts.append(piece)
    return tuple(parts)


def _dotted(loc: Location) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text


@functools.lru_cache(maxsize=2)
def _compose(text: str) -> yaml.Node | None:
    return yaml.compose(text)


def _line_of(text: str | None, loc: Location) -> int | None:
    """The 1-based line of the deepest node of the YAML `text` along `loc`."""
    if text is None:
        return None
    try:
        node = _compose(text)
    except yaml.YAMLError:
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if key.value == part:
                    line, child = key.start_mark.line + 1, value
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line
