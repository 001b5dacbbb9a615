"""智能辅助: training the models and recording what the office decided about a suggestion."""
from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from banli.assist import store
from banli.assist.choices import SuggestionOutcome, SuggestionTask
from banli.assist.models import SuggestionDecision
from banli.core.errors import DomainError, PermissionDenied
from banli.handling.choices import AssignmentRole, AssignmentState

MIN_CATEGORY_ROWS = 10
MIN_ROUTING_ROWS = 10


def _version(now: dt.datetime) -> str:
    return now.strftime("%Y%m%d%H%M%S")


def category_training_rows() -> list[dict]:
    """The instance's own history for the category model: every proposal that has a category."""
    from banli.proposals.models import Proposal

    return [
        {"title": title, "content": body, "category": category}
        for title, body, category in Proposal.objects.exclude(category="").values_list("title", "body", "category")
    ]


def routing_training_rows() -> list[dict]:
    """Past assignments as {title, content, units}: the lead (or first split) unit first, then co units."""
    from banli.handling.models import Assignment
    from banli.proposals.models import Proposal

    by_proposal: dict[int, list[tuple[int, str]]] = {}
    order = {AssignmentRole.LEAD: 0, AssignmentRole.SPLIT: 1, AssignmentRole.CO: 2}
    for proposal_id, role, unit_name in (
        Assignment.objects.exclude(state=AssignmentState.WITHDRAWN).filter(parent__isnull=True).values_list("proposal_id", "role", "unit__name")
    ):
        by_proposal.setdefault(proposal_id, []).append((order.get(role, 3), unit_name))
    rows = []
    for pk, title, body in Proposal.objects.filter(pk__in=by_proposal).values_list("pk", "title", "body"):
        units = [name for _, name in sorted(by_proposal[pk])]
        rows.append({"title": title, "content": body, "units": list(dict.fromkeys(units))})
    return rows


def office_units() -> dict[int, list[str]]:
    """Per assigning office, the names of the units it has handed items to (its sessions' direct assignments)."""
    from banli.handling.models import Assignment

    out: dict[int, set[str]] = {}
    pairs = (
        Assignment.objects.exclude(state=AssignmentState.WITHDRAWN).filter(parent__isnull=True)
        .values_list("proposal__session__assigning_office_id", "unit__name").distinct()
    )
    for office, name in pairs:
        out.setdefault(office, set()).add(name)
    return {office: sorted(names) for office, names in out.items()}


def assist_model_train(*, task: str, rows: list[dict] | None = None, now: dt.datetime | None = None) -> dict:
    """Train the category or routing model from rows (default: the database) and store it under VAR_DIR."""
    from banli.assist.classifier import TextClassifier
    from banli.assist.routing import RoutingModel

    now = now or timezone.now()
    extra = {}
    if task == SuggestionTask.CATEGORY:
        rows = category_training_rows() if rows is None else [r for r in rows if r.get("category")]
        if len(rows) < MIN_CATEGORY_ROWS or len({r["category"] for r in rows}) < 2:
            raise DomainError(f"训练类别建议至少需要 {MIN_CATEGORY_ROWS} 件已分类的历史提案，且至少两个类别。")
        model = TextClassifier().fit(rows, [r["category"] for r in rows])
        labels = model.classes_
    elif task == SuggestionTask.ROUTING:
        # Which units each assigning office hands items to, known from the same history (none from a file).
        extra["office_units"] = office_units() if rows is None else {}
        rows = routing_training_rows() if rows is None else [r for r in rows if r.get("units")]
        rows = [{**r, "units": [u if isinstance(u, str) else u.get("name", "") for u in r["units"]]} for r in rows]
        if len(rows) < MIN_ROUTING_ROWS:
            raise DomainError(f"训练交办建议至少需要 {MIN_ROUTING_ROWS} 件有交办记录的历史提案。")
        model = RoutingModel().fit(rows, [r["units"] for r in rows])
        labels = model.lead_units
    else:
        raise DomainError(f"未知的训练任务：{task}")
    meta = {"task": task, "version": _version(now), "trained_at": now.isoformat(), "rows": len(rows), "labels": list(labels)}
    store.save_bundle(task, {"model": model, "meta": meta, **extra})
    return meta


def may_decide(actor, proposal) -> bool:
    """The assigning office of the proposal's session (or the administrator) decides category and units."""
    from banli.core import access
    from banli.organizations.choices import Role

    return access.is_office_for(actor, proposal) or access.has_role(actor, Role.ADMIN)


def _check_may_decide(actor, proposal) -> None:
    if not may_decide(actor, proposal):
        raise PermissionDenied("只有交办机构可以确定类别和承办单位。")


@transaction.atomic
def category_decide(*, proposal, label: str, suggested: list[dict], actor) -> SuggestionDecision:
    """Set the proposal's category (logged as a proposal update) and log it against the suggestions shown."""
    from banli.proposals.services import proposal_update

    label = (label or "").strip()
    if not label:
        raise DomainError("请选择或填写类别。", field="label")
    decision = suggestion_decision_record(
        proposal=proposal, task=SuggestionTask.CATEGORY, suggested=suggested, decided={"label": label}, actor=actor,
    )
    proposal_update(actor=actor, proposal=proposal, category=label)
    return decision


@transaction.atomic
def suggestion_decision_record(*, proposal, task: str, suggested: list[dict], decided: dict, actor) -> SuggestionDecision:
    """Log a suggestion shown to the office and its decision (accepted or overridden) for accuracy reports.

    `suggested` is the ranked list shown ({"label": …, "score": …, "role": …}); `decided` holds
    {"label": …} for a category or {"lead": …, "co": [...]} for routing.
    """
    _check_may_decide(actor, proposal)
    if task == SuggestionTask.CATEGORY:
        ranked = [s["label"] for s in suggested]
        chosen = decided.get("label", "")
        top1 = bool(ranked) and ranked[0] == chosen
        top3 = chosen in ranked[:3]
        outcome = SuggestionOutcome.ACCEPTED if top1 else SuggestionOutcome.OVERRIDDEN
    elif task == SuggestionTask.ROUTING:
        leads = [s["label"] for s in suggested if s.get("role") == AssignmentRole.LEAD]
        cos = {s["label"] for s in suggested if s.get("role") == AssignmentRole.CO}
        chosen_lead, chosen_co = decided.get("lead", ""), set(decided.get("co", []))
        top1 = bool(leads) and leads[0] == chosen_lead
        top3 = chosen_lead in leads[:3]
        if top1 and chosen_co == cos:
            outcome = SuggestionOutcome.ACCEPTED
        elif top1 or (chosen_co & cos):
            outcome = SuggestionOutcome.PARTLY
        else:
            outcome = SuggestionOutcome.OVERRIDDEN
    else:
        raise DomainError(f"未知的建议类型：{task}")
    bundle = store.load_bundle(task)
    return SuggestionDecision.objects.create(
        proposal=proposal,
        task=task,
        suggested=suggested,
        decided=decided,
        outcome=outcome,
        top1_hit=top1,
        top3_hit=top3,
        model_version=(bundle or {}).get("meta", {}).get("version", ""),
        decided_by=actor,
    )
