"""Backup of a running instance restored into an empty one gives the same figures and the same files."""
import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pyrage
import pytest
from django.conf import settings
from django.db import connection

from banli.core import backup, testdb
from banli.core.errors import DomainError

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("backup_instance.py")

pytestmark = pytest.mark.slow


def _backup_key(tmp_path):
    """One age key pair for both instances: the source encrypts to the public key, the target decrypts."""
    path = tmp_path / "backup.key"
    if not path.exists():
        key = pyrage.x25519.Identity.generate()
        path.write_text(f"{key}\n")
        (tmp_path / "backup.pub").write_text(str(key.to_public()))
    return str(path), (tmp_path / "backup.pub").read_text()


def _instance_env(tmp_path, name, db_url):
    identity, public = _backup_key(tmp_path)
    env = dict(os.environ)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update({
        "BANLI_VAR_DIR": str(tmp_path / name / "var"),
        "MEDIA_ROOT": str(tmp_path / name / "media"),
        "SECRET_KEY": "backup-test-secret-key-0123456789abcdef",
        "BANLI_FIELD_KEYS": "backup-test-field-key",
        "BANLI_EVENT_KEY": "backup-test-event-key",
        "BANLI_BACKUP_RECIPIENTS": public,
        "BANLI_BACKUP_IDENTITY_FILE": identity,
        "BANLI_REQUIRE_2FA": "0",
        "BANLI_TESTING": "1",
    })
    if db_url:
        env["DATABASE_URL"] = db_url
    else:
        env.pop("DATABASE_URL", None)
        env["SQLITE_PATH"] = str(tmp_path / name / "banli.sqlite3")
    (tmp_path / name / "var").mkdir(parents=True, exist_ok=True)
    return env


def _manage(env, *args, step=None):
    if step:
        env = {**env, "BANLI_BACKUP_STEP": step}
        cmd = [sys.executable, "manage.py", "shell", "-c", SCRIPT.read_text()]
    else:
        cmd = [sys.executable, "manage.py", *args]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _report(env):
    line = next(line for line in _manage(env, step="report").splitlines() if line.startswith("REPORT "))
    return json.loads(line[len("REPORT "):])


@pytest.fixture
def databases(tmp_path):
    """Two empty databases of the vendor under test: a source instance and a restore target."""
    if connection.vendor != "postgresql":
        yield None, None
        return
    base = settings.DATABASES["default"]
    names = [f"banli_bk_{uuid.uuid4().hex[:8]}_{n}" for n in ("src", "dst")]
    host = f"{base.get('USER') or 'postgres'}@{base.get('HOST') or '127.0.0.1'}:{base.get('PORT') or 5432}"

    def admin():
        return psycopg.connect(f"postgresql://{host}/postgres", autocommit=True)

    template = testdb.template()
    with admin() as conn:
        # The source starts migrated: a copy of the run's migrated template (else `migrate` runs in the test).
        conn.execute(f'CREATE DATABASE "{names[0]}"' + (f' TEMPLATE "{template}"' if template else ""))
        conn.execute(f'CREATE DATABASE "{names[1]}"')
    yield tuple(f"postgres://{host}/{name}" for name in names)
    with admin() as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db
def test_a_restored_backup_gives_the_same_figures_documents_and_events(tmp_path, databases):
    src_url, dst_url = databases
    source = _instance_env(tmp_path, "source", src_url)
    # An empty migrated instance: a copy of the run's template database (made by Django's create_test_db, which
    # runs `migrate`; banli/core/testdb.py), else `migrate` here.
    template = testdb.template()
    if template and not src_url:
        shutil.copyfile(template, source["SQLITE_PATH"])
    elif not template:
        _manage(source, "migrate", "--noinput")
    _manage(source, step="build")
    before = _report(source)
    assert before["media"] and before["chain_ok"] and before["events"] > 20

    backup_dir = tmp_path / "backup"
    out = json.loads(_manage(source, "backup", "--out", str(backup_dir)).strip().splitlines()[-1])
    assert out["ok"] and (backup_dir / "manifest.json").exists()

    target = _instance_env(tmp_path, "target", dst_url)
    _manage(target, "restore", str(backup_dir))
    after = _report(target)
    assert after == before

    # Restoring over an instance that has data is refused.
    result = subprocess.run([sys.executable, "manage.py", "restore", str(backup_dir)], cwd=ROOT, env=target,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "目标实例已有数据" in result.stderr


def test_a_tampered_backup_is_refused_naming_the_file(tmp_path):
    folder = tmp_path / "bk"
    folder.mkdir()
    (folder / "database.sqlite3").write_bytes(b"data")
    (folder / "media.tar").write_bytes(b"tar")
    manifest = {"created_at": "x", "vendor": "sqlite", "database_file": "database.sqlite3",
                "files": {"database.sqlite3": backup._sha256(folder / "database.sqlite3"),
                          "media.tar": backup._sha256(folder / "media.tar")}, "media_files": {}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert backup.verify(folder)["vendor"] == "sqlite"
    (folder / "media.tar").write_bytes(b"taR")
    with pytest.raises(DomainError, match="media.tar"):
        backup.verify(folder)
