"""Issue 17.13: backups are encrypted with age to the configured public keys, written 0600 in a 0700 folder, verified
without the key and decrypted for restore with the private key."""
import json
import os
import sqlite3
import stat

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from banli.core import backup
from banli.core.errors import DomainError
from banli.core.testing import make_proposal

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "关于备份加密测试的提案"


@pytest.fixture
def keys(tmp_path, settings):
    identity = tmp_path / "backup.key"
    call_command("backup_keygen", "--identity", str(identity))
    public = identity.read_text().splitlines()[0].split(": ", 1)[1]
    settings.BANLI_BACKUP_RECIPIENTS = [public]
    return identity


@pytest.fixture
def made(world, keys, tmp_path, settings):
    if connection.vendor != "sqlite":
        pytest.skip("the in-process snapshot reads the SQLite file; PostgreSQL is covered by test_backup")
    make_proposal(world, title=TITLE)
    (settings.MEDIA_ROOT / "private").mkdir(parents=True)
    (settings.MEDIA_ROOT / "private" / "答复函.docx").write_bytes("答复函正文".encode() * 50)
    out = tmp_path / "backup"
    call_command("backup", "--out", str(out))
    return out


def test_every_file_is_encrypted_and_private(made, keys):
    assert stat.S_IMODE(os.stat(made).st_mode) == 0o700
    names = sorted(p.name for p in made.iterdir())
    assert names == ["database.sqlite3.age", "manifest.json", "media-files.json.age", "media.tar.age"]
    for path in made.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, path.name
        data = path.read_bytes()
        assert b"SQLite format" not in data and TITLE.encode() not in data and "答复函".encode() not in data
        if path.suffix == ".age":
            assert data.startswith(b"age-encryption.org/v1")
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o600


def test_a_copy_is_verified_without_the_key_and_decrypted_with_it(made, keys, tmp_path):
    call_command("restore", str(made), "--verify-only")
    plain = tmp_path / "db.sqlite3"
    backup._decrypt(made / "database.sqlite3.age", plain, backup._identities(str(keys)))
    with sqlite3.connect(plain) as db:
        assert db.execute("SELECT count(*) FROM proposals_proposal WHERE title = ?", [TITLE]).fetchone() == (1,)
    manifest = json.loads((made / "manifest.json").read_text())
    assert manifest["encryption"] == "age" and "media_files" not in manifest  # no file names in clear


def test_restoring_needs_the_matching_private_key(made, tmp_path, settings):
    with pytest.raises(CommandError, match="请用 --identity 或 BANLI_BACKUP_IDENTITY_FILE"):
        call_command("restore", str(made))
    other = tmp_path / "other.key"
    call_command("backup_keygen", "--identity", str(other))
    with pytest.raises(CommandError, match="私钥与加密这份备份的公钥不匹配"):
        call_command("restore", str(made), "--identity", str(other))


def test_no_backup_without_a_configured_key(world, tmp_path, settings):
    settings.BANLI_BACKUP_RECIPIENTS = []
    with pytest.raises(CommandError, match="BANLI_BACKUP_RECIPIENTS"):
        call_command("backup", "--out", str(tmp_path / "b"))
    assert not (tmp_path / "b").exists()
    with pytest.raises(DomainError, match="无效的公钥"):
        backup.create(tmp_path / "c", recipients=["age1notakey"])
