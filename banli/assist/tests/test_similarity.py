"""The similarity index and topic grouping, on generated proposals. Its speed is measured in `make bench`
(`assist.similar.*`, 100,000 items), not asserted here."""
from banli.assist.benchmarks import generated_proposals
from banli.assist.similarity import SimilarityIndex, group_topics


def _index(rows):
    return SimilarityIndex([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])


def test_the_most_similar_item_is_the_one_on_the_same_subject():
    rows = [
        (1, "关于加快老旧小区加装电梯的建议", "老旧小区居民上下楼困难，建议简化加装电梯审批，给予财政补贴。"),
        (2, "关于治理城市河道黑臭水体的建议", "部分河道污水直排，建议加强截污纳管和生态修复。"),
        (3, "关于增加中小学学位的建议", "城区学校学位紧张，建议扩建学校。"),
    ]
    hits = _index(rows).search("关于推进老旧小区加装电梯的提案", "加装电梯审批慢，补贴少。", limit=2)
    assert hits[0].key == 1
    assert hits[0].score > (hits[1].score if len(hits) > 1 else 0)


def test_search_excludes_the_item_itself_and_handles_an_empty_index():
    rows = list(generated_proposals(50))
    index = _index(rows)
    _, title, body = rows[0]
    assert index.search(title, body, limit=1)[0].key == 1
    assert all(h.key != 1 for h in index.search(title, body, limit=5, exclude={1}))
    assert _index([]).search("标题", "正文") == []


def test_over_two_thousand_items_each_finds_itself_first_and_the_rest_well_below():
    rows = list(generated_proposals(2000))
    index = _index(rows)
    for key, title, body in rows[:20]:
        hits = index.search(title, body, limit=10)
        assert len(hits) == 10 and hits[0].key == key and hits[0].score > 0.99
        assert all(hit.score < 0.5 for hit in hits[1:])
        assert [hit.score for hit in hits] == sorted((hit.score for hit in hits), reverse=True)


def test_topics_group_items_of_one_subject_together():
    elevator = [(i, f"关于老旧小区加装电梯的建议{i}", "老旧小区加装电梯审批补贴") for i in range(1, 7)]
    rivers = [(i, f"关于河道黑臭水体治理的建议{i}", "河道污水截污纳管生态修复") for i in range(7, 13)]
    rows = elevator + rivers
    topics = group_topics([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    groups = [set(t.keys) for t in topics]
    assert {1, 2, 3, 4, 5, 6} in groups and {7, 8, 9, 10, 11, 12} in groups
    assert all(t.label for t in topics)
