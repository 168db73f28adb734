"""From files to validated table rows, in chunks: the half of a load that needs no database.

`prepare(paths)` reads YAML / JSON documents, JSON Lines and CSV (streamed), validates every
record with the schemas of `permedhub.graph.schemas`, turns it into its table row, drops exact
repeats and rejects an id repeated with different data, and yields the rows in chunks of one
entity in load order. `loading.load` writes the chunks. For big inputs it runs `prepare` in a
child process (`prepare_in_background`), so that reading and validating overlaps with writing
the chunks already read: on two cores, a million-row load is about a third faster.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import gc
import io
import json
import os
import pickle
import queue
import re
import subprocess
import sys
import threading
import traceback
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import yaml
from pydantic import ValidationError

from permedhub.bulk import dumps_bytes
from permedhub.graph.records import to_row
from permedhub.graph.schemas import LOAD_ORDER, SCHEMAS, GraphDocument, Record
from permedhub.validation import expected

CHUNK_ROWS = 2000
MAX_ISSUES = 50
LIST_COLUMNS = {"aims", "countries", "target_regions", "topics", "expertise", "funders"}
JSON_COLUMNS = {"facts", "rules", "sources"}
CSV_SIGNATURES = {  # columns that tell which entity a CSV holds
    "participations": {"organisation", "initiative", "role"},
    "links": {"from", "to", "kind"},
    "calls": {"id", "initiative", "title"},
    "topics": {"id", "name", "kind", "parent"},
    "initiatives": {"id", "name", "kind", "start"},
    "organisations": {"id", "name", "country"},
}


@dataclass(frozen=True)
class LoadIssue:
    """One problem in one place: file, row (the line the record starts on, as an editor shows
    it), field and value."""

    file: str
    row: int | None
    field: str | None
    value: Any
    expected: str

    def __str__(self) -> str:
        where = self.file + (f", row {self.row}" if self.row is not None else "")
        what = f", field {self.field!r}" if self.field else ""
        value = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}{what}{value}: {self.expected}"


class LoadError(ValueError):
    """A load that stored nothing, with every issue found (up to MAX_ISSUES)."""

    def __init__(self, issues: list[LoadIssue]):
        self.issues = issues
        head = "\n".join(f"  - {issue}" for issue in issues[:MAX_ISSUES])
        super().__init__(f"nothing was loaded; {len(issues)} problem(s):\n{head}")

    def __reduce__(self) -> tuple[Any, ...]:  # crosses from the reading process intact
        return (type(self), (self.issues,))


@dataclass
class RawRecord:
    entity: str
    row: int
    data: dict[str, Any]


# ---------------------------------------------------------------- reading


def read_file(path: Path, entity: str | None = None) -> Iterator[RawRecord]:
    """Yield the records of one file in load order (streamed for CSV and JSON Lines)."""
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml", ".json"}:
        yield from _read_document(path)
    elif suffix in {".jsonl", ".ndjson"}:
        yield from _read_json_lines(path)
    elif suffix == ".csv":
        yield from _read_csv(path, entity)
    else:
        raise LoadError(
            [
                LoadIssue(
                    str(path),
                    None,
                    None,
                    path.suffix,
                    "unsupported file type: expected .yaml, .yml, .json, .jsonl, .ndjson or .csv",
                )
            ]
        )


def _text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise LoadError([not_utf8(path)]) from None
    except OSError as exc:
        raise LoadError([LoadIssue(str(path), None, None, None, f"cannot read: {exc}")]) from None


class PlainDatesLoader(yaml.SafeLoader):
    """YAML's safe loader without its timestamp type: `2021-02-30` stays text for the schemas to
    refuse by record and field, as in CSV and JSON, where PyYAML would raise a bare ValueError
    naming neither."""


PlainDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_mapping(path: Path, sections: Iterable[str]) -> Document:
    """The mapping a YAML or JSON document holds; a file that is not one (unreadable, not UTF-8,
    malformed, empty or a bare list) is a LoadError naming its line where it has one.
    `sections` are the lists a document of this kind may hold, for the error message."""
    content = _text(path)
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(content)
            lines = _json_item_lines(content) if isinstance(data, dict) else {}
        else:
            data, lines = _yaml_with_item_lines(content)
    except json.JSONDecodeError as exc:
        raise LoadError(
            [
                LoadIssue(
                    str(path),
                    exc.lineno,
                    None,
                    None,
                    f"malformed JSON: {exc.msg} (column {exc.colno})",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise LoadError(
            [LoadIssue(str(path), line, None, None, f"malformed YAML: {problem}")]
        ) from None
    if data is None:
        raise LoadError([LoadIssue(str(path), None, None, None, "the file is empty")])
    if not isinstance(data, dict):
        raise LoadError(
            [
                LoadIssue(
                    str(path),
                    None,
                    None,
                    type(data).__name__,
                    "expected a mapping with lists under " + ", ".join(sections),
                )
            ]
        )
    return Document(data, lines)


@dataclass(frozen=True)
class Document:
    """A YAML or JSON file's mapping, and per top-level list the line each item starts on."""

    data: dict[str, Any]
    item_lines: dict[str, list[int]]

    def line_of(self, section: Any, index: int) -> int:
        """The line an editor shows item `index` (0-based) of `section` on (index + 1 where no
        line is known)."""
        starts = self.item_lines.get(section, [])
        return starts[index] if index < len(starts) else index + 1


def validation_issues(
    exc: ValidationError,
    file: str,
    row: int | None,
    prefix: str | None = None,
    document: Document | None = None,
) -> list[LoadIssue]:
    """One LoadIssue per error of a record (or of a whole `document`, `row` None): the field as
    a dotted path under `prefix` (e.g. `organisations.country`), the value given and what was
    expected. An error inside a document's list is placed on the line of its item."""
    issues = []
    for error in exc.errors():
        loc, where_row = tuple(error["loc"]), row
        if document is not None and len(loc) >= 2 and isinstance(loc[1], int):
            where_row, loc = document.line_of(loc[0], loc[1]), (loc[0], *loc[2:])
        path = ".".join(str(p) for p in loc)
        where = ".".join(p for p in (prefix, path) if p) or None
        # A missing field's "input" is the whole record: not the value of anything.
        missing = error["type"] == "missing"
        value = error.get("input") if error["loc"] and not missing else None
        wanted = "required: the record has no value for it" if missing else expected(error)
        issues.append(LoadIssue(file, where_row, where, value, wanted))
    return issues


def _read_document(path: Path) -> Iterator[RawRecord]:
    document = read_mapping(path, LOAD_ORDER)
    try:
        graph = GraphDocument.model_validate(document.data)
    except ValidationError as exc:
        issues = validation_issues(exc, str(path), None, document=document)
        raise LoadError(issues[:MAX_ISSUES]) from None
    for entity in LOAD_ORDER:
        records = [
            RawRecord(entity, document.line_of(entity, n), item)
            for n, item in enumerate(getattr(graph, entity))
        ]
        yield from _parents_first(records) if entity == "topics" else records


def _yaml_with_item_lines(content: str) -> tuple[Any, dict[str, list[int]]]:
    """The document, and per top-level list the line each of its items starts on."""
    loader = PlainDatesLoader(content)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    finally:
        loader.dispose()
    lines: dict[str, list[int]] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and isinstance(value, yaml.SequenceNode):
                lines[key.value] = [item.start_mark.line + 1 for item in value.value]
    return data, lines


_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _json_item_lines(content: str) -> dict[str, list[int]]:
    """Per top-level list of a JSON object (already parsed, so well formed), the line each of
    its items starts on: the json module keeps no positions, so the object is walked with
    raw_decode, one value at a time."""
    decoder = json.JSONDecoder()

    def skip(at: int) -> int:
        match = _JSON_SPACE.match(content, at)
        return match.end() if match else at

    lines: dict[str, list[int]] = {}
    at = skip(content.index("{") + 1)
    while content[at] != "}":
        key, at = decoder.raw_decode(content, at)
        at = skip(skip(at) + 1)  # past the ':'
        if content[at] == "[":
            starts = lines[key] = []
            at = skip(at + 1)
            while content[at] != "]":
                starts.append(content.count("\n", 0, at) + 1)
                _, at = decoder.raw_decode(content, at)
                at = skip(at)
                if content[at] == ",":
                    at = skip(at + 1)
            at += 1
        else:
            _, at = decoder.raw_decode(content, at)
        at = skip(at)
        if content[at] == ",":
            at = skip(at + 1)
    return lines


def _parents_first(topics: list[RawRecord]) -> list[RawRecord]:
    """Topics ordered so that a parent is written before its children."""
    parent_of = {t.data.get("id"): t.data.get("parent") for t in topics}

    def depth(topic_id: Any) -> int:
        seen: set[Any] = set()
        while parent_of.get(topic_id) in parent_of and topic_id not in seen:
            seen.add(topic_id)
            topic_id = parent_of[topic_id]
        return len(seen)

    return sorted(topics, key=lambda t: depth(t.data.get("id")))


def _read_json_lines(path: Path) -> Iterator[RawRecord]:
    try:
        handle = path.open(encoding="utf-8")
        with handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise LoadError(
                        [
                            LoadIssue(
                                str(path), number, None, None, f"malformed JSON line: {exc.msg}"
                            )
                        ]
                    ) from None
                if not isinstance(data, dict) or data.get("entity") not in SCHEMAS:
                    raise LoadError(
                        [
                            LoadIssue(
                                str(path),
                                number,
                                "entity",
                                data.get("entity") if isinstance(data, dict) else data,
                                "expected an object with entity one of " + ", ".join(SCHEMAS),
                            )
                        ]
                    )
                entity = data.pop("entity")
                yield RawRecord(entity, number, data)
    except UnicodeDecodeError:
        raise LoadError([not_utf8(path)]) from None


def _csv_entity(path: Path, header: list[str], entity: str | None) -> str:
    if entity:
        if entity not in SCHEMAS:
            raise LoadError(
                [
                    LoadIssue(
                        str(path), None, "entity", entity, "expected one of " + ", ".join(SCHEMAS)
                    )
                ]
            )
        return entity
    stem = path.stem.lower()
    for name in SCHEMAS:
        if stem.startswith(name) or stem.startswith(name.rstrip("s")):
            return name
    columns = set(header)
    for name, signature in CSV_SIGNATURES.items():
        if signature <= columns:
            return name
    raise LoadError(
        [
            LoadIssue(
                str(path),
                1,
                None,
                ",".join(header),
                "cannot tell which entity this CSV holds: name the file organisations.csv, "
                "initiatives.csv, participations.csv, links.csv, topics.csv or calls.csv, "
                "or pass --entity",
            )
        ]
    )


def _read_csv(path: Path, entity: str | None) -> Iterator[RawRecord]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise LoadError([LoadIssue(str(path), None, None, None, f"cannot read: {exc}")]) from None
    with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise LoadError([LoadIssue(str(path), None, None, None, "the file is empty")]) from None
        except UnicodeDecodeError:
            raise LoadError([not_utf8(path, csv_file=True)]) from None
        except csv.Error as exc:
            raise LoadError([LoadIssue(str(path), 1, None, None, _csv_problem(exc))]) from None
        name = _csv_entity(path, header, entity)
        while True:
            # Numbered by the line a record starts on, as an editor shows it (a quoted cell may
            # span lines).
            number = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except UnicodeDecodeError:
                raise LoadError([not_utf8(path, csv_file=True)]) from None
            except csv.Error as exc:
                raise LoadError(
                    [LoadIssue(str(path), reader.line_num, None, None, _csv_problem(exc))]
                ) from None
            if not "".join(cells).strip():  # a blank line
                continue
            if len(cells) != len(header):
                raise LoadError(
                    [
                        LoadIssue(
                            str(path),
                            number,
                            None,
                            None,
                            f"expected {len(header)} cells as in the header, found {len(cells)} "
                            "(a truncated or malformed line)",
                        )
                    ]
                )
            yield RawRecord(
                name, number, _csv_record(path, number, dict(zip(header, cells, strict=True)))
            )


def _csv_problem(exc: csv.Error) -> str:
    return f"malformed CSV: {exc}"


def not_utf8(path: Path, *, csv_file: bool = False) -> LoadIssue:
    """Where the first byte that is not UTF-8 is: its line and column as an editor counts them
    and, in a CSV body, the column's field (the decoder reads ahead, so its own position says
    little)."""
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = exc.start
    else:  # pragma: no cover - called only after a decoding error
        raise AssertionError(f"{path} decodes as UTF-8")
    line_start = data.rfind(b"\n", 0, bad) + 1
    line = data.count(b"\n", 0, bad) + 1
    before = data[line_start:bad].decode("utf-8", "replace")
    field = None
    if csv_file and line > 1:
        first_line = data[: data.find(b"\n")].decode("utf-8", "replace")
        header = [h.strip() for h in next(csv.reader([first_line]), [])]
        cells = next(csv.reader([before]), [""])
        field = header[len(cells) - 1] if len(cells) <= len(header) else None
    return LoadIssue(
        str(path),
        line,
        field,
        None,
        f"not valid UTF-8: byte {data[bad]:#04x} at line {line}, column {len(before) + 1} "
        "(expected UTF-8 text: save the file as UTF-8)",
    )


def _csv_record(path: Path, number: int, cells: dict[str, str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    for key, value in cells.items():
        value = value.strip()
        if value == "":
            continue
        if key in LIST_COLUMNS:
            record[key] = [v.strip() for v in value.split(";") if v.strip()]
        elif key in JSON_COLUMNS or (key in {"uncertain", "approximate"} and value[:1] == "{"):
            try:
                record[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise LoadError(
                    [LoadIssue(str(path), number, key, value, f"expected a JSON object: {exc.msg}")]
                ) from None
        else:
            record[key] = value
    return record


# ---------------------------------------------------------------- validating


def validate(raw: RawRecord, file: str) -> Record:
    try:
        return SCHEMAS[raw.entity].model_validate(raw.data)
    except ValidationError as exc:
        raise LoadError(validation_issues(exc, file, raw.row, raw.entity)) from None


# ---------------------------------------------------------------- chunking


@dataclass
class Chunk:
    """Up to CHUNK_ROWS validated records of one entity, to be written together: each as its
    table row, and where it came from. Parallel lists, not an object per row: they cross the
    pipe from the reading process at half the unpickling cost."""

    entity: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    numbers: list[int] = field(default_factory=list)

    def append(self, file: str, number: int, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.files.append(file)
        self.numbers.append(number)


def prepare(paths: Iterable[Path | str], entity: str | None = None) -> Generator[Chunk, None, None]:
    """Validated, de-duplicated rows of all `paths` in chunks; a chunk of an entity comes after
    every chunk of the entities it may refer to (LOAD_ORDER), so one file may hold an
    organisation and its participations.

    A bad record does not end the reading: every problem in every file (up to MAX_ISSUES) is
    gathered and raised as one LoadError once the files are read, and no chunk is yielded after
    the first problem, so nothing of a bad load reaches the writer beyond what it rolls back."""
    # (entity, id) -> where it was first seen and its fingerprint
    seen: dict[tuple[str, str], tuple[str, int, int]] = {}
    pending: dict[str, Chunk] = {}
    issues: list[LoadIssue] = []
    for path in map(Path, paths):
        file = str(path)
        try:
            for raw in read_file(path, entity):
                try:
                    values = to_row(raw.entity, validate(raw, file))
                except LoadError as error:
                    issues.extend(error.issues)
                    if len(issues) >= MAX_ISSUES:
                        break
                    continue
                key = (raw.entity, str(values["id"]))
                fingerprint = hash(dumps_bytes(values))
                earlier = seen.get(key)
                if earlier is not None:
                    if earlier[2] != fingerprint:
                        issues.append(
                            LoadIssue(
                                file,
                                raw.row,
                                f"{raw.entity}.id",
                                values["id"],
                                f"a unique id: "
                                f"{'this file' if earlier[0] == file else earlier[0]} "
                                f"already has it at row {earlier[1]} with different data",
                            )
                        )
                    continue  # the same record again
                seen[key] = (file, raw.row, fingerprint)
                if issues:
                    continue  # still checking the rest, but this load will not be written
                yield from _add(pending, file, raw, values)
        except LoadError as error:  # the file itself cannot be read further
            issues.extend(error.issues)
        if len(issues) >= MAX_ISSUES:
            break
    if issues:
        raise LoadError(issues[:MAX_ISSUES])
    for name in LOAD_ORDER:
        if name in pending and pending[name].rows:
            yield pending.pop(name)


def _add(
    pending: dict[str, Chunk], file: str, raw: RawRecord, values: dict[str, Any]
) -> Iterator[Chunk]:
    """Queue one row; yield the chunks that must be written before it, or that are full."""
    # Entities earlier in LOAD_ORDER may be referred to by this one: they go first.
    for previous in LOAD_ORDER[: LOAD_ORDER.index(raw.entity)]:
        if pending.get(previous) is not None and pending[previous].rows:
            yield pending.pop(previous)
    chunk = pending.setdefault(raw.entity, Chunk(raw.entity))
    chunk.append(file, raw.row, values)
    if len(chunk.rows) >= CHUNK_ROWS:
        yield pending.pop(raw.entity)


# ---------------------------------------------------------------- in a second process


class PreparingFailed(RuntimeError):
    """The reading process failed for a reason other than bad input (a bug, memory)."""


def prepare_in_background(
    paths: Iterable[Path | str], entity: str | None = None
) -> Generator[Chunk, None, None]:
    """`prepare` run by a child Python process (`python -m permedhub.graph.preparing`); the
    chunks arrive pickled through its stdout. A plain subprocess rather than multiprocessing: it
    never re-imports the caller's main module, and it works under a threaded server.

    A thread of this process receives up to READ_AHEAD chunks ahead of the writer, so that the
    child keeps reading while the writer waits for the database (a pipe holds barely one
    chunk)."""
    command = [sys.executable, "-m", "permedhub.graph.preparing", "--entity", entity or ""]
    process = subprocess.Popen(
        [*command, "--", *(str(p) for p in paths)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE
    )
    assert process.stdout is not None
    received: queue.Queue[object] = queue.Queue(maxsize=READ_AHEAD)
    stop = threading.Event()
    receiver = threading.Thread(
        target=_receive, args=(process.stdout, received, stop), name="permedhub-load-reader"
    )
    receiver.start()
    message: object = _ENDED
    try:
        while True:
            message = received.get()
            if message is _ENDED:
                raise PreparingFailed(
                    f"the file-reading process ended early (exit code {process.wait()})"
                )
            if message is None:
                return
            if isinstance(message, LoadError | PreparingFailed):
                raise message
            if isinstance(message, str):
                raise PreparingFailed("the file-reading process failed:\n" + message)
            assert isinstance(message, Chunk)
            yield message
    finally:
        stop.set()
        if process.poll() is None and message is not None:
            process.kill()  # stopped early: nothing more is wanted from it
        receiver.join()  # it sees the stop flag or the end of the pipe
        process.stdout.close()
        process.wait()


READ_AHEAD = 16  # chunks (of CHUNK_ROWS rows) received ahead of the writer
_ENDED = object()  # the pipe closed before the last message


def _receive(pipe: BinaryIO, received: queue.Queue[object], stop: threading.Event) -> None:
    """Unpickle messages from the child into `received` until the last one or `stop`."""
    while not stop.is_set():
        message: object
        try:
            message = pickle.load(pipe)
        except EOFError:
            message = _ENDED
        except Exception as exc:  # e.g. a garbled stream: the consumer raises it, not this thread
            message = PreparingFailed(f"cannot read what the file-reading process sent: {exc!r}")
        while not stop.is_set():
            try:
                received.put(message, timeout=0.1)
                break
            except queue.Full:
                continue
        if not isinstance(message, Chunk):  # the last message, whatever it says
            return


def _prepare_to(out: BinaryIO, paths: list[str], entity: str | None) -> None:
    def send(message: object) -> None:
        pickle.dump(message, out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    try:
        for chunk in prepare(paths, entity):
            send(chunk)
        send(None)
    except LoadError as exc:
        send(exc)
    except BrokenPipeError:
        pass  # the loading process gave up: nobody is listening
    except Exception:
        send(traceback.format_exc())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Read and validate files for `loading.load`.")
    parser.add_argument("--entity", default="")
    parser.add_argument("paths", nargs="+")
    arguments = parser.parse_args(argv)
    gc.disable()  # see loading._no_cyclic_gc
    # The pipe carries pickles only: anything else printing to stdout goes to stderr instead.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    try:
        _prepare_to(out, arguments.paths, arguments.entity or None)
    finally:
        with contextlib.suppress(BrokenPipeError):
            out.close()


if __name__ == "__main__":
    # Through the module's real name, so that chunks pickle as permedhub.graph.preparing.Chunk.
    from permedhub.graph import preparing

    preparing.main()
