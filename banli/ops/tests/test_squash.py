"""The squashed migrations (`<app>/migrations/1001_squashed.py` and after): the models and the migrations agree, a new
database records every replaced migration as applied (so it is never taken for an old one stopped half-way), and a
database that stopped between two replaced migrations is refused before anything changes, saying what to do."""
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from banli.ops import squash


@pytest.mark.django_db
def test_the_models_need_no_migration_the_squashed_ones_do_not_make():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)  # SystemExit(1) when a change is missing


@pytest.mark.django_db
def test_a_new_database_has_every_replaced_migration_recorded_and_passes_the_check():
    loader = MigrationLoader(connection)
    replaced = squash.replaced_migrations(loader)
    old = {key for key, migration in loader.disk_migrations.items()
           if type(migration).__module__.startswith("banli.") and key[1] < "1000"}
    assert replaced == old and ("handling", "0015_unit_state_index_covers_list_keys") in replaced
    assert replaced <= set(loader.applied_migrations)
    squash.check_not_between()


@pytest.mark.django_db
def test_a_database_stopped_between_two_replaced_migrations_is_refused_naming_what_is_missing(monkeypatch):
    MigrationRecorder.Migration.objects.filter(
        app="handling", name__in=["0014_next_due_index_covers_unit_session", "0015_unit_state_index_covers_list_keys"],
    ).delete()
    with pytest.raises(CommandError) as refused:
        squash.check_not_between()
    message = str(refused.value)
    assert "数据库停在旧版本的两次迁移之间" in message and "共 2 项" in message
    assert "handling.0014_next_due_index_covers_unit_session" in message and "数据库未做任何改动" in message
    # As `migrate` meets it: the pre_migrate receiver refuses before the first migration runs.
    monkeypatch.setattr(squash, "_checked", set())
    with pytest.raises(CommandError):
        squash.on_pre_migrate(sender=None, using="default")
