"""智能辅助: suggestions, similar items, topics and reply checks, as the requesting user may see them."""
from __future__ import annotations

import hashlib
import logging
import random
from collections import Counter
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max, Q
from django.db.models.functions import TruncMonth

from banli.assist import store
from banli.assist.choices import SuggestionOutcome, SuggestionTask
from banli.assist.models import AssistSetting, ModelTraining, SuggestionDecision
from banli.assist.replycheck import check_reply
from banli.core import access
from banli.core.errors import DomainError, PermissionDenied
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment
from banli.organizations.models import Unit
from banli.proposals.models import Proposal
from banli.replies.choices import ReplyState
from banli.replies.models import Reply

log = logging.getLogger(__name__)


def can_use_assist(user) -> bool:
    """Office staff, unit staff and administrators; never proposers or the public."""
    return access.is_staff_user(user)


def require_assist(user) -> None:
    if not can_use_assist(user):
        raise PermissionDenied("智能辅助仅供交办机构和承办单位工作人员使用。")


def suggest_quietly(selector, **kwargs) -> tuple[list, bool]:
    """Suggestions, or ([], True) when the stored model cannot be used (advisory: the page never breaks)."""
    try:
        return selector(**kwargs), False
    except (DomainError, PermissionDenied):
        raise
    except Exception:  # a model file from another version, or damaged: say so quietly, log it for the admin
        log.exception("assist model unusable")
        return [], True


def _doc(proposal) -> dict:
    return {"title": proposal.title, "content": proposal.body}


def _office_of(user, proposal):
    """The assigning office whose settings apply: the proposal's session's, or for a draft without a session the
    user's own (first) assigning office."""
    if getattr(proposal, "session_id", None):
        return proposal.session.assigning_office
    offices = access.office_scopes(user)
    return offices[0] if offices else None


def suggestion_threshold(*, user, proposal, task: str) -> float:
    """The least score a suggestion needs to be shown, as the assigning office set it (0: every suggestion)."""
    office = _office_of(user, proposal)
    setting = AssistSetting.objects.filter(office=office).first() if office is not None else None
    if setting is None:
        return 0.0
    return setting.category_min_score if task == SuggestionTask.CATEGORY else setting.routing_min_score


def category_suggestions(*, user, proposal, top: int = 3) -> list[dict]:
    """Top categories for a proposal with scores ([] until a model has been trained), only those at or above the
    office's threshold: below it the model abstains and the office decides alone."""
    require_assist(user)
    bundle = store.load_bundle(SuggestionTask.CATEGORY)
    if bundle is None:
        return []
    threshold = suggestion_threshold(user=user, proposal=proposal, task=SuggestionTask.CATEGORY)
    return [{"label": s.label, "score": s.score} for s in bundle["model"].rank(_doc(proposal), top=top)
            if s.score >= threshold]


def model_trained(task: str) -> bool:
    """A model file exists (whether it loads is suggest_quietly's business)."""
    return store.model_path(task).exists()


LEAD_CANDIDATES = 12
CO_CANDIDATES = 12


def _units_this_office_assigns(user, proposal, bundle) -> set[str]:
    """Names of the units the proposal's assigning office (or, for a draft without a session, the user's own
    assigning offices) had handed items to when the model was trained; empty when that is not known."""
    offices = access.routing_offices(user, proposal)
    known = bundle.get("office_units") or {}
    return {name for office in offices for name in known.get(office, ())}


def routing_suggestions(*, user, proposal) -> list[dict]:
    """Suggested lead and co units with scores, supporting words and similar past items."""
    require_assist(user)
    bundle = store.load_bundle(SuggestionTask.ROUTING)
    if bundle is None:
        return []

    known = _units_this_office_assigns(user, proposal, bundle)
    doc = _doc(proposal)
    if getattr(bundle["model"], "categories", None):
        # Routing follows the category: the confirmed one, else the category model's own scores.
        if proposal.category:
            doc["category"] = proposal.category
        else:
            category = store.load_bundle(SuggestionTask.CATEGORY)
            if category is not None:
                doc["category_scores"] = {s.label: s.score for s in category["model"].rank(doc, top=3)}
    if known:
        # The model learns from every office of the instance; a district office is offered the units it
        # hands items to, not the city's bureaus that only the city office assigns.
        candidates = bundle["model"].suggest(doc, leads=LEAD_CANDIDATES, cos=CO_CANDIDATES)
        leads = [s for s in candidates if s.role == AssignmentRole.LEAD and s.unit in known][:3]
        top = leads[0].unit if leads else None
        cos = [s for s in candidates if s.role == AssignmentRole.CO and s.unit in known and s.unit != top][:3]
        suggestions = leads + cos
    else:
        suggestions = bundle["model"].suggest(doc)
    threshold = suggestion_threshold(user=user, proposal=proposal, task=SuggestionTask.ROUTING)
    if threshold > 0:
        # Co-handling units are offered beside a lead; with no lead sure enough, nothing is offered.
        leads = [s for s in suggestions if s.role == "lead" and s.score >= threshold]
        suggestions = leads + ([s for s in suggestions if s.role == "co"] if leads else [])
    names = {s.unit for s in suggestions}
    units = {}
    for unit in Unit.objects.filter(Q(name__in=names) | Q(short_name__in=names), is_active=True):
        units.setdefault(unit.name, unit)
        if unit.short_name:
            units.setdefault(unit.short_name, unit)
    return [
        {
            "label": s.unit,
            "unit": units.get(s.unit),
            "role": s.role,
            "score": s.score,
            "words": s.words,
            # The item itself is never its own precedent (it is in the history once it has been assigned).
            "past_items": [{"title": t, "score": sc} for t, sc in s.past_items if t != proposal.title],
        }
        for s in suggestions
    ]


# --- similar proposals --------------------------------------------------------------------------

def similar_index():
    """The index similar_proposals searches; its `note` says what the results may lack while it is being built."""
    return _proposal_index()


def _proposal_index():
    """The similarity index of every proposal as it is now (banli.assist.simindex: a shared base and the changes since)."""
    from banli.assist import simindex  # noqa: PLC0415 - numpy and scikit-learn (seconds, tens of MB a process) load only where a model is used

    return simindex.live_index()


@dataclass
class SimilarItem:
    """A similar proposal with its replies as the user may read them, and whether it is a 并案 candidate."""

    proposal: object
    score: float
    same_session: bool
    near_duplicate: bool
    replies: list
    merged_together: bool = False  # already in the same 并案 group as the item the list is for


def similar_proposals(*, user, proposal, limit: int = 8, index=None) -> list[SimilarItem]:
    """The proposals most like this one, of this and past sessions, that the user may see; best first."""
    require_assist(user)

    from banli.assist.similarity import MIN_SIMILAR, NEAR_DUPLICATE  # noqa: PLC0415 - numpy and scikit-learn load only where a model is used

    hits = (index or _proposal_index()).search(proposal.title, proposal.body, limit=max(limit * 5, 40), exclude={proposal.pk})
    scores = {h.key: h.score for h in hits if h.score >= MIN_SIMILAR}
    visible = access.visible_proposals(user).filter(pk__in=scores).select_related("session")
    found = sorted(visible, key=lambda p: -scores[p.pk])[:limit]
    replies: dict[int, list] = {}
    for reply in (
        Reply.objects.filter(assignment__proposal__in=[p.pk for p in found], state=ReplyState.SENT)
        .select_related("assignment__unit")
        .order_by("sent_at")
    ):
        replies.setdefault(reply.assignment.proposal_id, []).append(reply)
    group = proposal.merged_with_id or proposal.pk
    return [
        SimilarItem(
            proposal=p,
            score=scores[p.pk],
            same_session=p.session_id == proposal.session_id,
            near_duplicate=p.session_id == proposal.session_id and scores[p.pk] >= NEAR_DUPLICATE,
            replies=replies.get(p.pk, []),
            merged_together=(p.merged_with_id or p.pk) == group,
        )
        for p in found
    ]


TOPICS_MAX = 20_000  # a session's items grouped at most; beyond, a fixed sample (the page says so)
TOPIC_ROWS = 50  # items listed per topic; the page says how many more it holds


def session_topics(*, user, session, max_topics: int = 20) -> list[dict]:
    """The session's proposals the user may see, grouped into topics (热点), biggest first.

    The grouping is kept in the cache for a day per session, visible set and last change, so a second look costs
    reads only. A session larger than TOPICS_MAX is grouped on a fixed sample of that many items."""
    require_assist(user)

    visible = access.visible_proposals(user).filter(session=session)
    ids = sorted(visible.order_by().values_list("pk", flat=True))
    total = len(ids)
    if total > TOPICS_MAX:
        ids = sorted(random.Random(session.pk).sample(ids, TOPICS_MAX))
    newest = Proposal.objects.filter(session=session).aggregate(t=Max("updated_at"))["t"]
    key = "assist:topics:" + hashlib.sha256(
        f"{session.pk}|{max_topics}|{newest}|{','.join(map(str, ids))}".encode()).hexdigest()
    grouped = cache.get(key)
    if grouped is None:
        items = list(Proposal.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "title", "body"))
        from banli.assist.similarity import group_topics  # noqa: PLC0415 - numpy and scipy (0.35 s and 28 MB a process) load only where a model is used

        topics = group_topics([r[0] for r in items], [r[1] for r in items], [r[2] for r in items], max_topics=max_topics)
        grouped = [(t.label, t.words, t.keys) for t in topics]
        cache.set(key, grouped, 24 * 3600)
    # Each topic lists its first TOPIC_ROWS items (its size and lead units count them all): a session of a
    # province grouped 20,000 items into topics of a thousand each, every one a row of the page (3 s to show).
    shown = [k for _label, _words, keys in grouped for k in keys[:TOPIC_ROWS]]
    by_pk = {p.pk: p for p in Proposal.objects.filter(pk__in=shown).only("pk", "number", "title", "session_id")}
    # The units that lead each item: where one unit leads many items of a topic, one measure can answer them all.
    leads: dict[int, list[str]] = {}
    for proposal_id, name in (
        Assignment.objects.filter(proposal_id__in=ids, role__in=(AssignmentRole.LEAD, AssignmentRole.SPLIT), parent__isnull=True)
        .exclude(state=AssignmentState.WITHDRAWN).order_by("proposal_id", "id").values_list("proposal_id", "unit__name")
    ):
        leads.setdefault(proposal_id, []).append(name)
    out = []
    visible_ids = set(ids)
    for label, topic_words, keys in grouped:
        keys = [k for k in keys if k in visible_ids]
        rows = [{"proposal": by_pk[k], "leads": leads.get(k, [])} for k in keys[:TOPIC_ROWS] if k in by_pk]
        units = Counter(name for k in keys for name in leads.get(k, [])).most_common()
        out.append({"label": label, "words": topic_words, "proposals": [row["proposal"] for row in rows], "rows": rows,
                    "size": len(keys), "more": max(len(keys) - len(rows), 0),
                    "units": [{"name": name, "count": n} for name, n in units], "sampled_from": total if total > len(ids) else 0, "sample_size": len(ids)})
    return out


def reply_check(*, user, reply):
    """Check a reply draft against its proposal's points (advisory); unit staff of the reply's unit or the office."""
    require_assist(user)
    assignment = reply.assignment
    if not access.can_check_reply(user, assignment):
        raise PermissionDenied("只有承办单位和交办机构可以核查该答复。")
    return draft_check(
        proposal=assignment.proposal,
        body=reply.body,
        reply_class=reply.reply_class,
        contact_person=reply.contact_person,
        contact_phone=reply.contact_phone,
    )


def draft_check(*, proposal, body: str, reply_class: str = "", contact_person: str = "", contact_phone: str = ""):
    """The reply check of a text not yet saved (live check while the handler writes)."""
    return check_reply(
        proposal_body=proposal.body,
        reply_body=body,
        reply_class=reply_class,
        contact_person=contact_person,
        contact_phone=contact_phone,
    )


def suggestion_accuracy(*, user, task: str) -> dict:
    """How often the office took the top suggestion, from the decision log."""
    require_assist(user)

    figures = SuggestionDecision.objects.filter(task=task).exclude(outcome=SuggestionOutcome.IGNORED).aggregate(
        n=Count("pk"), top1=Count("pk", filter=Q(top1_hit=True)), top3=Count("pk", filter=Q(top3_hit=True))
    )
    n = figures["n"]
    return {
        "decisions": n,
        "top1_rate": round(figures["top1"] / n, 4) if n else None,
        "top3_rate": round(figures["top3"] / n, 4) if n else None,
    }


# The least scores whose effect the office page shows (0: every suggestion is shown).
ABSTENTION_STEPS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def abstention(held_out: dict | None, thresholds) -> list[dict] | None:
    """What a least score does, read off a model's held-out items (its first suggestion's score and whether it
    was right, kept by its last training): for each threshold, how many items would get a suggestion, their share
    of all, and the share of those that were right. None when the model held out nothing (too small a history,
    or a model file from before these were kept)."""
    if not held_out or not held_out.get("scores"):
        return None
    pairs = list(zip(held_out["scores"], held_out["right"]))
    out = []
    for threshold in thresholds:
        shown = [right for score, right in pairs if score >= threshold]
        out.append({"min_score": threshold, "shown": len(shown), "shown_share": round(len(shown) / len(pairs), 4),
                    "accuracy": round(sum(shown) / len(shown), 4) if shown else None})
    return out


def threshold_effect(held_out: dict, setting) -> list[dict]:
    """What the office's current least scores do on the models' held-out items (see `abstention`): one row per
    task whose model held items out, with the task's label."""
    values = ((SuggestionTask.CATEGORY, setting.category_min_score), (SuggestionTask.ROUTING, setting.routing_min_score))
    return [{"task": task.value, "label": task.label, **table[0]}
            for task, value in values if (table := abstention(held_out.get(task.value), [value]))]


def assist_performance(*, user) -> dict:
    """How well the suggestions do in this instance, for the user's assigning offices: per month and task the
    suggestions shown (each logged with the decision taken), accepted, changed, ignored and the top-3 hit rate;
    the model in use with its own cross-validated figure from its last training; the last trainings."""

    if not access.can_read_assist_performance(user):
        raise PermissionDenied("只有交办机构可以查看智能辅助成效。")
    decisions = SuggestionDecision.objects.all()
    mine = access.assist_decisions_q(user)
    if mine is not None:
        decisions = decisions.filter(mine)
    rows = (
        decisions.annotate(month=TruncMonth("decided_at")).values("month", "task")
        .annotate(shown=Count("pk"),
                  accepted=Count("pk", filter=Q(outcome=SuggestionOutcome.ACCEPTED)),
                  partly=Count("pk", filter=Q(outcome=SuggestionOutcome.PARTLY)),
                  changed=Count("pk", filter=Q(outcome=SuggestionOutcome.OVERRIDDEN)),
                  ignored=Count("pk", filter=Q(outcome=SuggestionOutcome.IGNORED)),
                  top1=Count("pk", filter=Q(top1_hit=True)), top3=Count("pk", filter=Q(top3_hit=True)))
        .order_by("-month", "task")
    )
    months = []
    for row in rows:
        decided = row["shown"] - row["ignored"]
        months.append({**row, "task_label": SuggestionTask(row["task"]).label,
                       "top3_rate": round(row["top3"] / decided, 4) if decided else None,
                       "accept_rate": round(row["accepted"] / row["shown"], 4) if row["shown"] else None})
    models, held_out = {}, {}
    for task in SuggestionTask:
        bundle = store.load_bundle(task)
        held_out[task.value] = getattr((bundle or {}).get("model"), "held_out_", None)
        models[task.value] = {"label": task.label, "meta": (bundle or {}).get("meta"),
                              "held_out_items": len((held_out[task.value] or {}).get("scores") or ())}
    tables = {task: abstention(rows, ABSTENTION_STEPS) for task, rows in held_out.items()}
    steps = ([{"min_score": t, **{task: (table[i] if table else None) for task, table in tables.items()}}
              for i, t in enumerate(ABSTENTION_STEPS)] if any(tables.values()) else [])
    return {"months": months, "models": models, "trainings": list(ModelTraining.objects.all()[:12]),
            "held_out": held_out, "abstention_steps": steps}
