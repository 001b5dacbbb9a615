"""Assist test fixtures: models stored in a temporary folder, worlds with a history or trained models."""
import datetime as dt

import pytest
from django.test import override_settings

from banli.assist import store
from banli.assist.classifier import TextClassifier
from banli.assist.routing import RoutingModel
from banli.assist.tests.helpers import UNIT_FOR_CATEGORY, generated_history
from banli.handling import services as handling
from banli.organizations import services as orgs
from banli.proposals import services as proposals
from banli.proposals.choices import Body, Level


@pytest.fixture(autouse=True)
def _assist_models_in_tmp(settings, tmp_path):
    settings.BANLI_ASSIST_DIR = tmp_path / "assist-models"


@pytest.fixture(scope="session")
def trained_models_dir(tmp_path_factory):
    """Category and routing models trained once on the generated history (unit names as in the test world), stored
    as `assist_model_train` stores them (it also logs the training in the database, which a session fixture has not)."""
    path = tmp_path_factory.mktemp("trained-assist")
    with override_settings(BANLI_ASSIST_DIR=path):
        rows = generated_history(per_category=10)
        category = TextClassifier().fit(rows, [r["category"] for r in rows])
        routing = RoutingModel().fit(rows, [r["units"] for r in rows])
        for task, model in (("category", category), ("routing", routing)):
            meta = {"task": task, "version": "20240101000000", "trained_at": "2024-01-01T00:00:00+00:00",
                    "rows": len(rows), "unlabelled": 0, "labels": [], "cv": model.cv_}
            store.save_bundle(task, {"model": model, "meta": meta, "office_units": {}})
    return path


def _past_session(w):
    return proposals.session_create(
        actor=w.office, name="区政协四届四次会议", body=Body.CPPCC, level=Level.DISTRICT, year=2024,
        assigning_office=w.office_unit,
    )


@pytest.fixture
def history_world(world):
    """The named world plus a past session whose generated proposals carry categories and assignments."""
    w = world
    w.env_unit = orgs.unit_create(name="区生态环境局")
    unit_for = {category: orgs_unit for category, orgs_unit in zip(
        UNIT_FOR_CATEGORY, [w.lead_unit, w.other_unit, w.co_unit, w.env_unit])}
    assert {c: u.name for c, u in unit_for.items()} == UNIT_FOR_CATEGORY
    w.past_session = _past_session(w)
    now = dt.datetime(2024, 3, 1, 9, tzinfo=dt.timezone.utc)
    w.history = []
    for i, row in enumerate(generated_history(per_category=4)):
        p = proposals.proposal_create(
            actor=w.office, session=w.past_session, number=f"2024{i + 1:04d}", title=row["title"], body=row["content"],
            category=row["category"], proposers=[w.other_proposer_record],
        )
        handling.assignment_create(proposal=p, unit=unit_for[row["category"]], role="lead", actor=w.office, now=now)
        if row["category"] == "资源环境":
            handling.assignment_create(proposal=p, unit=w.co_unit, role="co", actor=w.office, now=now)
        w.history.append(p)
    return w


@pytest.fixture
def trained_world(world, settings, trained_models_dir):
    """The named world using models trained on the generated history, and one past-session proposal."""
    settings.BANLI_ASSIST_DIR = trained_models_dir
    world.past_session = _past_session(world)
    world.past_proposal = proposals.proposal_create(
        actor=world.office, session=world.past_session, number="20240001", title="关于改善学校课后服务的建议",
        body="具体建议：一、延长课后服务时间。二、增加教师补贴。", category="教育事业", proposers=[world.other_proposer_record],
    )
    return world
