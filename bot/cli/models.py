"""The models: `models list/pull/verify`, `assess`, `transcribe`, `eval assess/speech` on labelled data."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, cast, get_args

import typer

from bot.cli.common import fail, settings
from lessons.languages import Lang

if TYPE_CHECKING:
    from lessons.assessment import Assessor
    from speech.models import TranscriberKind

models_cli = typer.Typer(help="Speech and grading models.", no_args_is_help=True)
eval_cli = typer.Typer(help="Measurements on labelled data.", no_args_is_help=True)


@models_cli.command("list")
def models_list() -> None:
    """The bundled models and the recommended ones: size, licence, what each can and cannot do, and where."""
    from speech.models import list_models

    for entry in list_models(settings().models_dir):
        state = "present" if entry.present else "missing (maalem models pull NAME)"
        typer.echo(f"{entry.spec.describe()}\n  {state}: {entry.path}")


@models_cli.command("pull")
def models_pull(
    name: Annotated[str, typer.Argument(help="a recommended model's name, or a Hub repository id")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="fetch without asking")] = False,
    accept_licence: Annotated[
        bool, typer.Option(help="accept a non-commercial licence (MMS, CC BY-NC): never implied by --yes")
    ] = False,
    mirror: Annotated[
        Path | None, typer.Option(help="copy from a local mirror laid out as MIRROR/owner/name/ instead")
    ] = None,
) -> None:
    """Show a model's size and licence, then fetch it into the models folder (converted where needed)."""
    from speech.fetch import check_pullable, pull
    from speech.recipes import find_spec
    from speech.types import ModelError

    spec = find_spec(name)
    typer.echo(spec.describe() if spec else f"{name}: no recipe; size and licence unknown")
    try:
        if spec:
            check_pullable(spec, accept_licence=accept_licence)
        if not yes:
            typer.confirm("fetch it?", abort=True)
        path = pull(
            name, settings().models_dir, progress=typer.echo, mirror=mirror, accept_licence=accept_licence
        )
    except ModelError as exc:
        fail(exc)
    typer.echo(f"ok: {path}")


@models_cli.command("verify")
def models_verify() -> None:
    """Load each configured model and report what works; exit 1 if something does not."""
    from speech.models import verify

    current = settings()
    checks = verify(
        current.models_dir,
        transcriber=current.transcriber,
        whisper_model=current.whisper_model,
        speaker=current.speaker,
        piper_voice=current.piper_voice,
        piper_voices=current.piper_voices,
    )
    for result in checks:
        mark = "ok " if result.ok else "BAD"
        typer.echo(f"{mark} {result.name:<32} {result.seconds:5.1f}s  {result.detail}")
    if not all(result.ok for result in checks):
        raise typer.Exit(1)


def assess_command(
    step: Annotated[str | None, typer.Argument(help="the checkpoint's step: course/lesson/step")] = None,
    answer: Annotated[str | None, typer.Argument(help="the answer to check")] = None,
    *,
    language: Annotated[Lang, typer.Option(help="the answer's language")] = Lang.FRENCH,
    assessor: Annotated[str | None, typer.Option(help="rubric, llm or remote; the setting if unset")] = None,
    feedback: Annotated[bool, typer.Option(help="let the model write feedback (checked before use)")] = False,
    list_steps: Annotated[bool, typer.Option("--list", help="list the checkpoints' steps")] = False,
) -> None:
    """Check one answer; print the verdict as JSON: per key point, pass, confidence, who decided, feedback."""
    import asyncio

    from bot.components import model_options
    from lessons.combined import AssessorKind, build_assessor
    from lessons.content import load_library
    from lessons.evaluation import assess_json, checkpoint_refs

    current = settings()
    library = load_library(current.content_dir)
    if list_steps:
        typer.echo("\n".join(checkpoint_refs(library.courses)))
        return
    if step is None or answer is None:
        fail("give a step (course/lesson/step) and an answer, or --list")
    kind = assessor or current.assessor
    if kind not in get_args(AssessorKind):
        fail(f"unknown assessor {kind!r}: rubric, llm or remote")
    checker = build_assessor(cast(AssessorKind, kind), model_options(current), feedback=feedback)
    try:
        verdict = asyncio.run(assess_json(checker, library.courses, step, answer, language))
    except KeyError as exc:
        fail(exc.args[0])
    typer.echo(json.dumps(verdict, ensure_ascii=False, indent=2, default=str))


@eval_cli.command("assess")
def eval_assess(
    labelled: Annotated[Path | None, typer.Argument(help="labelled answers (YAML)")] = None,
    llm: Annotated[bool, typer.Option(help="also the model alone and the rubric with the model")] = True,
) -> None:
    """Rubric, model and both together on the labelled answers: accuracy, review, injections passed, time.

    The model alone's figures per language are written to the data folder's calibration records, which decide
    where its vote counts (shown at the end and by `maalem config`).
    """
    import asyncio

    from bot.components import calibration, model_options
    from lessons.calibration import calibrate
    from lessons.combined import CombinedAssessor, build_judge
    from lessons.content import load_library
    from lessons.evaluation import evaluate, load_labelled, render_table
    from lessons.rubric import RubricMatcher

    current = settings()
    library = load_library(current.content_dir)
    items = load_labelled(labelled or current.content_dir / "eval" / "answers.yaml", library.courses)
    assessors: dict[str, Assessor] = {"rubric": RubricMatcher()}
    if llm:
        kind: Literal["llm", "remote"] = "remote" if current.assessor == "remote" else "llm"
        judge = build_judge(kind, model_options(current))
        assessors |= {kind: judge, f"rubric + {kind}": CombinedAssessor(RubricMatcher(), judge)}
    typer.echo(f"{len(items)} labelled answers")
    scores = asyncio.run(evaluate(assessors, items, library.courses))
    typer.echo(render_table(scores))
    if llm:
        model, records = calibration(current)
        records.write(model, calibrate(next(s for s in scores if s.name == kind), date.today()))
        typer.echo(f"\ncalibration of {model}, written to {records.path}:")
        for lang, (ok, why) in records.trust(model).items():
            typer.echo(f"  {lang.value}: {'trusted' if ok else 'not trusted'}: {why}")


@eval_cli.command("speech")
def eval_speech(
    transcripts: Annotated[
        Path | None, typer.Argument(help="a transcripts TSV (file, language, text) or its folder")
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option(help="a Whisper model's name or folder; repeat to compare")
    ] = None,
) -> None:
    """Each model on the labelled voice notes, heard in their own language: WER, CER, RTF, to a person."""
    from speech.audio import AudioError, AudioLimits
    from speech.evaluation import SpeechSetInvalid, load_samples, speech_table, transcribe_all
    from speech.models import load_transcriber
    from speech.types import ModelError

    current = settings()
    try:
        samples = load_samples(transcripts or current.content_dir / "eval" / "speech")
    except (SpeechSetInvalid, OSError) as exc:
        fail(exc)
    limits = AudioLimits(max_bytes=current.max_audio_bytes, max_seconds=current.max_audio_seconds)
    kind: TranscriberKind = "faster-whisper" if current.transcriber == "none" else current.transcriber
    typer.echo(f"{len(samples)} voice notes")
    names: list[str | None] = [*model] if model else [current.whisper_model]
    for name in names:
        try:
            transcriber = load_transcriber(kind, name, current.models_dir, limits=limits)
            assert transcriber is not None  # only the kind "none" gives no transcriber
            heard = transcribe_all(transcriber, samples)
        except (ModelError, AudioError, OSError) as exc:
            fail(exc)
        typer.echo(f"\n{name or 'default'} ({kind})\n{speech_table(heard)}")


def transcribe_command(
    file: Annotated[Path, typer.Argument(help="an audio file: OGG/Opus, M4A, MP3, AMR, WAV, MP4")],
    language: Annotated[str | None, typer.Option(help="the speaker's language, a hint")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the whole transcript as JSON")] = False,
) -> None:
    """Transcribe a voice note with the configured model (for operators)."""
    from speech.audio import AudioError, AudioLimits
    from speech.routing import load_routed
    from speech.types import LanguageNotHeard, ModelError

    current = settings()
    limits = AudioLimits(max_bytes=current.max_audio_bytes, max_seconds=current.max_audio_seconds)
    try:
        transcriber = load_routed(
            current.transcriber,
            current.whisper_model,
            current.whisper_models,
            current.models_dir,
            limits=limits,
        )
        if transcriber is None:
            fail("no transcriber configured (MAALEM_TRANSCRIBER=none)")
        if transcriber.warning:
            typer.echo(f"note: {transcriber.warning}", err=True)
        transcript = transcriber.transcribe(file, language=language)
    except (ModelError, AudioError, LanguageNotHeard, OSError) as exc:
        fail(exc)
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(transcript), ensure_ascii=False, indent=2))
    else:
        typer.echo(transcript.text)
