"""`make audit` prints the 等保 checklist of issue 17 (items 7 to 15): every row names a module and a test that exist."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _audit():
    spec = importlib.util.spec_from_file_location("banli_audit", ROOT / "scripts" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_checklist_row_names_an_existing_module_and_test(capsys):
    audit = _audit()
    assert audit.checklist_problems() == []
    assert audit.print_checklist() == 0
    out = capsys.readouterr().out
    assert "等保 2.0 三级检查项" in out and out.count(" | ") == 2 * (len(audit.CHECKLIST) + 1)


def test_a_row_pointing_at_a_missing_test_is_reported():
    audit = _audit()
    audit.CHECKLIST = [("x", "banli/core/cells.py:safe_row", "banli/core/tests/test_audit_checklist.py::nothing_here")]
    assert audit.checklist_problems() == ["x: banli/core/tests/test_audit_checklist.py::nothing_here not found"]
