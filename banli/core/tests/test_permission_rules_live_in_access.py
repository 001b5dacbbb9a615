"""Permission rules live only in banli/core/access.py (issue 15, part 4).

The scan reads the source of every non-test module under banli/ with `ast` and fails on a module that decides
who may do what from role names instead of asking access.py:
- a role member (`Role.ADMIN`, …) anywhere, except as the `actor_role=` recorded on an event row;
- a role key string (`"admin"`, …) compared with something named *role*, or passed as a `*role*=` keyword
  (a queryset filter such as `grants__role="leader"`);
- a call of the low-level grant readers (`has_role`, `roles_of`, `grants`, `acting_role`, `scope_unit`) or
  the `UNIT_ROLES` set;
- "is the user the office / staff of this unit" re-derived: `x.is_within(u) for u in office_scopes(...)`;
- a branch on `is_superuser`.
The allow list below names the few places that merely define, create or display grants.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from banli.organizations.choices import Role

ROOT = Path(__file__).resolve().parents[2]  # the banli package
ROLE_MEMBERS = set(Role.names)
ROLE_KEYS = set(Role.values)
GRANT_READERS = {"has_role", "roles_of", "grants", "acting_role", "scope_unit", "UNIT_ROLES"}
SCOPES = {"office_scopes", "unit_scopes"}

# module (relative to banli/) -> top-level names allowed to mention roles ("*": the whole module), and why.
ALLOWED: dict[str, tuple[set[str] | str, str]] = {
    "core/access.py": ("*", "the one place for permission rules"),
    "organizations/choices.py": ("*", "defines the roles, their keys and labels"),
    "organizations/models.py": ("*", "the grant model and its constraint"),
    "organizations/services.py": ({"user_create", "role_grant"}, "creates users and grants"),
    "organizations/admin.py": ("*", "the user management forms display and edit grants"),
    "demo/builder.py": ("*", "demo builder: creates accounts and walks items through their steps"),
    "demo/scale.py": ("*", "demo builder at scale: creates accounts and synthetic event rows"),
    "core/testing.py": ("*", "the test world builder: creates one account per role"),
    "workbench/benchmarks.py": ("*", "benchmark data builder: creates grants"),
    "ops/benchmarks.py": ({"_import_world"}, "benchmark data builder: creates an office account"),
    "ops/loadtest.py": ({"prepare"}, "load-test builder: picks demo accounts of each role to sign in as"),
    "workbench/menu.py": ("*", "display: the menu each active role shows (what a role may open is in access)"),
    "workbench/roles.py": ("*", "display: which of his grants the user works in (menu and workbench)"),
    "workbench/selectors.py": ({"WORKBENCHES", "HOME_TEMPLATES"}, "display: the home page of each active role"),
    "handling/workflow.py": ("*", "the transition table names who may take each step (issue 15 part 1 makes it "
                                  "the one action registry)"),
}


def _parents(tree: ast.AST) -> dict:
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[child] = node
    return parents


def _top_level_name(node, parents) -> str:
    """The name of the module-level function, class or assignment that holds `node`."""
    top = node
    while parents.get(top) is not None and not isinstance(parents[top], ast.Module):
        top = parents[top]
    if isinstance(top, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return top.name
    if isinstance(top, (ast.Assign, ast.AnnAssign)):
        targets = top.targets if isinstance(top, ast.Assign) else [top.target]
        return ",".join(t.id for t in targets if isinstance(t, ast.Name))
    return ""


def _ancestors(node, parents):
    while node in parents:
        node = parents[node]
        yield node


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _in_actor_role(node, parents) -> bool:
    return any(isinstance(a, ast.keyword) and a.arg == "actor_role" for a in _ancestors(node, parents))


def _is_role_member(node) -> bool:
    if not (isinstance(node, ast.Attribute) and node.attr in ROLE_MEMBERS):
        return False
    value = node.value
    return (isinstance(value, ast.Name) and value.id == "Role") or (
        isinstance(value, ast.Attribute) and value.attr == "Role")


def _role_key_use(node, parents) -> bool:
    """A role key string compared with something named *role*, or passed as a *role* keyword."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in ROLE_KEYS):
        return False
    for ancestor in _ancestors(node, parents):
        if isinstance(ancestor, ast.keyword):
            return bool(ancestor.arg) and "role" in ancestor.arg and ancestor.arg != "actor_role"
        if isinstance(ancestor, ast.Compare):
            return "role" in ast.unparse(ancestor).replace(repr(node.value), "")
        if isinstance(ancestor, (ast.stmt, ast.Call)):
            return False
    return False


def findings(source: str, filename: str = "<module>") -> list[tuple[int, str, str]]:
    """(line, top-level name, what) for every place in `source` that decides by role names."""
    tree = ast.parse(source, filename)
    parents = _parents(tree)
    found = []

    def note(node, what):
        found.append((node.lineno, _top_level_name(node, parents), what))

    for node in ast.walk(tree):
        if _is_role_member(node) and not _in_actor_role(node, parents):
            note(node, f"Role.{node.attr}")
        elif _role_key_use(node, parents):
            note(node, f"role key {node.value!r}")
        elif isinstance(node, ast.Call) and _called_name(node) in GRANT_READERS:
            note(node, f"{_called_name(node)}()")
        elif isinstance(node, ast.Name) and node.id == "UNIT_ROLES":
            note(node, "UNIT_ROLES")
        elif isinstance(node, ast.Attribute) and node.attr == "is_superuser":
            note(node, "is_superuser")
        elif isinstance(node, (ast.GeneratorExp, ast.ListComp, ast.SetComp)):
            iters = [g.iter for g in node.generators]
            scoped = any(isinstance(i, ast.Call) and _called_name(i) in SCOPES for i in iters)
            within = any(isinstance(n, ast.Call) and _called_name(n) == "is_within" for n in ast.walk(node.elt))
            if scoped and within:
                note(node, "membership re-derived from office_scopes/unit_scopes")
    return found


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        parts = rel.split("/")
        if "tests" in parts or "migrations" in parts or parts[-1].startswith("test_"):
            continue
        yield rel, path


def test_no_module_outside_access_decides_by_role_names():
    offenders = []
    for rel, path in _modules():
        allowed, _ = ALLOWED.get(rel, (set(), ""))
        if allowed == "*":
            continue
        for line, name, what in findings(path.read_text(encoding="utf-8"), rel):
            if name not in allowed:
                offenders.append(f"banli/{rel}:{line} ({name or 'module'}): {what}")
    assert not offenders, "Permission rules belong in banli/core/access.py:\n" + "\n".join(offenders)


def test_the_allow_list_names_existing_modules_and_names():
    # A stale entry would silently allow a new module or function of the same name later.
    for rel, (allowed, why) in ALLOWED.items():
        path = ROOT / rel
        assert path.exists(), rel
        assert why
        if allowed != "*":
            tree = ast.parse(path.read_text(encoding="utf-8"))
            parents = _parents(tree)  # once per module (it was rebuilt for every statement: quadratic)
            names = {_top_level_name(n, parents) for n in ast.walk(tree) if isinstance(n, ast.stmt)}
            assert allowed <= names, (rel, allowed - names)


@pytest.mark.parametrize("snippet", [
    "def f(user):\n    return access.has_role(user, Role.ADMIN)\n",
    "def f(g):\n    return g.role == Role.ASSIGNING_OFFICE\n",
    "def f(g):\n    if g.role in ('unit_office', 'leader'):\n        return 1\n",
    "def f(User):\n    return User.objects.filter(grants__role='handler')\n",
    "def f(user):\n    return 'admin' in roles_of(user)\n",
    "def f(user, office):\n    return any(office.is_within(u) for u in access.office_scopes(user))\n",
    "def f(user):\n    return [g for g in access.grants(user)]\n",
    "def f(user):\n    return user.is_superuser\n",
    "def f(user):\n    return bool(access.roles_of(user) & {Role.ASSIGNING_OFFICE, *UNIT_ROLES})\n",
])
def test_the_scan_catches_a_role_decision(snippet):
    assert findings(snippet)


@pytest.mark.parametrize("snippet", [
    "def f(actor, a):\n    write_event(verb='urge', actor=actor, actor_role=Role.ASSIGNING_OFFICE if actor else '', assignment=a)\n",
    "def f(unit):\n    return unit.kind == UnitKind.ASSIGNING_OFFICE\n",
    "def f(qs):\n    return qs.select_related('handler', 'proposer')\n",
    "def f(user, proposal):\n    return access.can_decide_handling(user, proposal)\n",
])
def test_the_scan_leaves_alone_what_decides_nothing_by_role(snippet):
    assert not findings(snippet)
