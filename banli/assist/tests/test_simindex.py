"""相似提案 at scale: the index built in bounded memory into files every process maps, kept current by the changes
since it, rebuilt in the background; no request waits for a build on a large instance."""
import datetime as dt
import fcntl
import json

import numpy as np
import pytest
from django.urls import reverse

from banli.assist import simindex
from banli.assist.benchmarks import generated_proposals
from banli.assist.similarity import SimilarityIndex, _chunks
from banli.proposals import services as proposals
from banli.proposals.models import Proposal
from banli.supervision.management.commands.run_scheduler import tick

LIFT = dict(title="关于加快老旧小区加装电梯的建议", body="老旧小区居民上下楼困难，建议简化加装电梯审批，给予财政补贴。")
RIVER = dict(title="关于治理城市河道黑臭水体的建议", body="部分河道污水直排，建议加强截污纳管和生态修复。")
SCHOOL = dict(title="关于增加中小学学位的建议", body="城区学校学位紧张，建议扩建学校，补充教师编制。")
PARKING = dict(title="关于缓解医院周边停车难的建议", body="医院周边停车位不足，车辆排队占道，建议建设立体停车场。")

_numbers = iter(range(1, 10_000))


def _register(w, *, title, body):
    return proposals.proposal_create(actor=w.office, session=w.session, number=f"2031{next(_numbers):04d}", title=title,
                                     body=body, proposers=[w.proposer_record])


def _keys(index, text):
    return [h.key for h in index.search(text["title"], text["body"], limit=5)]


def _score(index, text, key):
    return next((h.score for h in index.search(text["title"], text["body"], limit=5) if h.key == key), 0.0)


def test_the_index_written_to_files_answers_as_the_one_built_in_memory(tmp_path):
    rows = list(generated_proposals(400))
    keys, titles, bodies = [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]
    in_memory = SimilarityIndex(keys, titles, bodies)
    on_disk = SimilarityIndex.build(_chunks(keys, titles, bodies, size=70), tmp_path / "base")  # several chunks
    assert isinstance(on_disk.rows, np.memmap) and isinstance(on_disk.data, np.memmap)  # mapped, not loaded
    assert on_disk.meta["items"] == 400 and len(on_disk.rows) == len(in_memory.rows)
    for _, title, body in rows[:40]:
        assert on_disk.search(title, body, limit=8) == in_memory.search(title, body, limit=8)
    # A second index on the first one's terms scores on the same scale: the same item gets the same score.
    again = SimilarityIndex(keys[:5], titles[:5], bodies[:5], vocabulary=on_disk.vocabulary)
    first = again.search(titles[0], bodies[0], limit=1)[0]
    assert first.key == keys[0] and first.score == on_disk.search(titles[0], bodies[0], limit=1, exclude=set())[0].score


@pytest.mark.django_db
def test_the_first_search_builds_the_base_and_later_registrations_and_edits_are_found(world, settings):
    lift, river = _register(world, **LIFT), _register(world, **RIVER)
    index = simindex.live_index()
    assert _score(index, RIVER, river.pk) > 0.99
    current = json.loads((settings.BANLI_ASSIST_DIR / "similar" / "current.json").read_text())
    assert current["items"] == Proposal.objects.count() and index.base is not None and index.delta is None
    assert _keys(index, LIFT)[0] == lift.pk

    school = _register(world, **SCHOOL)  # after the base: found among the changes since it
    index = simindex.live_index()
    assert index.delta is not None and _keys(index, SCHOOL)[0] == school.pk
    # An edited item is found by its new text only: its row in the base is hidden.
    proposals.proposal_update(actor=world.office, proposal=river, **PARKING)
    index = simindex.live_index()
    assert _keys(index, PARKING)[0] == river.pk
    assert _score(index, RIVER, river.pk) < 0.5  # 1.0 on its old text; now only words like 关于…的建议 are shared
    assert json.loads((settings.BANLI_ASSIST_DIR / "similar" / "current.json").read_text()) == current  # no rebuild


@pytest.mark.django_db
def test_a_large_instance_answers_at_once_while_its_first_index_is_built_in_the_background(client, world, settings, monkeypatch):
    settings.BANLI_SIMILAR_INLINE_MAX = 1
    item, _ = _register(world, **LIFT), _register(world, **RIVER)
    started = []
    monkeypatch.setattr(simindex, "enqueue_build", lambda: started.append(1) or "thread")
    client.force_login(world.office)
    html = client.get(reverse("assist:similar", args=[item.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "相似提案索引正在建立" in html and "没有找到相似的提案" not in html
    assert started and not (settings.BANLI_ASSIST_DIR / "similar" / "current.json").exists()

    monkeypatch.undo()
    assert simindex.rebuild_if_stale()["items"] == 2  # what the background job does
    html = client.get(reverse("assist:similar", args=[item.pk]), HTTP_HX_REQUEST="true").content.decode()
    assert "正在建立" not in html


@pytest.mark.django_db
def test_many_changes_start_a_rebuild_and_beyond_the_cap_the_page_says_what_is_left_out(world, settings, monkeypatch):
    _register(world, **LIFT)
    simindex.live_index()
    settings.BANLI_SIMILAR_DELTA_MAX = 0
    settings.BANLI_SIMILAR_DELTA_CAP = 0
    started = []
    monkeypatch.setattr(simindex, "enqueue_build", lambda: started.append(1) or "thread")
    school = _register(world, **SCHOOL)
    index = simindex.live_index()
    assert started and "1 件提案正在加入相似提案索引" in index.note
    assert school.pk not in _keys(index, SCHOOL)
    monkeypatch.undo()
    simindex.build_index()
    index = simindex.live_index()
    assert _keys(index, SCHOOL)[0] == school.pk and index.note == ""


@pytest.mark.django_db
def test_the_scheduler_rebuilds_only_a_missing_or_stale_index(world, settings):
    assert simindex.rebuild_if_stale() is None  # no proposals: nothing to index
    _register(world, **LIFT)
    assert tick()["similar_index"]["items"] == 1  # missing: built (inline in tests, a thread in production)
    assert simindex.rebuild_if_stale() is None  # nothing changed
    _register(world, **RIVER)
    assert simindex.rebuild_if_stale() is None  # one change: served from the changes since
    assert simindex.rebuild_if_stale(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1))["items"] == 2
    settings.BANLI_SIMILAR_DELTA_MAX = 0
    _register(world, **SCHOOL)
    assert simindex.rebuild_if_stale()["items"] == 3  # more changes than DELTA_MAX


@pytest.mark.django_db
def test_one_build_at_a_time(world, settings):
    _register(world, **LIFT)
    folder = settings.BANLI_ASSIST_DIR / "similar"
    folder.mkdir(parents=True)
    with open(folder / "build.lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert simindex.build_index() == {"skipped": "另一个相似提案索引正在建立"}
    assert simindex.build_index()["items"] == 1


@pytest.mark.django_db
def test_editing_a_proposal_moves_its_updated_at(world):
    item = _register(world, **LIFT)
    before = Proposal.objects.get(pk=item.pk).updated_at
    proposals.proposal_update(actor=world.office, proposal=item, title="关于老旧小区加装电梯财政补贴的建议")
    assert Proposal.objects.get(pk=item.pk).updated_at > before
