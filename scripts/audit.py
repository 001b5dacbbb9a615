"""`make audit`: known vulnerabilities in the installed dependencies (pip-audit) and a static security linter
over the code (bandit, medium and high findings fail).

pip-audit needs an advisory source (OSV's API or PyPI's JSON API). When neither answers, this says so plainly
and exits non-zero only with BANLI_AUDIT_STRICT=1: an unreachable source is never reported as a clean result.
"""
from __future__ import annotations

import json
import os
import subprocess  # nosec B404: fixed argument lists, no shell
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
SOURCES = ("osv", "pypi")
TIMEOUT = int(os.environ.get("BANLI_AUDIT_TIMEOUT", "20"))


def pip_audit(source: str) -> tuple[str, list[str]]:
    """("clean" | "vulnerable" | "unreachable", lines to print) for one advisory source."""
    cmd = [str(BIN / "pip-audit"), "-s", source, "-f", "json", "--progress-spinner", "off", "--skip-editable",
           "--timeout", str(TIMEOUT)]
    try:
        run = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT * 20, check=False)  # nosec B603
    except subprocess.TimeoutExpired:
        return "unreachable", [f"{source}: no answer within {TIMEOUT * 20} s"]
    try:
        report = json.loads(run.stdout or "{}")
    except json.JSONDecodeError:
        report = {}
    deps = report.get("dependencies") or []
    if not deps:
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        return "unreachable", [f"{source}: {last[:300]}"]
    audited = [d for d in deps if "skip_reason" not in d]
    if not audited:
        return "unreachable", [f"{source}: none of {len(deps)} packages could be looked up ({deps[0]['skip_reason']})"]
    found = [f"  {d['name']} {d['version']}: {v['id']} (fixed in {', '.join(v.get('fix_versions') or ['-'])})"
             for d in audited for v in d.get("vulns", [])]
    skipped = [f"  not audited: {d['name']} {d['version']}: {d['skip_reason']}" for d in deps if "skip_reason" in d]
    if found:
        return "vulnerable", [f"{source}: known vulnerabilities / 已知漏洞:", *found, *skipped]
    return "clean", [f"{source}: {len(audited)} packages audited, no known vulnerability / 未发现已知漏洞", *skipped]


def main() -> int:
    status = 0
    outcome, lines = "unreachable", []
    for source in SOURCES:
        outcome, more = pip_audit(source)
        lines += more
        if outcome != "unreachable":
            break
    print("== pip-audit (dependencies / 依赖漏洞)")
    print("\n".join(lines))
    if outcome == "vulnerable":
        status = 1
    elif outcome == "unreachable":
        print("\n依赖漏洞检查未完成：无法连接任何漏洞数据源（OSV、PyPI）。这不是“没有漏洞”的结论。\n"
              "Dependency vulnerability check NOT DONE: no advisory source (OSV, PyPI) could be reached.\n"
              "This is not a clean result. Run `make audit` where one of them is reachable; see README (make audit).\n")
        if os.environ.get("BANLI_AUDIT_STRICT") == "1":
            status = 2
    print("== bandit (code / 代码安全扫描, medium and high fail)")
    bandit = subprocess.run([str(BIN / "bandit"), "-q", "-c", "pyproject.toml", "-r", "banli", "-ll"],  # nosec B603
                            check=False)
    if bandit.returncode != 0:
        status = status or bandit.returncode
    else:
        print("bandit: no medium or high finding / 未发现中、高风险问题")
    return status


if __name__ == "__main__":
    sys.exit(main())
