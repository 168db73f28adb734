"""Curators' edits: one record at a time, validated by the importer's schemas, audited, undoable.

An edit passes through exactly the gate a file import passes through (`graph.schemas`), is
written with its audit entry (old -> new) in one transaction, and keeps the search index in step.
Undoing an audit entry writes the reverse change, audited as well. User accounts (argon2 hashes,
roles viewer < curator < admin) live here too, so the CLI and the portal share one implementation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import ValidationError
from sqlalchemy import Date, Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from permedhub.db import writing
from permedhub.graph import activity, models, revision
from permedhub.graph.indexing import write_documents
from permedhub.graph.models import AuditEntry, UserAccount, table_of
from permedhub.graph.records import ENTITY_TYPE, TABLES, snapshot, to_row
from permedhub.graph.schemas import SCHEMAS, Record
from permedhub.search.index import remove_document
from permedhub.validation import expected

ROLES = ("viewer", "curator", "admin")
EDITABLE = ("organisation", "initiative", "participation")
PLURAL = {single: plural for plural, single in ENTITY_TYPE.items()}
MIN_PASSWORD_LENGTH = 10
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,119}$")
_hasher = PasswordHasher()
# Verified when a name is unknown, so a wrong name costs as much time as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class FieldProblem:
    field: str
    value: Any
    expected: str


class CurationError(ValueError):
    """An edit, undo or account change that was refused; nothing was written."""

    def __init__(self, problems: list[FieldProblem]):
        self.problems = problems
        super().__init__(
            "; ".join(f"{p.field} (value {p.value!r}): expected {p.expected}" for p in problems)
        )


@dataclass(frozen=True)
class SaveResult:
    action: str  # create | update | unchanged
    entity_type: str
    entity_id: str
    audit_id: int | None


# ---------------------------------------------------------------- records as the importer sees them


def _table(entity_type: str) -> Any:
    if entity_type not in EDITABLE:
        raise CurationError(
            [FieldProblem("entity_type", entity_type, "one of " + ", ".join(EDITABLE))]
        )
    return TABLES[PLURAL[entity_type]]


def _partial(value: dt.date | None, precision: str | None) -> str | None:
    if value is None:
        return None
    if precision == "year":
        return f"{value.year:04d}"
    if precision == "month":
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()


def record_input(session: Session, entity_type: str, entity_id: str) -> dict[str, Any]:
    """The stored record written as an import file would hold it (the schema's field names)."""
    table = _table(entity_type)
    row = session.execute(select(table).where(table.c.id == entity_id)).mappings().first()
    if row is None:
        raise CurationError([FieldProblem("id", entity_id, f"the id of an existing {entity_type}")])
    marks = {
        "source": row["source"],
        "uncertain": dict(row["uncertain"] or {}),
        "approximate": dict(row["approximate"] or {}),
    }
    if entity_type == "organisation":
        return {
            "id": row["id"],
            "name": row["name"],
            "acronym": row["acronym"],
            "kind": row["kind"],
            "country": row["country_code"],
            "subdivision": row["subdivision_code"],
            "city": row["city"],
            "latitude": row["latitude"],
            "longitude": row["longitude"],
            "website": row["website"],
            "ror_id": row["ror_id"],
            "expertise": list(row["expertise"] or []),
            "notes": row["notes"],
            "synthetic": bool(row["synthetic"]),
            **marks,
        }
    if entity_type == "initiative":
        money = {
            k: float(row[k]) if row[k] is not None else None
            for k in ("eu_contribution_eur", "total_budget_eur")
        }
        return {
            "id": row["id"],
            "name": row["name"],
            "acronym": row["acronym"],
            "kind": row["kind"],
            "programme": row["programme"],
            "grant_id": row["grant_id"],
            "call_topic": row["call_topic"],
            **money,
            "start": _partial(row["start_date"], row["start_precision"]),
            "end": _partial(row["end_date"], row["end_precision"]),
            "website": row["website"],
            "summary": row["summary"],
            "aims": list(row["aims"] or []),
            "countries": list(row["countries"] or []),
            "target_regions": list(row["target_regions"] or []),
            "topics": list(row["topics"] or []),
            "facts": dict(row["facts"] or {}),
            "synthetic": bool(row["synthetic"]),
            **marks,
        }
    return {
        "id": row["id"],
        "organisation": row["organisation_id"],
        "initiative": row["initiative_id"],
        "role": row["role"],
        "start": row["start_date"].isoformat() if row["start_date"] else None,
        "end": row["end_date"].isoformat() if row["end_date"] else None,
        **marks,
    }


def validate_record(entity_type: str, data: dict[str, Any]) -> Record:
    """`data` checked by the importer's schema; every problem named by field."""
    _table(entity_type)
    try:
        return SCHEMAS[PLURAL[entity_type]].model_validate(data)
    except ValidationError as exc:
        raise CurationError(
            [
                FieldProblem(
                    ".".join(str(p) for p in e["loc"]) or "record",
                    e.get("input") if e["loc"] else None,
                    expected(e),
                )
                for e in exc.errors()
            ]
        ) from None


# ---------------------------------------------------------------- edits


def create_record(
    engine: Engine, entity_type: str, data: dict[str, Any], *, actor: str
) -> SaveResult:
    """Store a new record (its id must be free), audited as a creation."""
    return _save(engine, entity_type, validate_record(entity_type, data), actor, must_exist=False)


def update_record(
    engine: Engine, entity_type: str, entity_id: str, changes: dict[str, Any], *, actor: str
) -> SaveResult:
    """Apply `changes` (schema field names) to a stored record, audited as old -> new."""
    if "id" in changes and changes["id"] != entity_id:
        raise CurationError([FieldProblem("id", changes["id"], f"the record's own id {entity_id}")])
    with Session(engine) as session:
        current = record_input(session, entity_type, entity_id)
    record = validate_record(entity_type, {**current, **changes, "id": entity_id})
    return _save(engine, entity_type, record, actor, must_exist=True)


def _check_references(session: Session, entity_type: str, row: dict[str, Any]) -> None:
    if entity_type != "participation":
        return
    problems = [
        FieldProblem(field, row[column], f"the id of an existing {field}")
        for field, column, model in (
            ("organisation", "organisation_id", models.Organisation),
            ("initiative", "initiative_id", models.Initiative),
        )
        if session.get(model, row[column]) is None
    ]
    if problems:
        raise CurationError(problems)


def _save(
    engine: Engine, entity_type: str, record: Record, actor: str, *, must_exist: bool
) -> SaveResult:
    table = _table(entity_type)
    row = to_row(PLURAL[entity_type], record)
    entity_id = str(row["id"])
    with writing(engine) as session:
        _check_references(session, entity_type, row)
        connection = session.connection()
        existing = connection.execute(select(table).where(table.c.id == entity_id)).mappings()
        found = existing.first()
        if must_exist and found is None:
            raise CurationError([FieldProblem("id", entity_id, f"an existing {entity_type}")])
        if not must_exist and found is not None:
            raise CurationError(
                [FieldProblem("id", entity_id, f"an id no other {entity_type} has")]
            )
        old = snapshot(found) if found is not None else None
        new = snapshot(row)
        if old == new:
            return SaveResult("unchanged", entity_type, entity_id, None)
        if found is None:
            connection.execute(insert(table), [row])
            write_documents(connection, entity_type, [row], [])
        else:
            values = {k: v for k, v in row.items() if k != "id"}
            connection.execute(update(table).where(table.c.id == entity_id).values(**values))
            write_documents(connection, entity_type, [], [row])
        action = "create" if found is None else "update"
        audit_id = _audit(session, actor, action, entity_type, entity_id, old, new, batch=None)
    return SaveResult(action, entity_type, entity_id, audit_id)


def _audit(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
    *,
    batch: str | None,
) -> int:
    # Every curator write passes here after changing its record: keep the aggregate in step.
    connection = session.connection()
    activity.refresh(connection, activity.places_touched(connection, entity_type, old, new))
    revision.bump(connection)
    result = session.connection().execute(
        insert(table_of(AuditEntry)).values(
            actor=actor,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            old=old,
            new=new,
            batch=batch,
        )
    )
    key = result.inserted_primary_key
    return int(key[0]) if key else 0


def audit_service_record(
    session: Session,
    actor: str,
    action: str,
    entity_type: str,
    entity_id: str,
    *,
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    batch: str | None = None,
) -> None:
    """An audit entry for a service's own record (a helpdesk ticket, a registration, a
    setting): the graph's log, without the graph's aggregates (no graph record changed). The
    caller decides what the snapshots may hold; personal data a deletion removes must not."""
    session.add(
        AuditEntry(actor=actor, action=action, entity_type=entity_type, entity_id=entity_id,
                   old=old, new=new, batch=batch)
    )  # fmt: skip


# ---------------------------------------------------------------- audit log and undo


@dataclass(frozen=True)
class AuditView:
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity_type: str
    entity_id: str
    changed: dict[str, tuple[Any, Any]]  # field -> (old, new), only fields that differ
    batch: str | None
    undone_by: int | None  # the audit entry that reversed this one
    undoable: bool


def undo_batch_name(entry_id: int) -> str:
    return f"undo:{entry_id}"


def changed_fields(
    old: dict[str, Any] | None, new: dict[str, Any] | None
) -> dict[str, tuple[Any, Any]]:
    old, new = old or {}, new or {}
    return {
        key: (old.get(key), new.get(key))
        for key in sorted(set(old) | set(new))
        if old.get(key) != new.get(key)
    }


def state_after(session: Session, entry: AuditEntry) -> dict[str, Any] | None:
    """The snapshot `entry` left its record in: its `new`, or for a load's creation, which
    stores none, the `old` of the record's next entry or else the record as it is now."""
    return states_after(session, [entry])[entry.id]


def states_after(session: Session, entries: list[AuditEntry]) -> dict[int, dict[str, Any] | None]:
    """`state_after` of each entry (by id), in two queries per entity type, not two per entry."""
    states: dict[int, dict[str, Any] | None] = {e.id: e.new for e in entries}
    bare = [
        e for e in entries if e.new is None and e.action == "create" and e.entity_type in PLURAL
    ]
    for entity_type in sorted({e.entity_type for e in bare}):
        of_type = [e for e in bare if e.entity_type == entity_type]
        ids = {e.entity_id for e in of_type}
        # Every later entry of these records, oldest first: the first after each creation
        # holds the record as created in its `old`.
        later: dict[str, list[tuple[int, dict[str, Any] | None]]] = defaultdict(list)
        for entity_id, entry_id, old in session.execute(
            select(AuditEntry.entity_id, AuditEntry.id, AuditEntry.old)
            .where(
                AuditEntry.entity_type == entity_type,
                AuditEntry.entity_id.in_(ids),
                AuditEntry.id > min(e.id for e in of_type),
            )
            .order_by(AuditEntry.id)
        ):
            later[entity_id].append((entry_id, old))
        table = TABLES[PLURAL[entity_type]]
        current = {
            row["id"]: snapshot(row)
            for row in session.connection()
            .execute(select(table).where(table.c.id.in_(ids)))
            .mappings()
        }
        for entry in of_type:
            following = [old for i, old in later[entry.entity_id] if i > entry.id]
            states[entry.id] = following[0] if following else current.get(entry.entity_id)
    return states


def audit_log(
    session: Session, *, limit: int = 100, offset: int = 0
) -> tuple[list[AuditView], int]:
    """The newest audit entries first, each with the fields it changed; and the total count."""
    if not 1 <= limit <= 1000:
        raise CurationError([FieldProblem("limit", limit, "a whole number from 1 to 1000")])
    total = session.execute(select(func.count(AuditEntry.id))).scalar_one()
    entries = list(
        session.execute(
            select(AuditEntry).order_by(AuditEntry.id.desc()).offset(offset).limit(limit)
        ).scalars()
    )
    after = states_after(session, entries)
    names = [undo_batch_name(e.id) for e in entries]
    undone: dict[str | None, int] = {
        batch: entry_id
        for batch, entry_id in session.execute(
            select(AuditEntry.batch, AuditEntry.id).where(AuditEntry.batch.in_(names))
        ).all()
    }
    return [
        AuditView(
            id=e.id,
            at=e.at,
            actor=e.actor,
            action=e.action,
            entity_type=e.entity_type,
            entity_id=e.entity_id,
            changed=changed_fields(e.old, after[e.id]),
            batch=e.batch,
            undone_by=undone.get(undo_batch_name(e.id)),
            undoable=e.entity_type in PLURAL and undo_batch_name(e.id) not in undone,
        )
        for e in entries
    ], int(total)


def _restorable(table: Any, values: dict[str, Any]) -> dict[str, Any]:
    """A snapshot turned back into column values (dates were stored as ISO text)."""
    restored = {}
    for key, value in values.items():
        column = table.c.get(key)
        if column is None:
            continue
        if isinstance(column.type, Date) and isinstance(value, str):
            value = dt.date.fromisoformat(value)
        restored[key] = value
    return restored


def undo(engine: Engine, entry_id: int, *, actor: str) -> int:
    """Reverse one audit entry if its record is still as that entry left it; the new entry's id."""
    with writing(engine) as session:
        entry = session.get(AuditEntry, entry_id)
        if entry is None:
            raise CurationError([FieldProblem("audit_id", entry_id, "an existing audit entry")])
        if entry.entity_type not in PLURAL:
            raise CurationError(
                [FieldProblem("entity_type", entry.entity_type, "a record type that can be undone")]
            )
        already = session.execute(
            select(AuditEntry.id).where(AuditEntry.batch == undo_batch_name(entry_id))
        ).first()
        if already is not None:
            raise CurationError(
                [
                    FieldProblem(
                        "audit_id", entry_id, f"an entry not yet undone (undone by {already[0]})"
                    )
                ]
            )
        table = TABLES[PLURAL[entry.entity_type]]
        connection = session.connection()
        found = (
            connection.execute(select(table).where(table.c.id == entry.entity_id))
            .mappings()
            .first()
        )
        current = snapshot(found) if found is not None else None
        if current != state_after(session, entry):
            raise CurationError(
                [
                    FieldProblem(
                        "audit_id",
                        entry_id,
                        "the latest change of its record (it was changed again since; "
                        "undo the later change first)",
                    )
                ]
            )
        entity_type = entry.entity_type
        if entry.old is None:  # undo a creation
            _refuse_if_referenced(session, entity_type, entry.entity_id)
            connection.execute(delete(table).where(table.c.id == entry.entity_id))
            remove_document(connection, entity_type, entry.entity_id)
            action = "delete"
        elif found is None:  # undo a deletion
            row = _restorable(table, entry.old)
            connection.execute(insert(table), [row])
            write_documents(connection, entity_type, [row], [])
            action = "create"
        else:
            row = _restorable(table, entry.old)
            values = {k: v for k, v in row.items() if k != "id"}
            connection.execute(update(table).where(table.c.id == entry.entity_id).values(**values))
            write_documents(connection, entity_type, [], [row])
            action = "update"
        return _audit(
            session,
            actor,
            action,
            entity_type,
            entry.entity_id,
            current,
            entry.old,
            batch=undo_batch_name(entry_id),
        )


def _refuse_if_referenced(session: Session, entity_type: str, entity_id: str) -> None:
    column = {
        "organisation": models.Participation.organisation_id,
        "initiative": models.Participation.initiative_id,
    }.get(entity_type)
    if column is None:
        return
    used = session.execute(select(func.count()).where(column == entity_id)).scalar_one()
    if used:
        raise CurationError(
            [
                FieldProblem(
                    "audit_id",
                    entity_id,
                    f"a {entity_type} no participation refers to ({used} do; remove them first)",
                )
            ]
        )


# ---------------------------------------------------------------- user accounts


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    role: str
    created_at: dt.datetime | None
    session_version: int = 0


def role_rank(role: str) -> int:
    if role not in ROLES:
        raise CurationError([FieldProblem("role", role, "one of " + ", ".join(ROLES))])
    return ROLES.index(role)


def create_user(engine: Engine, name: str, password: str, role: str) -> UserView:
    """A new account with an argon2id hash of `password`."""
    problems = []
    if not USER_NAME.match(name or ""):
        problems.append(
            FieldProblem("name", name, "1-120 letters, digits, '.', '_', '@' or '-', no spaces")
        )
    if len(password or "") < MIN_PASSWORD_LENGTH:
        problems.append(
            FieldProblem("password", "***", f"at least {MIN_PASSWORD_LENGTH} characters")
        )
    if role not in ROLES:
        problems.append(FieldProblem("role", role, "one of " + ", ".join(ROLES)))
    if problems:
        raise CurationError(problems)
    with writing(engine) as session:
        if session.execute(select(UserAccount.id).where(UserAccount.name == name)).first():
            raise CurationError([FieldProblem("name", name, "a name no other user has")])
        user = UserAccount(name=name, password_hash=_hasher.hash(password), role=role)
        session.add(user)
        session.flush()
        view = UserView(user.id, user.name, user.role, None)
    return view


def authenticate(engine: Engine, name: str, password: str) -> UserView | None:
    """The user when `password` is theirs, else None (same work either way)."""
    with Session(engine) as session:
        user = session.execute(
            select(UserAccount).where(UserAccount.name == name)
        ).scalar_one_or_none()
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            return None
        if user is None:
            return None
        view = UserView(user.id, user.name, user.role, user.created_at, user.session_version)
        needs_rehash = _hasher.check_needs_rehash(user.password_hash)
    if needs_rehash:
        with writing(engine) as session:
            session.execute(
                update(UserAccount)
                .where(UserAccount.id == view.id)
                .values(password_hash=_hasher.hash(password))
            )
    return view


def get_user(session: Session, user_id: int) -> UserView | None:
    user = session.get(UserAccount, user_id)
    if user is None:
        return None
    return UserView(user.id, user.name, user.role, user.created_at, user.session_version)


def revoke_sessions(engine: Engine, user_id: int) -> None:
    """End every session of the account: cookies issued before this call stop working."""
    with writing(engine) as session:
        session.execute(
            update(UserAccount)
            .where(UserAccount.id == user_id)
            .values(session_version=UserAccount.session_version + 1)
        )


def list_users(session: Session) -> list[UserView]:
    return [
        UserView(u.id, u.name, u.role, u.created_at)
        for u in session.execute(select(UserAccount).order_by(UserAccount.name)).scalars()
    ]
