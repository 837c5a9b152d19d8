"""Per-key-point judging against an OpenAI-compatible server (vLLM, llama.cpp) returning log-probabilities."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Sequence

import httpx
from pydantic import BaseModel, Field, ValidationError

from lessons.judging import MIN_CONFIDENCE, MIN_MASS, NO, YES, ChatPrompt, PointScore, YesNoJudge, yes_no

log = logging.getLogger(__name__)

TOP_LOGPROBS = 20
_YES = {w.strip().casefold() for w in YES}
_NO = {w.strip().casefold() for w in NO}


class TopLogprob(BaseModel):
    """One candidate for a generated token."""

    token: str
    logprob: float


class TokenLogprob(BaseModel):
    """A generated token with its most likely alternatives."""

    token: str
    logprob: float
    top_logprobs: list[TopLogprob] = []


class ChoiceLogprobs(BaseModel):
    """Log-probabilities of a choice's tokens."""

    content: list[TokenLogprob] | None = None


class Message(BaseModel):
    """The reply's message."""

    content: str | None = None


class Choice(BaseModel):
    """One reply."""

    message: Message
    logprobs: ChoiceLogprobs | None = None


class ChatCompletion(BaseModel):
    """The part of a `/chat/completions` response the grader reads."""

    choices: list[Choice] = Field(min_length=1)


def read_yes_no(completion: ChatCompletion) -> PointScore | None:
    """The yes/no score from the first reply token's alternatives; None when neither word is among them."""
    logprobs = completion.choices[0].logprobs
    if logprobs is None or not logprobs.content:
        return None
    first = logprobs.content[0]
    candidates = first.top_logprobs or [TopLogprob(token=first.token, logprob=first.logprob)]

    def total(words: set[str]) -> float:
        found = [c.logprob for c in candidates if c.token.strip().casefold() in words]
        return math.log(sum(math.exp(lp) for lp in found)) if found else -math.inf

    yes, no = total(_YES), total(_NO)
    return None if yes == no == -math.inf else yes_no(yes, no)


class RemoteAssessor(YesNoJudge):
    """A model behind an OpenAI-compatible `/chat/completions` endpoint, asked one key point per request.

    The requests for one answer share their system message and the start of the user message, so a server
    with prefix caching (vLLM's automatic prefix caching, llama.cpp's prompt cache) computes that part once.
    """

    def __init__(
        self,
        url: str,
        *,
        model: str = "default",
        api_key: str | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
        feedback: bool = False,
        min_confidence: float = MIN_CONFIDENCE,
        min_mass: float = MIN_MASS,
    ) -> None:
        super().__init__(feedback=feedback, min_confidence=min_confidence, min_mass=min_mass)
        self.endpoint = url.rstrip("/") + "/chat/completions"
        self.model = model
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.client = client or httpx.AsyncClient(timeout=timeout)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.client.aclose()

    async def score(self, prompts: Sequence[ChatPrompt]) -> list[PointScore | None]:
        """One request per key point, sent together."""
        return list(await asyncio.gather(*(self._score_one(p) for p in prompts)))

    async def _score_one(self, prompt: ChatPrompt) -> PointScore | None:
        completion = await self._chat(prompt, max_tokens=1, logprobs=True)
        return read_yes_no(completion) if completion else None

    async def complete(self, prompt: ChatPrompt, max_tokens: int) -> str | None:
        """The server's reply text."""
        completion = await self._chat(prompt, max_tokens=max_tokens, logprobs=False)
        return completion.choices[0].message.content if completion else None

    async def _chat(self, prompt: ChatPrompt, *, max_tokens: int, logprobs: bool) -> ChatCompletion | None:
        """Send one chat request; None when the server fails or answers outside the schema."""
        body: dict[str, object] = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": prompt.system},
                {"role": "user", "content": prompt.user},
            ],
            "max_tokens": max_tokens,
            "temperature": 0,
        }
        if logprobs:
            body |= {"logprobs": True, "top_logprobs": TOP_LOGPROBS}
        try:
            response = await self.client.post(self.endpoint, json=body, headers=self.headers)
            response.raise_for_status()
            return ChatCompletion.model_validate_json(response.content)
        except (httpx.HTTPError, ValidationError) as exc:
            log.warning("grader server at %s: %s", self.endpoint, exc)
            return None
