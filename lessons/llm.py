"""Loading a local causal language model (folder or GGUF file) and scoring next tokens with prefix reuse."""

from __future__ import annotations

import copy
import hashlib
import logging
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch

from lessons.model_file import find_model

log = logging.getLogger(__name__)

_SLOT = "\ue000"
"""Marks where data goes in a rendered chat template (a private-use character, removed from answers)."""


def pick_device(device: str | None = None) -> torch.device:
    """The requested device, else the GPU when one is present, else the CPU."""
    if device:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _converted_folder(gguf: Path, cache_dir: Path) -> Path:
    """Where the safetensors copy of a GGUF file lives; the name changes when the file does."""
    stat = gguf.stat()
    digest = hashlib.sha256(f"{gguf.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:12]
    return cache_dir / f"{gguf.stem}-{digest}"


def _auto_classes() -> tuple[Any, Any]:
    """Transformers' model and tokenizer loaders, imported only when a model is loaded."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM, AutoTokenizer


def _convert_gguf(gguf: Path, target: Path) -> None:
    """De-quantise a GGUF file once into a safetensors folder, which loads in a fraction of the time."""
    model_class, tokenizer_class = _auto_classes()
    log.info("converting %s to safetensors in %s (once)", gguf, target)
    tokenizer = tokenizer_class.from_pretrained(gguf.parent, gguf_file=gguf.name)
    quantized = model_class.from_pretrained(gguf.parent, gguf_file=gguf.name)
    config = quantized.config
    del config.quantization_config  # the de-quantised weights are plain tensors
    plain = model_class.from_config(config)
    plain.load_state_dict(quantized.state_dict())
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        plain.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        staging.rename(target)
    except OSError:
        if not (target / "config.json").is_file():
            raise
        log.info("another process converted %s first", gguf)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def resolve_model(path: Path, models_dir: Path | None) -> tuple[Path, str | None]:
    """The folder to load from and, when loading a GGUF file directly, its file name.

    A GGUF file is converted once to safetensors under `models_dir/cache` when there is a models folder.
    """
    if path.suffix != ".gguf":
        return path, None
    if models_dir is None:
        return path.parent, path.name
    folder = _converted_folder(path, models_dir / "cache")
    if not (folder / "config.json").is_file():
        _convert_gguf(path, folder)
    return folder, None


@dataclass(frozen=True)
class Prefix:
    """The attention cache left by a prompt's shared start, to continue from without running it again."""

    cache: Any


class ScoringLM(Protocol):
    """What the local judge needs of a model runtime (transformers' `LocalLM`, llama.cpp's `LlamaCppLM`)."""

    name: str
    lock: threading.Lock

    def encode(self, text: str, *, data: bool = False) -> list[int]: ...
    def token_ids(self, words: tuple[str, ...]) -> list[int]: ...
    def chat_parts(self, system: str, head: str, tail: str) -> tuple[str, str]: ...
    def encode_chat(self, system: str, head: str, data: str, tail: str) -> list[int]: ...
    def prefill(self, ids: list[int], after: Prefix | None = None) -> Prefix: ...
    def last_logprobs(self, prefix: Prefix | None, rows: list[list[int]]) -> torch.Tensor: ...
    def generate(self, ids: list[int], max_new_tokens: int) -> str: ...


class ChatTokens(ABC):
    """What both runtimes derive from their tokenizer and chat template: reply tokens, guarded prompts."""

    @abstractmethod
    def encode(self, text: str, *, data: bool = False) -> list[int]:
        """Token ids of `text`; with `data`, special-token strings inside it stay plain text."""

    @abstractmethod
    def chat_parts(self, system: str, head: str, tail: str) -> tuple[str, str]:
        """The chat-formatted prompt around a data slot between `head` and `tail`, up to the reply."""

    def token_ids(self, words: tuple[str, ...]) -> list[int]:
        """The first token of each word, spelled as a reply would start it, without duplicates."""
        found: dict[int, None] = {}
        for word in words:
            if ids := self.encode(word):
                found[ids[0]] = None
        return list(found)

    def encode_chat(self, system: str, head: str, data: str, tail: str) -> list[int]:
        """Token ids of a chat prompt whose `data` part can never turn into special tokens."""
        before, after = self.chat_parts(system, head, tail)
        return self.encode(before) + self.encode(data, data=True) + self.encode(after)


@dataclass
class LocalLM(ChatTokens):
    """One causal language model and its tokenizer, used by one thread at a time."""

    model: Any
    tokenizer: Any
    device: torch.device
    name: str
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def pad_id(self) -> int:
        """The padding token, or end-of-text where the tokenizer has none."""
        pad = self.tokenizer.pad_token_id
        return int(self.tokenizer.eos_token_id if pad is None else pad)

    def encode(self, text: str, *, data: bool = False) -> list[int]:
        """Token ids of `text`; with `data`, special-token strings inside it stay plain text."""
        ids: list[int] = self.tokenizer(text, add_special_tokens=False, split_special_tokens=data)[
            "input_ids"
        ]
        return ids

    def decode(self, ids: list[int]) -> str:
        """Text of generated token ids."""
        return str(self.tokenizer.decode(ids, skip_special_tokens=True))

    def chat_parts(self, system: str, head: str, tail: str) -> tuple[str, str]:
        """The chat-formatted prompt around a data slot between `head` and `tail`, up to the reply."""
        user = head + _SLOT + tail
        if self.tokenizer.chat_template:
            messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            text = str(
                self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            )
        else:
            text = f"{system}\n\nUser: {user}\n\nAssistant:"
        before, after = text.split(_SLOT)
        return before, after

    @torch.inference_mode()
    def prefill(self, ids: list[int], after: Prefix | None = None) -> Prefix:
        """Run a shared part of a prompt once (continuing `after`, left as it was) and keep its cache."""
        cache = copy.deepcopy(after.cache) if after else None
        batch = torch.tensor([ids], device=self.device)
        out = self.model(batch, past_key_values=cache, use_cache=True, logits_to_keep=1)
        return Prefix(out.past_key_values)

    @torch.inference_mode()
    def last_logprobs(self, prefix: Prefix | None, rows: list[list[int]]) -> torch.Tensor:
        """Log-probabilities of the token after each row (each continuing `prefix`), in one batched pass."""
        width = max(len(r) for r in rows)
        pad = self.pad_id
        # Right padding: causal attention never lets a row's real tokens see the padding after them.
        batch = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=self.device)
        cache = None
        if prefix is not None:
            cache = copy.deepcopy(prefix.cache)
            cache.batch_repeat_interleave(len(rows))
        ends = [len(r) - 1 for r in rows]
        keep = sorted(set(ends))  # the output layer runs only where some row ends
        out = self.model(
            batch,
            past_key_values=cache,
            use_cache=cache is not None,
            logits_to_keep=torch.tensor(keep, device=self.device),
        )
        where = torch.tensor([keep.index(end) for end in ends], device=self.device)
        logits = out.logits[torch.arange(len(rows), device=self.device), where].float()
        return torch.log_softmax(logits, dim=-1).cpu()

    @torch.inference_mode()
    def generate(self, ids: list[int], max_new_tokens: int) -> str:
        """Greedy continuation of a prompt's token ids."""
        batch = torch.tensor([ids], device=self.device)
        out = self.model.generate(
            batch,
            attention_mask=torch.ones_like(batch),
            max_new_tokens=max_new_tokens,
            do_sample=False,
            pad_token_id=self.pad_id,
        )
        return self.decode(out[0, len(ids) :].tolist())


def load_lm(
    source: str | Path | None = None, *, models_dir: Path | None = None, device: str | None = None
) -> LocalLM:
    """Load a local instruct model (folder, GGUF file, name under `models_dir`; the bundled SmolLM2 if unset).

    It runs on `device`, else on a GPU when one is present, else on the CPU.
    """
    model_class, tokenizer_class = _auto_classes()
    path = find_model(source, models_dir)
    folder, gguf_file = resolve_model(path, models_dir)
    target = pick_device(device)
    dtype = torch.bfloat16 if target.type == "cuda" else torch.float32
    tokenizer = tokenizer_class.from_pretrained(folder, gguf_file=gguf_file)
    model = model_class.from_pretrained(folder, gguf_file=gguf_file, dtype=dtype).to(target).eval()
    return LocalLM(model, tokenizer, target, name=path.name)
