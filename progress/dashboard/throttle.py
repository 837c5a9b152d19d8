"""Login throttling: a growing lockout after repeated failures, and a bound on concurrent password checks.

The state is in this process's memory: one web process serves the dashboard (a restart forgets it, and
several processes would each count on their own).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

WINDOW = 15 * 60
"""Failures older than this (since the last one) are forgotten."""
BASE_DELAY = 30.0
MAX_DELAY = 15 * 60.0


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    until: float = 0.0


@dataclass
class LoginThrottle:
    """Counts failed logins per account and per address, and hands out the few password-check slots.

    After `per_login` failures for one login (or `per_address` from one address, higher: a cooperative's
    trainers may share one), further tries wait 30 s, doubling with each failure up to 15 minutes.
    """

    per_login: int = 5
    per_address: int = 20
    checks: int = 4
    """Password checks (argon2, about 80 ms of CPU and 19 MiB each) running at once; more are refused."""
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, _Failures] = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _slots: threading.BoundedSemaphore = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._slots = threading.BoundedSemaphore(self.checks)

    @staticmethod
    def _keys(login: str, address: str) -> dict[str, str]:
        return {"login": f"login:{login.strip().lower()}", "address": f"address:{address}"}

    def retry_after(self, login: str, address: str) -> int:
        """Seconds before this login may be tried from this address; 0 when it may be tried now."""
        now = self.clock()
        with self._lock:
            waits = [
                found.until - now
                for key in self._keys(login, address).values()
                if (found := self._failures.get(key))
            ]
        return max(0, math.ceil(max(waits, default=0.0)))

    def failed(self, login: str, address: str) -> None:
        """Count a failed try; past the limit, lock the login or the address for a growing delay."""
        now = self.clock()
        with self._lock:
            if len(self._failures) > 100_000:
                self._failures = {k: f for k, f in self._failures.items() if now - f.last < WINDOW}
            for kind, key in self._keys(login, address).items():
                found = self._failures.setdefault(key, _Failures())
                found.count = found.count + 1 if now - found.last < WINDOW else 1
                found.last = now
                limit = self.per_login if kind == "login" else self.per_address
                if found.count >= limit:
                    found.until = now + min(MAX_DELAY, BASE_DELAY * 2 ** (found.count - limit))

    def succeeded(self, login: str, address: str) -> None:
        """Forget the account's failures (the address keeps its count)."""
        with self._lock:
            self._failures.pop(self._keys(login, address)["login"], None)

    @contextmanager
    def slot(self) -> Iterator[bool]:
        """A password-check slot if one is free now (True), without waiting; False when all are taken."""
        got = self._slots.acquire(blocking=False)
        try:
            yield got
        finally:
            if got:
                self._slots.release()
