"""The ledger's keyset pages, capped count, jumps, scope on the assignment row and the stored columns it orders by."""
import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from banli.core.testing import assign, make_proposal, walk_to
from banli.handling import services as handling
from banli.handling.deadlines import next_due
from banli.handling.models import Assignment
from banli.ledger import keyset as ledger
from banli.ledger.filtersets import filtered_ledger
from banli.proposals.models import Proposal
from banli.replies import services as replies
from banli.proposals.services import proposal_update
from banli.supervision.services import supervision_create
from banli.workbench.tests.test_query_counts import bulk_items, count_queries

pytestmark = pytest.mark.django_db

ROW = re.compile(r'href="/proposals/\d+/#assignment-(\d+)"')


def _ids(html: str) -> list[int]:
    return [int(pk) for pk in ROW.findall(html)]


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'rel="{rel}" href="([^"]+)"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _expected_order(qs) -> list[int]:
    far = dt.date.max
    rows = list(qs.values_list("pk", "key_item", "next_due"))
    # Key items first while something is due on them; then the due date (none last); then the id.
    return [pk for pk, key, due in sorted(rows, key=lambda r: (not r[1] or r[2] is None, r[2] or far, r[0]))]


def test_next_and_previous_walk_every_row_once_in_the_stored_order(client, world):
    bulk_items(world, 70)  # 140 assignments: three pages
    Assignment.objects.filter(pk__in=Assignment.objects.order_by("-id").values("pk")[:5]).update(key_item=True)
    # Key items with nothing due (closed) among them: they walk with the finished rows, not first.
    Assignment.objects.filter(pk__in=Assignment.objects.order_by("-id").values("pk")[:2]).update(
        state="closed", next_due=None, next_due_kind="")
    client.force_login(world.office)
    url = reverse("workbench:ledger")
    html = client.get(url).content.decode()
    seen, pages = _ids(html), [_ids(html)]
    assert "第 1 / 3 页" in html and _link(html, "prev") is None
    while (nxt := _link(html, "next")):
        assert "after=" in nxt and "page=" in nxt
        html = client.get(url + nxt).content.decode()
        pages.append(_ids(html))
        seen += pages[-1]
    assert seen == _expected_order(Assignment.objects.exclude(state="withdrawn"))
    assert len(pages) == 3 and "第 3 / 3 页" in html
    previous = client.get(url + _link(html, "prev")).content.decode()
    assert _ids(previous) == pages[1] and "第 2 / 3 页" in previous


def test_a_key_item_comes_first_only_while_something_is_due_on_it(client, world):
    """At the year's end an office's closed key items filled the first pages of its ledger above the ordinary items
    still open: a key item with nothing due (办结, 已送会办意见, 已测评) now sorts with the finished rows."""
    today = timezone.localdate()
    leads = []
    for n in range(3):
        lead, _co = assign(world, make_proposal(world, number=f"K{n}"))
        leads.append(lead)
    ordinary, key_open, key_closed = leads
    Assignment.objects.filter(pk=ordinary.pk).update(next_due=today + dt.timedelta(days=3))
    Assignment.objects.filter(pk=key_open.pk).update(key_item=True, next_due=today + dt.timedelta(days=20))
    Assignment.objects.filter(pk=key_closed.pk).update(key_item=True, state="closed", next_due=None, next_due_kind="")
    client.force_login(world.office)
    shown = _ids(client.get(reverse("workbench:ledger")).content.decode())
    assert shown.index(key_open.pk) < shown.index(ordinary.pk) < shown.index(key_closed.pk)
    # The unit's work lists share the order (workbench.selectors), read from the same stored columns.
    assert ledger.Sort("", ("key", "due", "id")).values_of(Assignment.objects.get(pk=key_closed.pk))[0] is True


def test_a_deep_page_costs_the_same_queries_as_the_first(client, world):
    bulk_items(world, 70)
    client.force_login(world.office)
    url = reverse("workbench:ledger")
    first = client.get(url).content.decode()
    second_link = _link(first, "next")
    assert count_queries(client, url) == count_queries(client, url + second_link)


def test_the_count_is_exact_up_to_the_cap_and_says_so_beyond(client, world, monkeypatch):
    bulk_items(world, 15)
    client.force_login(world.office)
    url = reverse("workbench:ledger")
    assert "共 <strong id=\"ledger-total\">30</strong> 条" in client.get(url).content.decode()
    monkeypatch.setattr(ledger, "COUNT_CAP", 20)
    html = client.get(url).content.decode()
    assert "超过 <strong id=\"ledger-total\">20+</strong> 条" in html and "精确计数到 20 条为止" in html


def test_jump_to_a_number_and_to_a_date(client, world):
    bulk_items(world, 40)
    client.force_login(world.office)
    url = reverse("workbench:ledger")
    html = client.get(url, {"from_number": "Q00031"}).content.decode()
    wanted = Assignment.objects.filter(proposal__number="Q00031").order_by("next_due", "id")
    order = _expected_order(Assignment.objects.exclude(state="withdrawn"))
    first = min(wanted, key=lambda a: order.index(a.pk)).pk
    assert _ids(html)[0] == first and "从第Q00031号起" in html
    day = timezone.localdate()
    html = client.get(url, {"from_date": day.isoformat()}).content.decode()
    dues = list(Assignment.objects.filter(pk__in=_ids(html)).values_list("pk", "next_due"))
    assert dues and all(due is not None and due >= day for _pk, due in dues)
    assert "ordering=due" in (_link(html, "next") or "ordering=due")


def test_a_bad_cursor_starts_over_instead_of_failing(client, world):
    bulk_items(world, 5)
    client.force_login(world.office)
    response = client.get(reverse("workbench:ledger"), {"after": "x_2026-13-01_abc"})
    assert response.status_code == 200 and len(_ids(response.content.decode())) == 10


def test_unit_staff_list_their_units_assignments_and_the_office_its_sessions(client, world):
    bulk_items(world, 3)
    client.force_login(world.co_office)
    ids = _ids(client.get(reverse("workbench:ledger")).content.decode())
    assert sorted(ids) == sorted(Assignment.objects.filter(unit=world.co_unit).values_list("pk", flat=True))
    client.force_login(world.office)
    assert len(_ids(client.get(reverse("workbench:ledger")).content.decode())) == 6


def test_search_finds_two_character_words_in_title_body_and_proposer_names(client, world):
    p = make_proposal(world, number="S1", title="关于完善社区养老服务的提案")
    proposal_update(actor=world.office, proposal=p, body="建议增加日间照料中心。")  # the search words follow edits
    assign(world, p, co=False)
    other = make_proposal(world, number="S2", title="关于道路交通的提案")
    assign(world, other, co=False)
    client.force_login(world.office)
    url = reverse("workbench:ledger")
    for word in ("养老", "照料", world.proposer_record.name, "S1"):
        html = client.get(url, {"q": word}).content.decode()
        assert "关于完善社区养老服务的提案" in html, word
        assert "关于道路交通的提案" not in html or word == world.proposer_record.name
    assert "按相关程度排序" in client.get(url, {"q": "养老"}).content.decode()


def test_the_stored_columns_follow_the_services(world):
    p = make_proposal(world, number="K1")
    lead, co = assign(world, p)
    assert lead.session_id == p.session_id and not lead.key_item
    assert (lead.next_due, lead.next_due_kind) == (lead.sign_due, "sign")

    supervision_create(actor=world.office, proposal=p, leader_name="王副区长")
    assert set(Assignment.objects.filter(proposal=p).values_list("key_item", flat=True)) == {True}
    signed = handling.assignment_sign(assignment=lead, actor=world.lead_office)
    signed.refresh_from_db()
    assert (signed.next_due, signed.next_due_kind) == (signed.reply_due, "reply") == next_due(signed)
    co.refresh_from_db()
    assert next_due(co) == (co.next_due, co.next_due_kind)


def test_search_matches_part_of_a_proposers_name_and_every_word(client, world):
    # "李委" is no segmented word of 李委员: the proposer table answers it, within the same search condition.
    p = make_proposal(world, number="N1", title="关于完善社区养老服务的提案")
    assign(world, p, co=False)
    other = make_proposal(world, number="N2", title="关于道路交通的提案", proposers=[world.other_proposer_record])
    assign(world, other, co=False)
    client.force_login(world.office)
    url = reverse("workbench:ledger")
    html = client.get(url, {"q": "李委"}).content.decode()
    assert "关于完善社区养老服务的提案" in html and "关于道路交通的提案" not in html
    html = client.get(url, {"q": "何委 交通"}).content.decode()
    assert "关于道路交通的提案" in html and "关于完善社区养老服务的提案" not in html
    html = client.get(url, {"q": "何委 养老"}).content.decode()
    assert "关于道路交通的提案" not in html and "关于完善社区养老服务的提案" not in html


def test_a_page_reads_its_rows_once_without_the_long_columns(client, world):
    bulk_items(world, 30)
    client.force_login(world.co_office)
    url = reverse("workbench:ledger")
    client.get(url, {"q": "教育"})
    for params in ({}, {"q": "教育"}, {"q": "教育", "ordering": "-due"}, {"ordering": "unit"}):
        with CaptureQueriesContext(connection) as ctx:
            html = client.get(url, params).content.decode()
        assert _ids(html), params
        reads = [q["sql"] for q in ctx.captured_queries if 'FROM "handling_assignment"' in q["sql"]]
        # The rows' statement: the joined rows without the proposal's body or search words, nor the handler's
        # password, and the filters are not repeated around the page's ids.
        rows = [sql for sql in reads if 'AS "merge_head"' in sql]
        assert len(rows) == 1, params
        assert '"body"' not in rows[0] and '"search_text"' not in rows[0] and '"password"' not in rows[0]
        if params.get("q"):
            assert "search_vector" not in rows[0] and "教育" not in rows[0], params


def test_the_page_statements_run_without_parallel_workers_on_postgresql(client, world):
    """The connection itself plans serially (settings.BANLI_DB_PARALLEL_WORKERS, 0 by default), so the ledger's
    statements run without workers and the page opens no transaction of its own to set it (three round trips)."""
    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    bulk_items(world, 5)
    client.force_login(world.office)
    for params in ({}, {"q": "教育"}, {"ordering": "unit"}):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(reverse("workbench:ledger"), params)
        assert _ids(response.content.decode()), params
        with connection.cursor() as cursor:
            cursor.execute("SHOW max_parallel_workers_per_gather")
            assert cursor.fetchone()[0] == "0"
        statements = [q["sql"] for q in ctx.captured_queries]
        assert not any(sql.startswith(("SET ", "SAVEPOINT")) for sql in statements), params


def test_the_rows_statement_is_prepared_once_per_connection_on_postgresql(client, world):
    """PostgreSQL keeps the plan of the page's rows statement (five joins, four sub-selects) on the connection:
    prepared the first time, run again with other ids on the next pages; Django's own statements stay unprepared."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    bulk_items(world, 60)
    client.force_login(world.office)
    url = reverse("workbench:ledger")
    before = _prepared()  # the connection outlives a test: what earlier tests prepared stays
    first = client.get(url).content.decode()
    after = re.search(r'rel="next" href="\?([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(f"{url}?{after}").content.decode()
    assert _ids(first) and _ids(second) and not set(_ids(first)) & set(_ids(second))
    runs = {sql: n - before.get(sql, 0) for sql, n in _prepared().items() if n != before.get(sql, 0)}
    # Both pages ran one prepared statement, the rows statement (planned once, or kept from an earlier test).
    assert list(runs.values()) == [2] and all('AS "merge_head"' in sql and "= ANY($" in sql for sql in runs), runs


def _prepared() -> dict[str, int]:
    """The statements prepared on the test connection, with how often each has run."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans + custom_plans FROM pg_prepared_statements")
        return dict(cursor.fetchall())


def test_prepared_statements_can_be_turned_off_for_an_old_pool(client, world, settings):
    """BANLI_DB_PREPARED_STATEMENTS off (PgBouncer older than 1.21): the same page, nothing prepared."""
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    settings.BANLI_DB_PREPARED_STATEMENTS = False
    bulk_items(world, 5)
    client.force_login(world.office)
    before = _prepared()
    with CaptureQueriesContext(connection) as ctx:
        assert _ids(client.get(reverse("workbench:ledger")).content.decode())
    assert any('AS "merge_head"' in q["sql"] for q in ctx.captured_queries)
    assert _prepared() == before  # none prepared, none run again


def _shown(row) -> tuple:
    return (row.pk, row.proposal_id, row.proposal.number, row.proposal.title, row.proposal.merged_with_id,
            row.proposal.session.name, row.unit_id, row.unit.name, row.handler_id, row.handler and row.handler.label,
            row.role, row.state, row.round, row.key_item, row.next_due, row.due, row.reply_class,
            row.unsatisfied_outcome, row.merge_head)


def test_the_rows_statement_kept_for_the_process_reads_what_the_queryset_reads(world):
    """The page's rows statement, compiled once per process on PostgreSQL (keyset._row_statement) from the rows
    before any scope or filter, gives what the filtered queryset itself gives: every column, the class a viewer may
    see (a unit's unsent draft for its own staff only), 首轮不满意 and 并案; with the office's and the unit's."""
    replied, _ = assign(world, make_proposal(world, title="关于校园安全的提案"))
    replied = walk_to(world, replied, "replied")
    replies.feedback_record(assignment=replied, actor=world.proposer, attitude="satisfied", result="unsatisfied",
                             comment="学校周边仍然拥堵。")
    drafted, _ = assign(world, make_proposal(world, title="关于校园午餐的提案"))
    drafted = walk_to(world, drafted, "in_progress")
    replies.reply_save_draft(assignment=drafted, actor=world.lead_handler, body="草稿：拟列入计划。", reply_class="C")
    merged = make_proposal(world, title="关于校园周边交通的提案")
    Proposal.objects.filter(pk=merged.pk).update(merged_with=replied.proposal)
    statements = set()
    for user, draft_class in ((world.office, None), (world.lead_office, "C")):
        for params in ({}, {"q": "校园"}, {"state": "in_progress"}, {"unsatisfied": "any", "ordering": "-number"}):
            request = RequestFactory().get("/ledger/", params)
            request.user = user
            qs = filtered_ledger(request).qs
            ids = list(qs.values_list("pk", flat=True))
            assert ids, (user, params)
            plain = qs.all()
            delattr(plain.query, ledger.ROWS_BASE)  # the queryset's own statement, compiled here
            got = [_shown(row) for row in ledger._rows(qs, ids)]
            assert got == [_shown(row) for row in ledger._rows(plain, ids)], (user.username, params)
            shown = {row[0]: row for row in got}
            if drafted.pk in shown:
                assert shown[drafted.pk][16] == draft_class, user.username
            if replied.pk in shown:
                assert shown[replied.pk][17] == "pending" and shown[replied.pk][18] is True
            statement = ledger._row_statement(qs)
            if connection.vendor == "postgresql":
                statements.add(statement)
            else:
                assert statement is None  # SQLite compiles each page's statement (the same _lean)
    if connection.vendor == "postgresql":
        assert len(statements) == 2  # one per set of the viewer's own units, whatever the filters
