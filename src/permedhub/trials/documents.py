"""Reading a YAML or JSON document from a file, for every `permedhub.trials` command.

A file that cannot be read or parsed raises `TrialInputError` naming the file, the line and
column, and the parser's problem, so the CLI can report it like any other bad input (exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from permedhub.trials.errors import TrialInputError


def read_document(path: str | Path, field: str) -> Any:
    """The parsed content of a .json file (JSON) or of any other file (YAML, a superset)."""
    file = Path(path)
    what = "a JSON file" if file.suffix.lower() == ".json" else "a YAML or JSON file"
    if not file.exists():
        raise TrialInputError(field, str(file), f"an existing {what} (no such file)")
    if not file.is_file():
        raise TrialInputError(field, str(file), f"{what} (this is not a regular file)")
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = error.object[: error.start].count(b"\n") + 1
        raise TrialInputError(
            field, str(file),
            f"UTF-8 text (byte {error.start} is not UTF-8, on line {line}; save it as UTF-8)",
        ) from None  # fmt: skip
    except OSError as error:
        raise TrialInputError(field, str(file), f"a readable file ({error.strerror})") from None
    if file.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise TrialInputError(
                field, str(file),
                f"valid JSON: line {error.lineno}, column {error.colno}: {error.msg}",
            ) from None  # fmt: skip
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TrialInputError(field, str(file), f"valid YAML: {_yaml_problem(error)}") from None


def _yaml_problem(error: yaml.YAMLError) -> str:
    """'line L, column C: problem' from PyYAML's error, without its multi-line snippet."""
    mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    context = getattr(error, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return where + (f"{problem} ({context})" if context else problem)
