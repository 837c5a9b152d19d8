"""The command line as an operator and a newcomer use it."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import struct
import subprocess
import sys
import termios
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import yaml
from bidi import get_display
from typer.testing import CliRunner

from bot.cli import cli
from bot.components import model_options
from bot.settings import Settings
from lessons.combined import model_identity
from lessons.i18n import Catalog, without_bidi_marks
from lessons.languages import Lang
from lessons.model_file import BUNDLED_FILE
from speech.audio import encode_audio
from speech.testing import hub_mirror
from speech.tts import EspeakSpeaker
from tests.conftest import CONTENT

runner = CliRunner()


def test_content_check_passes_on_the_shipped_packs(settings: Settings) -> None:
    result = runner.invoke(cli, ["content", "check", str(CONTENT)])
    assert result.exit_code == 0, result.output
    assert "3 courses" in result.output


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A copy of the shipped content to break."""
    copy = tmp_path / "content"
    shutil.copytree(CONTENT, copy)
    return copy


def _edit(path: Path, change: object) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: d["lessons"][0]["steps"][1]["caption"].pop("fr"),
            "lessons[0].steps[1].caption.fr: missing translation",
        ),
        (
            lambda d: d["lessons"][0]["steps"][0].update(media={"kind": "video", "file": "media/nope.mp4"}),
            "lessons[0].steps[0].media.file: no such file",
        ),
        (
            lambda d: d["lessons"][1]["steps"][0].update(colour="red"),
            "lessons[1].steps[0].colour: Extra inputs are not permitted",
        ),
        (lambda d: d.update(master="nobody"), "master 'nobody' is not among the authors"),
        (lambda d: d.update(craft="basketry"), "craft: unknown craft 'basketry'"),
    ],
)
def test_content_check_names_file_place_and_problem(
    settings: Settings, broken: Path, change: object, expected: str
) -> None:
    course = broken / "courses" / "zellige" / "course.yaml"
    _edit(course, change)
    result = runner.invoke(cli, ["content", "check", str(broken)])
    assert result.exit_code == 1
    assert str(course) in result.output
    assert expected in result.output


def test_content_check_reports_bad_yaml_with_its_line(settings: Settings, broken: Path) -> None:
    (broken / "regions.yaml").write_text("- code: [unclosed\n", encoding="utf-8")
    result = runner.invoke(cli, ["content", "check", str(broken)])
    assert result.exit_code == 1
    assert "regions.yaml: line" in result.output


def _link_to_secret(pack: Path) -> None:
    secret = pack.parent / "web-secret-key"
    secret.write_text("s3cret-token")
    (pack / "media" / "cutting-tools.jpg").unlink()
    (pack / "media" / "cutting-tools.jpg").symlink_to(secret)


def _path_out(pack: Path) -> None:
    course = pack / "course.yaml"
    text = course.read_text(encoding="utf-8").replace("media/cutting-tools.jpg", "../web-secret-key")
    course.write_text(text, encoding="utf-8")


def _fifo(relative: str) -> object:
    def make(pack: Path) -> None:
        (pack / relative).unlink()
        os.mkfifo(pack / relative)  # opening it would wait for a writer for ever

    return make


@pytest.mark.timeout(20)
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (_link_to_secret, "media.file: 'media/cutting-tools.jpg' is a symbolic link"),
        (_path_out, "media.file: Value error, must be a relative path inside the course folder"),
        (_fifo("media/cutting-tools.jpg"), "media.file: 'media/cutting-tools.jpg' is not a regular file"),
        (_fifo("course.yaml"), "course.yaml: 'course.yaml' is not a regular file"),
    ],
    ids=["link-to-secret", "dot-dot", "fifo-media", "fifo-course"],
)
def test_content_check_of_a_hostile_pack_says_what_is_wrong(
    settings: Settings, tmp_path: Path, make: object, expected: str
) -> None:
    pack = tmp_path / "incoming" / "zellige"
    shutil.copytree(CONTENT / "courses" / "zellige", pack)
    make(pack)  # type: ignore[operator]
    result = runner.invoke(cli, ["content", "check", str(pack)])
    assert result.exit_code == 1
    assert result.output.startswith(f"error: {pack / 'course.yaml'}")
    assert expected in result.output and "s3cret-token" not in result.output


def test_demo_completes_a_lesson_with_both_feedback_paths(settings: Settings) -> None:
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    assert "Bienvenue, Amina !" in result.output  # called by the name typed at onboarding
    assert "Essaie encore" in result.output  # the wrong answer gets a hint
    assert "[voice note: «" in result.output  # then a spoken answer, transcribed by the default model
    assert "✅" in result.output  # the right one passes
    assert "Leçon terminée" in result.output


def test_chat_reads_piped_lines(settings: Settings) -> None:
    result = runner.invoke(cli, ["chat"], input="Hello\n1\n/help\n/quit\n")
    assert result.exit_code == 0, result.output
    assert "Choose your language" in result.output
    assert "[1] English" in result.output
    assert "Do you agree?" in result.output
    assert "/forget" in result.output


LEARNER_TO_FIRST_CHECKPOINT = (
    "Hello\n1\n1\n1\n3\n1\n1\n1\n" + "1\n" * 4
)  # English, name skipped, to zellige's first question


def test_chat_voice_command_is_transcribed_and_graded(settings: Settings, tmp_path: Path) -> None:
    # A sentence the small English model hears word for word from espeak-ng on every CPU tried.
    samples, rate = EspeakSpeaker(tmp_path / "tts").synthesize(
        "It is smaller at the back, so the cement holds it.", "en"
    )
    note = tmp_path / "note.ogg"
    note.write_bytes(encode_audio(samples, rate, "ogg"))
    result = runner.invoke(cli, ["chat"], input=LEARNER_TO_FIRST_CHECKPOINT + f"/voice {note}\n")
    assert result.exit_code == 0, result.output
    assert "I heard: «" in result.output
    assert "✅" in result.output
    stored = [p for p in (settings.data_dir / "audio").rglob("*") if p.is_file()]
    assert [p.read_bytes() for p in stored] == [note.read_bytes()]


def test_chat_voice_command_with_a_broken_file(settings: Settings, tmp_path: Path) -> None:
    note = tmp_path / "note.ogg"
    note.write_bytes(b"OggS" + bytes(100))
    result = runner.invoke(cli, ["chat"], input=LEARNER_TO_FIRST_CHECKPOINT + f"/voice {note}\n")
    assert result.exit_code == 0, result.output
    assert "This recording is damaged" in result.output.splitlines()[-1]


def test_unwritable_data_folder_exits_with_a_clear_message(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("MAALEM_DATA_DIR", str(blocker / "data"))
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 2
    assert "not writable" in result.output


def test_eval_speech_scores_the_default_model_per_language(settings: Settings, tmp_path: Path) -> None:
    shipped = CONTENT / "eval" / "speech"
    notes = (shipped / "transcripts.tsv").read_text(encoding="utf-8").splitlines()
    chosen = [line for line in notes if line.startswith(("en-1.", "fr-1."))]
    tsv = tmp_path / "two.tsv"
    tsv.write_text("\n".join(f"{shipped}/{line}" for line in chosen), encoding="utf-8")
    result = runner.invoke(cli, ["eval", "speech", str(tsv)])
    assert result.exit_code == 0, result.output
    assert "2 voice notes" in result.output
    table = [line.split() for line in result.stdout.splitlines()]
    rows = {cells[1]: cells for cells in table if len(cells) == 7 and cells[0].isdigit()}
    assert set(rows) == {"all", "en", "fr"}
    assert float(rows["en"][2]) < 0.5  # the English note is mostly heard right


def test_eval_speech_names_the_broken_line(settings: Settings, tmp_path: Path) -> None:
    tsv = tmp_path / "bad.tsv"
    tsv.write_text("note.ogg\tfr\n", encoding="utf-8")
    result = runner.invoke(cli, ["eval", "speech", str(tsv)])
    assert result.exit_code == 1
    assert f"{tsv}:1: expected file, language and text" in result.output


def test_what_maalem_writes_is_private_to_its_user(settings: Settings, tmp_path: Path) -> None:
    """The database, the voice notes and the data folder are not readable by other users of the server."""
    samples, rate = EspeakSpeaker(tmp_path / "tts").synthesize("Thank you very much.", "en")
    note = tmp_path / "note.ogg"
    note.write_bytes(encode_audio(samples, rate, "ogg"))
    maalem = Path(sys.executable).parent / "maalem"
    talk = LEARNER_TO_FIRST_CHECKPOINT + f"/voice {note}\n/quit\n"
    done = subprocess.run(
        [str(maalem), "chat"],
        input=talk,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    data = tmp_path / "data"
    written = [data, *data.rglob("*")]
    assert any(p.name == "maalem.db" for p in written)
    assert any(p.is_file() for p in (data / "audio").rglob("*"))
    loose = {
        str(p.relative_to(tmp_path)): oct(p.stat().st_mode & 0o777)
        for p in written
        if p.stat().st_mode & 0o077
    }
    assert loose == {}


def test_right_to_left_replies_read_correctly_in_a_real_terminal(settings: Settings, tmp_path: Path) -> None:
    """In a 40-column pseudo-terminal: Darija wrapped by words, each row in display order, none padded."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 40, 0, 0))
    chat = subprocess.Popen(
        [str(Path(sys.executable).parent / "maalem"), "chat"],
        stdin=subprocess.PIPE,
        stdout=slave,
        stderr=subprocess.DEVNULL,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "40"},
    )
    os.close(slave)
    assert chat.stdin is not None
    chat.stdin.write("سلام\n/quit\n".encode())
    chat.stdin.close()
    output = b""
    with contextlib.suppress(OSError):  # the terminal closes when the chat ends
        while chunk := os.read(master, 65536):
            output += chunk
    os.close(master)
    assert chat.wait(timeout=120) == 0
    rows = [row.removeprefix("maalem › ") for row in output.decode().replace("\r", "").splitlines()]
    arabic = [row for row in rows if any("\u0600" <= ch <= "\u06ff" for ch in row) and "[1]" not in row]
    assert arabic and all(len(row) <= 40 and not row.startswith(" " * 10) for row in arabic)
    first = without_bidi_marks(Catalog().t(Lang.DARIJA, "welcome", {"language": "x"})).split("\n")[0]
    shown = [str(get_display(row.strip())) for row in arabic]
    print(first)
    print(shown)
    assert " ".join(shown).startswith(" ".join(first.split()[:3]))  # rows read back in logical order


def test_config_shows_where_the_grading_model_is_trusted(settings: Settings) -> None:
    model = model_identity("llm", model_options(settings))
    result = runner.invoke(cli, ["config"])
    assert result.exit_code == 0, result.output
    trust = json.loads(result.stdout)["grading_model_trust"]
    assert trust["model"] == model
    assert trust["model"].startswith(BUNDLED_FILE)
    assert not trust["in_use"]
    assert {lang: v["trusted"] for lang, v in trust["languages"].items()} == dict.fromkeys(
        [lang.value for lang in Lang], False
    )
    assert trust["languages"]["fr"]["why"].startswith("not measured")

    settings.data_dir.mkdir()
    measured = {"agreement": 0.9, "injections_passed": 0, "injections": 3, "answers": 40}
    (settings.data_dir / "calibration.json").write_text(
        json.dumps(
            {
                model: {
                    "fr": {**measured, "auc": 0.82, "measured": "2026-12-03"},
                    "ary": {**measured, "auc": 0.46, "measured": "2026-12-03"},
                }
            }
        )
    )
    languages = json.loads(runner.invoke(cli, ["config"]).stdout)["grading_model_trust"]["languages"]
    assert languages["fr"] == {
        "trusted": True,
        "why": "trusted (AUC 0.82, agreement 90%, 0/3 injections passed, 40 answers, measured 2026-12-03)",
    }
    assert not languages["ary"]["trusted"]
    assert languages["ary"]["why"].startswith("AUC below 0.75 (AUC 0.46")


@pytest.mark.slow
def test_eval_assess_writes_the_models_calibration_per_language(settings: Settings, tmp_path: Path) -> None:
    shipped = yaml.safe_load((CONTENT / "eval" / "answers.yaml").read_text(encoding="utf-8"))
    few = [{**shipped[0], "answers": shipped[0]["answers"][:7]}]
    labelled = tmp_path / "few.yaml"
    labelled.write_text(yaml.safe_dump(few, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(cli, ["eval", "assess", str(labelled)])
    assert result.exit_code == 0, result.output
    model = model_identity("llm", model_options(settings))
    stored = json.loads((settings.data_dir / "calibration.json").read_text(encoding="utf-8"))[model]
    langs = Counter(a["lang"] for a in few[0]["answers"])
    assert {lang: r["answers"] for lang, r in stored.items()} == dict(langs)
    for record in stored.values():
        assert 0 <= record["agreement"] <= 1
        assert record["measured"] == date.today().isoformat()
    assert f"calibration of {model}" in result.stdout
    assert "  en: not trusted: fewer than 20 answers" in result.stdout
    assert "  ary: not trusted: not measured" in result.stdout


def test_models_list_says_size_licence_and_what_each_model_can_and_cannot_do(settings: Settings) -> None:
    result = runner.invoke(cli, ["models", "list"])
    assert result.exit_code == 0, result.output
    atlas = result.output[result.output.index("atlas-chat-2b:") :].split("\n")[:5]
    assert "size 1.7 GB; licence Gemma terms of use" in atlas[1]
    assert atlas[2].startswith("  can: grade answers in Darija") and atlas[3].startswith("  cannot: ")
    assert f"missing (maalem models pull NAME): {settings.models_dir.name}" in atlas[4]
    assert "CC BY-NC 4.0 (non-commercial use only)" in result.output
    assert "needs the `omnilingual-asr` package" in result.output


def test_models_pull_shows_size_and_licence_and_asks_before_fetching(
    settings: Settings, tmp_path: Path
) -> None:
    mirror = hub_mirror(
        tmp_path / "mirror", "QuantFactory/Atlas-Chat-2B-GGUF", {"Atlas-Chat-2B.Q4_K_M.gguf": b"GGUF"}
    )
    pull = ["models", "pull", "atlas-chat-2b", "--mirror", str(mirror)]
    declined = runner.invoke(cli, pull, input="n\n")
    assert declined.exit_code == 1
    assert "size 1.7 GB; licence Gemma terms of use" in declined.output and "fetch it?" in declined.output
    assert not (tmp_path / "models").exists()
    fetched = runner.invoke(cli, [*pull, "--yes"])
    assert fetched.exit_code == 0, fetched.output
    assert "fetch it?" not in fetched.output
    assert (tmp_path / "models" / "atlas-chat-2b" / "Atlas-Chat-2B.Q4_K_M.gguf").read_bytes() == b"GGUF"


def test_models_pull_never_takes_a_non_commercial_licence_silently(
    settings: Settings, tmp_path: Path
) -> None:
    mirror = hub_mirror(tmp_path / "mirror", "facebook/mms-1b-all", {"config.json": b"{}"})
    pull = ["models", "pull", "mms-1b-all", "--mirror", str(mirror), "--yes"]
    refused = runner.invoke(cli, pull)
    assert refused.exit_code == 1
    assert "CC BY-NC 4.0 (non-commercial use only)" in refused.output
    assert "forbids commercial use: read it, then pull again with --accept-licence" in refused.output
    assert not (tmp_path / "models").exists()
    accepted = runner.invoke(cli, [*pull, "--accept-licence"])
    assert accepted.exit_code == 0, accepted.output
    assert (tmp_path / "models" / "mms-1b-all" / "config.json").exists()
