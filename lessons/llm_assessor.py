"""Answer checking by a local language model, its prompt's fixed part computed once and reused."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Sequence

import torch

from lessons.judging import MIN_CONFIDENCE, MIN_MASS, NO, YES, ChatPrompt, PointScore, YesNoJudge, yes_no
from lessons.llm import Prefix, ScoringLM


class LLMAssessor(YesNoJudge):
    """A local model judging key points.

    With `reuse_prefix`, the instructions and rubric run once per checkpoint and language (kept in a small
    cache), the answer once, and then only each key point's question, all key points in one batch.
    """

    def __init__(
        self,
        lm: ScoringLM,
        *,
        reuse_prefix: bool = True,
        cache_size: int = 32,
        feedback: bool = False,
        min_confidence: float = MIN_CONFIDENCE,
        min_mass: float = MIN_MASS,
    ) -> None:
        super().__init__(feedback=feedback, min_confidence=min_confidence, min_mass=min_mass)
        self.lm = lm
        self.reuse_prefix = reuse_prefix
        self.cache_size = cache_size
        self._prefixes: OrderedDict[str, Prefix] = OrderedDict()
        self._yes = lm.token_ids(YES)
        self._no = lm.token_ids(NO)

    async def score(self, prompts: Sequence[ChatPrompt]) -> list[PointScore | None]:
        """Run off the event loop, one answer at a time."""
        return await asyncio.to_thread(self._score, prompts)

    async def complete(self, prompt: ChatPrompt, max_tokens: int) -> str | None:
        """Greedy generation off the event loop."""
        return await asyncio.to_thread(self._generate, prompt, max_tokens)

    def _generate(self, prompt: ChatPrompt, max_tokens: int) -> str:
        with self.lm.lock:  # the tokenizer, like the model, serves one thread at a time
            return self.lm.generate(
                self.lm.encode_chat(prompt.system, prompt.head, prompt.data, prompt.tail), max_tokens
            )

    def _score(self, prompts: Sequence[ChatPrompt]) -> list[PointScore | None]:
        with self.lm.lock:
            parts = [self.lm.chat_parts(p.system, p.head, p.tail) for p in prompts]
            head = self.lm.encode(parts[0][0])
            data = self.lm.encode(prompts[0].data, data=True)
            asks = [self.lm.encode(after) for _, after in parts]
            if self.reuse_prefix:
                answered = self.lm.prefill(data, after=self._prefix(parts[0][0], head))
                logprobs = self.lm.last_logprobs(answered, asks)
            else:
                logprobs = torch.cat([self.lm.last_logprobs(None, [head + data + ask]) for ask in asks])
        return [self._read(row) for row in logprobs]

    def _prefix(self, text: str, ids: list[int]) -> Prefix:
        """The cached run of a prompt's fixed part, computed on first use."""
        if (prefix := self._prefixes.get(text)) is not None:
            self._prefixes.move_to_end(text)
            return prefix
        prefix = self._prefixes[text] = self.lm.prefill(ids)
        if len(self._prefixes) > self.cache_size:
            self._prefixes.popitem(last=False)
        return prefix

    def _read(self, logprobs: torch.Tensor) -> PointScore:
        return yes_no(
            float(torch.logsumexp(logprobs[self._yes], 0)),
            float(torch.logsumexp(logprobs[self._no], 0)),
        )
