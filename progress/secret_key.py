"""The app's secret: signs dashboard sessions and keys the hash kept of someone who refused consent."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

SECRET_FILE = "web-secret-key"  # noqa: S105 (a file name)


def secret_key(configured: str | None, data_dir: Path) -> str:
    """The configured key, else one generated once and kept (owner-only) in the data folder."""
    if configured:
        return configured
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
