"""Backups: the database (SQLite's online backup, or pg_dump) and the data folder in one private archive."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

FORMAT = 1
MANIFEST = "manifest.json"
SKIPPED = {"speech-cache"}
"""Folders of the data folder made again on demand: not worth a backup."""


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why and what to do."""


def _sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, None for another database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    return Path(parsed.database).resolve()


def _plain_url(url: str) -> str:
    """A PostgreSQL URL as libpq's tools read it (no SQLAlchemy driver suffix)."""
    parsed = make_url(url)
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=False)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed: install PostgreSQL's client tools (postgresql-client)")
    return found


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise BackupError(f"{Path(command[0]).name} failed: {done.stderr.strip()[-500:]}")


def _data_files(data_dir: Path, database: Path | None) -> list[Path]:
    """The data folder's files to keep: voice notes, media, published packs, certificates, keys."""
    live = {database.with_name(database.name + end) for end in ("", "-wal", "-shm")} if database else set()
    files = []
    for path in sorted(data_dir.rglob("*")):
        relative = path.relative_to(data_dir)
        if relative.parts[0] in SKIPPED or path.resolve() in live or path.is_symlink() or not path.is_file():
            continue
        files.append(path)
    return files


def backup(url: str, data_dir: Path, dest: Path) -> Path:
    """Write one archive (readable by its owner only) of the database at `url` and `data_dir`; its path.

    `dest` is the archive's file name, or a folder for a dated archive. The service may keep running.
    """
    if dest.is_dir():
        dest = dest / f"maalem-backup-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    if dest.exists():
        raise BackupError(f"{dest} exists: choose another name")
    database = _sqlite_path(url)
    with tempfile.TemporaryDirectory() as work:
        if database is not None:
            if not database.is_file():
                raise BackupError(f"no database at {database}")
            dump = Path(work) / "maalem.db"
            with sqlite3.connect(database) as source, sqlite3.connect(dump) as target:
                source.backup(target)  # a consistent copy while others write
        else:
            dump = Path(work) / "maalem.pgdump"
            _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={dump}", _plain_url(url)])
        manifest = Path(work) / MANIFEST
        backend = "sqlite" if database else "postgresql"
        created = datetime.now(UTC).isoformat()
        manifest.write_text(json.dumps({"format": FORMAT, "database": backend, "created": created}))
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                archive.add(manifest, MANIFEST)
                archive.add(dump, f"database/{dump.name}")
                for path in _data_files(data_dir, database):
                    archive.add(path, f"data/{path.relative_to(data_dir).as_posix()}")
        except BaseException:
            dest.unlink(missing_ok=True)
            raise
    return dest


def restore(archive: Path, url: str, data_dir: Path) -> None:
    """Unpack a backup into an empty `data_dir` and an empty database at `url`."""
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty: restore into a new data folder")
    database = _sqlite_path(url)
    if database is not None and database.exists():
        raise BackupError(f"a database exists at {database}: restore into a new one")
    with tempfile.TemporaryDirectory() as work:
        try:
            with tarfile.open(archive, "r:gz") as source:
                source.extractall(work, filter="data")  # no links out, no absolute paths, no devices
            manifest = json.loads((Path(work) / MANIFEST).read_text())
        except (OSError, tarfile.TarError, ValueError) as exc:
            raise BackupError(f"{archive} is not a Maalem backup: {exc}") from exc
        if manifest.get("format") != FORMAT:
            raise BackupError(f"{archive} is in backup format {manifest.get('format')!r}, not {FORMAT}")
        expected = "sqlite" if database else "postgresql"
        if manifest.get("database") != expected:
            found = manifest.get("database")
            raise BackupError(f"{archive} holds a {found} database, the settings name a {expected} one")
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        unpacked = Path(work) / "data"
        if unpacked.is_dir():
            shutil.copytree(unpacked, data_dir, dirs_exist_ok=True)
        if database is not None:
            database.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(work) / "database" / "maalem.db", database)
            database.chmod(0o600)
        else:
            dump = Path(work) / "database" / "maalem.pgdump"
            restoring = [_tool("pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={_plain_url(url)}"]
            _run([*restoring, str(dump)])
