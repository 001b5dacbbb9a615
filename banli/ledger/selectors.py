"""The ledger's rows: what each user may see, with the columns a row shows, filters and sorts by."""
from __future__ import annotations

import datetime as dt

from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Subquery, When

from banli.core import access
from banli.handling.models import Assignment
from banli.ledger import keyset
from banli.proposals.models import Session
from banli.replies.choices import ReplyState
from banli.replies.models import Reply
from banli.replies.selectors import unsatisfied_outcome_expression


def due_expression():
    """The deadline an assignment owes in its current state: the stored column (handling.deadlines.next_due)."""
    return F("next_due")


def overdue_q(today: dt.date) -> Q:
    """Assignments whose current step's deadline has passed (a range on the indexed next_due column)."""
    return Q(next_due__lt=today)


def ledger_assignments(user) -> QuerySet:
    """Every assignment the user may see in the ledger, with what a ledger row shows (one query per page).

    The user's scope is resolved first into plain `session_id IN (…)` / `unit_id IN (…)` on the assignment row
    (access.ledger_scope_q), no filter when it covers everything; the due date shown is the stored next_due.
    The class a row shows, filters on and sorts by is a draft's class only for who may read the draft."""
    scope = access.ledger_scope_q(user)
    # Unsent versions only for the unit's own staff (access.unsent_replies_visible_q), as unit ids on the row.
    base = _annotated_rows(tuple(access.own_units_with_assignments(user)))
    return base if scope is None else base.filter(scope)


# The annotated queryset before the user's scope, built once per process for each set of the user's own units
# (the office's is the same for all): resolving its sub-selects was a fifth of the ledger page's Python time.
# Callers get a clone (`.all()`); the kept one is never evaluated or changed.
_ANNOTATED: dict[tuple, QuerySet] = {}
_ANNOTATED_MAX = 512


def _annotated_rows(insiders: tuple) -> QuerySet:
    base = _ANNOTATED.get(insiders)
    if base is None:
        latest = Reply.objects.filter(assignment=OuterRef("pk"), round=OuterRef("round")).order_by("-version")
        any_state = Subquery(latest.values("reply_class")[:1])
        sent = Subquery(latest.filter(state=ReplyState.SENT).values("reply_class")[:1])
        reply_class = Case(When(unit_id__in=insiders, then=any_state), default=sent) if insiders else sent
        # 首轮不满意 and what became of it: a ledger column, filter and export column.
        base = Assignment.objects.select_related("proposal", "proposal__session", "unit", "lead_section",
                                                 "handler").annotate(
            due=F("next_due"), reply_class=reply_class, unsatisfied_outcome=unsatisfied_outcome_expression())
        # Every clone of `base` (the user's scope and filters are added to clones) names it, for the page's rows
        # statement (keyset._row_statement); a Query's clones copy its attributes.
        setattr(base.query, keyset.ROWS_BASE, base)
        if len(_ANNOTATED) >= _ANNOTATED_MAX:
            _ANNOTATED.clear()
        _ANNOTATED[insiders] = base
    return base.all()


def ledger_sessions(user) -> QuerySet:
    """The sessions the user has ledger rows in, newest first: one indexed EXISTS probe per session (sessions are
    few), never a pass over every proposal."""
    scope = access.ledger_scope_q(user)
    rows = Assignment.objects.filter(session_id=OuterRef("pk"))
    if scope is not None:
        rows = rows.filter(scope)
    return Session.objects.filter(Exists(rows)).order_by("-year", "-pk")


def ledger_page(qs: QuerySet, params, per_page: int):
    """One page of a filtered ledger queryset, costing the same on any page (banli.ledger.keyset)."""
    return keyset.ledger_page(qs, params, per_page=per_page, ordering=(params.get("ordering") or "").strip(),
                              text=(params.get("q") or "").strip())
