"""A voice answer through the service with the default transcriber, against a bare transcription of it.

For a short and a long French note (about 5 s and 15 s, espeak-ng, made here): the time from the note's
arrival to its feedback being queued (download, decoding, transcription, grading, the reply), and the same
note's bare transcription with the same model and language; then the worst transcription time / duration
over the shipped labelled notes (`content/eval/speech/`) and these two; and the transcriber's peak memory.
Run: `.venv/bin/python -m bench.voice [--repeats 3]`
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from bench.table import table
from bot.settings import Settings
from lessons.languages import Lang
from speech.audio import AudioLimits, decode_audio, encode_audio
from speech.routing import load_routed
from speech.tts import EspeakSpeaker
from speech.types import Transcriber

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "content" / "eval" / "speech"
FILLER_SHORT = "On appuie bien."
FILLER = "Ensuite on nettoie la surface avec une éponge humide et on laisse sécher le mortier."


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def note(folder: Path, name: str, text: str) -> tuple[Path, float]:
    """An OGG/Opus voice note saying `text` in French, and its duration in seconds."""
    samples, rate = EspeakSpeaker(folder / "tts").synthesize(text, Lang.FRENCH.value)
    path = folder / f"{name}.ogg"
    path.write_bytes(encode_audio(samples, rate))
    return path, decode_audio(path.read_bytes()).duration


def bare(transcriber: Transcriber, path: Path, language: str, repeats: int) -> float:
    """The best of a few bare transcriptions of `path`, in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        transcriber.transcribe(path, language=language)
        times.append(time.perf_counter() - start)
    return min(times)


async def through_service(settings: Settings, transcriber: Transcriber, path: Path, repeats: int) -> float:
    """The best time, over fresh learners at the first checkpoint, from the note's arrival to its feedback."""
    from bench.turns import ONBOARDING
    from bot.app import build_app, load_components
    from bot.memory import CHANNEL, MemorySender, MemoryUser
    from bot.terminal import LocalFileFetcher
    from tests.integration.journeys import right_answer

    components = load_components(settings)
    app = build_app(
        settings,
        assessor=components.assessor,
        transcriber=transcriber,
        senders={CHANNEL: (sender := MemorySender())},
        fetchers={CHANNEL: LocalFileFetcher(settings.max_audio_bytes)},
    )
    course = app.library.courses["zellige"]
    at, _ = right_answer(course, 0, Lang.FRENCH)
    times = []
    for n in range(repeats):
        learner = MemoryUser(app, sender, f"{path.stem}-{n}")
        await learner.say("Bonjour")
        for action in ONBOARDING:
            await learner.press(action)
        for _ in range(at):
            await learner.press("next")
        start = time.perf_counter()
        await learner.voice(str(path))
        times.append(time.perf_counter() - start)
    app.close()
    return min(times)


def default_transcriber(settings: Settings) -> Transcriber:
    """The transcriber the settings' defaults give (as `maalem run` loads it)."""
    limits = AudioLimits(max_bytes=settings.max_audio_bytes, max_seconds=settings.max_audio_seconds)
    return load_routed(
        settings.transcriber,
        settings.whisper_model,
        settings.whisper_models,
        settings.models_dir,
        workers=settings.transcription_workers,
        limits=limits,
    )


def main() -> None:
    """Parse the arguments, measure, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        settings = Settings(_env_file=None, data_dir=folder / "data")  # type: ignore[call-arg]
        transcriber = default_transcriber(settings)  # first, so the peak memory below is the transcriber's
        from lessons.content import load_library
        from tests.integration.journeys import right_answer

        _, answer = right_answer(load_library(settings.content_dir).courses["zellige"], 0, Lang.FRENCH)
        notes = {
            "short": note(folder, "short", f"{answer}. {FILLER_SHORT}"),
            "long": note(folder, "long", f"{answer}. {FILLER} {FILLER}"),
        }
        ratios = []
        shipped = [(p, p.stem.split("-")[0]) for p in sorted(SHIPPED.glob("*.ogg"))]
        for path, language in [*shipped, *((p, "fr") for p, _ in notes.values())]:
            seconds = decode_audio(path.read_bytes()).duration
            ratios.append((bare(transcriber, path, language, 1) / seconds, path.name))
        memory = peak_rss_mb()  # before anything else is loaded: the transcriber loaded and working
        rows = []
        for label, (path, seconds) in notes.items():
            plain = bare(transcriber, path, "fr", args.repeats)
            served = asyncio.run(through_service(settings, transcriber, path, args.repeats))
            rows.append([label, f"{seconds:.1f}", f"{plain:.2f}", f"{served:.2f}", f"{served / plain:.2f}x"])
        print(
            "A French voice answer, default transcriber (whisper base, language forced), best of",
            args.repeats,
        )
        print(table(["note", "seconds", "bare s", "service s", "service / bare"], rows))
        worst, name = max(ratios)
        print(f"worst transcription time / duration over {len(ratios)} notes: {worst:.2f} ({name})")
        print(f"peak resident memory, the transcriber loaded and working: {memory:.0f} MB")


if __name__ == "__main__":
    main()
