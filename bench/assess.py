"""Time and memory to assess one answer: the rubric, and the same GGUF model on llama.cpp and transformers.

Each engine runs in its own process, so its peak resident memory is its own. "cold" is an answer to a
checkpoint whose fixed prompt is not cached yet (a fresh judge each answer); "warm" reuses the cached prefix.
Run: `.venv/bin/python -m bench.assess [--answers 12] [--model PATH] [--models-dir models]`
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from bench.table import median, percentile, table
from lessons.assessment import Assessor
from lessons.content import load_library
from lessons.course import Course
from lessons.evaluation import LabelledAnswer, find_checkpoint, load_labelled
from lessons.rubric import RubricMatcher

ROOT = Path(__file__).resolve().parent.parent
ENGINES = ("rubric", "llama.cpp", "transformers")


async def timings(
    assessor: Callable[[], Assessor], items: Sequence[LabelledAnswer], courses: Mapping[str, Course]
) -> list[float]:
    """Seconds to assess each answer, each by the assessor `assessor()` gives for it."""
    samples = []
    for item in items:
        checkpoint = find_checkpoint(courses, item.ref)
        judge = assessor()
        start = time.perf_counter()
        await judge.assess(checkpoint, item.text, item.lang)
        samples.append(time.perf_counter() - start)
    return samples


def three_point_answers(answers: int) -> tuple[list[LabelledAnswer], Mapping[str, Course]]:
    """Up to `answers` labelled answers to checkpoints with three key points, spread over the set."""
    library = load_library(ROOT / "content")
    labelled = load_labelled(ROOT / "content" / "eval" / "answers.yaml", library.courses)
    three = [i for i in labelled if len(find_checkpoint(library.courses, i.ref).key_points) == 3]
    return three[:: max(1, len(three) // answers)][:answers], library.courses


async def measure(
    engine: str, answers: int, model: str | None, models_dir: Path, threads: int
) -> dict[str, float]:
    """One engine's figures (in this process): load time, cold and warm ms per answer, peak RSS."""
    items, courses = three_point_answers(answers)
    start = time.perf_counter()
    if engine == "rubric":
        rubric = RubricMatcher()
        await timings(lambda: rubric, items, courses)  # warm-up
        samples = await timings(lambda: rubric, items, courses)
        return {"load_s": 0.0, "warm_ms": 1000 * median(samples), "p95_ms": 1000 * percentile(samples, 95)}
    from lessons.llamacpp import load_llamacpp
    from lessons.llm import ScoringLM, load_lm
    from lessons.llm_assessor import LLMAssessor
    from lessons.model_file import find_model

    path = find_model(model, models_dir)
    lm: ScoringLM = (
        load_llamacpp(path, threads=threads)
        if engine == "llama.cpp"
        else load_lm(path, models_dir=models_dir)
    )
    load_s = time.perf_counter() - start
    cold = await timings(lambda: LLMAssessor(lm), items, courses)
    shared = LLMAssessor(lm)
    await timings(lambda: shared, items, courses)  # fills the prefix cache
    warm = await timings(lambda: shared, items, courses)
    return {
        "load_s": load_s,
        "first_ms": 1000 * cold[0],
        "cold_ms": 1000 * median(cold),
        "warm_ms": 1000 * median(warm),
        "p95_ms": 1000 * percentile(warm, 95),
    }


def run_engine(engine: str, args: argparse.Namespace) -> dict[str, float]:
    """Measure one engine in a child process and read its figures back."""
    command = [sys.executable, "-m", "bench.assess", "--engine", engine, "--answers", str(args.answers)]
    command += ["--models-dir", str(args.models_dir), "--threads", str(args.threads)]
    command += ["--model", args.model] if args.model else []
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def report(args: argparse.Namespace) -> None:
    """Every engine in its own process, then one table with the ratios."""
    found = {engine: run_engine(engine, args) for engine in ENGINES}
    rows = []
    for engine, f in found.items():
        cells = [f"{f[k]:.1f}" if k in f else "-" for k in ("first_ms", "cold_ms", "warm_ms", "p95_ms")]
        rows.append([engine, f"{f['load_s']:.1f}", *cells, f"{f['rss_mb']:.0f}"])
    print(
        f"Assessing one answer with 3 key points ({args.answers} labelled answers), one process per engine, "
        f"llama.cpp on {args.threads} thread(s)"
    )
    print(table(["engine", "load s", "first ms", "cold ms", "warm ms", "p95 ms", "peak RSS MB"], rows))
    cpp, hf = found["llama.cpp"], found["transformers"]
    print(
        f"llama.cpp vs transformers: {hf['cold_ms'] / cpp['cold_ms']:.1f}x faster cold, "
        f"{hf['warm_ms'] / cpp['warm_ms']:.1f}x faster warm, "
        f"{hf['rss_mb'] / cpp['rss_mb']:.1f}x less memory; "
        f"rubric median {found['rubric']['warm_ms']:.2f} ms per answer"
    )


def main() -> None:
    """Parse arguments; measure one engine (child) or all of them (the table)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=12)
    parser.add_argument("--model", default=None, help="a GGUF file; the bundled SmolLM2 if unset")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument(
        "--threads", type=int, default=1, help="llama.cpp's threads (the product's default: 1)"
    )
    parser.add_argument("--engine", choices=ENGINES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine is None:
        report(args)
        return
    figures = asyncio.run(measure(args.engine, args.answers, args.model, args.models_dir, args.threads))
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
