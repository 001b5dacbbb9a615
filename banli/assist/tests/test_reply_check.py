"""The reply check: where each point is answered, and the advisory flags."""
from banli.assist import replycheck as rc

PROPOSAL = (
    "近年来学位紧张。具体建议：一、扩建城区小学，增加学位供给。二、新建公办幼儿园，缓解入园难。"
    "三、加强教师队伍建设，补充教师编制。"
)

GOOD_REPLY = """您提出的关于增加学位供给的提案收悉，现答复如下：
一、关于扩建城区小学。我局已于2025年3月完成实验小学扩建，新增学位1200个。
二、关于新建公办幼儿园。区教育局计划2026年6月前建成公办幼儿园3所。
三、关于教师编制。区委编办已核增教师编制80名，2025年9月到岗。
联系人：张敏，联系电话：0755-12345678。"""

EMPTY_TALK = "您的提案收悉。我们高度重视，将认真研究，积极推进相关工作，不断提升服务水平。感谢您的关心和支持。"


def test_a_reply_answering_every_point_concretely_has_no_flags():
    result = rc.check_reply(proposal_body=PROPOSAL, reply_body=GOOD_REPLY, reply_class="A")
    assert result.flags == []
    assert [a.answered for a in result.points] == [True, True, True]
    assert [a.paragraph for a in result.points] == [1, 2, 3]
    assert all(a.concrete for a in result.points)
    assert "时间" in result.points[0].evidence and "数字" in result.points[0].evidence


def test_an_empty_reply_that_answers_nothing_concretely_is_flagged():
    result = rc.check_reply(proposal_body=PROPOSAL, reply_body=EMPTY_TALK, contact_person="张敏", contact_phone="12345678")
    assert rc.FLAG_NO_CONCRETE in result.flags
    assert rc.FLAG_POINTS_UNANSWERED in result.flags
    assert result.answered_count == 0


def test_class_a_with_only_future_tense_is_flagged():
    reply = "关于扩建城区小学，我局将争取2026年启动扩建，计划新增学位1200个。联系人：张敏，电话：0755-12345678"
    result = rc.check_reply(proposal_body=PROPOSAL, reply_body=reply, reply_class="A")
    assert rc.FLAG_CLASS_A_FUTURE in result.flags


def test_class_b_needs_a_plan_with_a_date_and_class_c_needs_a_reason():
    without_plan = "关于扩建城区小学，区教育局高度重视此项工作。"
    with_plan = "关于扩建城区小学，区教育局计划于2026年6月前完成扩建。"
    assert rc.FLAG_CLASS_B_NO_PLAN in rc.check_reply(proposal_body=PROPOSAL, reply_body=without_plan, reply_class="B").flags
    assert rc.FLAG_CLASS_B_NO_PLAN not in rc.check_reply(proposal_body=PROPOSAL, reply_body=with_plan, reply_class="B").flags
    assert rc.FLAG_CLASS_C_NO_REASON in rc.check_reply(proposal_body=PROPOSAL, reply_body=without_plan, reply_class="C").flags
    because = "关于扩建城区小学，由于用地指标受限，暂不具备扩建条件。"
    assert rc.FLAG_CLASS_C_NO_REASON not in rc.check_reply(proposal_body=PROPOSAL, reply_body=because, reply_class="C").flags


def test_missing_contact_person_and_phone_are_flagged_unless_given_in_fields_or_text():
    body = "关于扩建城区小学，我局已于2025年3月完成扩建。"
    flags = rc.check_reply(proposal_body=PROPOSAL, reply_body=body).flags
    assert {rc.FLAG_NO_CONTACT_PERSON, rc.FLAG_NO_CONTACT_PHONE} <= set(flags)
    flags = rc.check_reply(proposal_body=PROPOSAL, reply_body=body, contact_person="张敏", contact_phone="0755-1234567").flags
    assert rc.FLAG_NO_CONTACT_PERSON not in flags and rc.FLAG_NO_CONTACT_PHONE not in flags
    assert rc.FLAG_NO_CONTACT_PHONE not in rc.check_reply(proposal_body=PROPOSAL, reply_body=body + "联系电话：13812345678").flags


def test_an_unanswered_point_is_reported_while_the_others_are_located():
    reply = "一、关于扩建城区小学，已于2025年3月完成，新增学位1200个。\n二、关于公办幼儿园，2026年建成3所。"
    result = rc.check_reply(proposal_body=PROPOSAL, reply_body=reply, contact_person="张敏", contact_phone="12345678")
    assert [a.answered for a in result.points] == [True, True, False]
    assert result.flags == [rc.FLAG_POINTS_UNANSWERED]


def test_an_empty_reply_is_flagged_as_empty():
    assert rc.FLAG_EMPTY in rc.check_reply(proposal_body=PROPOSAL, reply_body="  ").flags


AED = (
    "公共场所急救设备不足。具体建议：一、在地铁站、体育场馆、学校、大型商场等人员密集场所优先配置除颤器，"
    "逐年提高配置密度。二、在地图导航软件中标注设备位置，方便群众就近取用。"
    "三、面向教师、保安、物业人员开展急救培训，提高公众急救能力和设备使用率。"
)


def test_a_paragraph_that_names_the_points_topic_or_carries_its_number_answers_it():
    """Replies answer in their own words: "二、关于培训。" answers the point on 急救培训 though few of its words
    recur, and "一、…配置…" under the point's own number answers point one (vaguely, so not concretely)."""
    reply = ("您提出的关于加强公共场所急救设备配置的提案收悉，现答复如下：\n一、关于增加配置数量。我们将研究加大投入，逐步增加。\n"
             "二、关于培训。今年已组织急救培训120场、3500人次，由区红十字会负责。\n联系人：张敏，电话：0755-12345678")
    result = rc.check_reply(proposal_body=AED, reply_body=reply, reply_class="A")
    first, second, third = result.points
    assert (first.answered, first.paragraph, first.concrete) == (True, 1, False)
    assert not second.answered
    assert (third.answered, third.paragraph, third.concrete) == (True, 2, True)
    assert result.flags == [rc.FLAG_POINTS_UNANSWERED]
    # "关于您提出的建议" names the whole proposal, not a point.
    vague = "关于您提出的建议。我们高度重视。"
    assert not any(a.answered for a in rc.check_reply(proposal_body=AED, reply_body=vague).points)
