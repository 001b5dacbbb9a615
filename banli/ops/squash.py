"""The squashed migrations' boundary: a database is either new or has every replaced migration applied.

The migrations of each app up to December 2026 were squashed (`<app>/migrations/1001_squashed.py` and the ones after
it): a new database is created from the models' final state, and a database that ran every replaced migration takes
the squashed ones as applied. The squashed migrations do not repeat the old steps one by one, so a database that
stopped between two old migrations (an instance not upgraded for a while) cannot continue from there with them: `migrate`
refuses to start, before it changes anything, and says what to do (upgrade to the last release before the squash
first, then to this one). Connected to `pre_migrate` in banli.ops.apps.
"""
from __future__ import annotations

from django.core.management.base import CommandError
from django.db import connections
from django.db.migrations.loader import MigrationLoader

_checked: set[str] = set()


def replaced_migrations(loader: MigrationLoader) -> set[tuple[str, str]]:
    """Every (app, name) that one of Banli's squashed migrations replaces."""
    return {key for migration in loader.replacements.values() for key in migration.replaces
            if type(migration).__module__.startswith("banli.")}


def check_not_between(using: str = "default") -> None:
    """Raise CommandError if some, but not all, of the replaced migrations are recorded as applied."""
    loader = MigrationLoader(connections[using], ignore_no_migrations=True)
    replaced = replaced_migrations(loader)
    applied = replaced & set(loader.applied_migrations)
    if applied and applied != replaced:
        missing = sorted(f"{app}.{name}" for app, name in replaced - applied)
        raise CommandError(
            "数据库停在旧版本的两次迁移之间（缺少 " + "、".join(missing[:5]) + (" 等" if len(missing) > 5 else "")
            + f"，共 {len(missing)} 项），本版本的合并迁移无法从这里继续。请先安装 2026 年 12 月合并迁移之前的最后一个版本，"
            "执行 manage.py migrate 把数据库升级到该版本，再安装本版本并执行 migrate。数据库未做任何改动。")


def on_pre_migrate(sender, using="default", **kwargs) -> None:
    # Sent once per app before any migration runs: checked once per database and process.
    if using in _checked:
        return
    check_not_between(using)
    _checked.add(using)

