"""Backup and restore of a whole instance: the database (natively, so encrypted columns stay encrypted),
the uploaded and generated files, and a SHA-256 manifest that restore verifies first.

SQLite uses the online backup API (a consistent copy while the app runs). PostgreSQL uses pg_dump in the
custom format (one consistent snapshot) and pg_restore into an empty database. For large production
databases prefer continuous archiving (pg_basebackup + WAL archiving); see README.

Every file of a backup is encrypted with age (pyrage) to the public keys in BANLI_BACKUP_RECIPIENTS and written
0600 in a 0700 folder; the plain copies only ever exist in a private temporary folder. The manifest (not secret:
hashes of the encrypted files, no names of uploaded files) lets `restore --verify-only` check a copy without the
key; restoring decrypts with the identity (private key) in BANLI_BACKUP_IDENTITY_FILE or `--identity`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pyrage
from django.conf import settings
from django.db import connection

from banli.core.errors import DomainError
from banli.handling.models import Event
from banli.organizations.models import Unit

MANIFEST = "manifest.json"
ENCRYPTED = ".age"
MEDIA_LIST = "media-files.json"


@contextmanager
def _private_files():
    """Everything created inside is readable by the owner only (0600 files, 0700 folders)."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _recipients(recipients=None) -> list:
    keys = list(recipients if recipients is not None else settings.BANLI_BACKUP_RECIPIENTS)
    if not keys:
        raise DomainError("未配置备份加密公钥 BANLI_BACKUP_RECIPIENTS，不能生成备份（备份必须加密）。"
                          "请先运行 python manage.py backup_keygen --identity <私钥文件> 生成密钥对，把公钥设为该变量。")
    try:
        return [pyrage.x25519.Recipient.from_str(key) for key in keys]
    except pyrage.RecipientError as exc:
        raise DomainError(f"BANLI_BACKUP_RECIPIENTS 中有无效的公钥（{exc}），应为 age1 开头的 age 公钥。") from exc


def _identities(identity_file=None) -> list:
    path = identity_file or settings.BANLI_BACKUP_IDENTITY_FILE
    if not path:
        raise DomainError("这份备份已加密：请用 --identity 或 BANLI_BACKUP_IDENTITY_FILE 指定解密私钥文件。")
    try:
        lines = Path(path).read_text().splitlines()
    except OSError as exc:
        raise DomainError(f"读不到解密私钥文件 {path}（{exc.strerror}）。") from exc
    try:
        return [pyrage.x25519.Identity.from_str(line.strip()) for line in lines
                if line.strip().startswith("AGE-SECRET-KEY-")]
    except pyrage.IdentityError as exc:
        raise DomainError(f"私钥文件 {path} 中的私钥无效（{exc}）。") from exc


def _encrypt(source: Path, target: Path, recipients: list) -> None:
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    pyrage.encrypt_file(str(source), str(target), recipients)
    target.chmod(0o600)


def _decrypt(source: Path, target: Path, identities: list) -> None:
    try:
        pyrage.decrypt_file(str(source), str(target), identities)
    except pyrage.DecryptError as exc:
        raise DomainError(f"无法解密 {source.name}：私钥与加密这份备份的公钥不匹配。") from exc


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pg_env_and_args(db: dict) -> tuple[dict, list[str]]:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = []
    if db.get("HOST"):
        args += ["-h", str(db["HOST"])]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", str(db["USER"])]
    return env, args


def create(out_dir: Path, *, recipients=None) -> dict:
    """Write an encrypted snapshot into `out_dir` (created; must not exist) and return the manifest."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise DomainError(f"备份目录 {out_dir} 已存在且不为空，请指定新的目录。")
    keys = _recipients(recipients)
    with _private_files(), tempfile.TemporaryDirectory(prefix="banli-backup-") as plain:
        out_dir.mkdir(parents=True, exist_ok=True)
        out_dir.chmod(0o700)
        manifest = _write_plain(Path(plain))
        files = {}
        for name in (manifest["database_file"], "media.tar", MEDIA_LIST):
            target = out_dir / (name + ENCRYPTED)
            _encrypt(Path(plain) / name, target, keys)
            files[target.name] = _sha256(target)
        manifest = {"created_at": manifest["created_at"], "vendor": manifest["vendor"],
                    "database_file": manifest["database_file"], "encryption": "age", "files": files}
        (out_dir / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2))
    return manifest


def _write_plain(out_dir: Path) -> dict:
    """The snapshot in clear (database, media.tar, the list of media files with their hashes) in a private folder."""
    db = settings.DATABASES["default"]
    vendor = connection.vendor
    if vendor == "sqlite":
        target = out_dir / "database.sqlite3"
        source = sqlite3.connect(db["NAME"])
        dest = sqlite3.connect(target)
        with dest:
            source.backup(dest)
        dest.close()
        source.close()
        db_file = target.name
    elif vendor == "postgresql":
        env, args = _pg_env_and_args(db)
        target = out_dir / "database.pgdump"
        subprocess.run(["pg_dump", "-Fc", "--no-owner", "-f", str(target), *args, db["NAME"]],
                       check=True, env=env, capture_output=True)
        db_file = target.name
    else:
        raise DomainError(f"不支持备份 {vendor} 数据库。")
    media_root = Path(settings.MEDIA_ROOT)
    media_tar = out_dir / "media.tar"
    with tarfile.open(media_tar, "w") as tar:
        if media_root.exists():
            tar.add(media_root, arcname="media")
    files = {name: _sha256(out_dir / name) for name in (db_file, media_tar.name)}
    media_files = {}
    if media_root.exists():
        for path in sorted(media_root.rglob("*")):
            if path.is_file():
                media_files[str(path.relative_to(media_root))] = _sha256(path)
    (out_dir / MEDIA_LIST).write_text(json.dumps(media_files, ensure_ascii=False))
    return {
        "created_at": dt.datetime.now(dt.timezone.utc).isoformat(),
        "vendor": vendor,
        "database_file": db_file,
        "files": files,
        "media_files": media_files,
    }


def verify(backup_dir: Path) -> dict:
    """Check every file of the backup against its manifest; a DomainError names the first bad file."""
    backup_dir = Path(backup_dir)
    manifest_path = backup_dir / MANIFEST
    if not manifest_path.exists():
        raise DomainError(f"{backup_dir} 中没有 {MANIFEST}，这不是一份完整的备份。")
    manifest = json.loads(manifest_path.read_text())
    for name, digest in manifest["files"].items():
        path = backup_dir / name
        if not path.exists():
            raise DomainError(f"备份文件缺失：{name}")
        if _sha256(path) != digest:
            raise DomainError(f"备份文件校验失败：{name}（内容与清单不符，可能已损坏或被修改）")
    return manifest


def _database_is_empty() -> bool:
    try:
        return not Unit.objects.exists() and not Event.objects.exists()
    except Exception:  # no tables yet: certainly empty
        return True


def restore(backup_dir: Path, *, identity_file=None) -> dict:
    """Bring a verified backup back into an empty instance (database and files), decrypting it first."""
    backup_dir = Path(backup_dir)
    manifest = verify(backup_dir)
    if manifest.get("encryption") != "age":  # a backup made before backups were encrypted
        return _restore_plain(backup_dir, manifest)
    identities = _identities(identity_file)
    with _private_files(), tempfile.TemporaryDirectory(prefix="banli-restore-") as plain:
        for name in manifest["files"]:
            _decrypt(backup_dir / name, Path(plain) / name.removesuffix(ENCRYPTED), identities)
        media_files = json.loads((Path(plain) / MEDIA_LIST).read_text())
        return _restore_plain(Path(plain), {**manifest, "media_files": media_files})


def _restore_plain(backup_dir: Path, manifest: dict) -> dict:
    vendor = connection.vendor
    if manifest["vendor"] != vendor:
        raise DomainError(f"这份备份来自 {manifest['vendor']} 数据库，不能恢复到 {vendor}。")
    if not _database_is_empty():
        raise DomainError("目标实例已有数据。恢复只能在空实例上进行，以免覆盖现有记录。")
    db = settings.DATABASES["default"]
    source = backup_dir / manifest["database_file"]
    connection.close()
    if vendor == "sqlite":
        src = sqlite3.connect(source)
        dest = sqlite3.connect(db["NAME"])
        with dest:
            src.backup(dest)
        dest.close()
        src.close()
    else:
        env, args = _pg_env_and_args(db)
        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        connection.close()
        subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", "-d", db["NAME"], *args, str(source)],
                       check=True, env=env, capture_output=True)
    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(backup_dir / "media.tar") as tar:
        staging = media_root.parent / (media_root.name + ".restore")
        if staging.exists():
            shutil.rmtree(staging)
        tar.extractall(staging, filter="data")
        restored = staging / "media"
        media_root.mkdir(parents=True, exist_ok=True)
        if restored.exists():
            for path in restored.rglob("*"):
                if path.is_file():
                    target = media_root / path.relative_to(restored)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target)
        shutil.rmtree(staging)
    for name, digest in manifest["media_files"].items():
        if _sha256(media_root / name) != digest:
            raise DomainError(f"恢复后的文件校验失败：{name}")
    return manifest
