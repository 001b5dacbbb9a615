"""Ship a rule set that reproduces seed 001 (a district's self-evaluation of a city session's proposals).

95 base points when the on-time, reply and satisfaction rates are all 100% (90 otherwise, less deductions);
bonus for caseload, key items led and adopted topic leads; total capped at 100. Offices copy it and adjust.
"""
from decimal import Decimal

from django.db import migrations

TEMPLATE_NAME = "提案办理考核评分细则（示例：按时办结率、答复率、满意率均达100%得基础分95分，加分后总分不超过100分）"

RULES = [
    dict(kind="base", label="基础分（按时办结率、答复率、满意率均达100%）", mode="fixed", points=Decimal("95"),
         conditions=[{"metric": "on_time_rate", "op": ">=", "value": 100},
                     {"metric": "reply_rate", "op": ">=", "value": 100},
                     {"metric": "satisfaction_rate", "op": ">=", "value": 100}]),
    dict(kind="base", label="基础分（未全部达到100%）", mode="fixed", points=Decimal("90"), conditions=[]),
    dict(kind="deduction", label="按时办结率每低于100%一个百分点", metric="on_time_rate", mode="shortfall",
         points=Decimal("0.5"), target=Decimal("100"), max_points=Decimal("10")),
    dict(kind="deduction", label="答复率每低于100%一个百分点", metric="reply_rate", mode="shortfall",
         points=Decimal("0.5"), target=Decimal("100"), max_points=Decimal("10")),
    dict(kind="deduction", label="每份“不满意”测评", metric="unsatisfied", mode="per", points=Decimal("1"),
         max_points=Decimal("10")),
    dict(kind="bonus", label="办理总件数", metric="assigned", mode="tiers",
         tiers=[{"min": 30, "points": 2}, {"min": 15, "points": 1}]),
    dict(kind="bonus", label="主办（承办、分办）重点提案", metric="key_led", mode="per", points=Decimal("2"),
         max_points=Decimal("4")),
    dict(kind="bonus", label="提供提案线索或重点提案选题并被采用", metric="entry", mode="per", points=Decimal("0.5"),
         max_points=Decimal("2"), note="由交办机构录入，附采用通知等佐证"),
]


def forwards(apps, schema_editor):
    RuleSet = apps.get_model("reports", "RuleSet")
    Rule = apps.get_model("reports", "Rule")
    if RuleSet.objects.filter(name=TEMPLATE_NAME, office__isnull=True, session__isnull=True).exists():
        return
    rule_set = RuleSet.objects.create(
        name=TEMPLATE_NAME, cap=Decimal("100"),
        description="依据深圳市龙岗区2024年度市政协提案办理工作自评：三率均达100%得基础分95分；"
                    "办理33件加2分，主办重点提案1件加2分，提案线索被采用2条加1分；总分不超过100分。",
    )
    for position, rule in enumerate(RULES, start=1):
        Rule.objects.create(rule_set=rule_set, position=position, **{"metric": "", **rule})


def backwards(apps, schema_editor):
    RuleSet = apps.get_model("reports", "RuleSet")
    Rule = apps.get_model("reports", "Rule")
    for rule_set in RuleSet.objects.filter(name=TEMPLATE_NAME, office__isnull=True, session__isnull=True):
        Rule.objects.filter(rule_set=rule_set).delete()
        rule_set.delete()


class Migration(migrations.Migration):
    dependencies = [("reports", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
