"""Issue 17.9: a date in the number column (typed as text or a date cell) is refused with a message naming the cell,
never turned into a proposal number."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from banli.exchange import services
from banli.exchange.tests.conftest import LIST_ROWS, xlsx_bytes
from banli.proposals.models import Proposal

pytestmark = pytest.mark.django_db


def _rows(number):
    first = list(LIST_ROWS[0])
    first[1] = number
    return [first, LIST_ROWS[1]]


@pytest.mark.parametrize("number", ["2026年1月5日", "2026-01-05", "2026/1/5", "２０２６年１月５日", "2026.1.5",
                                    dt.datetime(2026, 1, 5)])
def test_a_date_in_the_number_column_is_refused_naming_the_cell(world, number):
    plan, _counts = services.import_list(actor=world.office, session=world.session, filename="清单.xlsx",
                                         data=xlsx_bytes(_rows(number)), dry_run=True)
    assert any(e.startswith("第2行第B列（编号）") and "是日期，不是编号" in e for e in plan.errors), plan.errors
    assert not plan.ok
    assert Proposal.objects.count() == 0


def test_a_csv_with_a_date_as_number_is_refused_by_the_command(world, tmp_path, capsys):
    path = tmp_path / "清单.csv"
    path.write_text("编号,案由,提案人,主办单位\n2026年1月5日,关于公交线路的提案,李委员,区教育局\n", encoding="utf-8")
    with pytest.raises(CommandError, match="未导入任何数据"):
        call_command("import_assignments", str(path), "--session", str(world.session.pk), "--actor", "office", "--apply")
    assert "「2026年1月5日」是日期，不是编号" in capsys.readouterr().out
    assert Proposal.objects.count() == 0


def test_compact_digits_stay_a_number(world):
    plan, _counts = services.import_list(actor=world.office, session=world.session, filename="清单.xlsx",
                                         data=xlsx_bytes(_rows("20260105")), dry_run=True)
    assert plan.errors == [] and plan.ok
