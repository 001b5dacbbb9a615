"""Import of an assignment list (交办清单): map columns, plan (dry run), then apply all or nothing.

The plan compares each row with what is registered: new items are registered and assigned, changed
fields are updated, units added or removed in a corrected file are assigned or withdrawn. Applying the
plan calls the same services as the pages (proposal_create, proposal_update, assignment_create,
assignment_withdraw), so every change writes its event; a second import of the same file plans nothing.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from django.db import transaction

from banli.core.errors import DomainError
from banli.exchange.files import ImportFileError, cell_name
from banli.exchange.models import ColumnMapping
from banli.exchange.tables import Table
from banli.handling import services as handling
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.models import Assignment
from banli.handling.services import assignments_key_set
from banli.organizations.choices import UnitKind
from banli.organizations.models import Unit
from banli.organizations.selectors import normalize_unit_name, unit_match
from banli.proposals import services as proposals
from banli.proposals.choices import ProposalKind
from banli.proposals.models import Proposal
from banli.supervision.selectors import is_key_item


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    required: bool
    synonyms: tuple[str, ...]


FIELDS = [
    Field("number", "编号", True, ("编号", "提案号", "建议号", "案号", "提案编号", "建议编号", "案件编号")),
    Field("title", "案由", True, ("案由", "标题", "题目", "提案名称", "建议名称", "提案标题", "建议标题")),
    Field("proposers", "提案人", True, ("提案人", "领衔人", "提出人", "建议人", "代表", "委员", "提案者", "领衔代表", "领衔委员")),
    Field("category", "类别", False, ("类别", "分类", "内容分类", "提案类别", "建议类别")),
    Field("lead_units", "主办单位", False, ("主办单位", "主办", "主办部门", "承办单位")),
    Field("co_units", "会办单位", False, ("会办单位", "会办", "协办单位", "协办", "会办部门")),
    Field("split_units", "分办单位", False, ("分办单位", "分办", "分办部门")),
    Field("is_key", "是否重点", False, ("是否重点", "重点", "重点提案", "重点建议", "重点督办")),
    Field("kind", "类型（提案/建议）", False, ("提案建议", "类型", "提案或建议")),
    Field("body", "正文", False, ("正文", "内容", "提案内容", "建议内容", "正文内容")),
]
FIELD_BY_KEY = {f.key: f for f in FIELDS}
_SPLIT = re.compile(r"[、,，;；/\n\r\t]+|\s{2,}")
_LEAD_MARK = re.compile(r"[（(]\s*(领衔|牵头|联名|附议)\s*[)）]")
YES = {"是", "y", "yes", "true", "1", "√", "✓", "重点", "重点提案", "重点建议"}
NO = {"", "否", "n", "no", "false", "0", "×", "非重点"}


def _norm(text: str) -> str:
    return normalize_unit_name(text)


def header_key(headers: list[str]) -> str:
    """The key under which a mapping is remembered: the normalised header row."""
    return hashlib.sha256("\x1f".join(_norm(h) for h in headers).encode()).hexdigest()


def guess_mapping(headers: list[str]) -> dict[str, str]:
    """field key → header, from the headers' wording (exact synonym first, then containment)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    normalized = {h: _norm(h) for h in headers if h}
    for exact in (True, False):
        for f in FIELDS:
            if f.key in mapping:
                continue
            for synonym in sorted(f.synonyms, key=len, reverse=True):
                key = _norm(synonym)
                hit = next((h for h, n in normalized.items() if h not in taken and (n == key if exact else key in n)), None)
                if hit:
                    mapping[f.key] = hit
                    taken.add(hit)
                    break
    return mapping


def remembered_mapping(headers: list[str]) -> dict[str, str] | None:
    saved = ColumnMapping.objects.filter(header_key=header_key(headers)).first()
    if saved is None:
        return None
    return {k: v for k, v in saved.mapping.items() if v in headers and k in FIELD_BY_KEY}


def mapping_for(headers: list[str]) -> dict[str, str]:
    """The remembered mapping for these headers, else a guess."""
    return remembered_mapping(headers) or guess_mapping(headers)


def check_mapping(headers: list[str], mapping: dict[str, str]) -> list[str]:
    problems = []
    for f in FIELDS:
        if f.required and not mapping.get(f.key):
            problems.append(f"请指定哪一列是「{f.label}」。")
    for key, header in mapping.items():
        if key not in FIELD_BY_KEY:
            problems.append(f"未知字段「{key}」。")
        elif header and header not in headers:
            problems.append(f"表头中没有「{header}」这一列。")
    used = [h for h in mapping.values() if h]
    for header in set(used):
        if used.count(header) > 1:
            problems.append(f"「{header}」这一列被指定给了多个字段。")
    return problems


# --- rows ------------------------------------------------------------------------------------------


@dataclass
class Row:
    number_in_file: int
    number: str
    title: str
    proposers: list[str]
    kind: str
    category: str | None
    is_key: bool | None
    body: str | None
    units: dict[str, list[str]]  # role → unit names as written


def split_names(text: str) -> list[str]:
    names = []
    for part in _SPLIT.split(text or ""):
        part = _LEAD_MARK.sub("", part).strip()
        if part and part not in names:
            names.append(part)
    return names


def clean_number(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").strip()
    match = re.fullmatch(r"第?\s*(.+?)\s*号?", text)
    return match.group(1).strip() if match else text


# A date typed (or formatted) in the number column: 2026年1月5日, 2026-01-05, 2026/1/5, 2026.1.5, with or without a
# time. Compact digits (20260105) stay numbers: offices do number items 第20240104号.
_DATE_LIKE = re.compile(r"(?:19|20)\d{2}\s*[年\-/.]\s*\d{1,2}\s*[月\-/.]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?")


def looks_like_date(text: str) -> bool:
    return bool(_DATE_LIKE.fullmatch(unicodedata.normalize("NFKC", text or "").strip()))


def parse_rows(table: Table, mapping: dict[str, str], default_kind: str) -> tuple[list[Row], list[str]]:
    """The table's rows as Rows, with an error (naming row and column) for every bad cell."""
    index = {key: table.headers.index(header) for key, header in mapping.items() if header}
    rows, errors = [], []
    seen: dict[tuple[str, str], int] = {}

    def cell(cells, key):
        return cells[index[key]] if key in index else None

    def where(number, key):
        return f"{cell_name(number, index[key] + 1)}（{FIELD_BY_KEY[key].label}）"

    for number, cells in table.rows:
        row_errors = []
        raw_number = clean_number(cell(cells, "number") or "")
        title = (cell(cells, "title") or "").strip()
        proposers = split_names(cell(cells, "proposers") or "")
        if not raw_number:
            row_errors.append(f"{where(number, 'number')}为空，请填写编号。")
        elif looks_like_date(raw_number):
            row_errors.append(
                f"{where(number, 'number')}「{raw_number}」是日期，不是编号；请检查是否选错了列，或单元格被设成了日期格式"
                "（改为“文本”格式后重新填写编号，如 20260001）。"
            )
        elif len(raw_number) > 30:
            row_errors.append(f"{where(number, 'number')}「{raw_number[:40]}」过长，编号最多 30 个字符。")
        if not title:
            row_errors.append(f"{where(number, 'title')}为空，请填写案由。")
        elif len(title) > 300:
            row_errors.append(f"{where(number, 'title')}过长（{len(title)} 字），案由最多 300 字。")
        if not proposers:
            row_errors.append(f"{where(number, 'proposers')}为空，请至少填写领衔人。")
        elif any(len(p) > 100 for p in proposers):
            row_errors.append(f"{where(number, 'proposers')}中有过长的姓名，请用顿号分隔多位提案人。")
        kind = default_kind
        if "kind" in index and cell(cells, "kind"):
            word = cell(cells, "kind")
            kinds = {label: value for value, label in ProposalKind.choices}
            if word in kinds:
                kind = kinds[word]
            elif word in ProposalKind.values:
                kind = word
            else:
                row_errors.append(f"{where(number, 'kind')}「{word}」应为“提案”或“建议”。")
        is_key = None
        if "is_key" in index:
            word = _norm(cell(cells, "is_key") or "")
            if word in YES:
                is_key = True
            elif word in NO:
                is_key = False
            else:
                row_errors.append(f"{where(number, 'is_key')}「{cell(cells, 'is_key')}」应为“是”或“否”。")
        category = cell(cells, "category")
        if category is not None and len(category) > 50:
            row_errors.append(f"{where(number, 'category')}过长，类别最多 50 字。")
        units = {role: split_names(cell(cells, f"{name}_units") or "")
                 for role, name in (("lead", "lead"), ("co", "co"), ("split", "split"))}
        if len(units["lead"]) > 1:
            row_errors.append(
                f"{where(number, 'lead_units')}有 {len(units['lead'])} 个单位；主办单位只能有一个，"
                "多个单位分别答复的请填在“分办单位”列。"
            )
        all_units = [n for names in units.values() for n in names]
        for name in set(all_units):
            if all_units.count(name) > 1:
                row_errors.append(f"第{number}行单位「{name}」在主办、会办、分办中重复出现。")
        key = (kind, raw_number)
        if raw_number and key in seen:
            row_errors.append(f"第{number}行编号「{raw_number}」与第{seen[key]}行重复。")
        seen.setdefault(key, number)
        if row_errors:
            errors.extend(row_errors)
            continue
        body = cell(cells, "body")
        rows.append(Row(number, raw_number, title, proposers, kind, category, is_key, body or None, units))
    return rows, errors


# --- plan -------------------------------------------------------------------------------------------


@dataclass
class Change:
    row: int
    number: str
    action: str  # register / update / assign / withdraw
    text: str
    data: dict = field(default_factory=dict)


@dataclass
class Question:
    name: str
    rows: list[int]
    candidates: list[tuple[int, str]]


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)
    row_count: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.questions

    def counts(self) -> dict[str, int]:
        result: dict[str, int] = {}
        for change in self.changes:
            result[change.action] = result.get(change.action, 0) + 1
        return result


ROLE_LABELS = dict(AssignmentRole.choices)


def make_plan(*, session, table: Table, mapping: dict[str, str], default_kind: str = ProposalKind.PROPOSAL,
              answers: dict[str, int] | None = None) -> Plan:
    """What importing `table` into `session` would do, without writing anything."""
    plan = Plan()
    problems = check_mapping(table.headers, mapping)
    if problems:
        plan.errors = problems
        return plan
    rows, plan.errors = parse_rows(table, mapping, default_kind)
    plan.row_count = len(table.rows)
    answers = {k: int(v) for k, v in (answers or {}).items() if str(v).isdigit()}
    units = list(Unit.objects.filter(kind=UnitKind.HANDLING_UNIT, is_active=True))
    by_id = {u.pk: u for u in units}
    resolved: dict[str, object] = {}
    asked: dict[str, Question] = {}
    for row in rows:
        for names in row.units.values():
            for name in names:
                if name in resolved or name in asked:
                    if name in asked:
                        asked[name].rows.append(row.number_in_file)
                    continue
                if name in answers and answers[name] in by_id:
                    resolved[name] = by_id[answers[name]]
                    continue
                match = unit_match(name, units)
                if match.sure:
                    resolved[name] = match.unit
                else:
                    asked[name] = Question(name, [row.number_in_file], [(u.pk, u.name) for u in match.candidates])
    plan.questions = list(asked.values())
    for q in plan.questions:
        if not q.candidates:
            plan.errors.append(
                f"第{'、'.join(map(str, q.rows[:5]))}行的单位「{q.name}」在单位库中找不到，请改正名称，"
                "或先在单位管理中添加该单位（也可为现有单位登记别名）。"
            )
    plan.questions = [q for q in plan.questions if q.candidates]
    if plan.errors or plan.questions:
        return plan

    existing = {
        (p.kind, p.number): p
        for p in Proposal.objects.filter(session=session, number__in=[r.number for r in rows]).prefetch_related(
            "proposer_links__proposer"
        )
    }
    live: dict[int, dict[int, Assignment]] = {}
    for a in Assignment.objects.filter(proposal__in=[p.pk for p in existing.values()], parent__isnull=True).exclude(
        state=AssignmentState.WITHDRAWN
    ).select_related("unit"):
        live.setdefault(a.proposal_id, {})[a.unit_id] = a

    for row in rows:
        wanted = [(resolved[name], role) for role in (AssignmentRole.LEAD, AssignmentRole.SPLIT, AssignmentRole.CO) for name in row.units[role]]
        proposal = existing.get((row.kind, row.number))
        label = f"第{row.number}号"
        if proposal is None:
            plan.changes.append(Change(row.number_in_file, row.number, "register",
                                       f"登记{label}「{row.title}」（{'、'.join(row.proposers)}）"))
            for unit, role in wanted:
                plan.changes.append(Change(row.number_in_file, row.number, "assign",
                                           f"{label}交办「{unit.name}」{ROLE_LABELS[role]}",
                                           {"unit": unit.pk, "role": role}))
            continue
        changed = {}
        if proposal.title != row.title:
            changed["title"] = row.title
        if row.category is not None and proposal.category != row.category:
            changed["category"] = row.category
        if row.is_key is not None and proposal.is_key != row.is_key:
            changed["is_key"] = row.is_key
        if row.body is not None and proposal.body != row.body:
            changed["body"] = row.body
        if changed:
            words = "、".join(FIELD_BY_KEY[k].label if k in FIELD_BY_KEY else k for k in changed)
            plan.changes.append(Change(row.number_in_file, row.number, "update", f"修改{label}的{words}",
                                       {"fields": changed}))
        registered = [link.proposer.name for link in proposal.proposer_links.all()]
        if registered != row.proposers:
            plan.warnings.append(
                f"第{row.number_in_file}行{label}的提案人（{'、'.join(row.proposers)}）与已登记的"
                f"（{'、'.join(registered)}）不同；导入不修改提案人，请在提案页面核对。"
            )
        current = live.get(proposal.pk, {})
        wanted_ids = {unit.pk: role for unit, role in wanted}
        for unit_id, assignment in current.items():
            if wanted_ids.get(unit_id) == assignment.role:
                continue
            if assignment.state != AssignmentState.PENDING_SIGN:
                plan.warnings.append(
                    f"第{row.number_in_file}行{label}：「{assignment.unit.name}」已{assignment.state_label}，"
                    "导入不撤回或改变其办理方式；如需调整请走调整程序。"
                )
                continue
            plan.changes.append(Change(row.number_in_file, row.number, "withdraw",
                                       f"{label}撤回对「{assignment.unit.name}」的{assignment.get_role_display()}交办",
                                       {"assignment": assignment.pk}))
        for unit, role in wanted:
            assignment = current.get(unit.pk)
            if assignment is not None and (assignment.role == role or assignment.state != AssignmentState.PENDING_SIGN):
                continue
            plan.changes.append(Change(row.number_in_file, row.number, "assign",
                                       f"{label}交办「{unit.name}」{ROLE_LABELS[role]}", {"unit": unit.pk, "role": role}))
    # Register rows are needed by apply: keep the parsed rows on the plan.
    plan.rows = {(r.kind, r.number): r for r in rows}  # type: ignore[attr-defined]
    plan.kinds = {r.number: r.kind for r in rows}  # type: ignore[attr-defined]
    return plan


# New items are registered and assigned in chunks of this many rows (a few inserts each, progress after each).
CHUNK_ROWS = 250


@transaction.atomic
def apply_plan(*, plan: Plan, session, actor, progress=None) -> dict[str, int]:
    """Carry out a plan through the services, all or nothing; a refusal names the row.

    New items (a fresh list: almost every row) go through the bulk services, a chunk of rows at a time; updates,
    withdrawals and new units for items already registered go one by one. `progress(done, total)` is called
    with the rows done so far (the transaction is still open: nothing is visible to others until the end)."""
    if not plan.ok:
        raise ImportFileError("导入计划中还有错误或待确认的单位，不能导入。")
    rows_by_number = {}
    for (kind, number), row in plan.rows.items():  # type: ignore[attr-defined]
        rows_by_number[number] = row
    registered = {c.number for c in plan.changes if c.action == "register"}
    later = [c for c in plan.changes if c.number not in registered]
    total = len({c.number for c in plan.changes}) or 1
    done = 0
    units = Unit.objects.in_bulk({c.data["unit"] for c in plan.changes if c.action == "assign"})
    numbers = sorted(registered, key=lambda n: rows_by_number[n].number_in_file)
    for start in range(0, len(numbers), CHUNK_ROWS):
        chunk = numbers[start:start + CHUNK_ROWS]
        first_row = rows_by_number[chunk[0]].number_in_file
        last_row = rows_by_number[chunk[-1]].number_in_file
        try:
            created = proposals.proposal_create_many(actor=actor, session=session, items=[
                {"number": row.number, "title": row.title, "proposers": row.proposers, "kind": row.kind,
                 "body": row.body or "", "category": row.category or "", "is_key": bool(row.is_key)}
                for row in (rows_by_number[n] for n in chunk)
            ])
            by_number = {p.number: p for p in created}
            wanted = [(by_number[c.number], units[c.data["unit"]], c.data["role"]) for c in plan.changes
                      if c.action == "assign" and c.number in by_number]
            order = {"lead": 0, "split": 1, "co": 2}
            wanted.sort(key=lambda item: (rows_by_number[item[0].number].number_in_file, order[item[2]]))
            handling.assignment_create_many(actor=actor, items=wanted)
        except DomainError as exc:
            raise ImportFileError(f"第{first_row}—{last_row}行中：{exc.message} 本次导入未写入任何数据。") from exc
        done += len(chunk)
        if progress:
            progress(done, total)

    # Withdrawals first, so that a unit whose role changes (or a new lead) can be assigned afterwards.
    ordered = sorted(later, key=lambda c: {"register": 0, "update": 1, "withdraw": 2, "assign": 3}[c.action])
    for index, change in enumerate(ordered):
        row = rows_by_number[change.number]
        try:
            if change.action == "update":
                proposal = Proposal.objects.get(session=session, kind=row.kind, number=row.number)
                proposals.proposal_update(actor=actor, proposal=proposal, **change.data["fields"])
                if "is_key" in change.data["fields"]:
                    assignments_key_set(proposal_ids=[proposal.pk], key=is_key_item(proposal))
            elif change.action == "withdraw":
                assignment = Assignment.objects.select_related("proposal__session__assigning_office", "unit").get(
                    pk=change.data["assignment"])
                handling.assignment_withdraw(assignment=assignment, actor=actor, reason="按更正后的交办清单调整")
            elif change.action == "assign":
                proposal = Proposal.objects.get(session=session, kind=row.kind, number=row.number)
                handling.assignment_create(proposal=proposal, unit=units[change.data["unit"]],
                                           role=change.data["role"], actor=actor)
        except DomainError as exc:
            raise ImportFileError(f"第{change.row}行（第{change.number}号）：{exc.message} 本次导入未写入任何数据。") from exc
        if progress and (index + 1 == len(ordered) or index % 50 == 49):
            progress(min(total, done + len({c.number for c in ordered[:index + 1]})), total)
    return plan.counts()
