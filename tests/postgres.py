"""A throwaway PostgreSQL server for the tests, started when the machine has PostgreSQL's binaries."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str | None]:
    """Yield a URL of a fresh local server (or the one in MAALEM_TEST_POSTGRES_URL), None when impossible."""
    if url := os.environ.get("MAALEM_TEST_POSTGRES_URL"):
        yield url
        return
    bin_dir = _binaries()
    if bin_dir is None:
        yield None
        return
    as_user: list[str] = []
    root = tempfile.mkdtemp(prefix="maalem-pg-")
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(root, "postgres")
    data, port = f"{root}/data", _free_port()
    run = lambda *args: subprocess.run([*as_user, *args], check=True, capture_output=True)  # noqa: E731
    try:
        run(str(bin_dir / "initdb"), "-D", data, "-U", "maalem", "--auth=trust", "-E", "UTF8")
        run(
            str(bin_dir / "pg_ctl"),
            "-D",
            data,
            "-o",
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
            "-l",
            f"{root}/log",
            "-w",
            "start",
        )
    except (subprocess.CalledProcessError, FileNotFoundError, LookupError):
        shutil.rmtree(root, ignore_errors=True)
        yield None
        return
    try:
        for _ in range(50):
            if (
                subprocess.run(
                    [*as_user, str(bin_dir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                    capture_output=True,
                    check=False,
                ).returncode
                == 0
            ):
                break
            time.sleep(0.1)
        yield f"postgresql+psycopg://maalem@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(bin_dir / "pg_ctl"), "-D", data, "-m", "immediate", "stop"],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
