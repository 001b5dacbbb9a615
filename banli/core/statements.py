"""ORM reads of a fixed shape that every request makes, compiled once per process and database.

Each page reads the signed-in user, his role grants with their units and the sessions his office assigns. Django
compiles each of those querysets again on every request, which cost more than running them (a third of a
millisecond each). A KeptQuery compiles its queryset once, with a stand-in for its one parameter, and builds from
each run what the queryset itself gives: model instances with their select_related objects, annotations and field
converters (Django's own compiler and populators), or plain rows for a values_list.

A KeptQuery made with `prepared=True` is also prepared on each PostgreSQL connection (prepared_cursor), so that
PostgreSQL keeps its plan: for a statement of many joins and sub-selects planning costs as much as running it.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connections
from django.db.backends.postgresql.base import ServerBindingCursor
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models import QuerySet
from django.db.models.query import get_related_populators

# Stands for the query's parameter while it is compiled; no row holds it (ids are positive).
SLOT = -987_654_321


@dataclass(frozen=True)
class _Compiled:
    compiler: object
    sql: str
    params: tuple
    slot: int | None
    model: type | None
    init_list: tuple = ()
    start: int = 0
    end: int = 0
    populators: tuple = ()
    annotations: tuple = ()


class KeptQuery:
    """`build(SLOT)` (a queryset whose one parameter is SLOT, or none) compiled once per database alias."""

    def __init__(self, build: Callable[[int | str], QuerySet], *, prepared: bool = False):
        self._build = build
        self._prepared = prepared
        self._kept: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def instances(self, value: int | str, *, using: str) -> list:
        """The model instances the queryset gives with `value` as its parameter."""
        kept = self._compiled(using)
        rows = kept.compiler.results_iter([self._fetch(kept, value, using)[1]])
        found = []
        for row in rows:
            obj = kept.model.from_db(using, kept.init_list, row[kept.start:kept.end])
            for populator in kept.populators:
                populator.populate(row, obj)
            for name, position in kept.annotations:
                setattr(obj, name, row[position])
            found.append(obj)
        return found

    def rows(self, value=None, *, using: str) -> list[tuple]:
        """The rows of a values_list queryset, converted as the queryset converts them."""
        kept = self._compiled(using)
        return list(kept.compiler.results_iter([self._fetch(kept, value, using)[1]], tuple_expected=True))

    def dicts(self, value=None, *, using: str) -> list[dict]:
        """The rows of a values() queryset as dicts by column name, converted as the queryset converts them."""
        kept = self._compiled(using)
        names, rows = self._fetch(kept, value, using)
        return [dict(zip(names, row, strict=True)) for row in kept.compiler.results_iter([rows], tuple_expected=True)]

    def _fetch(self, kept: _Compiled, value, using: str) -> tuple[list[str], list]:
        params = list(kept.params)
        if kept.slot is not None:
            params[kept.slot] = value
        with prepared_cursor(using) if self._prepared else connections[using].cursor() as cursor:
            cursor.execute(kept.sql, params)
            return [column[0] for column in cursor.description], cursor.fetchall()

    def _compiled(self, using: str) -> _Compiled:
        kept = self._kept.get(using)
        if kept is not None:
            return kept
        with self._lock:
            kept = self._kept.get(using)
            if kept is None:
                kept = self._kept[using] = self._compile(using)
        return kept

    def _compile(self, using: str) -> _Compiled:
        compiler = self._build(SLOT).query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        slots = [i for i, value in enumerate(params) if value in (SLOT, str(SLOT))]  # a text field's as text
        if len(slots) > 1:
            raise ValueError("a KeptQuery takes one parameter")
        slot = slots[0] if slots else None
        info = compiler.klass_info
        if info is None:  # values_list: plain rows
            return _Compiled(compiler, sql, tuple(params), slot, None)
        fields = info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        init_list = tuple(column[0].target.attname for column in compiler.select[start:end])
        return _Compiled(compiler, sql, tuple(params), slot, info["model"], init_list, start, end,
                         tuple(get_related_populators(info, compiler.select, using)),
                         tuple(compiler.annotation_col_map.items()))


class _PreparingCursor(ServerBindingCursor):
    """psycopg's cursor binding parameters on the server, each statement prepared on the connection the first time
    it runs. Django turns psycopg's prepared statements off on its connections (prepare_threshold None), which
    its own cursors keep: they are allowed here for this cursor's statement only."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        kept = self.connection.prepare_threshold
        self.connection.prepare_threshold = 0
        try:
            return super().execute(query, params, prepare=True, binary=binary)
        finally:
            self.connection.prepare_threshold = kept


def prepared_cursor(using: str):
    """A Django cursor (execute wrappers, query log) whose statements PostgreSQL prepares on the connection and keeps
    the plan of; Django's own cursor on another database or with settings.BANLI_DB_PREPARED_STATEMENTS off (a pool
    in front of PostgreSQL must keep prepared statements: PgBouncer in transaction mode from 1.21 with
    max_prepared_statements). The ledger's rows statement took 3.7 ms at a million assignments, 1.7 ms prepared."""
    db = connections[using]
    if not settings.BANLI_DB_PREPARED_STATEMENTS or db.vendor != "postgresql":
        return db.cursor()
    db.ensure_connection()
    cursor = _PreparingCursor(db.connection)
    return _PreparedDebugWrapper(cursor, db) if db.queries_logged else db.make_cursor(cursor)


class _PreparedDebugWrapper(CursorDebugWrapper):
    """Django's query log (DEBUG, tests) for a prepared run: the statement with its values, as Django's own cursors
    log theirs (psycopg keeps no text of a prepared run for Django to read back)."""

    def execute(self, sql, params=None):
        with self.debug_sql(self.db.ops.compose_sql(sql, params), params):
            return CursorWrapper.execute(self, sql, params)
