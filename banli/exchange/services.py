"""Writes of the exchange app: uploaded batches, remembered mappings, and the imports themselves.

The imports write domain data only through the domain services (see importer.apply_plan and
bodies.apply_bodies); what this module stores itself is the uploaded file and the column mapping.
"""
from __future__ import annotations

import hashlib
import logging

from django.core.cache import cache
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from banli.assist import selectors as assist
from banli.assist.services import category_decide
from banli.core import access
from banli.core.errors import ConflictError, DomainError, PermissionDenied
from banli.core.eventlog import write_event
from banli.exchange import importer, tasks
from banli.exchange.bodies import apply_bodies, docx_paragraphs, plan_bodies
from banli.exchange.choices import BatchKind, BatchState
from banli.exchange.files import ImportFileError
from banli.exchange.models import ColumnMapping, ImportBatch
from banli.exchange.tables import read_table
from banli.organizations.choices import Role
from banli.organizations.models import Unit, User
from banli.organizations.services import unit_add_alias
from banli.proposals.models import Proposal


def require_office_of_session(actor, session) -> None:
    """Only the session's assigning office imports into it (the administrator acts on no case)."""
    if actor is None:
        return
    if not access.can_assign_session(actor, session):
        raise PermissionDenied("只有该届次的交办机构才能导入交办清单和提案正文。")


@transaction.atomic
def mapping_remember(*, headers: list[str], mapping: dict[str, str]) -> ColumnMapping:
    """Remember which column holds which field for lists with this header row."""
    problems = importer.check_mapping(headers, mapping)
    if problems:
        raise ImportFileError("；".join(problems))
    saved, _ = ColumnMapping.objects.update_or_create(
        header_key=importer.header_key(headers), defaults={"headers": headers, "mapping": mapping}
    )
    return saved


@transaction.atomic
def batch_create(*, actor, session, filename: str, data: bytes, kind: str = BatchKind.LIST,
                 proposal_kind: str = "proposal") -> ImportBatch:
    """Keep an uploaded list after checking it can be read (a bad file is refused here, with its reason)."""
    require_office_of_session(actor, session)
    if kind == BatchKind.LIST:
        table = read_table(data, filename)
        mapping = importer.mapping_for(table.headers)
    else:
        docx_paragraphs(data, filename)
        mapping = {}
    batch = ImportBatch(kind=kind, session=session, proposal_kind=proposal_kind, filename=filename[:255],
                        sha256=hashlib.sha256(data).hexdigest(), mapping=mapping, created_by=actor)
    batch.file.save(f"{batch.sha256[:16]}.{filename.rsplit('.', 1)[-1].lower()[:5]}", ContentFile(data), save=False)
    batch.save()
    return batch


def batch_table(batch: ImportBatch):
    with batch.file.open("rb") as handle:
        return read_table(handle.read(), batch.filename)


@transaction.atomic
def batch_set_mapping(*, batch: ImportBatch, actor, mapping: dict[str, str]) -> ImportBatch:
    """Set the column mapping of a batch and remember it for lists with the same header row."""
    require_office_of_session(actor, batch.session)
    table = batch_table(batch)
    mapping = {k: v for k, v in mapping.items() if v}
    mapping_remember(headers=table.headers, mapping=mapping)
    ImportBatch.objects.filter(pk=batch.pk).update(mapping=mapping)
    batch.mapping = mapping
    return batch


@transaction.atomic
def batch_answer(*, batch: ImportBatch, actor, answers: dict[str, int], remember: bool = False) -> ImportBatch:
    """Record which unit an unsure name means; with `remember`, add the name to the unit's aliases."""
    require_office_of_session(actor, batch.session)
    merged = dict(batch.answers)
    for name, unit_id in answers.items():
        unit = Unit.objects.filter(pk=unit_id).first()
        if unit is None:
            raise ImportFileError(f"找不到为「{name}」选择的单位。")
        merged[name] = unit.pk
        if remember:
            unit_add_alias(unit=unit, alias=name, actor=actor)
    ImportBatch.objects.filter(pk=batch.pk).update(answers=merged)
    batch.answers = merged
    return batch


def batch_plan(batch: ImportBatch):
    """The dry run of a list batch (nothing written)."""
    return importer.make_plan(session=batch.session, table=batch_table(batch), mapping=batch.mapping,
                              default_kind=batch.proposal_kind, answers=batch.answers)


def plan_category_suggestions(*, plan, actor) -> dict[str, list[dict]]:
    """For each item the plan registers without a category: the top-3 suggested categories (number → list).

    Empty when no category model has been trained yet, or when the model cannot be used (advisory only).
    """
    out: dict[str, list[dict]] = {}
    for change in plan.changes:
        if change.action != "register":
            continue
        row = plan.rows[(plan.kinds[change.number], change.number)]
        if row.category:
            continue
        ranked, unavailable = assist.suggest_quietly(
            assist.category_suggestions, user=actor, proposal=Proposal(title=row.title, body=row.body or ""))
        if unavailable or not ranked:  # no model yet, or one that cannot be used: the import goes on without
            return {}
        out[change.number] = ranked
    return out


@transaction.atomic
def batch_import(*, batch: ImportBatch, actor, fill_categories: bool = False, progress=None,
                 claimed_state: str | None = None) -> dict:
    """Import a list batch, all or nothing, through the domain services.

    With `fill_categories`, an item registered without a category takes the first suggested category; each
    such choice is logged against the suggestions like a one-click acceptance on the register page.
    A background job passes the state it claimed the batch in: if another run got there first, it stops.
    """
    require_office_of_session(actor, batch.session)
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if claimed_state is not None and batch.state != claimed_state:
        raise ConflictError("该清单已由另一次导入处理。")
    plan = batch_plan(batch)
    if not plan.ok:
        raise ImportFileError("；".join(plan.errors) or "还有单位需要确认，请先在预览中选择。")
    suggested = plan_category_suggestions(plan=plan, actor=actor) if fill_categories else {}
    counts = importer.apply_plan(plan=plan, session=batch.session, actor=actor, progress=progress)
    if suggested:
        for proposal in Proposal.objects.filter(session=batch.session, number__in=list(suggested), category=""):
            if proposal.kind != plan.kinds[proposal.number]:
                continue
            category_decide(proposal=proposal, label=suggested[proposal.number][0]["label"],
                            suggested=suggested[proposal.number], actor=actor)
            counts["categorized"] = counts.get("categorized", 0) + 1
    now = timezone.now()
    ImportBatch.objects.filter(pk=batch.pk).update(state=BatchState.IMPORTED, imported_at=now, result=counts)
    write_event(verb="import_list", actor=actor, actor_role=Role.ASSIGNING_OFFICE,
                payload={"batch": batch.pk, "file": batch.filename, "sha256": batch.sha256, "counts": counts})
    batch.state, batch.result = BatchState.IMPORTED, counts
    return counts


# --- the import as a background job -----------------------------------------------------------------------

RUNNING_STATES = (BatchState.QUEUED, BatchState.RUNNING)


def progress_key(batch_id: int) -> str:
    return f"banli:import-progress:{batch_id}"


def batch_progress(batch: ImportBatch) -> dict:
    """Rows done and total of a running import (from the cache: the job's transaction is not visible yet)."""
    progress = cache.get(progress_key(batch.pk)) or {"done": 0, "total": 0}
    total = progress["total"]
    progress["percent"] = int(100 * progress["done"] / total) if total else 0
    return progress


@transaction.atomic
def batch_import_start(*, batch: ImportBatch, actor, fill_categories: bool = False) -> ImportBatch:
    """Queue the import of a list batch as a background job (Celery, or a thread of this process in the embedded
    mode); the job imports all or nothing exactly as batch_import does. A batch queued, running or imported already
    is a conflict, so a double click or a second office user starts nothing twice."""
    require_office_of_session(actor, batch.session)
    plan = batch_plan(batch)
    if not plan.ok:
        raise ImportFileError("；".join(plan.errors) or "还有单位需要确认，请先在预览中选择。")
    claimed = ImportBatch.objects.filter(pk=batch.pk, state__in=[BatchState.UPLOADED, BatchState.FAILED]).update(
        state=BatchState.QUEUED, error="", fill_categories=fill_categories)
    if not claimed:
        raise ConflictError("该清单已在导入或已经导入，请刷新页面查看。")

    cache.set(progress_key(batch.pk), {"done": 0, "total": len({c.number for c in plan.changes})}, 24 * 3600)
    transaction.on_commit(lambda: tasks.enqueue_import(batch_id=batch.pk, actor_id=actor.pk))
    batch.state, batch.error, batch.fill_categories = BatchState.QUEUED, "", fill_categories
    return batch


def batch_import_run(*, batch_id: int, actor_id: int) -> dict:
    """The background job: claim the batch (compare-and-set), import it, record the outcome on the batch.

    Idempotent: a job delivered twice, or after a worker died mid-way (nothing was written: one transaction),
    imports once; a refusal leaves the batch "not finished" with the reason, for the office to correct and retry."""

    if not ImportBatch.objects.filter(pk=batch_id, state__in=RUNNING_STATES).update(state=BatchState.RUNNING):
        return {"skipped": "not queued"}
    batch = ImportBatch.objects.select_related("session__assigning_office").get(pk=batch_id)
    actor = User.objects.get(pk=actor_id)

    def progress(done: int, total: int) -> None:
        cache.set(progress_key(batch_id), {"done": done, "total": total}, 24 * 3600)

    try:
        return batch_import(batch=batch, actor=actor, fill_categories=batch.fill_categories, progress=progress,
                            claimed_state=BatchState.RUNNING)
    except ConflictError:
        return {"skipped": "another run"}
    except DomainError as exc:
        ImportBatch.objects.filter(pk=batch_id, state=BatchState.RUNNING).update(state=BatchState.FAILED,
                                                                                 error=exc.message)
        return {"error": exc.message}
    except Exception:
        logging.getLogger("banli.exchange").exception("import of batch %s failed", batch_id)
        ImportBatch.objects.filter(pk=batch_id, state=BatchState.RUNNING).update(
            state=BatchState.FAILED, error="导入时发生系统错误，没有写入任何数据。请稍后重试；仍不成功请联系系统管理员。")
        raise


def import_list(*, actor, session, filename: str, data: bytes, proposal_kind: str = "proposal",
                mapping: dict[str, str] | None = None, answers: dict[str, int] | None = None,
                dry_run: bool = False):
    """One-shot import of a list (the management command): returns (plan, counts or None)."""
    require_office_of_session(actor, session)
    table = read_table(data, filename)
    mapping = mapping or importer.mapping_for(table.headers)
    plan = importer.make_plan(session=session, table=table, mapping=mapping, default_kind=proposal_kind,
                              answers=answers)
    if dry_run or not plan.ok:
        return plan, None
    with transaction.atomic():
        counts = importer.apply_plan(plan=plan, session=session, actor=actor)
        write_event(verb="import_list", actor=actor, actor_role=Role.ASSIGNING_OFFICE if actor else "",
                    payload={"file": filename, "sha256": hashlib.sha256(data).hexdigest(), "counts": counts})
    return plan, counts


def import_bodies(*, actor, session, files: list[tuple[str, bytes]], proposal_kind: str = "proposal",
                  dry_run: bool = False):
    """Proposal bodies from .docx files: returns (plan, number written or None)."""
    require_office_of_session(actor, session)
    plan = plan_bodies(session=session, files=files, kind=proposal_kind)
    if dry_run or not plan.ok:
        return plan, None
    return plan, apply_bodies(plan=plan, actor=actor)
