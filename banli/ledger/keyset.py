"""Paging the ledger (台账) so that every page costs what page 1 costs, at a million assignments.

- The order reads stored columns of the assignment row only: key items still waiting on someone first (`key_item`
  with a `next_due`), then the next due date (`next_due`, empty last), then the id. A key item that has nothing
  due (办结, 已送会办意见, 已测评) sorts with the other finished rows at the end: at the year's end an office's closed
  key items filled the first pages above its open ordinary ones. PostgreSQL has an index in exactly that order for
  each common filter (migrations handling 0009, 1005), so a page is an index range read of 50 entries.
- Pages are keyset pages: "next" asks for the rows after the last one shown, "previous" for the rows before the
  first, never OFFSET. One can also jump to a due date or to a proposal number.
- The count is exact up to COUNT_CAP and shown as "10,000+" beyond: counting a million rows exactly costs more
  than the page itself, and nobody pages through 10,000 rows. A count that is still slow (a common word searched)
  is kept a minute per scope and filter, and the page says when it was made.
- A search with few results is ranked by relevance (those pages use OFFSET over at most RANK_LIMIT rows); a
  word found in thousands of items keeps the due order, and the page says so.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass, field

from django.core.cache import cache
from django.core.exceptions import EmptyResultSet
from django.db import connection, connections
from django.db.models import Case, Exists, F, FloatField, IntegerField, OuterRef, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from banli.core.statements import KeptQuery
from banli.handling.choices import AssignmentRole
from banli.proposals import search
from banli.proposals.models import Proposal

COUNT_CAP = 10_000
RANK_LIMIT = 1_000
FAR = "9999-12-31"  # empty due dates sort last
# What a ledger row shows (workbench.ledger_html, selectors.decorate) and its cursor reads; the page reads these
# columns only. The annotations of the ledger's queryset (due, reply class, 首轮不满意, 并案) come as well.
ROW_VALUES = ("id", "proposal_id", "unit_id", "role", "state", "round", "key_item", "next_due", "proposal__number",
              "proposal__title", "proposal__merged_with_id", "proposal__session__name", "unit__name",
              "handler_id", "handler__display_name", "handler__username")
ROW_ANNOTATIONS = ("due", "reply_class", "unsatisfied_outcome")


class RowProposal:
    """What a ledger row shows of its proposal."""

    __slots__ = ("pk", "id", "number", "title", "merged_with_id", "session")

    def __init__(self, pk, number, title, merged_with_id, session_name):
        self.pk = self.id = pk
        self.number, self.title, self.merged_with_id = number, title, merged_with_id
        self.session = RowNamed(None, session_name)


class RowNamed:
    """A unit or a session as a ledger row shows it: its id and name."""

    __slots__ = ("pk", "id", "name")

    def __init__(self, pk, name):
        self.pk = self.id = pk
        self.name = name

    def __str__(self) -> str:
        return self.name


class RowHandler:
    """The handler as a ledger row shows him (organizations.User.label)."""

    __slots__ = ("pk", "id", "label")

    def __init__(self, pk, display_name, username):
        self.pk = self.id = pk
        self.label = display_name or username

    def __str__(self) -> str:
        return self.label


class LedgerRow:
    """One ledger row, read as values (ROW_VALUES and the queryset's annotations), with the attribute names of
    an Assignment so templates, selectors.decorate and the cursor read it the same way."""

    def __init__(self, **values):
        self.__dict__.update(values)

    @classmethod
    def from_values(cls, v: dict) -> LedgerRow:
        return cls(
            pk=v["id"], id=v["id"], proposal_id=v["proposal_id"], unit_id=v["unit_id"], handler_id=v["handler_id"],
            role=v["role"], state=v["state"], round=v["round"], key_item=v["key_item"], next_due=v["next_due"],
            due=v.get("due", v["next_due"]), reply_class=v.get("reply_class"),
            unsatisfied_outcome=v.get("unsatisfied_outcome") or "", merge_head=v.get("merge_head", False),
            proposal=RowProposal(v["proposal_id"], v["proposal__number"], v["proposal__title"],
                                 v["proposal__merged_with_id"], v["proposal__session__name"]),
            unit=RowNamed(v["unit_id"], v["unit__name"]),
            handler=(RowHandler(v["handler_id"], v["handler__display_name"], v["handler__username"])
                     if v["handler_id"] else None))

    def get_role_display(self) -> str:
        return str(AssignmentRole(self.role).label) if self.role in AssignmentRole.values else self.role


@dataclass(frozen=True)
class Sort:
    """A keyset order: SQL expressions over the assignment row (as indexed) and their direction."""

    key: str
    columns: tuple[str, ...]  # "key", "due", "id"
    descending: bool = False

    def expressions(self, table: str) -> list[str]:
        sql = {"key": f'(NOT {table}."key_item" OR {table}."next_due" IS NULL)',
               "due": f"COALESCE({table}.\"next_due\", {_date_literal(FAR)})",
               "id": f'{table}."id"'}
        return [sql[c] for c in self.columns]

    def values_of(self, row) -> tuple:
        out = {"key": after_key_items(row.key_item, row.next_due), "due": row.next_due or dt.date.fromisoformat(FAR),
               "id": row.pk}
        return tuple(out[c] for c in self.columns)


def after_key_items(key_item: bool, next_due) -> bool:
    """The order's first column, as Sort.expressions writes it in SQL: False for a key item something is due on
    (it comes first), True for every other row."""
    return not key_item or next_due is None


SORTS = {
    "": Sort("", ("key", "due", "id")),
    "due": Sort("due", ("due", "id")),
    "-due": Sort("-due", ("due", "id"), descending=True),
}


def default_order(model) -> list:
    """The ledger's default order (key items with something due first, then the current deadline, then the id) as
    the SQL expressions the assignment indexes are built on (migration handling 1005), so any list in that order
    reads an index."""
    table = connection.ops.quote_name(model._meta.db_table)
    return [RawSQL(sql, ()).asc() for sql in SORTS[""].expressions(table)]


def _date_literal(value: str) -> str:
    return f"DATE '{value}'" if connection.vendor == "postgresql" else f"'{value}'"


def _param(column: str) -> str:
    return "CAST(%s AS date)" if column == "due" and connection.vendor == "postgresql" else "%s"


def encode_cursor(values: tuple) -> str:
    return "_".join(str(int(v)) if isinstance(v, bool) else (v.isoformat() if isinstance(v, dt.date) else str(v))
                    for v in values)


def decode_cursor(sort: Sort, raw: str) -> tuple | None:
    """The cursor's values, or None when it does not fit the order (a stale or edited link: start over)."""
    parts = (raw or "").split("_")
    if len(parts) != len(sort.columns):
        return None
    out = []
    try:
        for column, part in zip(sort.columns, parts):
            if column == "key":
                if part not in ("0", "1"):
                    return None
                out.append(part == "1")
            elif column == "due":
                out.append(dt.date.fromisoformat(part))
            else:
                out.append(int(part))
    except ValueError:
        return None
    return tuple(out)


@dataclass
class LedgerPage:
    """One page of the ledger with what the template needs to link the neighbours and say the count."""

    rows: list
    count: int
    capped: bool
    number: int | None = None  # shown when known (reached by next/previous from page 1)
    next_params: dict | None = None
    previous_params: dict | None = None
    ranked: bool = False
    ranking_skipped: bool = False
    jumped: str = ""
    per_page: int = 50
    counted_at: dt.datetime | None = None  # the count came from the short cache, made then
    notes: list = field(default_factory=list)

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.capped else f"{self.count}"

    @property
    def cap_label(self) -> str:
        return f"{self.count:,}"

    @property
    def num_pages(self) -> int | None:
        if self.capped:
            return None
        return max(1, -(-self.count // self.per_page))

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_params or self.previous_params)


SLOW_COUNT_SECONDS = 0.05  # a count that took longer is kept for COUNT_CACHE_SECONDS, per scope and filter
COUNT_CACHE_SECONDS = 60


def capped_count(qs: QuerySet) -> tuple[int, bool, dt.datetime | None]:
    """The number of rows, exact up to COUNT_CAP (reads at most COUNT_CAP + 1 rows); a count that was slow to
    make (a common word searched) is cached briefly, keyed by its SQL, i.e. by the user's scope and the filters.
    Returns (count, capped, when it was counted if it came from the cache)."""

    cap = COUNT_CAP
    counting = qs.order_by().values("pk")[: cap + 1]
    try:
        sql, params = counting.query.sql_with_params()
    except EmptyResultSet:
        return 0, False, None  # a scope that holds nothing: no query at all
    key = _count_key(sql, params)
    cached = cache.get(key)
    if cached is not None:
        n, at = cached
        return (cap, True, at) if n > cap else (n, False, at)
    started = time.perf_counter()
    n = counting.count()
    _remember_slow_count(key, n, time.perf_counter() - started)
    return _capped(n)


def _capped(n: int, at=None) -> tuple[int, bool, dt.datetime | None]:
    return (COUNT_CAP, True, at) if n > COUNT_CAP else (n, False, at)


def _count_key(sql: str, params) -> str:
    return "ledger-count:" + hashlib.sha256(f"{sql}|{params!r}".encode()).hexdigest()


def _remember_slow_count(key: str, n: int, seconds: float) -> None:
    if seconds > SLOW_COUNT_SECONDS:
        cache.set(key, (n, timezone.now()), COUNT_CACHE_SECONDS)


@dataclass
class CountPlan:
    """The capped count to make within the page's own query (one round trip for count, page and rows), or the
    count already known (from the short cache, or nothing to count)."""

    sql: str = ""
    params: tuple = ()
    key: str = ""
    known: tuple | None = None  # (count, capped, counted_at)


def count_plan(qs: QuerySet) -> CountPlan:
    counting = qs.order_by().values("pk")[: COUNT_CAP + 1]
    try:
        sql, params = counting.query.sql_with_params()
    except EmptyResultSet:
        return CountPlan(known=(0, False, None))
    key = _count_key(sql, params)
    cached = cache.get(key)
    if cached is not None:
        return CountPlan(known=_capped(*cached))
    return CountPlan(sql=f"SELECT COUNT(*) FROM ({sql}) ledger_counted", params=tuple(params), key=key)


def _with_row_extras(qs: QuerySet) -> QuerySet:
    # A 并案 head is known by its merged items; asked for the page's rows only.
    return qs.annotate(merge_head=Exists(Proposal.objects.filter(merged_with=OuterRef("proposal_id"))))


def _page_number(raw) -> int:
    try:
        return max(1, int(raw))
    except (TypeError, ValueError):
        return 1


def keyset_page(qs: QuerySet, params, *, per_page: int, sort: Sort, count: int | None = None, capped: bool = False,
                plan: CountPlan | None = None) -> LedgerPage:
    """The page after `after`, before `before`, from a date or a number, or the first page.

    With a count `plan` instead of a count, the count is made in the same query as the page's rows."""
    counted_at = None
    if count is None:
        plan = plan or count_plan(qs)
        if plan.known is not None:
            (count, capped, counted_at), plan = plan.known, None
    table = connection.ops.quote_name(qs.model._meta.db_table)
    exprs = sort.expressions(table)
    order = [RawSQL(e, []).desc() if sort.descending else RawSQL(e, []).asc() for e in exprs]
    backwards_order = [RawSQL(e, []).asc() if sort.descending else RawSQL(e, []).desc() for e in exprs]
    row_sql = "(" + ", ".join(exprs) + ")"
    placeholders = "(" + ", ".join(_param(c) for c in sort.columns) + ")"
    forward_op = "<" if sort.descending else ">"
    backward_op = ">" if sort.descending else "<"

    def beyond(op, values):
        return qs.extra(where=[f"{row_sql} {op} {placeholders}"], params=list(values))  # noqa: S610 - constant SQL

    number = _page_number(params.get("page"))
    jumped = ""
    after = decode_cursor(sort, params.get("after", ""))
    before = decode_cursor(sort, params.get("before", ""))
    start = None
    if after is None and before is None:
        start, jumped = _jump_start(qs, params, sort, order)
        if jumped:
            number = None
    backwards = before is not None and after is None
    if backwards:
        if plan is not None:
            count, capped, counted_at = capped_count(qs)
        ids = _ids(beyond(backward_op, before).order_by(*backwards_order), per_page + 1)
        more_before = len(ids) > per_page
        ids = list(reversed(ids[:per_page]))
        more_after = True
        rows = _rows(qs, ids)
    else:
        base = qs
        if after is not None:
            base = beyond(forward_op, after)
        elif start is not None:
            base = beyond(forward_op + "=", start)
        rows, counted = _page_rows(qs, base.order_by(*order), per_page + 1, plan)
        if plan is not None:
            if counted is None:  # no row on this page to carry the count
                count, capped, counted_at = capped_count(qs)
            else:
                count, capped, counted_at = _capped(counted)
        more_after = len(rows) > per_page
        rows = rows[:per_page]
        more_before = after is not None or start is not None
    if backwards and not more_before:
        number = 1
    page = LedgerPage(rows=rows, count=count, capped=capped, number=number, per_page=per_page, jumped=jumped,
                      counted_at=counted_at)
    if rows and more_after:
        page.next_params = {"after": encode_cursor(sort.values_of(rows[-1]))}
        if number:
            page.next_params["page"] = number + 1
    if rows and more_before:
        page.previous_params = {"before": encode_cursor(sort.values_of(rows[0]))}
        if number and number > 1:
            page.previous_params["page"] = number - 1
    return page


def _ids(ordered: QuerySet, n: int) -> list[int]:
    # The page's ids from the assignment row alone: the planner cannot misjudge joins here (it guesses a row
    # comparison keeps one row and would hash-join and sort a million), so the ordered index and LIMIT do it.
    return list(ordered.values_list("pk", flat=True)[:n])


def _page_rows(qs: QuerySet, ordered: QuerySet, n: int, plan: CountPlan | None) -> tuple[list, int | None]:
    """The first `n` rows of `ordered` with what a row shows, and the capped count when planned.

    Two short statements instead of one long one: the page's ids from the assignment row alone (its ordered
    index and LIMIT; the count rides along as an uncorrelated sub-select made once), then the rows of those ids
    with their joins and sub-selects. Planning the two costs a fraction of planning one statement that repeats
    the filters around a sub-select of ids, and at a million rows planning was most of the page's time."""
    ids_qs = ordered
    if plan is not None:
        ids_qs = ids_qs.annotate(ledger_counted=RawSQL(plan.sql, plan.params, output_field=IntegerField()))
    started = time.perf_counter()
    found = list(ids_qs.values_list("pk", "ledger_counted")[:n] if plan is not None
                 else ids_qs.values_list("pk", flat=True)[:n])
    if plan is None:
        return _rows(qs, found), None
    if not found:
        return [], None
    counted = found[0][1]
    _remember_slow_count(plan.key, counted, time.perf_counter() - started)
    return _rows(qs, [pk for pk, _n in found]), counted


def _rows(qs: QuerySet, ids: list[int]) -> list[LedgerRow]:
    """The full rows of these ids (joins, reply class and 并案 lookups for the page only), in the ids' order.

    The ids already passed the filters, so the statement keeps only the ids (`id IN (…)`, or `id = ANY(%s)` in the
    statement kept per process): the filters are not planned
    or checked a second time (the row columns, joins and annotations of `qs` stay). Read as plain values, not
    model instances: five models per row (assignment, proposal, session, unit, handler) were a quarter of the
    page's Python time. On PostgreSQL a ledger queryset's statement is compiled once per process and prepared on
    each connection (_row_statement)."""
    if not ids:
        return []
    statement = _row_statement(qs)
    if statement is not None:
        found = statement.dicts(list(ids), using=qs.db)
    else:
        found = _lean(qs.order_by(), clear_filters=True).filter(pk__in=ids)
    by_id = {values["id"]: LedgerRow.from_values(values) for values in found}
    return [by_id[pk] for pk in ids if pk in by_id]


def _lean(qs: QuerySet, *, clear_filters: bool) -> QuerySet:
    """`qs` reading the row's values and annotations (ROW_VALUES, ROW_ANNOTATIONS, 并案) and nothing else."""
    if clear_filters:
        qs.query.clear_where()
    annotations = [name for name in ROW_ANNOTATIONS if name in qs.query.annotations]
    return _with_row_extras(qs.select_related(None)).values(*ROW_VALUES, *annotations, "merge_head")


# The rows statement of a ledger queryset, compiled once per process (PostgreSQL) and prepared on each connection
# (statements.KeptQuery): compiling it (five joins, the reply-class and 首轮不满意 sub-selects) cost about what running
# it costs, and planning it as much again. It is compiled from the queryset's `ROWS_BASE` (selectors.ledger_assignments:
# the annotated rows before the user's scope and any filter, kept for the process), so a filter's joins never enter
# it, and the page's ids are one array parameter (`id = ANY(%s)`).
ROWS_BASE = "ledger_rows_base"
_ROW_STATEMENTS: dict[int, tuple[QuerySet, KeptQuery]] = {}
_ROW_STATEMENTS_MAX = 512


def _row_statement(qs: QuerySet) -> KeptQuery | None:
    base = getattr(qs.query, ROWS_BASE, None)
    db = connections[qs.db]
    if base is None or db.vendor != "postgresql":
        return None
    key = id(base)  # one KeptQuery serves every database alias: it compiles once per alias itself
    kept = _ROW_STATEMENTS.get(key)
    if kept is not None and kept[0] is base:  # the entry holds `base`, so its id cannot name another object
        return kept[1]
    table = db.ops.quote_name(qs.model._meta.db_table)
    statement = KeptQuery(lambda ids: _lean(base.order_by(), clear_filters=False).extra(  # noqa: S610 - constant SQL
        where=[f'{table}."id" = ANY(%s)'], params=[ids]), prepared=True)
    if len(_ROW_STATEMENTS) >= _ROW_STATEMENTS_MAX:
        _ROW_STATEMENTS.clear()
    _ROW_STATEMENTS[key] = (base, statement)
    return statement


def _jump_start(qs, params, sort: Sort, order) -> tuple[tuple | None, str]:
    """The first position of a jump to a due date (`from_date`) or to a proposal number (`from_number`)."""
    raw_date = (params.get("from_date") or "").strip()
    raw_number = (params.get("from_number") or "").strip()
    if raw_number:
        row = qs.filter(proposal__number=raw_number).select_related(None).order_by(*order).only("pk", "key_item", "next_due").first()
        if row is not None:
            return sort.values_of(row), f"第{raw_number}号"
        return None, ""
    if raw_date and "due" in sort.columns and "key" not in sort.columns:
        try:
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            return None, ""
        return (day, 2**62 if sort.descending else 0), f"期限 {day.isoformat()}"
    return None, ""


def offset_page(qs: QuerySet, params, *, per_page: int, count: int, capped: bool, ranked: bool = False,
                ordered: QuerySet | None = None) -> LedgerPage:
    """A page by number (orders no index serves, and ranked searches of at most RANK_LIMIT rows, `ordered` by
    relevance: the ids come from it, the rows from `qs`)."""
    number = _page_number(params.get("page"))
    last = None if capped else max(1, -(-count // per_page))
    if last is not None:
        number = min(number, last)
    offset = (number - 1) * per_page
    # The page's ids first (the order's own columns only), then the rows with what they show for those ids: the
    # row columns' sub-selects (reply class, 首轮不满意, 并案) are planned for 50 rows, never for every match.
    ids = list((qs if ordered is None else ordered).values_list("pk", flat=True)[offset: offset + per_page + 1])
    more = len(ids) > per_page
    rows = _rows(qs, ids[:per_page])
    page = LedgerPage(rows=rows, count=count, capped=capped, number=number, per_page=per_page, ranked=ranked)
    if more:
        page.next_params = {"page": number + 1}
    if number > 1:
        page.previous_params = {"page": number - 1}
    return page


def ranked(qs: QuerySet, text: str) -> QuerySet:
    """Order search results by relevance: PostgreSQL's ts_rank over the stored words, SQLite title matches first."""
    if search.uses_index():
        rank = search.WordsRank(F("proposal__search_text"), Value(search.tsquery_text(text) or "''"),
                                output_field=FloatField())
        return qs.annotate(rank=rank).order_by(F("rank").desc(), "id")
    first = text.split()[0]
    return qs.annotate(rank=Case(When(proposal__title__icontains=first, then=Value(0)), default=Value(1),
                                 output_field=IntegerField())).order_by("rank", "id")


def ledger_page(qs: QuerySet, params, *, per_page: int, ordering: str = "", text: str = "") -> LedgerPage:
    """One page of the filtered ledger `qs` for the request's parameters (see the module's docstring)."""
    # Without parallel workers on PostgreSQL (settings.BANLI_DB_PARALLEL_WORKERS): each statement is an index read
    # that stops after a few dozen rows or a count capped at COUNT_CAP, which a Gather Merge's start-up outlasts.
    return _any_page(qs, params, per_page=per_page, ordering=ordering, text=text)


def _any_page(qs: QuerySet, params, *, per_page: int, ordering: str, text: str) -> LedgerPage:
    if not (text and not ordering) and ordering in SORTS:
        # Keyset orders: the count travels with the page's rows (one query for count, page and rows).
        return _ledger_page(qs, params, per_page=per_page, ordering=ordering, text=text, count=None, capped=False)
    count, capped, counted_at = capped_count(qs)
    page = _ledger_page(qs, params, per_page=per_page, ordering=ordering, text=text, count=count, capped=capped)
    page.counted_at = counted_at
    return page


def _ledger_page(qs, params, *, per_page, ordering, text, count, capped) -> LedgerPage:
    if text and not ordering:
        if count <= RANK_LIMIT:
            return offset_page(qs, params, per_page=per_page, count=count, capped=capped, ranked=True,
                               ordered=ranked(qs, text))
        page = keyset_page(qs, params, per_page=per_page, sort=SORTS[""], count=count, capped=capped)
        page.ranking_skipped = True
        return page
    sort = SORTS.get(ordering)
    if sort is not None:
        switched = False
        if not ordering and (params.get("from_date") or "").strip() and not params.get("after") and not params.get("before"):
            # A jump to a date lists by due date from that day, key items among the others.
            sort, switched = SORTS["due"], True
        page = keyset_page(qs, params, per_page=per_page, sort=sort, count=count, capped=capped)
        if switched or sort.key:
            for link in (page.next_params, page.previous_params):
                if link is not None:
                    link["ordering"] = sort.key
        return page
    return offset_page(qs, params, per_page=per_page, count=count, capped=capped)
