"""`make audit`: known vulnerabilities in the installed dependencies (pip-audit), a static security linter
over the code (bandit, medium and high findings fail), and the 等保 2.0 (GB/T 22239-2019) level-3 checklist of
issue 17 as a table: each item, where it is enforced, the test that checks it. A row whose module or test no
longer exists fails the audit, so the table cannot silently go stale.

pip-audit needs an advisory source (OSV's API or PyPI's JSON API). When neither answers, this says so plainly
and exits non-zero only with BANLI_AUDIT_STRICT=1: an unreachable source is never reported as a clean result.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess  # nosec B404: fixed argument lists, no shell
import sys
from pathlib import Path

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parent.parent

# (item, where it is enforced: module[:name], the test: path::function)
CHECKLIST = [
    ("导出文件防公式注入（= + - @ 制表符 回车开头的单元格按文本写出）", "banli/core/cells.py:safe_row",
     "banli/exchange/tests/test_formula_injection.py::test_the_ledger_xlsx_and_csv_write_formula_texts_as_text"),
    ("导出文件防公式注入（统计看板、自评表）", "banli/core/cells.py:safe_row",
     "banli/reports/tests/test_formula_injection.py::test_the_self_evaluation_workbook_writes_formula_texts_as_text"),
    ("拒绝含 DTD/实体声明（XXE、billion laughs）的 .xlsx", "banli/exchange/files.py:refuse_dtd",
     "banli/exchange/tests/test_xml_entities.py::test_the_import_page_refuses_the_file_with_a_message"),
    ("导入时编号列中的日期被拒绝", "banli/exchange/importer.py:looks_like_date",
     "banli/exchange/tests/test_import_dates.py::test_a_date_in_the_number_column_is_refused_naming_the_cell"),
    ("登录失败锁定按账号、按地址+账号（不按地址整体锁定）", "banli/settings.py:AXES_LOCKOUT_PARAMETERS",
     "banli/workbench/tests/test_lockout.py::test_wrong_passwords_lock_the_account_not_the_address"),
    ("锁定记入安全日志", "banli/core/security.py:_on_lockout",
     "banli/workbench/tests/test_lockout.py::test_a_lockout_is_a_security_event_with_the_account_and_the_client_address"),
    ("客户端地址只信任配置的代理（BANLI_TRUSTED_PROXIES）", "banli/core/context.py:request_ip",
     "banli/workbench/tests/test_lockout.py::test_the_forwarded_address_is_believed_only_from_a_trusted_proxy"),
    ("接口令牌只存摘要", "banli/api/models.py:token_digest",
     "banli/api/tests/test_tokens.py::test_the_token_is_returned_once_and_only_its_hash_is_stored"),
    ("接口令牌有到期日", "banli/api/auth.py:BearerTokenAuthentication", "banli/api/tests/test_tokens.py::test_a_token_expires"),
    ("只读令牌不能写", "banli/core/access.py:token_allows",
     "banli/api/tests/test_tokens.py::test_a_read_only_token_reads_but_never_writes"),
    ("用户本人查看、撤销令牌", "banli/api/pages.py:tokens",
     "banli/api/tests/test_tokens.py::test_the_user_lists_and_revokes_his_own_tokens_only"),
    ("令牌使用记入安全日志", "banli/api/services.py:api_token_used",
     "banli/api/tests/test_tokens.py::test_each_use_is_logged_with_the_address_once_an_hour"),
    ("非演示模式缺少密钥拒绝启动（报出变量名）", "banli/settings.py:_keys",
     "banli/core/tests/test_production_keys.py::test_outside_demo_mode_each_missing_key_stops_the_start_naming_it"),
    ("生产环境默认要求交办机构和管理员双因素登录", "banli/settings.py:BANLI_REQUIRE_2FA",
     "banli/core/tests/test_production_keys.py::test_with_its_own_keys_production_starts_with_two_factor_login_required"),
    ("备份加密（age）、文件 0600", "banli/core/backup.py:create",
     "banli/core/tests/test_backup_encryption.py::test_every_file_is_encrypted_and_private"),
    ("备份恢复需匹配的私钥", "banli/core/backup.py:restore",
     "banli/core/tests/test_backup_encryption.py::test_restoring_needs_the_matching_private_key"),
    ("事件日志哈希链使用库外密钥（HMAC）", "banli/core/eventlog.py:digest",
     "banli/handling/tests/test_event_keys.py::test_a_row_rewritten_with_the_chain_recomputed_without_the_key_is_found"),
    ("事件日志每日锚点，verify_events 核对", "banli/core/eventlog.py:verify_anchors",
     "banli/handling/tests/test_event_keys.py::test_the_anchor_finds_a_cut_off_chain_end_that_the_chain_cannot"),
    ("启用密钥前的旧记录仍可校验", "banli/handling/migrations/0007_event_keyed_chain.py:mark_legacy_rows",
     "banli/handling/tests/test_event_keys.py::test_rows_from_before_the_key_still_verify_and_no_plain_row_is_accepted_after_it"),
    ("接口文档需登录", "banli/core/access.py:may_read_api_docs",
     "banli/api/tests/test_docs_access.py::test_anonymous_visitors_get_no_api_description"),
    ("Swagger 页面 CSP 只允许本站", "banli/workbench/middleware.py:CONTENT_SECURITY_POLICY",
     "banli/api/tests/test_docs_access.py::test_the_swagger_page_allows_only_its_own_files"),
]


def _defines(path: Path, name: str) -> bool:
    """Whether the module defines `name` at top level (function, class or assignment)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name == name:
            return True
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        if any(isinstance(t, ast.Name) and t.id == name for t in targets):
            return True
    return False


def checklist_problems() -> list[str]:
    """Rows of CHECKLIST whose module, name or test does not exist."""
    problems = []
    for item, where, test in CHECKLIST:
        module, _, name = where.partition(":")
        if not (ROOT / module).exists() or (name and not _defines(ROOT / module, name)):
            problems.append(f"{item}: {where} not found")
        path, _, function = test.partition("::")
        if not (ROOT / path).exists() or not _defines(ROOT / path, function):
            problems.append(f"{item}: {test} not found")
    return problems


def print_checklist() -> int:
    print("== 等保 2.0 三级检查项 / level-3 checklist (issue 17)")
    width = max(len(item) for item, _, _ in CHECKLIST)
    print(f"{'检查项':<{width}} | 实施位置 (module) | 测试 (test)")
    for item, where, test in CHECKLIST:
        print(f"{item:<{width}} | {where} | {test}")
    problems = checklist_problems()
    for problem in problems:
        print(f"MISSING: {problem}")
    return 1 if problems else 0
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
    status = print_checklist() or status
    return status


if __name__ == "__main__":
    sys.exit(main())
