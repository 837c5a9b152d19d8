"""The README tells the truth: its `maalem` commands and `make` targets exist, its models table matches."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli import cli
from speech.recipes import BASE, BUNDLED, RECOMMENDED

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
runner = CliRunner()


def _words(command: str) -> list[str]:
    """The command's name, without its arguments and options (`pull NAME` → `pull`)."""
    return [w for w in re.split(r"\s+", command) if re.fullmatch(r"[a-z][a-z-]*", w)]


def documented_commands() -> list[list[str]]:
    """Each `maalem` command in the README's tables (in `pull` / `verify`, the second is a sibling)."""
    found: list[list[str]] = []
    rows = [re.split(r"(?<!\\)\|", line)[1] for line in README.splitlines() if line.startswith("| `maalem ")]
    for row in rows:
        first: list[str] = []
        for part in re.findall(r"`([^`]+)`", row):
            words = _words(part)
            if part.startswith("maalem "):
                first = words[1:]
                found.append(first)
            elif words:
                found.append([*first[:-1], *words[:1]] if len(first) > 1 else words[:1])
    return sorted({tuple(c): c for c in found}.values())


COMMANDS = documented_commands()


def test_the_readme_documents_the_commands() -> None:
    assert ["demo"] in COMMANDS and ["models", "verify"] in COMMANDS and ["content", "import"] in COMMANDS
    assert ["users", "add-trainer"] in COMMANDS


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_each_documented_command_answers_help(command: list[str]) -> None:
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


@pytest.mark.parametrize("target", sorted(set(re.findall(r"`make (\w+)`", README))))
def test_each_documented_make_target_exists(target: str) -> None:
    done = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_the_benchmarks_answer_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "telegram" in done.stdout


def test_the_readme_models_table_gives_each_models_size_and_licence() -> None:
    rows = {line.split("|")[1].strip(" `"): line for line in README.splitlines() if line.startswith("| `")}
    for spec in (BASE, BUNDLED, *RECOMMENDED):
        assert f"| {spec.size} | {spec.licence} |" in rows[spec.name], spec.name
