"""A GGUF model run by llama.cpp, with the same scoring interface as the transformers `LocalLM`."""

from __future__ import annotations

import ctypes
import importlib.util
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from lessons.llm import _SLOT, ChatTokens, Prefix, ScoringLM, load_lm
from lessons.model_file import find_model

log = logging.getLogger(__name__)


@dataclass
class LlamaCppLM(ChatTokens):
    """One llama.cpp model (GGUF file), used by one thread at a time.

    A prefix is its token ids: what llama.cpp's cache already holds of a prompt's start is kept and only the
    rest is run, so key points asked after one answer, and answers to one checkpoint, run only what differs.
    The cache holds one sequence, so the state after each of the last few prompt starts (prefixes that
    continue nothing) is also kept: a checkpoint asked after another restores its start, not rerunning it.
    """

    llama: Any
    name: str
    lock: threading.Lock = field(default_factory=threading.Lock)
    saved: OrderedDict[tuple[int, ...], bytes] = field(default_factory=OrderedDict)
    keep_states: int = 8

    def encode(self, text: str, *, data: bool = False) -> list[int]:
        """Token ids of `text`; with `data`, special-token strings inside it stay plain text."""
        return list(self.llama.tokenize(text.encode(), add_bos=False, special=not data))

    def decode(self, ids: list[int]) -> str:
        """Text of generated token ids."""
        return bytes(self.llama.detokenize(ids)).decode(errors="replace")

    def chat_parts(self, system: str, head: str, tail: str) -> tuple[str, str]:
        """The chat-formatted prompt (the GGUF's own template) around a data slot, up to the reply."""
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self.llama.metadata.get("tokenizer.chat_template")
        user = head + _SLOT + tail
        if template:
            formatter = Jinja2ChatFormatter(template, eos_token="", bos_token="", add_generation_prompt=True)
            messages: list[Any] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
            text = formatter(messages=messages).prompt
        else:
            text = f"{system}\n\nUser: {user}\n\nAssistant:"
        before, after = text.split(_SLOT)
        return before, after

    def _continue(self, prefix: Prefix | None, ids: list[int]) -> list[int]:
        """Evaluate `prefix` then `ids`, reusing the longest start the cache holds; all their tokens."""
        want = [*(prefix.cache if prefix else ()), *ids]
        held = self.llama.input_ids[: self.llama.n_tokens].tolist()
        keep = self.llama.longest_token_prefix(held, want)
        start = max(
            (s for s in self.saved if keep < len(s) <= len(want) and want[: len(s)] == list(s)),
            key=len,
            default=None,
        )
        if start is not None:
            self._restore(start)
            keep = len(start)
        keep = min(keep, len(want) - 1)  # one token left for logits
        self.llama.n_tokens = keep  # `eval` drops the cache after it
        self.llama.eval(want[keep:])
        return want

    def prefill(self, ids: list[int], after: Prefix | None = None) -> Prefix:
        """Run a shared part of a prompt (continuing `after`): its tokens; a start's state is kept."""
        tokens = tuple(self._continue(after, ids))
        if after is None and tokens not in self.saved:
            self._save(tokens)
        return Prefix(tokens)

    def _save(self, tokens: tuple[int, ...]) -> None:
        """Keep the attention cache after `tokens` (only it: llama-cpp-python's own state copies its logits
        buffer too, about 60 MB each); the oldest goes beyond `keep_states`."""
        import llama_cpp

        size = llama_cpp.llama_state_get_size(self.llama.ctx)
        buffer = (ctypes.c_uint8 * size)()
        used = llama_cpp.llama_state_get_data(self.llama.ctx, buffer, size)
        self.saved[tokens] = bytes(memoryview(buffer)[:used])
        if len(self.saved) > self.keep_states:
            self.saved.popitem(last=False)

    def _restore(self, tokens: tuple[int, ...]) -> None:
        """Put back the attention cache kept after `tokens` (the logits come from the next evaluation)."""
        import llama_cpp

        data = self.saved[tokens]
        self.saved.move_to_end(tokens)
        buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        if llama_cpp.llama_state_set_data(self.llama.ctx, buffer, len(data)) != len(data):
            raise RuntimeError("llama.cpp refused a state it gave")
        self.llama.input_ids[: len(tokens)] = tokens
        self.llama.n_tokens = len(tokens)

    def last_logprobs(self, prefix: Prefix | None, rows: list[list[int]]) -> torch.Tensor:
        """Log-probabilities of the token after each row (each continuing `prefix`)."""
        out = []
        for row in rows:
            self._continue(prefix, row)
            out.append(self._last_logits())
        return torch.log_softmax(torch.from_numpy(np.stack(out)), dim=-1)

    def _last_logits(self) -> np.ndarray[Any, np.dtype[np.float32]]:
        """The logits after the last token evaluated (llama.cpp keeps only those without `logits_all`)."""
        import llama_cpp

        row = llama_cpp.llama_get_logits_ith(self.llama.ctx, -1)
        return np.ctypeslib.as_array(row, shape=(self.llama.n_vocab(),)).astype(np.float32)

    def generate(self, ids: list[int], max_new_tokens: int) -> str:
        """Greedy continuation of a prompt's token ids."""
        self.llama.reset()
        made: list[int] = []
        for token in self.llama.generate(ids, temp=0.0, top_k=1, reset=True):
            if self.llama.token_eos() == token or len(made) >= max_new_tokens:
                break
            made.append(int(token))
        return self.decode(made)


def load_llamacpp(
    source: str | Path | None = None, *, models_dir: Path | None = None, n_ctx: int = 2048, threads: int = 1
) -> LlamaCppLM:
    """Load a GGUF model on llama.cpp (the bundled SmolLM2 if unset).

    One thread by default: llama.cpp's threads wait for each other at every layer, so on a box that is also
    transcribing and serving, one descheduled thread stalls the others (measured 20x slower under load).
    """
    from llama_cpp import Llama

    path = find_model(source, models_dir)
    llama = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=threads, logits_all=False, verbose=False)
    return LlamaCppLM(llama, name=path.name)


def load_scoring_lm(source: str | Path | None = None, *, models_dir: Path | None = None) -> ScoringLM:
    """A GGUF file on llama.cpp where it imports (else transformers, saying so); a folder on transformers."""
    path = find_model(source, models_dir)
    if path.suffix == ".gguf":
        if importlib.util.find_spec("llama_cpp") is not None:
            return load_llamacpp(path)
        log.warning("llama-cpp-python is not installed: grading %s on transformers (slower)", path.name)
    return load_lm(path, models_dir=models_dir)
