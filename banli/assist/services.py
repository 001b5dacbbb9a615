"""智能辅助: training the models and recording what the office decided about a suggestion."""
from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.utils import timezone

from banli.assist import store
from banli.assist.choices import SuggestionOutcome, SuggestionTask, TrainingOutcome
from banli.assist.models import AssistSetting, ModelTraining, SuggestionDecision
from banli.core import access
from banli.core.errors import DomainError, PermissionDenied
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment
from banli.proposals.models import Proposal
from banli.proposals.services import proposal_update

log = logging.getLogger(__name__)

MIN_CATEGORY_ROWS = 10
MIN_ROUTING_ROWS = 10
# The unconfirmed items the category model reads as text without labels (the newest first), bounded so that
# training stays within its time on a large instance.
MAX_UNLABELLED = 5000
# A retraining whose own cross-validated macro-F1 (or routing top-1) falls more than this below the model in use
# is refused: the figure moves by about this much between two shuffles of the same few hundred items.
REFUSE_MARGIN = 0.02


def _version(now: dt.datetime) -> str:
    return now.strftime("%Y%m%d%H%M%S")


def category_training_rows() -> list[dict]:
    """The instance's own history for the category model: every proposal that has a category."""
    return [
        {"title": title, "content": body, "category": category}
        for title, body, category in Proposal.objects.exclude(category="").values_list("title", "body", "category")
    ]


def routing_training_rows() -> list[dict]:
    """Past assignments as {title, content, units}: the lead (or first split) unit first, then co units."""
    by_proposal: dict[int, list[tuple[int, str]]] = {}
    order = {AssignmentRole.LEAD: 0, AssignmentRole.SPLIT: 1, AssignmentRole.CO: 2}
    for proposal_id, role, unit_name in (
        Assignment.objects.exclude(state=AssignmentState.WITHDRAWN).filter(parent__isnull=True).values_list("proposal_id", "role", "unit__name")
    ):
        by_proposal.setdefault(proposal_id, []).append((order.get(role, 3), unit_name))
    rows = []
    for pk, title, body, category in Proposal.objects.filter(pk__in=by_proposal).values_list("pk", "title", "body", "category"):
        units = [name for _, name in sorted(by_proposal[pk])]
        rows.append({"title": title, "content": body, "category": category, "units": list(dict.fromkeys(units))})
    return rows


def unlabelled_rows(limit: int = MAX_UNLABELLED) -> list[dict]:
    """Texts of the instance's items that have no category yet (new proposals before they are assigned)."""
    return [
        {"title": title, "content": body}
        for title, body in Proposal.objects.filter(category="").order_by("-created_at", "-id").values_list("title", "body")[:limit]
    ]


def office_units() -> dict[int, list[str]]:
    """Per assigning office, the names of the units it has handed items to (its sessions' direct assignments)."""
    out: dict[int, set[str]] = {}
    pairs = (
        Assignment.objects.exclude(state=AssignmentState.WITHDRAWN).filter(parent__isnull=True)
        .values_list("proposal__session__assigning_office_id", "unit__name").distinct()
    )
    for office, name in pairs:
        out.setdefault(office, set()).add(name)
    return {office: sorted(names) for office, names in out.items()}


def _figure(task: str, cv: dict) -> float | None:
    """The one figure a retraining is judged by: macro-F1 for categories, lead top-1 for routing."""
    return cv.get("macro_f1") if task == SuggestionTask.CATEGORY else cv.get("top1_accuracy")


@transaction.atomic
def assist_model_train(*, task: str, rows: list[dict] | None = None, unlabelled: list[dict] | None = None,
                       now: dt.datetime | None = None, force: bool = False) -> dict:
    """Train the category or routing model from rows (default: the database) and store it under VAR_DIR.

    The model's own cross-validated figure (inner folds of its training rows) is logged with every training. A
    retraining whose figure is more than REFUSE_MARGIN below that of the model in use is refused (logged, the
    old model stays) unless `force`; the returned meta then has "refused": True.
    """
    now = now or timezone.now()
    extra = {}
    if task == SuggestionTask.CATEGORY:
        from_db = rows is None
        rows = category_training_rows() if rows is None else [r for r in rows if r.get("category")]
        if len(rows) < MIN_CATEGORY_ROWS or len({r["category"] for r in rows}) < 2:
            raise DomainError(f"训练类别建议至少需要 {MIN_CATEGORY_ROWS} 件已分类的历史提案，且至少两个类别。")
        if unlabelled is None:
            unlabelled = unlabelled_rows() if from_db else []
        from banli.assist.classifier import TextClassifier  # noqa: PLC0415 - numpy and scipy (0.35 s and 28 MB a process) load only where a model is used

        model = TextClassifier().fit(rows, [r["category"] for r in rows], unlabelled=unlabelled)
        labels = model.classes_
    elif task == SuggestionTask.ROUTING:
        # Which units each assigning office hands items to, known from the same history (none from a file).
        extra["office_units"] = office_units() if rows is None else {}
        rows = routing_training_rows() if rows is None else [r for r in rows if r.get("units")]
        rows = [{**r, "units": [u if isinstance(u, str) else u.get("name", "") for u in r["units"]]} for r in rows]
        if len(rows) < MIN_ROUTING_ROWS:
            raise DomainError(f"训练交办建议至少需要 {MIN_ROUTING_ROWS} 件有交办记录的历史提案。")
        from banli.assist.routing import RoutingModel  # noqa: PLC0415 - numpy and scipy (0.35 s and 28 MB a process) load only where a model is used

        model = RoutingModel().fit(rows, [r["units"] for r in rows])
        labels = model.lead_units
        unlabelled = []
    else:
        raise DomainError(f"未知的训练任务：{task}")
    cv = dict(getattr(model, "cv_", {}) or {})
    meta = {"task": task, "version": _version(now), "trained_at": now.isoformat(), "rows": len(rows),
            "unlabelled": len(unlabelled or []), "labels": list(labels), "cv": cv}
    current = store.load_bundle(task)
    previous = _figure(task, (current or {}).get("meta", {}).get("cv") or {})
    new = _figure(task, cv)
    refused = not force and previous is not None and new is not None and new < previous - REFUSE_MARGIN
    ModelTraining.objects.create(
        task=task, version=meta["version"], trained_at=now, rows=len(rows), unlabelled=meta["unlabelled"], cv=cv,
        previous_macro_f1=previous,
        outcome=TrainingOutcome.REFUSED if refused else TrainingOutcome.INSTALLED,
        reason=(f"交叉验证成绩 {new:.3f} 低于在用模型的 {previous:.3f}，保留在用模型" if refused else ""),
    )
    if refused:
        log.warning("assist %s retraining refused: cross-validated %.3f < %.3f in use", task, new, previous)
        return {**meta, "refused": True, "in_use": current["meta"]["version"]}
    store.save_bundle(task, {"model": model, "meta": meta, **extra})
    return meta


def may_decide(actor, proposal) -> bool:
    """The assigning office of the proposal's session decides category and units (the administrator acts on
    no case)."""
    return access.can_decide_handling(actor, proposal)


def _check_may_decide(actor, proposal) -> None:
    if not may_decide(actor, proposal):
        raise PermissionDenied("只有交办机构可以确定类别和承办单位。")


@transaction.atomic
def category_decide(*, proposal, label: str, suggested: list[dict], actor) -> SuggestionDecision:
    """Set the proposal's category (logged as a proposal update) and log it against the suggestions shown."""
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
        top3 = bool(chosen) and chosen in ranked[:3]
        if not chosen:  # shown, and the item was registered without a category
            outcome = SuggestionOutcome.IGNORED
        else:
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


@transaction.atomic
def assist_setting_save(*, office, actor, category_min_score: float, routing_min_score: float):
    """The office's thresholds below which suggestions are not shown; only that office (or the administrator)."""
    if not access.can_set_assist_thresholds(actor, office):
        raise PermissionDenied("只有该交办机构可以修改智能辅助设置。")
    for name, value in (("category_min_score", category_min_score), ("routing_min_score", routing_min_score)):
        if not 0 <= value <= 1:
            raise DomainError("最低把握度应在 0 到 1 之间。", field=name)
    setting, _ = AssistSetting.objects.select_for_update().get_or_create(office=office)
    setting.category_min_score, setting.routing_min_score, setting.updated_by = category_min_score, routing_min_score, actor
    setting.save()
    return setting
