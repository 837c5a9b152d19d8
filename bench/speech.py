"""Speech benchmark: real-time factor, peak memory, voice notes at once, and text-to-speech time.

Run: `.venv/bin/python bench/speech.py`. Each backend is measured in a subprocess of its own, so that its peak
resident memory is its own and the two engines' thread pools (OpenMP) never share a process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # run as a script, this folder would hide `speech`

from bot.settings import Settings
from speech.audio import RATE, Samples, decode_audio, encode_audio
from speech.models import bundled_whisper
from speech.testing import CRAFT_STEPS, openai_whisper_checkpoint
from speech.transcribe import FasterWhisper, OpenAIWhisper
from speech.tts import EspeakSpeaker, PiperSpeaker

THREADS = 2
CLIPS = (5, 15, 30, 60)
NOTES = 8
MAX_NEW_TOKENS = 200
REPEATS = 3
WINDOW = 30 * RATE

# Fairness. Both engines run the same tiny dimensions (4+4 layers, width 384, 51.8k tokens) on the same
# clips with the same 2 threads, greedy decoding, no timestamps, no voice filter, no temperature fallback and
# no conditioning on the previous window, so each 30-second window costs one encoder pass and one decoder pass
# per token. The openai-whisper checkpoint has random weights (no real one can be fetched offline): it would
# never stop talking, so end-of-text is suppressed and it decodes exactly as many tokens per window as
# faster-whisper's real tiny.en did on that clip (both counts are printed). Same work, different engines.
FAIR = {
    "language": "en",
    "temperature": 0.0,
    "without_timestamps": True,
    "condition_on_previous_text": False,
    "compression_ratio_threshold": None,
    "no_speech_threshold": None,
}


def best_time(run: Callable[[], object]) -> float:
    """The shortest wall time of a few runs (the machine may be shared)."""
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: `ru_maxrss` would count the parent's before `exec`)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def speech(seconds: float, espeak: EspeakSpeaker, start: int = 0) -> Samples:
    """Craft sentences spoken one after another (a quarter second apart), cut to `seconds` at 16 kHz."""
    parts: list[Samples] = []
    index = start
    while sum(len(p) for p in parts) < seconds * RATE:
        samples, rate = espeak.synthesize(CRAFT_STEPS[index % len(CRAFT_STEPS)], "en")
        parts += [decode_audio(encode_audio(samples, rate, "wav")).samples, np.zeros(RATE // 4, np.float32)]
        index += 1
    return np.concatenate(parts)[: int(seconds * RATE)]


def windows(samples: Samples) -> list[Samples]:
    """30-second windows, each decoded on its own by both engines (as Whisper does without conditioning)."""
    return np.split(samples, range(WINDOW, len(samples), WINDOW))


def faster_whisper_worker(folder: Path) -> dict[str, Any]:
    """Real-time factors of faster-whisper int8 tiny.en, fair and as deployed, and its tokens per window."""
    transcriber = FasterWhisper(bundled_whisper(), device="cpu", cpu_threads=THREADS)
    clips = {s: np.load(folder / f"clip-{s}.npy") for s in CLIPS}
    fair = {
        **FAIR,
        "beam_size": 1,
        "vad_filter": False,
        "log_prob_threshold": None,
        "max_new_tokens": MAX_NEW_TOKENS,
    }

    def decode(samples: Samples) -> list[int]:
        return [
            sum(len(s.tokens) for s in transcriber.model.transcribe(w, **fair)[0]) for w in windows(samples)
        ]

    decode(clips[5])
    out: dict[str, Any] = {}
    for seconds, samples in clips.items():
        out[str(seconds)] = {
            "tokens": decode(samples),
            "rtf": best_time(partial(decode, samples)) / seconds,
            "production_rtf": best_time(partial(transcriber.transcribe_samples, samples, language="en"))
            / seconds,
        }
    return {"clips": out, "rss_mb": peak_rss_mb(), **where_time_goes(transcriber, clips[30])}


def where_time_goes(transcriber: FasterWhisper, samples: Samples) -> dict[str, float]:
    """One 30-s window through CTranslate2 directly: the encoder pass, and one greedy decoder step."""
    import ctranslate2
    from faster_whisper.tokenizer import Tokenizer

    model = transcriber.model
    frames = WINDOW // model.feature_extractor.hop_length
    features = ctranslate2.StorageView.from_array(
        np.ascontiguousarray(model.feature_extractor(samples)[None, :, :frames])
    )
    encoded = model.model.encode(features)
    tokenizer = Tokenizer(model.hf_tokenizer, multilingual=False)
    prompt = [tokenizer.sot, tokenizer.no_timestamps]

    def decode(length: int) -> tuple[float, int]:
        start = time.perf_counter()
        result = model.model.generate(encoded, [prompt], beam_size=1, max_length=length)
        return time.perf_counter() - start, len(result[0].sequences_ids[0])

    (first, one), (full, many) = (
        min(decode(3) for _ in range(REPEATS)),
        min(decode(448) for _ in range(REPEATS)),
    )
    return {
        "encode_ms": best_time(partial(model.model.encode, features)) * 1000,
        "step_ms": (full - first) / max(1, many - one) * 1000,
    }


def openai_whisper_worker(folder: Path, tokens: dict[str, list[int]]) -> dict[str, Any]:
    """Real-time factors of openai-whisper tiny (random weights) decoding the same token counts."""
    import torch

    torch.set_num_threads(THREADS)
    transcriber = OpenAIWhisper(folder / "tiny-random.pt", device="cpu")
    model = transcriber.model
    steps = [0]
    forward = model.decoder.forward

    def counted(*args: Any, **kwargs: Any) -> Any:
        steps[0] += 1
        return forward(*args, **kwargs)

    model.decoder.forward = counted
    eot = 50257

    def decode(samples: Samples, counts: list[int]) -> list[int]:
        """Each 30-s window on its own, with its own token count; the decoder steps taken in each."""
        taken = []
        for window, count in zip(windows(samples), counts, strict=True):
            options = {**FAIR, "beam_size": None, "sample_len": count, "logprob_threshold": None}
            steps[0] = 0
            model.transcribe(window, suppress_tokens=f"-1,{eot}", fp16=False, verbose=None, **options)
            taken.append(steps[0])
        return taken

    out: dict[str, Any] = {}
    decode(np.load(folder / "clip-5.npy"), [8])
    for seconds in CLIPS:
        samples = np.load(folder / f"clip-{seconds}.npy")
        counts = tokens[str(seconds)]
        out[str(seconds)] = {
            "tokens": decode(samples, counts),
            "rtf": best_time(partial(decode, samples, counts)) / seconds,
        }
    return {"clips": out, "rss_mb": peak_rss_mb()}


def throughput_worker(folder: Path, workers: str) -> dict[str, Any]:
    """Eight voice notes, production settings, on a transcriber with `workers` workers sharing the cores:
    one by one, then all at once (as the service hands them over, each from a thread of its own)."""
    notes = [np.load(folder / f"note-{i}.npy") for i in range(NOTES)]
    transcriber = FasterWhisper(bundled_whisper(), device="cpu", workers=int(workers))
    transcriber.transcribe_samples(notes[0], language="en")

    def one_by_one() -> None:
        for note in notes:
            transcriber.transcribe_samples(note, language="en")

    def at_once() -> None:
        with ThreadPoolExecutor(NOTES) as executor:
            list(executor.map(lambda note: transcriber.transcribe_samples(note, language="en"), notes))

    return {
        "audio_s": sum(len(n) for n in notes) / RATE,
        "one_by_one_s": best_time(one_by_one),
        "at_once_s": best_time(at_once),
        "rss_mb": peak_rss_mb(),
    }


def tts_worker(folder: Path) -> dict[str, Any]:
    """Seconds to speak a sentence with espeak-ng and Piper, and to find it again in the cache."""
    sentences = CRAFT_STEPS[:6]
    out: dict[str, Any] = {}
    for speaker in (EspeakSpeaker(folder / "espeak"), PiperSpeaker(folder / "piper")):
        speaker.speak("Warm up.", "en")
        start = time.perf_counter()
        for sentence in sentences:
            speaker.speak(sentence, "en")
        made = (time.perf_counter() - start) / len(sentences)
        start = time.perf_counter()
        for sentence in sentences:
            speaker.speak(sentence, "en")
        out[speaker.backend] = {
            "speak_s": made,
            "hit_s": (time.perf_counter() - start) / len(sentences),
            "hits": speaker.hits,
            "misses": speaker.misses,
        }
    return out


def run_worker(name: str, folder: Path, *extra: str) -> dict[str, Any]:
    """Run one worker in a fresh interpreter and read its JSON answer (the last line it prints)."""
    command = [sys.executable, "-m", "bench.speech", "--worker", name, str(folder), *extra]
    done = subprocess.run(command, check=True, capture_output=True, text=True, cwd=Path(__file__).parents[1])
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    """Make the clips, run every worker, print the tables."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        espeak = EspeakSpeaker(folder / "cache")
        for seconds in CLIPS:
            np.save(folder / f"clip-{seconds}.npy", speech(seconds, espeak))
        for index in range(NOTES):
            np.save(folder / f"note-{index}.npy", speech(6.0, espeak, start=index))
        openai_whisper_checkpoint(folder / "tiny-random.pt")
        fast = run_worker("faster-whisper", folder)
        tokens = {s: c["tokens"] for s, c in fast["clips"].items()}
        reference = run_worker("openai-whisper", folder, json.dumps(tokens))
        workers = Settings().transcription_workers
        alone = run_worker("throughput", folder, "1")
        pooled = run_worker("throughput", folder, str(workers))
        tts = run_worker("tts", folder)

    print(f"Transcription, tiny, {THREADS} threads, greedy, same tokens per 30-s window (real-time factor)")
    header = ("clip", "tokens", "faster-whisper int8", "openai-whisper", "speed-up", "prod*")
    print("{:>6} {:>9} {:>20} {:>15} {:>9} {:>7}".format(*header))
    for seconds in CLIPS:
        f, o = fast["clips"][str(seconds)], reference["clips"][str(seconds)]
        count = "+".join(map(str, f["tokens"])) + ("" if f["tokens"] == o["tokens"] else "≠")
        line = f"{seconds:>5}s {count:>9} {f['rtf']:>20.3f} {o['rtf']:>15.3f} {o['rtf'] / f['rtf']:>8.1f}x"
        print(f"{line} {f['production_rtf']:>7.3f}")
    print("* faster-whisper as deployed: beam 5, voice-activity filter, temperature fallback.")
    print(
        f"faster-whisper per 30-s window: encoder {fast['encode_ms']:.0f} ms, then "
        f"{fast['step_ms']:.1f} ms per decoded token"
    )
    print(f"\nPeak memory (RSS) loaded and working: faster-whisper {fast['rss_mb']:.0f} MB, ", end="")
    print(f"openai-whisper {reference['rss_mb']:.0f} MB")
    threads = max(1, THREADS // workers)
    best = min(alone["one_by_one_s"], pooled["one_by_one_s"])
    print(f"\n{NOTES} voice notes at once ({alone['audio_s']:.0f} s of audio, production settings):")
    print(f"  one by one, {THREADS} threads on a note: {alone['one_by_one_s']:.2f} s")
    print(f"  one by one, {threads} thread(s) on a note: {pooled['one_by_one_s']:.2f} s")
    print(f"  all at once, {workers} workers × {threads} thread(s): {pooled['at_once_s']:.2f} s", end="")
    print(f" → {best / pooled['at_once_s']:.2f}x the faster one by one")
    print(f"  peak memory (RSS) with {workers} notes transcribed at once: {pooled['rss_mb']:.0f} MB")
    print("\nText to speech, per sentence:")
    for backend, row in tts.items():
        print(
            f"  {backend:<10} speak {row['speak_s'] * 1000:7.1f} ms, cache hit {row['hit_s'] * 1000:6.3f} ms",
            end="",
        )
        print(f" ({row['hits']} hits, {row['misses']} misses)")
    print(f"\nTotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--worker", choices=["faster-whisper", "openai-whisper", "throughput", "tts"])
    parser.add_argument("args", nargs="*")
    arguments = parser.parse_args()
    if arguments.worker is None:
        main()
    else:
        workers: dict[str, Callable[..., dict[str, Any]]] = {
            "faster-whisper": faster_whisper_worker,
            "openai-whisper": lambda f, t: openai_whisper_worker(f, json.loads(t)),
            "throughput": throughput_worker,
            "tts": tts_worker,
        }
        print(json.dumps(workers[arguments.worker](Path(arguments.args[0]), *arguments.args[1:])))
