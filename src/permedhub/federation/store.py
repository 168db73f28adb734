"""A node's OMOP database, named by a URL: `duckdb:///path/cdm.duckdb` (the default kind:
columnar, so a cohort count over millions of rows takes milliseconds), or any SQLAlchemy URL
(`sqlite:///path/cdm.sqlite`, `postgresql+psycopg://user@host/db`).

Queries arrive as SQLAlchemy Core statements (`compile.py`) and run with bound parameters on
every backend; DuckDB gets them compiled to qmark-style SQL, which it reads as SQLite does.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Date, Select, create_engine, insert, inspect, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateTable

from permedhub.federation import omop

DUCKDB_PREFIX = "duckdb:///"


class StoreError(ValueError):
    """The data URL cannot be opened as an OMOP database."""


@dataclass(frozen=True)
class PersonIndex:
    """Every person's id (sorted), gender concept and year of birth, held by the node to turn a
    cohort's ids into a bitmap and to break counts down without another query."""

    person_id: np.ndarray
    gender_concept_id: np.ndarray
    year_of_birth: np.ndarray

    def positions(self, ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.person_id, ids)


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise StoreError(
            "a duckdb:/// URL needs the duckdb package: pip install 'permedhub[federation]'"
        ) from exc
    return duckdb


def _sqlite_sql(statement: Select[Any]) -> tuple[str, list[Any]]:
    compiled = statement.compile(
        dialect=sqlite.dialect(), compile_kwargs={"render_postcompile": True}
    )
    return str(compiled), [compiled.params[name] for name in compiled.positiontup or []]


class Store:
    """Read access to one OMOP database (thread-safe: the node answers in a thread pool)."""

    def __init__(self, url: str, *, read_only: bool = True, threads: int | None = None) -> None:
        self.url = url
        self.is_duckdb = url.startswith(DUCKDB_PREFIX)
        self._lock = threading.Lock()
        if self.is_duckdb:
            path = url.removeprefix(DUCKDB_PREFIX)
            config = {"threads": threads} if threads else {}
            try:
                self._duck = _duckdb().connect(path, read_only=read_only, config=config)
            except Exception as exc:
                raise StoreError(f"data URL {url!r}: cannot open DuckDB file: {exc}") from exc
        else:
            try:
                self._engine = create_engine(url)
            except Exception as exc:
                raise StoreError(
                    f"data URL {url!r}: expected duckdb:///PATH or a SQLAlchemy URL ({exc})"
                ) from exc

    def rows(self, statement: Select[Any]) -> list[tuple[Any, ...]]:
        if self.is_duckdb:
            sql, params = _sqlite_sql(statement)
            with self._lock:
                cursor = self._duck.cursor()
            try:
                return [tuple(row) for row in cursor.execute(sql, params).fetchall()]
            finally:
                cursor.close()
        with self._engine.connect() as connection:
            return [tuple(row) for row in connection.execute(statement)]

    def arrays(self, statement: Select[Any]) -> list[np.ndarray]:
        """The statement's result columns as NumPy int64 arrays."""
        if self.is_duckdb:
            sql, params = _sqlite_sql(statement)
            with self._lock:
                cursor = self._duck.cursor()
            try:
                result = cursor.execute(sql, params).fetchnumpy()
            finally:
                cursor.close()
            return [np.asarray(values, dtype=np.int64) for values in result.values()]
        with self._engine.connect() as connection:
            rows = connection.execute(statement).all()
        width = len(statement.selected_columns)
        matrix = np.asarray(rows, dtype=np.int64).reshape(len(rows), width)
        return [matrix[:, i] for i in range(width)]

    def person_index(self) -> PersonIndex:
        p = omop.person
        ids, genders, years = self.arrays(
            select(p.c.person_id, p.c.gender_concept_id, p.c.year_of_birth).order_by(p.c.person_id)
        )
        return PersonIndex(person_id=ids, gender_concept_id=genders, year_of_birth=years)

    def concept_domains(self) -> dict[int, str]:
        t = omop.concept
        return {int(i): str(d) for i, d in self.rows(select(t.c.concept_id, t.c.domain_id))}

    def source_label(self) -> str:
        rows = self.rows(select(omop.cdm_source.c.cdm_source_name))
        return str(rows[0][0]) if rows else ""

    def close(self) -> None:
        if self.is_duckdb:
            self._duck.close()
        else:
            self._engine.dispose()


def write_tables(url: str, tables: Mapping[str, pd.DataFrame]) -> None:
    """Create the OMOP tables at `url` (which must not hold them yet) and fill them; on SQL
    backends with the indexes the cohort queries use (`omop.INDEXED`)."""
    if url.startswith(DUCKDB_PREFIX):
        _write_duckdb(url.removeprefix(DUCKDB_PREFIX), tables)
        return
    engine = create_engine(url)
    with engine.begin() as connection:
        present = set(inspect(connection).get_table_names()) & set(tables)
        if present:
            raise StoreError(f"data URL {url!r}: already holds table(s) {sorted(present)}")
        omop.metadata.create_all(connection)
        for name, frame in tables.items():
            table = omop.metadata.tables[name]
            dates = [col.name for col in table.columns if isinstance(col.type, Date)]
            records = frame.astype(object).to_dict("records")
            for record in records:
                for column in dates:
                    record[column] = record[column].date()
            if records:
                connection.execute(insert(table), records)
    engine.dispose()


def _write_duckdb(path: str, tables: Mapping[str, pd.DataFrame]) -> None:
    connection = _duckdb().connect(path)
    try:
        for name, frame in tables.items():
            table = omop.metadata.tables[name]
            connection.execute(str(CreateTable(table).compile(dialect=sqlite.dialect())))
            columns = ", ".join(
                f"CAST({col.name} AS DATE)" if isinstance(col.type, Date) else col.name
                for col in table.columns
            )
            # Event rows sorted by concept let DuckDB skip the row groups of other concepts.
            order = ", ".join(omop.INDEXED.get(name, ()))
            connection.register("incoming", frame)
            connection.execute(
                f"INSERT INTO {name} SELECT {columns} FROM incoming"
                + (f" ORDER BY {order}" if order else "")
            )
            connection.unregister("incoming")
        connection.execute("CHECKPOINT")
    finally:
        connection.close()
