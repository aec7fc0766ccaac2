"""Score concurrent single requests together, without a batching wait.

Why: with single-row requests at high concurrency, a worker spent about a third of its
time in the scorer, mostly in XGBoost's fixed cost per call, and a log write per request.
BentoML's adaptive batching amortised that but makes every request wait for its window
(and takes one argument only, so no ``explain`` flag). Here a request that reaches the
scorer joins a list and the first one schedules the flush with ``call_soon``: every request
that gets there within the same event-loop turn is scored in one call and logged in one
write, and a lone request waits one loop turn (microseconds), never a timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import numpy as np

#: (probability, severe, request id) for a batch of validated columns.
ScoreFn = Callable[[dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray, str]]


class Coalescer:
    """Merges the columns of requests waiting in the same loop turn into one ``score`` call."""

    def __init__(self, score: ScoreFn) -> None:
        self._score = score
        self._pending: list[tuple[dict[str, np.ndarray], asyncio.Future]] = []
        self.calls = 0  # scorer calls made (for tests and diagnostics)

    async def score(self, columns: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, str, int]:
        """This request's (probability, severe, batch request id, offset of its first row in the batch)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future = loop.create_future()
        self._pending.append((columns, future))
        if len(self._pending) == 1:
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        first = pending[0][0]
        try:
            merged = first if len(pending) == 1 else {
                name: np.concatenate([columns[name] for columns, _ in pending]) for name in first}
            self.calls += 1
            proba, severe, request_id = self._score(merged)
        except Exception as exc:  # every waiting request gets the error, none hangs
            for _, future in pending:
                if not future.done():
                    future.set_exception(exc)
            return
        offset = 0
        for columns, future in pending:
            n = len(columns[next(iter(columns))])
            if not future.done():  # a client may have gone away meanwhile
                future.set_result((proba[offset:offset + n], severe[offset:offset + n], request_id, offset))
            offset += n
