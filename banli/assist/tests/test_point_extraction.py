"""Point extraction, checked against counts read by hand in proposals_2019.jsonl (texts stay in ../shared/data)."""
import pytest

from banli.assist.replycheck import extract_points
from banli.assist.tests.helpers import shared_rows

# proposal_number → number of top-level points in its 具体建议 section, counted by reading each proposal.
# Nested lists (（一） holding 1. 2. 3., or 1. holding 一是 二是) count once, as their outer item.
EXPECTED_POINT_COUNTS = {
    "0001": 3,  # （一）（二）（三）, each with nested 1. 2. and （1）①
    "0002": 3,  # 一是 二是 三是
    "0003": 2,  # 1、2、
    "0004": 1,  # one unnumbered paragraph
    "0005": 3,  # 1、2、3、
    "0006": 2,  # （一）（二）, each with 1. 2. 3.
    "0007": 3,  # 一、二、三、
    "0008": 3,  # 具体，一是 二是 三是
    "0009": 4,  # 一、… 四、
    "0010": 3,  # 为此建议：一、二、三、 then a closing wish
    "0012": 4,  # 一是 … 四是, item 二是 holds a nested 一是 二是 三是
    "0013": 4,  # 1、… 4、
    "0016": 6,  # 一是 … 六是
    "0018": 3,  # 1. 2. 3.
    "0021": 3,  # 1. 2. 3.
    "0022": 5,  # （1）… （5）
    "0026": 4,  # 一是 … 四是
    "0027": 4,  # 一是 … 四是
    "0029": 3,  # 1. 2. 3.
    "0031": 3,  # 一、二、三、 with nested 一是 二是
    "0033": 4,  # 1．… 4.
    "0036": 5,  # 一、… 五、
    "0037": 6,  # （一）… （六） with nested 一是…
    "0038": 5,  # （一）… （五）
    "0039": 4,  # 1. … 4. inline, separated by ；
    "0040": 3,  # 一是 二是 三是
    "0042": 6,  # 1. … 6.
    "0045": 4,  # 一是 … 四是
    "0047": 3,  # 一、二、三、 with nested 二是 三是
    "0055": 4,  # 一是 … 四是
    "0060": 4,  # 1. … 4., each with nested 一是 …
    "0062": 4,  # 1. … 4.
    # Read later, where the first extractor found one point or too few: the layouts real drafting produces.
    "0098": 3,  # ……的建议1、2、3、 (the first item runs on from its lead-in)
    "0132": 3,  # ……的建议1、2、3、
    "0142": 3,  # 一是由…… 二是由…… 三是请……
    "0162": 5,  # （－）（二）…（五）, the first typed with a dash
    "0185": 5,  # ……对策和建议1、… 5、
    "0193": 4,  # ……相关建议1、… 4、
    "0222": 4,  # 一，二，三，四， (commas), item 二 holding 1，2，3，4，
    "0233": 6,  # 1、… 6、
    "0299": 3,  # 1，2，3， (commas)
    "0323": 4,  # ……相关建议一是… 四是
    "0392": 8,  # 1; 2；3；4、… 8、, two items after a comma
    "0432": 3,  # 1. 2. 3., the second after a closing parenthesis
    "0464": 3,  # 首先，其次，最后，
}


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
