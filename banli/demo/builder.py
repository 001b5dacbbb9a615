"""The demo data set: a district government handling a city session and two district sessions.

Every record is written through the services with an explicit `now` in the past, so the event log,
the deadlines and the figures look like a real year of work. Services that take no `now` run under
time-machine (when installed), so their event rows and automatic timestamps are in the past as well.

Each item follows a plan: a list of actions placed on working days after its assignment. When a plan
would run past yesterday, its actions are squeezed proportionally, so the data set can be loaded on
any date and every timestamp stays in the past.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import inspect
import random
import zlib
from dataclasses import dataclass, field
from types import SimpleNamespace

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from banli.demo import texts as T
from banli.handling import services as handling
from banli.handling.choices import AssignmentRole, AssignmentState
from banli.handling.deadlines import WorkCalendar, add_months
from banli.organizations import services as orgs
from banli.organizations.choices import Role, UnitKind
from banli.organizations.models import User
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level, ProposalKind
from banli.proposals.models import Proposal, Session
from banli.replies import services as replies
from banli.replies.choices import CoOpinionState, Rating
from banli.replies.models import CoOpinion
from banli.supervision import services as supervision

DEMO_PASSWORD = "banli-demo-2026"
# Demo accounts carry this e-mail domain; banli.core.auth refuses them unless settings.DEMO_MODE.
DEMO_EMAIL_DOMAIN = "demo.banli.invalid"

CITY_SESSION = "深圳市政协七届四次会议"
DISTRICT_SESSION = "滨海区政协三届三次会议"
NPC_SESSION = "滨海区三届人大三次会议"

SATISFIED = (Rating.SATISFIED, Rating.SATISFIED)

# City units leading the items on which the district government is a co-handler, by category.
CITY_UNIT_FOR_CATEGORY = {
    "教育": ("cedu", "深圳市教育局", "市教育局", "基础教育处"),
    "医疗卫生": ("chealth", "深圳市卫生健康委员会", "市卫健委", "医政医管处"),
    "住房": ("chousing", "深圳市住房和建设局", "市住建局", "住房保障处"),
    "城建": ("cplan", "深圳市规划和自然资源局", "市规自局", "国土空间规划处"),
    "交通": ("ctransport", "深圳市交通运输局", "市交通局", "综合交通处"),
    "生态环境": ("ceco", "深圳市生态环境局", "市生态环境局", "水生态环境处"),
    "城市管理": ("curban", "深圳市城市管理和综合执法局", "市城管局", "市容环境处"),
    "人社": ("chr", "深圳市人力资源和社会保障局", "市人社局", "就业促进处"),
    "民政": ("ccivil", "深圳市民政局", "市民政局", "社会救助处"),
    "文化体育": ("cculture", "深圳市文化广电旅游体育局", "市文广旅体局", "公共服务处"),
    "经济": ("cindustry", "深圳市工业和信息化局", "市工信局", "中小企业服务处"),
    "财政": ("cfinance", "深圳市财政局", "市财政局", "预算处"),
    "安全生产": ("cemergency", "深圳市应急管理局", "市应急局", "安全生产基础处"),
    "市场监管": ("cmarket", "深圳市市场监督管理局", "市市场监管局", "特种设备安全监察处"),
    "法治": ("cjustice", "深圳市司法局", "市司法局", "公共法律服务处"),
    "科技": ("ctech", "深圳市科技创新局", "市科创局", "成果转化处"),
}

REPLY_SENTENCES = {
    "A": "我们采纳了这一建议。今年以来，{unit}会同相关单位制定工作方案，明确责任分工和时间节点，相关工作已基本完成，"
         "群众反映良好。下一步我们将巩固成效，建立长效机制。",
    "B": "这一建议已列入我们下一阶段工作计划。目前已完成前期调研和方案论证，计划于{next_year}年底前分步实施，"
         "实施进展将及时向您通报。",
    "C": "这一建议很有价值，但受用地、资金等条件限制，近期全面实施难度较大。我们将持续跟踪研究，"
         "待条件成熟时积极推动解决。",
    "D": "感谢您的建议。经研究，该事项涉及上级事权，我们已将建议转报有关部门参考，并将在今后工作中积极借鉴。",
}
CLASS_MIX = {"A": "AAA", "B": "ABB", "C": "BCC", "D": "DDD"}
NUMERALS = "一二三四五六七八九十"


def _travel(ts):
    """Freeze the clock at `ts` for services that read the time themselves (auto_now_add, events)."""
    try:
        import time_machine  # noqa: PLC0415 - optional here (a test extra)
    except ImportError:  # pragma: no cover - time-machine ships with the test extras used by `make demo`
        return contextlib.nullcontext()
    return time_machine.travel(ts, tick=False)


_ACCEPTS_NOW: dict = {}


def call(ts, service, **kwargs):
    """Run one service as of `ts` (passing `now=` when it takes one)."""
    accepts = _ACCEPTS_NOW.get(service)
    if accepts is None:
        accepts = _ACCEPTS_NOW[service] = "now" in inspect.signature(service).parameters
    if accepts:
        kwargs["now"] = ts
    with _travel(ts):
        return service(**kwargs)


def demo_exists() -> bool:
    return Session.objects.filter(name=CITY_SESSION).exists()


def demo_accounts() -> list[dict]:
    """Every demo account with its roles and units, for the printed table."""
    result = []
    users = User.objects.filter(email__endswith="@" + DEMO_EMAIL_DOMAIN).prefetch_related("grants__unit").order_by("id")
    for user in users:
        grants = list(user.grants.all())
        result.append({
            "username": user.username,
            "name": user.display_name,
            "roles": [g.get_role_display() for g in grants],
            "role_keys": [g.role for g in grants],
            "units": [g.unit.name for g in grants if g.unit_id],
            "superuser": user.is_superuser,
        })
    return result


@dataclass
class Plan:
    """The actions of one item, each placed `offset` working days after the item's start."""

    start: dt.date
    actions: list = field(default_factory=list)

    def at(self, offset: float, fn) -> None:
        self.actions.append((offset, len(self.actions), fn))


class DemoLoader:
    """Builds the demo data set; `load()` runs in one transaction."""

    def __init__(self, *, today: dt.date | None = None, log=None):
        self.real_now = timezone.now()
        self.today = today or timezone.localdate(self.real_now)
        self.cal = WorkCalendar.load()
        self.log = log or (lambda message: None)
        self.rng = random.Random(2026)
        self.users: dict[str, User] = {}
        self.units: dict[str, object] = {}
        self.sections: dict[str, list] = {}
        self.unit_codes: dict[int, str] = {}
        self.proposer_users: dict[str, tuple] = {}
        self._staff = iter(self._names())
        self.latest_day = self._previous_workday(self.today - dt.timedelta(days=1))
        self.setup_day = self._previous_workday(self.today - dt.timedelta(days=400))

    @staticmethod
    def _names():
        yield from T.STAFF_NAMES
        seen = set(T.STAFF_NAMES)
        for given in T.GIVEN_NAMES:
            for surname in T.SURNAMES:
                if surname + given not in seen:
                    seen.add(surname + given)
                    yield surname + given

    # --- time --------------------------------------------------------------------------------------

    def _previous_workday(self, day: dt.date) -> dt.date:
        while not self.cal.is_workday(day):
            day -= dt.timedelta(days=1)
        return day

    def days_ago(self, days: int) -> dt.date:
        return self._previous_workday(self.today - dt.timedelta(days=days))

    def moment(self, day: dt.date, slot: int = 0) -> dt.datetime:
        minutes = 9 * 60 + 25 * slot
        naive = dt.datetime.combine(day, dt.time(min(minutes // 60, 21), minutes % 60))
        ts = timezone.make_aware(naive)
        if ts >= self.real_now:
            raise RuntimeError(f"演示数据的时间 {ts} 晚于当前时间，计划编排有误")
        return ts

    def run(self, plan: Plan) -> None:
        """Run a plan's actions in order, squeezed to end by yesterday."""
        if not plan.actions:
            return
        needed = max(offset for offset, _, _ in plan.actions)
        available = self.cal.working_days_between(plan.start, self.latest_day)
        scale = min(1.0, available / needed) if needed > 0 else 1.0
        slots: dict[dt.date, int] = {}
        for offset, _, fn in sorted(plan.actions, key=lambda a: (a[0], a[1])):
            steps = int(offset * scale)
            day = self.cal.add_working_days(plan.start, steps) if steps > 0 else plan.start
            slot = slots.get(day, 0)
            slots[day] = slot + 1
            fn(self.moment(day, slot))

    # --- entry point -------------------------------------------------------------------------------

    @transaction.atomic
    def load(self) -> SimpleNamespace:
        setup = self.moment(self.setup_day)
        self.build_units(setup)
        self.build_accounts(setup)
        self.build_sessions(setup)
        self.load_city_session()
        self.load_district_session()
        self.load_npc_session()
        # One hash for every demo account: hashing each one separately would take a minute.
        User.objects.filter(email__endswith="@" + DEMO_EMAIL_DOMAIN).update(password=make_password(DEMO_PASSWORD))
        return SimpleNamespace(users=self.users, units=self.units)

    # --- units and people --------------------------------------------------------------------------

    def unit(self, ts, code, name, *, kind=UnitKind.HANDLING_UNIT, parent=None, short_name="", aliases=(),
             sections=(), sort_order=0):
        unit = call(ts, orgs.unit_create, name=name, kind=kind, parent=parent, short_name=short_name,
                    aliases=list(aliases), sort_order=sort_order)
        self.units[code] = unit
        self.unit_codes[unit.pk] = code
        self.sections[code] = [
            call(ts, orgs.unit_create, name=section, kind=UnitKind.SECTION, parent=unit, sort_order=i)
            for i, section in enumerate(sections)
        ]
        return unit

    def build_units(self, ts) -> None:
        name, short = T.CITY_OFFICE
        city_office = self.unit(ts, "city_office", name, kind=UnitKind.ASSIGNING_OFFICE, short_name=short,
                                aliases=[short])
        name, short, aliases, sections = T.DISTRICT_GOVERNMENT
        gov = self.unit(ts, "gov", name, parent=city_office, short_name=short, aliases=aliases, sections=sections)
        name, short = T.DISTRICT_OFFICE
        self.unit(ts, "office", name, kind=UnitKind.ASSIGNING_OFFICE, parent=gov, short_name=short,
                  aliases=[short, "督查室"], sort_order=-1)
        for i, (code, name, alias, sections) in enumerate(T.DEPARTMENTS):
            self.unit(ts, code, name, parent=gov, short_name=alias, aliases=[alias, f"{T.DISTRICT}{name[1:]}"],
                      sections=sections, sort_order=i)
        seen = set()
        for i, (code, name, short, section) in enumerate(CITY_UNIT_FOR_CATEGORY.values()):
            if code in seen:
                continue
            seen.add(code)
            self.unit(ts, code, name, parent=city_office, short_name=short, aliases=[short], sections=[section],
                      sort_order=100 + i)
        # A configured review chain: the health bureau's office checks, its deputy head signs off.
        call(ts, replies.review_chain_set, unit=self.units["health"],
             steps=[("办公室核稿", Role.UNIT_OFFICE), ("分管领导签发", Role.LEADER)])

    def account(self, ts, username, display_name, *grants, superuser=False):
        user = call(ts, orgs.user_create, username=username, password=None, display_name=display_name,
                    email=f"{username}@{DEMO_EMAIL_DOMAIN}", phone=f"0755-2{self.rng.randint(1000000, 9999999)}",
                    is_superuser=superuser)
        for role, unit in grants:
            call(ts, orgs.role_grant, user=user, role=role, unit=unit)
        self.users[username] = user
        return user

    def staff_name(self) -> str:
        return next(self._staff, None) or f"工作人员{len(self.users)}"

    def unit_staff(self, ts, code, short) -> None:
        unit = self.units[code]
        first_section = self.sections[code][0] if self.sections[code] else unit
        self.account(ts, f"{code}_office", f"{short}联络员 {self.staff_name()}", (Role.UNIT_OFFICE, unit))
        self.account(ts, f"{code}_handler", f"{short}承办人 {self.staff_name()}", (Role.HANDLER, first_section))
        self.account(ts, f"{code}_leader", f"{short}分管领导 {self.staff_name()}", (Role.LEADER, unit))
        # The rest of the default review chain: the section head (科室审核) and the unit's head (主要领导签发).
        self.account(ts, f"{code}_chief", f"{short}科长 {self.staff_name()}", (Role.HANDLER, first_section))
        self.account(ts, f"{code}_head", f"{short}主要领导 {self.staff_name()}", (Role.LEADER, unit))

    def build_accounts(self, ts) -> None:
        self.account(ts, "admin", "系统管理员", (Role.ADMIN, None), superuser=True)
        self.account(ts, "city_office", f"市政府督查室 {self.staff_name()}", (Role.ASSIGNING_OFFICE, self.units["city_office"]))
        # The district 督查室 assigns the district's own sessions and, as the district government's office,
        # signs city items and hands them on to the departments.
        self.account(ts, "office", f"区政府督查室 {self.staff_name()}",
                     (Role.ASSIGNING_OFFICE, self.units["office"]), (Role.UNIT_OFFICE, self.units["gov"]))
        self.account(ts, "gov_handler", f"区政府办秘书科 {self.staff_name()}", (Role.HANDLER, self.sections["gov"][0]))
        self.account(ts, "gov_leader", f"副区长 {self.staff_name()}", (Role.LEADER, self.units["gov"]))
        self.account(ts, "gov_chief", f"区政府办秘书科科长 {self.staff_name()}", (Role.HANDLER, self.sections["gov"][0]))
        self.account(ts, "gov_head", f"区长 {self.staff_name()}", (Role.LEADER, self.units["gov"]))
        for code, _, alias, _ in T.DEPARTMENTS:
            self.unit_staff(ts, code, alias)
        # A second handler in the education bureau, in another section.
        self.account(ts, "edu_handler2", f"教育局承办人 {self.staff_name()}", (Role.HANDLER, self.sections["edu"][1]))
        seen = set()
        for code, _, short, _ in CITY_UNIT_FOR_CATEGORY.values():
            if code not in seen:
                seen.add(code)
                self.unit_staff(ts, code, short)
        for group in (T.CITY_PROPOSERS, T.DISTRICT_PROPOSERS, T.NPC_PROPOSERS):
            for username, name, kind, sector in group:
                title = "" if kind == "body" else ("代表" if group is T.NPC_PROPOSERS else "委员")
                user = self.account(ts, username, f"{name}{title}", (Role.PROPOSER, None))
                # A made-up mobile number per member (from the name, not the demo's random stream), shown masked.
                phone = "" if kind == "body" else f"139{zlib.crc32(username.encode()) % 10**8:08d}"
                proposer = call(ts, proposals.proposer_get_or_create, name=name, kind=kind, sector=sector, user=user,
                                phone=phone)
                self.proposer_users[username] = (proposer, user)

    def build_sessions(self, ts) -> None:
        year = self.days_ago(240).year
        self.city = call(ts, proposals.session_create, actor=self.users["city_office"], name=CITY_SESSION,
                         body=Body.CPPCC, level=Level.CITY, year=year, term=7, meeting=4,
                         assigning_office=self.units["city_office"])
        self.district = call(ts, proposals.session_create, actor=self.users["office"], name=DISTRICT_SESSION,
                             body=Body.CPPCC, level=Level.DISTRICT, year=self.days_ago(170).year, term=3, meeting=3,
                             assigning_office=self.units["office"])
        self.npc = call(ts, proposals.session_create, actor=self.users["office"], name=NPC_SESSION,
                        body=Body.NPC, level=Level.DISTRICT, year=self.days_ago(150).year, term=3, meeting=3,
                        assigning_office=self.units["office"])

    # --- texts -------------------------------------------------------------------------------------

    @staticmethod
    def proposal_body(background, suggestions) -> str:
        lines = [background, "", "具体建议："]
        lines += [f"{NUMERALS[i]}、{s}。" for i, s in enumerate(suggestions)]
        return "\n".join(lines)

    def reply_body(self, item, unit, reply_class, ts) -> str:
        proposer = item.proposers[0]
        title = "代表" if item.kind == ProposalKind.SUGGESTION else "委员"
        salutation = proposer.name if proposer.kind == "body" else f"{proposer.name}{title}"
        kind_word = "建议" if item.kind == ProposalKind.SUGGESTION else "提案"
        lines = [f"{salutation}：", "",
                 f"您提出的《{item.title}》（第{item.number}号{kind_word}）收悉。{unit.short_name or unit.name}高度重视，"
                 f"由分管领导牵头研究办理，办理过程中多次与您沟通交流。现将办理情况答复如下：", ""]
        mix = CLASS_MIX.get(reply_class, "AAA")
        for i, suggestion in enumerate(item.suggestions):
            sentence = REPLY_SENTENCES[mix[min(i, len(mix) - 1)]].format(
                unit=unit.short_name or unit.name, next_year=ts.year + 1)
            lines += [f"{NUMERALS[i]}、关于“{suggestion}”的建议", sentence, ""]
        lines += ["衷心感谢您对我们工作的关心和支持，欢迎继续提出宝贵意见和建议。", "",
                  unit.name, f"{ts:%Y年%-m月%-d日}"]
        return "\n".join(lines)

    @staticmethod
    def opinion_body(item, unit, lead_name) -> str:
        return (f"{lead_name}：\n\n关于《{item.title}》，结合我单位职责提出会办意见如下：\n"
                f"一、{item.suggestions[-1]}方面，我单位将积极配合，做好职责范围内的相关工作。\n"
                f"二、建议主办单位统筹考虑与现有规划和年度计划的衔接，我单位可提供相关数据和政策支持。\n\n"
                f"联系人：{unit.short_name or unit.name}")

    # --- items -------------------------------------------------------------------------------------

    def register(self, session, ts, number, entry, proposer_keys, *, kind=ProposalKind.PROPOSAL, is_key=False):
        title, category, lead, co, background, suggestions = entry
        office = self.users["city_office"] if session == self.city else self.users["office"]
        records = [self.proposer_users[key][0] for key in proposer_keys]
        proposal = call(ts, proposals.proposal_create, actor=office, session=session, number=number, title=title,
                        proposers=records, kind=kind, body=self.proposal_body(background, suggestions),
                        category=category, is_key=is_key, submitted_on=ts.date() - dt.timedelta(days=30))
        return SimpleNamespace(
            proposal=proposal, title=title, number=number, kind=kind, suggestions=suggestions, office=office,
            proposers=records, raters=[self.proposer_users[key][1] for key in proposer_keys],
            lead=None, cos=[], children=[],
        )

    def supervise(self, plan, item) -> None:
        """Plan a key item's supervision: the leader named at assignment, a site visit later (重点督办)."""
        city = item.proposal.session_id == self.city.pk
        leader = None if city else self.users["gov_leader"]
        leader_name = "分管副市长" if city else leader.display_name.split()[-1] + "（副区长）"
        state = {}

        def create(ts):
            state["supervision"] = call(ts, supervision.supervision_create, actor=item.office, proposal=item.proposal,
                                        leader_name=leader_name, leader=leader, warning_days=[10, 5, 1],
                                        note="列为重点督办提案，请主办单位制定办理方案，每月报送进展。")

        def visit(ts):
            call(ts, supervision.supervision_note_add, actor=item.office, supervision=state["supervision"],
                 kind="visit", happened_on=timezone.localdate(ts),
                 text="督办领导带队实地调研，听取主办、会办单位办理进展汇报，要求倒排工期、按期答复。")
        plan.at(0.5, create)
        plan.at(12, visit)

    def staff(self, assignment, role):
        return self.users[f"{self.unit_codes[assignment.unit_id]}_{role}"]

    def office_of_unit(self, assignment):
        code = self.unit_codes[assignment.unit_id]
        return self.users["office"] if code == "gov" else self.users[f"{code}_office"]

    def handler_of(self, assignment):
        code = self.unit_codes[assignment.unit_id]
        return self.users["gov_handler" if code == "gov" else f"{code}_handler"]

    def leader_of(self, assignment):
        code = self.unit_codes[assignment.unit_id]
        return self.users["gov_leader" if code == "gov" else f"{code}_leader"]

    @staticmethod
    def fresh(assignment):
        assignment.refresh_from_db()
        return assignment

    def assign(self, plan, item, slot, code, role, *, offset=0.0, parent=None):
        """Plan the assignment of `item` to unit `code`; the result lands in item.<slot> (or its list).

        With `parent` (a callable returning an assignment), the unit hands its own assignment on."""
        def action(ts):
            parent_assignment = parent() if parent else None
            actor = self.users["office"] if parent_assignment is not None else item.office
            assignment = call(ts, handling.assignment_create, proposal=item.proposal, unit=self.units[code],
                              role=role, actor=actor, parent=parent_assignment)
            target = getattr(item, slot)
            if isinstance(target, list):
                target.append(assignment)
            else:
                setattr(item, slot, assignment)
        plan.at(offset, action)

    # Co-handling: sign, sections, opinion.
    def plan_sign_and_section(self, plan, getter, target, *, sign_at, section_at, co_sections=False) -> bool:
        """Plan the unit's signing and its handing to a section (and a handler) as far as `target` goes; False
        when `target` stops before the section."""
        if target == AssignmentState.PENDING_SIGN:
            return False
        plan.at(sign_at, lambda ts: call(ts, handling.assignment_sign, assignment=self.fresh(getter()),
                                         actor=self.office_of_unit(getter())))
        if target == AssignmentState.SIGNED:
            return False

        def section(ts):
            a = self.fresh(getter())
            code = self.unit_codes[a.unit_id]
            extra = [(s, None) for s in self.sections[code][1:2]] if co_sections else None
            call(ts, handling.assignment_assign_section, assignment=a, actor=self.office_of_unit(a),
                 section=self.sections[code][0], handler=self.handler_of(a), co_sections=extra)
        plan.at(section_at, section)
        return True

    def plan_co(self, plan, item, getter, target, *, base=0.0, opinion_at=14.0, lead_name=None):
        if not self.plan_sign_and_section(plan, getter, target, sign_at=base + 1, section_at=base + 2):
            return
        if target == AssignmentState.IN_PROGRESS:
            return

        def opinion(ts):
            a = self.fresh(getter())
            code = self.unit_codes[a.unit_id]
            lead = lead_name or (item.lead.unit.name if item.lead else "主办单位")
            handler = self.handler_of(a)
            call(ts, replies.co_opinion_send, assignment=a, actor=handler,
                 body=self.opinion_body(item, self.units[code], lead),
                 contact_person=handler.display_name.split()[-1], contact_phone=handler.phone)
        plan.at(base + opinion_at, opinion)

    def plan_lead(self, plan, item, getter, target, *, code, base=0.0, reply_class="A", ratings=None, rated_count=None,
                  review_upto=0, returned=False, extension=None, commitment=None, rehandle=None, draft_only=False,
                  contacts=True, co_sections=False):
        """Plan a lead (or split) assignment up to `target`."""
        ratings = ratings or [SATISFIED] * len(item.raters)
        if not self.plan_sign_and_section(plan, getter, target, sign_at=base + 1, section_at=base + 1,
                                          co_sections=co_sections):
            return
        state = {}
        if contacts:
            plan.at(base + 3, lambda ts: self.contact(ts, getter(), "before", "phone"))
            plan.at(base + 24, lambda ts: self.contact(ts, getter(), "during", "visit"))
        if extension:
            def ask(ts):
                a = self.fresh(getter())
                wanted = min(add_months(a.reply_due, 1), a.reply_due_max)
                state["extension"] = call(ts, handling.extension_request, assignment=a, actor=self.office_of_unit(a),
                                      reason="该提案涉及多个部门和用地调整，需开展实地调研和专题论证，申请延期一个月答复。",
                                      requested_due=wanted)
            plan.at(base + 20, ask)
            if extension == "approved":
                plan.at(base + 22, lambda ts: call(ts, handling.extension_decide, request=state["extension"],
                                                   actor=item.office, approve=True, note="同意延期，请按期答复。"))
        if target == AssignmentState.IN_PROGRESS and not draft_only:
            return

        def draft(ts, version_note=""):
            a = self.fresh(getter())
            handler = self.handler_of(a)
            # The opinions sent to this unit: its own hand-on units', or the top-level co units'.
            adopted = list(CoOpinion.objects.filter(
                Q(assignment__parent=a) | Q(assignment__parent__isnull=True, assignment__role="co"),
                assignment__proposal=a.proposal, state=CoOpinionState.SENT))
            body = self.reply_body(item, a.unit, reply_class, ts) + version_note
            state["reply"] = call(ts, replies.reply_save_draft, assignment=a, actor=handler, body=body,
                                  reply_class=reply_class, contact_person=handler.display_name.split()[-1],
                                  contact_phone=handler.phone, adopted_opinions=adopted)
        plan.at(base + 32, draft)
        if draft_only:
            return
        plan.at(base + 33, lambda ts: state.update(reply=call(ts, replies.reply_submit, reply=state["reply"],
                                                              actor=self.handler_of(getter()))))
        offset = base + 34
        if returned:
            if replies.review_steps_for(self.units[code])[0].role == Role.HANDLER:
                # The section head passes it first (科室审核); the office then returns it at its own step.
                plan.at(offset - 0.5, lambda ts: self.review(ts, state, getter()))
            plan.at(offset, lambda ts: call(ts, replies.reply_review, reply=state["reply"],
                                            actor=self.office_of_unit(getter()), approve=False,
                                            reason="答复未逐条回应提案人的三点建议，请补充具体措施和时间安排。",
                                            checklist={"逐条回应": False, "文字规范": True, "格式规范": True}))
            plan.at(offset + 1, lambda ts: draft(ts, "\n（已按核稿意见逐条补充办理措施）"))
            plan.at(offset + 1.5, lambda ts: state.update(reply=call(ts, replies.reply_submit, reply=state["reply"],
                                                                     actor=self.handler_of(getter()))))
            offset += 2
        steps = len(replies.review_steps_for(self.units[code]))
        approvals = steps if target != AssignmentState.REPLY_REVIEW else review_upto
        for i in range(approvals):
            plan.at(offset + i, lambda ts: self.review(ts, state, getter()))
        if target == AssignmentState.REPLY_REVIEW:
            return
        send_at = offset + steps
        plan.at(send_at, lambda ts: call(ts, replies.reply_send, reply=state["reply"],
                                         actor=self.office_of_unit(getter())))
        if commitment:
            def promise(ts):
                a = self.fresh(getter())
                state["commitment"] = call(
                    ts, replies.commitment_record, assignment=a, actor=self.handler_of(a), reply=state["reply"],
                    description=f"落实答复承诺：{item.suggestions[-1]}",
                    target_date=add_months(ts.date(), 6 if commitment == "open" else 1))
            plan.at(send_at + 0.5, promise)
            if commitment == "done":
                plan.at(send_at + 12, lambda ts: call(ts, replies.commitment_complete, commitment=state["commitment"],
                                                      actor=self.handler_of(getter()),
                                                      note="已按答复承诺完成，并向提案人通报落实情况。"))
        if contacts:
            plan.at(send_at + 2, lambda ts: self.contact(ts, getter(), "after", "meeting"))
        # "replied" keeps at least one proposer still to rate (the last rating completes the feedback).
        count = len(item.raters) if target != AssignmentState.REPLIED else min(rated_count or 0, len(item.raters) - 1)
        for i in range(count):
            plan.at(send_at + 3 + i, lambda ts, i=i: self.rate(ts, item, getter(), i, ratings[i]))
        if target in (AssignmentState.REPLIED, AssignmentState.RATED):
            return
        if target == AssignmentState.CLOSED and not rehandle:
            plan.at(send_at + 8, lambda ts: call(ts, handling.assignment_close, assignment=self.fresh(getter()),
                                                 actor=item.office))
            return
        # Rated 不满意: the office reopens the item for a second round.
        plan.at(send_at + 7, lambda ts: call(ts, handling.assignment_rehandle, assignment=self.fresh(getter()),
                                             actor=item.office,
                                             reason="提案人对办理结果不满意，请重新研究办理，进一步明确落实措施和时间表。"))
        if target == AssignmentState.REHANDLING:
            return
        plan.at(send_at + 9, lambda ts: self.contact(ts, getter(), "during", "forum"))
        second = send_at + 15
        plan.at(second, lambda ts: draft(ts, "\n（重新办理：已召开专题座谈会，明确责任分工和完成时限）"))
        plan.at(second + 0.5, lambda ts: state.update(reply=call(ts, replies.reply_submit, reply=state["reply"],
                                                                 actor=self.handler_of(getter()))))
        for i in range(steps):
            plan.at(second + 1 + i, lambda ts: self.review(ts, state, getter()))
        plan.at(second + 1 + steps, lambda ts: call(ts, replies.reply_send, reply=state["reply"],
                                                    actor=self.office_of_unit(getter())))
        for i in range(len(item.raters)):
            plan.at(second + 3 + steps + i, lambda ts, i=i: self.rate(ts, item, getter(), i, SATISFIED))
        plan.at(second + 8 + steps, lambda ts: call(ts, handling.assignment_close, assignment=self.fresh(getter()),
                                                    actor=item.office))

    def review(self, ts, state, assignment):
        reply = state["reply"]
        reply.refresh_from_db()
        chain = replies.review_steps_for(assignment.unit)
        step = next(s for s in chain if s.position == reply.review_position)
        leader_steps = [s.position for s in chain if s.role == Role.LEADER]
        code = self.unit_codes[assignment.unit_id]
        if step.role == Role.UNIT_OFFICE:
            actor = self.office_of_unit(assignment)
        elif step.role == Role.HANDLER:
            actor = self.users[f"{code}_chief"]
        elif len(leader_steps) > 1 and step.position == leader_steps[-1]:
            actor = self.users[f"{code}_head"]  # a different person signs off than the deputy who reviewed
        else:
            actor = self.leader_of(assignment)
        state["reply"] = call(ts, replies.reply_review, reply=reply, actor=actor, approve=True,
                              checklist={"逐条回应": True, "文字规范": True, "格式规范": True}
                              if step.role == Role.UNIT_OFFICE else None)

    def contact(self, ts, assignment, phase, method):
        a = self.fresh(assignment)
        names = "、".join(p.name for p in a.proposal.proposers.all())
        call(ts, handling.contact_log, assignment=a, actor=self.handler_of(a), phase=phase, method=method,
             contacted_on=timezone.localdate(ts), people=f"{names}；{self.handler_of(a).display_name}",
             summary=T.CONTACT_SUMMARIES[phase])

    def rate(self, ts, item, assignment, index, rating):
        attitude, result = rating
        comment = ""
        if Rating.UNSATISFIED in (attitude, result):
            comment = T.UNSATISFIED_COMMENT
        elif Rating.BASIC in (attitude, result):
            comment = T.BASIC_COMMENT
        call(ts, replies.feedback_record, assignment=self.fresh(assignment), actor=item.raters[index],
             attitude=attitude, result=result, comment=comment)

    def proposer_keys(self, pool, index, *, body_lead=False):
        members = [p for p in pool if p[2] == "member"]
        bodies = [p for p in pool if p[2] == "body"]
        lead = bodies[index % len(bodies)] if body_lead and bodies else members[index % len(members)]
        others = [p for p in members if p is not lead]
        count = index % 3  # 0, 1 or 2 co-signers
        return [lead[0]] + [p[0] for p in self.rng.sample(others, count)]

    # --- the city session: the district government as one handling unit (seed 001's shape) ----------

    def load_city_session(self) -> None:
        start = self.days_ago(240)
        year = self.city.year
        for i, entry in enumerate(T.CITY_ITEMS):
            title, category, lead, depts, background, suggestions = entry
            ts = self.moment(self._previous_workday(start - dt.timedelta(days=3)))
            keys = self.proposer_keys(T.CITY_PROPOSERS, i, body_lead=i % 5 == 2)
            item = self.register(self.city, ts, f"{year}{104 + i * 7:04d}", entry, keys, is_key=i == 0)
            plan = Plan(start=self._previous_workday(start + dt.timedelta(days=i % 4)))
            if i == 0:
                self.supervise(plan, item)
            item.children = []
            if lead == "gov":
                role = AssignmentRole.SPLIT if i == 4 else AssignmentRole.LEAD
                self.assign(plan, item, "lead", "gov", role)
                if role == AssignmentRole.SPLIT:
                    self.assign(plan, item, "cos", "chealth", AssignmentRole.SPLIT)
                getter = lambda item=item: item.lead  # noqa: E731
                for n, dept in enumerate(depts):
                    self.assign(plan, item, "children", dept, AssignmentRole.CO, offset=1.2, parent=lambda item=item: item.lead)
                    self.plan_co(plan, item, lambda item=item, n=n: item.children[n], "opinion_sent", base=1.2,
                                 opinion_at=10, lead_name=self.units["gov"].name)
                self.plan_lead(plan, item, getter, "closed", code="gov", reply_class="AB"[i % 2], contacts=True)
                if role == AssignmentRole.SPLIT:
                    self.plan_lead(plan, item, lambda item=item: item.cos[0], "closed", code="chealth", reply_class="B")
            else:
                city_code = CITY_UNIT_FOR_CATEGORY[category][0]
                self.assign(plan, item, "lead", city_code, AssignmentRole.LEAD)
                self.assign(plan, item, "cos", "gov", AssignmentRole.CO)
                self.assign(plan, item, "children", depts[0], "co", offset=1.2, parent=lambda item=item: item.cos[0])
                self.plan_co(plan, item, lambda item=item: item.children[0], "opinion_sent", base=1.2, opinion_at=9,
                             lead_name=self.units["gov"].name)
                self.plan_co(plan, item, lambda item=item: item.cos[0], "opinion_sent", base=0, opinion_at=14)
                self.plan_lead(plan, item, lambda item=item: item.lead, "closed", code=city_code,
                               reply_class="ABAB"[i % 4],
                               contacts=i % 3 == 0)
            self.run(plan)
        self.log(f"{CITY_SESSION}：{len(T.CITY_ITEMS)} 件")

    # --- the district CPPCC session: items in every state -----------------------------------------

    DISTRICT_SCENARIOS = [
        # (days ago assigned, lead target, options, co target), by the position of T.DISTRICT_ITEMS. The education
        # bureau, whose accounts the demo's table lists first among the units, leads items 1 and 2: item 2 waits at
        # its office's review step, so that signing in as edu_office, edu_handler or edu_leader shows work to do
        # (both were closed once, and the bureau's three accounts opened on an empty workbench).
        (160, "closed", {"reply_class": "B", "commitment": "done", "co_sections": True}, "opinion_sent"),
        (50, "reply_review", {"reply_class": "B", "review_upto": 1}, "opinion_sent"),
        (158, "closed", {"reply_class": "B", "commitment": "open", "ratings": [(Rating.SATISFIED, Rating.BASIC)] * 3},
         "opinion_sent"),
        (175, "closed", {"reply_class": "B", "rehandle": "closed",
                         "ratings": [(Rating.BASIC, Rating.UNSATISFIED)] + [SATISFIED] * 2}, "opinion_sent"),
        (165, "closed", {"reply_class": "A", "adjust_from": "urban"}, "opinion_sent"),
        (150, "closed", {"reply_class": "A", "extension": "approved"}, "opinion_sent"),
        (100, "rated", {"reply_class": "B", "commitment": "open"}, "opinion_sent"),
        (150, "closed", {"reply_class": "C", "ratings": [(Rating.SATISFIED, Rating.BASIC)] * 3}, "opinion_sent"),
        (62, "replied", {"reply_class": "A", "rated_count": 1}, "opinion_sent"),
        (160, "closed", {"reply_class": "A"}, "opinion_sent"),
        (55, "reply_review", {"reply_class": "A", "returned": True}, "opinion_sent"),
        (70, "in_progress", {"extension": "pending"}, "opinion_sent"),
        (40, "in_progress", {"draft_only": True}, "in_progress"),
        (80, "rehandling", {"reply_class": "C", "ratings": [(Rating.SATISFIED, Rating.UNSATISFIED)] * 3}, "opinion_sent"),
        (35, "in_progress", {"withdraw_co": True}, "opinion_sent"),
        (8, "signed", {}, "pending_sign"),
        (2, "pending_sign", {}, "pending_sign"),
        (12, "pending_sign", {}, "pending_sign"),
        (4, "adjustment_requested", {"adjust": "pending"}, "signed"),
        (7, "pending_sign", {"adjust": "rejected"}, "pending_sign"),
        (95, "replied", {"reply_class": "B", "commitment": "open"}, "opinion_sent"),
        (140, "closed", {"reply_class": "A"}, "opinion_sent"),
        (95, "rated", {"reply_class": "A", "ratings": [(Rating.SATISFIED, Rating.BASIC)] * 3}, "opinion_sent"),
        (45, "in_progress", {}, "opinion_sent"),
        (145, "closed", {"reply_class": "D"}, "opinion_sent"),
        (58, "replied", {"reply_class": "B", "rated_count": 1}, "opinion_sent"),
    ]

    def load_items(self, session, entries, scenarios, pool, *, kind, number_base) -> None:
        year = session.year
        for i, (entry, (days, target, options, co_target)) in enumerate(zip(entries, scenarios)):
            title, category, lead, co, background, suggestions = entry
            options = dict(options)
            start = self.days_ago(days)
            keys = self.proposer_keys(pool, i, body_lead=i % 4 == 3)
            reg = self.moment(self._previous_workday(start - dt.timedelta(days=5)))
            item = self.register(session, reg, f"{year}{number_base + i:04d}", entry, keys, kind=kind,
                                 is_key=i in (0, 17))
            plan = Plan(start=start)
            if item.proposal.is_key and target not in (AssignmentState.PENDING_SIGN, AssignmentState.SIGNED):
                self.supervise(plan, item)
            adjust_from = options.pop("adjust_from", None)
            adjust = options.pop("adjust", None)
            withdraw_co = options.pop("withdraw_co", False)
            base = 0.0
            if adjust_from:
                # Assigned to the wrong bureau first; it asks for an adjustment, the office re-assigns.
                self.assign(plan, item, "lead", adjust_from, AssignmentRole.LEAD)
                plan.at(2, lambda ts, item=item: self.request_adjustment(ts, item, lead))
                plan.at(4, lambda ts, item=item: self.approve_adjustment(ts, item, lead))
                base = 4.0
            else:
                self.assign(plan, item, "lead", lead, AssignmentRole.LEAD)
            for n, code in enumerate(co):
                self.assign(plan, item, "cos", code, AssignmentRole.CO)
                getter = lambda item=item, n=n: item.cos[n]  # noqa: E731
                if withdraw_co and n == len(co) - 1:
                    plan.at(1.5, lambda ts, getter=getter, item=item: call(
                        ts, handling.assignment_withdraw, assignment=self.fresh(getter()), actor=item.office,
                        reason="经核实，该事项不涉及本单位职责，交办有误，予以撤回。"))
                    continue
                self.plan_co(plan, item, getter, co_target, base=base)
            if adjust == "pending":
                plan.at(2, lambda ts, item=item: self.request_adjustment(ts, item, "dev", sign_first=True))
            elif adjust == "rejected":
                plan.at(1, lambda ts, item=item: self.request_adjustment(ts, item, "dev"))
                plan.at(2, lambda ts, item=item: self.reject_adjustment(ts, item))
            else:
                self.plan_lead(plan, item, lambda item=item: item.lead, target, code=lead, base=base, **options)
            self.run(plan)
        self.log(f"{session.name}：{len(entries)} 件")

    def request_adjustment(self, ts, item, suggested, *, sign_first=False):
        a = self.fresh(item.lead)
        office = self.office_of_unit(a)
        if sign_first:
            a = call(ts, handling.assignment_sign, assignment=a, actor=office)
        item.adjustment = call(ts + dt.timedelta(minutes=5), handling.adjustment_request, assignment=a, actor=office,
                               reason=f"该事项主要涉及{self.units[suggested].name}的职责，建议调整由其主办。",
                               suggested_unit=self.units[suggested])

    def approve_adjustment(self, ts, item, new_code):
        item.lead = call(ts, handling.adjustment_approve, request=item.adjustment, actor=item.office,
                         new_unit=self.units[new_code], note="同意调整。")

    def reject_adjustment(self, ts, item):
        call(ts, handling.adjustment_reject, request=item.adjustment, actor=item.office,
             reason="该事项与贵单位职责密切相关，请按交办要求办理，可与相关单位加强沟通。")

    def load_district_session(self) -> None:
        self.load_items(self.district, T.DISTRICT_ITEMS, self.DISTRICT_SCENARIOS, T.DISTRICT_PROPOSERS,
                        kind=ProposalKind.PROPOSAL, number_base=1)
        self.load_merged_duplicate()

    def load_merged_duplicate(self) -> None:
        """A later proposal on the subject of item 15 (AED): assigned to the same bureau and merged into it."""
        session, year = self.district, self.district.year
        head = Proposal.objects.get(session=session, number=f"{year}0015")
        start = self.days_ago(30)
        reg = self.moment(self._previous_workday(start - dt.timedelta(days=3)))
        item = self.register(session, reg, f"{year}{len(T.DISTRICT_ITEMS) + 1:04d}", T.DISTRICT_DUPLICATE,
                             self.proposer_keys(T.DISTRICT_PROPOSERS, 4))
        plan = Plan(start=start)
        self.assign(plan, item, "lead", "health", AssignmentRole.LEAD)
        plan.at(0.5, lambda ts: call(ts, proposals.proposal_merge, actor=item.office, proposal=item.proposal, into=head))
        self.plan_lead(plan, item, lambda: item.lead, "in_progress", code="health")
        self.run(plan)
        self.log(f"{session.name}：第{item.number}号并入第{head.number}号（并案办理）")

    NPC_SCENARIOS = [
        (150, "closed", {"reply_class": "B", "commitment": "done"}, "opinion_sent"),
        (100, "in_progress", {"extension": "approved"}, "opinion_sent"),
        (120, "rated", {"reply_class": "A"}, "opinion_sent"),
        (60, "replied", {"reply_class": "A"}, "opinion_sent"),
    ]

    def load_npc_session(self) -> None:
        self.load_items(self.npc, T.NPC_ITEMS, self.NPC_SCENARIOS, T.NPC_PROPOSERS,
                        kind=ProposalKind.SUGGESTION, number_base=101)


def load_demo(*, log=None, today=None):
    """Load the demo data set once; returns False (and changes nothing) when it is already there."""
    if demo_exists():
        return False
    DemoLoader(log=log, today=today).load()
    return True
