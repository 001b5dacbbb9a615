"""The event log is append-only and hash-chained; verify_events names the first tampered row."""
import io
import json
import threading

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from banli.core import eventlog
from banli.core.eventlog import write_event
from banli.core.testing import PASSWORD, assign, build_world, make_proposal, walk_to
from banli.handling.models import Event

pytestmark = pytest.mark.django_db


def _verify():
    out = io.StringIO()
    try:
        call_command("verify_events", stdout=out)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, json.loads(out.getvalue())


def _tamper(sql, params):
    """What a person with database access could do: bypass the trigger and change a row."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")  # a superuser silencing triggers
            cursor.execute(sql, params)
            cursor.execute("SET session_replication_role = origin")
        else:
            cursor.execute("DROP TRIGGER handling_event_no_update")
            cursor.execute(sql, params)
            cursor.execute(
                "CREATE TRIGGER handling_event_no_update BEFORE UPDATE ON handling_event "
                "BEGIN SELECT RAISE(ABORT, 'handling_event is append-only: UPDATE refused'); END;"
            )


def test_each_proposal_has_its_own_chain_and_the_log_verifies(world):
    lead, _ = assign(world, make_proposal(world))
    walk_to(world, lead, "replied")
    rows = list(Event.objects.filter(stream=f"proposal:{lead.proposal_id}").order_by("id"))
    assert rows[0].prev_hash == eventlog.GENESIS
    assert all(later.prev_hash == earlier.hash for earlier, later in zip(rows, rows[1:]))
    code, report = _verify()
    assert code == 0 and report["ok"] and report["checked"] == Event.objects.count()


def test_the_application_cannot_change_or_delete_an_event(world):
    lead, _ = assign(world, make_proposal(world))
    event = Event.objects.filter(assignment=lead).first()
    event.reason = "改写"
    with pytest.raises(RuntimeError, match="只能追加"):
        event.save()
    with pytest.raises(RuntimeError, match="只能追加"):
        event.delete()


def test_the_database_refuses_an_update_of_an_event_row(world):
    lead, _ = assign(world, make_proposal(world))
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic():
            Event.objects.filter(assignment=lead).update(reason="改写")


def test_tampering_with_one_row_makes_verify_events_name_it(world):
    lead, _ = assign(world, make_proposal(world))
    walk_to(world, lead, "in_progress")
    target = Event.objects.filter(assignment=lead, verb="sign").get()
    _tamper("UPDATE handling_event SET reason = %s WHERE id = %s", ["伪造的理由", target.pk])
    code, report = _verify()
    assert code == 1 and not report["ok"]
    assert report["event_id"] == target.pk and report["stream"] == f"proposal:{lead.proposal_id}"
    assert "被修改" in report["problem"]


def test_removing_a_row_breaks_the_chain_at_the_next_row(world):
    lead, _ = assign(world, make_proposal(world))
    walk_to(world, lead, "in_progress")
    rows = list(Event.objects.filter(assignment=lead).order_by("id"))
    if connection.vendor == "postgresql":
        _tamper("DELETE FROM handling_event WHERE id = %s", [rows[1].pk])
    else:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM handling_event WHERE id = %s", [rows[1].pk])
    code, report = _verify()
    assert code == 1 and report["event_id"] == rows[2].pk and "断开" in report["problem"]


def test_security_events_have_their_own_chain_with_the_client_address(world, client):
    client.post("/login/", {"username": "edu_office", "password": "wrong"}, REMOTE_ADDR="10.1.2.3")
    client.post("/login/", {"username": "edu_office", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    rows = list(Event.objects.filter(stream="security").order_by("id").values_list("verb", "client_ip"))
    assert ("security.login_failed", "10.1.2.3") in rows
    assert ("security.login", "10.1.2.3") in rows
    assert _verify()[0] == 0


@pytest.mark.django_db(transaction=True)
def test_writers_racing_on_one_stream_never_fork_the_chain():
    world = build_world()
    proposal = make_proposal(world)
    barrier = threading.Barrier(4)

    def writer(n):
        try:
            barrier.wait()
            for i in range(5):
                with transaction.atomic():
                    write_event(verb="note", proposal=proposal, payload={"writer": n, "i": i})
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert Event.objects.filter(proposal=proposal, verb="note").count() == 20
    checked, broken = eventlog.verify(stream=f"proposal:{proposal.pk}")
    assert broken is None and checked == 21  # the registration plus twenty notes
