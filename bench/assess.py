"""Time to assess one answer: rubric matcher, LLM cold (no prefix reuse), LLM with the fixed prompt reused.

Run: `.venv/bin/python -m bench.assess [--answers 24] [--model PATH] [--models-dir models]`
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from bench.table import median, percentile, table
from lessons.assessment import Assessor
from lessons.content import load_library
from lessons.course import Course
from lessons.evaluation import LabelledAnswer, find_checkpoint, load_labelled
from lessons.llm import load_lm
from lessons.llm_assessor import LLMAssessor
from lessons.rubric import RubricMatcher

ROOT = Path(__file__).resolve().parent.parent


async def timings(
    assessor: Assessor, items: Sequence[LabelledAnswer], courses: Mapping[str, Course]
) -> list[float]:
    """Seconds to assess each answer."""
    samples = []
    for item in items:
        checkpoint = find_checkpoint(courses, item.ref)
        start = time.perf_counter()
        await assessor.assess(checkpoint, item.text, item.lang)
        samples.append(time.perf_counter() - start)
    return samples


def peak_rss_mb() -> float:
    """The process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(answers: int, model: str | None, models_dir: Path) -> None:
    """Load everything, warm each assessor on the answers once, then time them."""
    library = load_library(ROOT / "content")
    labelled = load_labelled(ROOT / "content" / "eval" / "answers.yaml", library.courses)
    items = labelled[:: max(1, len(labelled) // answers)][:answers]
    before = peak_rss_mb()
    start = time.perf_counter()
    lm = load_lm(model, models_dir=models_dir)
    load_s = time.perf_counter() - start
    cold, reused = "LLM cold (no prefix reuse)", "LLM, fixed prompt reused"
    assessors: dict[str, Assessor] = {
        "rubric matcher": RubricMatcher(),
        cold: LLMAssessor(lm, reuse_prefix=False),
        reused: LLMAssessor(lm),
    }
    rows, medians = [], {}
    for name, assessor in assessors.items():
        await timings(assessor, items, library.courses)  # warm-up: first runs, the prefix cache filled
        samples = await timings(assessor, items, library.courses)
        medians[name] = median(samples)
        rows.append(
            [name, len(samples), f"{medians[name] * 1000:.1f}", f"{percentile(samples, 95) * 1000:.1f}"]
        )
    print(f"Assessing one answer (3 key points each) from the labelled set; model {lm.name} on {lm.device}")
    print(table(["assessor", "answers", "median ms", "p95 ms"], rows))
    print(
        f"fixed prompt reused: {medians[cold] / medians[reused]:.1f}x faster than cold; "
        f"model load {load_s:.1f} s; peak RSS {peak_rss_mb():.0f} MB ({before:.0f} MB before the model)"
    )


def main() -> None:
    """Parse arguments, run, print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=24)
    parser.add_argument(
        "--model", default=None, help="local folder or GGUF file; the bundled SmolLM2 if unset"
    )
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    args = parser.parse_args()
    asyncio.run(run(args.answers, args.model, args.models_dir))


if __name__ == "__main__":
    main()
