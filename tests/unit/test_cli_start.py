"""The command line starts at once: models, channels, the web stack load only for the commands using them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings

HEAVY = (
    "av",
    "numpy",
    "torch",
    "transformers",
    "faster_whisper",
    "fastapi",
    "uvicorn",
    "telegram",
    "fpdf",
    "sqlalchemy",
    "bot.app",
    "bot.conversation.service",
)
"""What `maalem --help`, `config` and `content check` never need."""
RUN = """
try:
    cli(sys.argv[1:])
except SystemExit:
    pass
"""


def loaded_by(*args: str, heavy: tuple[str, ...] = HEAVY, run: bool = True) -> list[str]:
    """The heavy modules loaded once `maalem ARGS` ran (or `bot.cli` was imported), in a fresh interpreter."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAALEM_")}
    code = f"import sys\nfrom bot.cli import cli\n{RUN if run else ''}\n"
    code += f"print('loaded:', *(name for name in {heavy!r} if name in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True
    )
    return done.stdout.rpartition("loaded:")[2].split()


def test_importing_the_command_line_loads_no_settings_content_or_heavy_module() -> None:
    assert loaded_by(heavy=(*HEAVY, "bot.settings", "lessons.content", "yaml", "pydantic"), run=False) == []


@pytest.mark.parametrize("args", [["--help"], ["config"], ["content", "check"]])
def test_commands_that_need_no_model_load_none(args: list[str], settings: Settings, tmp_path: Path) -> None:
    assert loaded_by(*args) == []
