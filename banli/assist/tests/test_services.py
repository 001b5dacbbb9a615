"""Training from the database, the decision log, the commands and the retraining job."""
import datetime as dt
import json

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from banli.assist import selectors, store
from banli.assist.services import assist_model_train, suggestion_decision_record
from banli.assist.tasks import retrain_if_stale, retrain_models
from banli.assist.tests.helpers import generated_history
from banli.core.errors import DomainError, PermissionDenied
from banli.core.testing import make_proposal, make_user
from banli.handling import services as handling
from banli.organizations import services as orgs
from banli.organizations.choices import Role, UnitKind
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level
from banli.proposals.models import Proposal
from banli.supervision.management.commands.run_scheduler import tick

pytestmark = pytest.mark.django_db


def test_training_from_the_database_stores_both_models_under_the_data_folder(history_world, settings):
    meta = assist_model_train(task="category")
    assert meta["rows"] == len(history_world.history) and len(meta["labels"]) == 4
    routing = assist_model_train(task="routing")
    assert "区生态环境局" in routing["labels"]
    assert store.model_path("category").exists() and str(store.model_path("category")).startswith(str(settings.BANLI_ASSIST_DIR))
    assert store.load_bundle("routing")["model"].suggest({"title": "关于河道污水扬尘治理的建议", "content": ""})[0].unit == "区生态环境局"


def test_training_without_history_is_refused_with_a_readable_message(world):
    with pytest.raises(DomainError, match="至少需要"):
        assist_model_train(task="category")


def test_only_the_assigning_office_may_log_a_decision(trained_world):
    p = make_proposal(trained_world)
    with pytest.raises(PermissionDenied):
        suggestion_decision_record(proposal=p, task="category", suggested=[{"label": "教育事业", "score": 0.9}],
                                   decided={"label": "教育事业"}, actor=trained_world.lead_handler)


def test_routing_decision_is_partly_accepted_when_only_the_lead_matches(trained_world):
    p = make_proposal(trained_world)
    suggested = [{"label": "区教育局", "role": "lead", "score": 0.8}, {"label": "区住房和建设局", "role": "co", "score": 0.6}]
    d = suggestion_decision_record(proposal=p, task="routing", suggested=suggested, decided={"lead": "区教育局", "co": []},
                                   actor=trained_world.office)
    assert (d.outcome, d.top1_hit, d.top3_hit) == ("partly", True, True)


@pytest.fixture
def jsonl(tmp_path):
    rows = generated_history(per_category=10)
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path


def test_assist_train_reads_json_lines_for_both_tasks(jsonl, capsys, db):
    call_command("assist_train", "--task", "category", "--input", str(jsonl))
    assert json.loads(capsys.readouterr().out)["rows"] == 40
    call_command("assist_train", "--task", "routing", "--input", str(jsonl))
    assert "财政局" in json.loads(capsys.readouterr().out)["labels"] or store.load_bundle("routing")


def test_assist_eval_prints_accuracy_macro_f1_top3_per_class_and_latency(jsonl, capsys, db):
    call_command("assist_eval", "--task", "category", "--train", str(jsonl), "--test", str(jsonl))
    result = json.loads(capsys.readouterr().out)
    assert {"accuracy", "macro_f1", "top3_accuracy", "per_class", "ms_per_prediction"} <= set(result)
    assert result["accuracy"] == 1.0
    call_command("assist_eval", "--train", str(jsonl), "--folds", "3")
    assert json.loads(capsys.readouterr().out)["folds"] == 3


def test_commands_report_a_missing_file_or_empty_history(db, tmp_path):
    with pytest.raises(CommandError, match="文件不存在"):
        call_command("assist_train", "--input", str(tmp_path / "none.jsonl"))
    with pytest.raises(CommandError, match="至少需要"):
        call_command("assist_train", "--task", "routing")


def test_the_retraining_job_trains_what_has_data_and_skips_the_rest(history_world):
    done = retrain_models()
    assert set(done) == {"category", "routing"}


def test_the_embedded_scheduler_retrains_missing_or_day_old_models_and_not_every_tick(history_world, settings):

    now = timezone.now()
    first = retrain_if_stale(now=now)
    assert set(first) == {"category", "routing"} and store.load_bundle("category") is not None
    assert retrain_if_stale(now=now + dt.timedelta(hours=23)) == {}  # fresh: nothing to do
    later = now + dt.timedelta(hours=settings.BANLI_ASSIST_RETRAIN_HOURS, minutes=1)
    again = retrain_if_stale(now=later)
    assert set(again) == {"category", "routing"} and again["category"] != first["category"]
    assert "assist_retrain" not in tick(now=later + dt.timedelta(minutes=5))  # the scheduler's tick: still fresh


def test_retraining_without_history_is_not_retried_every_tick(db, settings):

    now = timezone.now()
    first = retrain_if_stale(now=now)
    assert first["category"].startswith("skipped") and first["routing"].startswith("skipped")
    assert retrain_if_stale(now=now + dt.timedelta(minutes=5)) == {}


def test_routing_offers_only_units_the_items_own_office_assigns_to(history_world):
    """One instance, two assigning offices: the city's bureaus are not offered for a district item, and back."""

    w = history_world
    city_office_unit = orgs.unit_create(name="市政府督查室", kind=UnitKind.ASSIGNING_OFFICE)
    city_office = make_user("city_office", "市督查室 钱明", (Role.ASSIGNING_OFFICE, city_office_unit))
    city_env = orgs.unit_create(name="市生态环境局")
    city_session = proposals.session_create(actor=city_office, name="市政协七届四次会议", body=Body.CPPCC,
                                            level=Level.CITY, year=2024, assigning_office=city_office_unit)
    now = dt.datetime(2024, 3, 1, 9, tzinfo=dt.timezone.utc)
    for i, row in enumerate(r for r in generated_history(per_category=6, seed=5) if r["category"] == "资源环境"):
        p = proposals.proposal_create(actor=city_office, session=city_session, number=f"C{i:04d}", title=row["title"],
                                      body=row["content"], category=row["category"], proposers=[w.other_proposer_record])
        handling.assignment_create(proposal=p, unit=city_env, role="lead", actor=city_office, now=now)
    assist_model_train(task="routing")
    text = {"title": "关于治理河道污水和扬尘的建议", "body": "污水直排河道，扬尘严重。"}

    district = proposals.proposal_create(actor=w.office, session=w.session, number="20250100", proposers=[w.proposer_record], **text)
    offered = {s["label"] for s in selectors.routing_suggestions(user=w.office, proposal=district)}
    assert "区生态环境局" in offered and "市生态环境局" not in offered
    city_item = proposals.proposal_create(actor=city_office, session=city_session, number="C0100", proposers=[w.proposer_record], **text)
    leads = [s for s in selectors.routing_suggestions(user=city_office, proposal=city_item) if s["role"] == "lead"]
    assert [s["label"] for s in leads] == ["市生态环境局"]
    # A draft on the register page without a session: the user's own office decides.
    draft = Proposal(**text)
    assert "市生态环境局" not in {s["label"] for s in selectors.routing_suggestions(user=w.office, proposal=draft)}
