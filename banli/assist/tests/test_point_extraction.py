"""Point extraction, checked against counts read by hand in proposals_2019.jsonl (texts stay in ../shared/data)."""
import pytest

from banli.assist.benchmarks import EXPECTED_POINT_COUNTS
from banli.assist.replycheck import extract_points
from banli.assist.tests.helpers import shared_rows


@pytest.fixture(scope="module")
def proposals_2019():
    rows = {r["proposal_number"]: r for r in shared_rows("proposals_2019.jsonl")}
    if not rows:
        pytest.skip("../shared/data/proposals_2019.jsonl is not available")
    return rows


@pytest.mark.parametrize("number", sorted(EXPECTED_POINT_COUNTS))
def test_point_count_matches_the_count_read_by_hand(proposals_2019, number):
    points = extract_points(proposals_2019[number]["content"])
    assert len(points) == EXPECTED_POINT_COUNTS[number]


def test_points_are_numbered_in_order_and_start_at_their_marker(proposals_2019):
    points = extract_points(proposals_2019["0012"]["content"])
    assert [p.number for p in points] == [1, 2, 3, 4]
    assert [p.heading[:2] for p in points] == ["一是", "二是", "三是", "四是"]


def test_a_nested_list_does_not_take_the_outer_lists_numbers():
    body = "具体建议：一是加强立法。二是加大投入。一是财政资金。二是税收政策。三是融资政策。三是完善分配。四是强化监管。"
    points = extract_points(body)
    assert [p.heading for p in points] == ["一是加强立法", "二是加大投入", "三是完善分配", "四是强化监管"]


def test_each_marker_family_is_recognised():
    for body, count in [
        ("具体建议：一、建设场馆。二、培养人才。三、加强宣传。", 3),
        ("具体建议：（一）建设场馆。（二）培养人才。", 2),
        ("建议如下：1.建设场馆；2.培养人才；3.加强宣传；4.增加投入。", 4),
        ("具体建议：第一，建设场馆。第二，培养人才。", 2),
        ("具体建议：①建设场馆②培养人才", 2),
        ("具体建议：首先，建设场馆。其次，培养人才。最后，加强宣传。", 3),
        ("具体建议：一方面加快建设场馆，另一方面培养人才。", 2),
        ("为此提出如下建议1、建设场馆。2、培养人才。", 2),
        ("相关建议一是建设场馆。二是培养人才。", 2),
        ("具体建议：一，建设场馆。二，培养人才。", 2),
        ("具体建议：（－）建设场馆。（二）培养人才。（三）加强宣传。", 3),
        ("具体建议：1;建设场馆；2；培养人才，3、加强宣传。", 3),
        ("具体建议：建议加快建设体育场馆。", 1),
    ]:
        assert len(extract_points(body)) == count, body


def test_decimal_numbers_are_not_taken_for_points():
    assert len(extract_points("具体建议：投入1.5亿元建设场馆，覆盖率达到2.3%。")) == 1
    # Words that merely contain 一是 or 最后 do not start points.
    assert len(extract_points("具体建议：统一是前提，唯一是目标。打通最后一公里。")) == 1
