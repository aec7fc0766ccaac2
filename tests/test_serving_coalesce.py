"""Concurrent requests reaching the scorer in one loop turn are scored in one call, each
getting back exactly its own rows; a lone request is not held back; errors reach everyone."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from accidents.serving.coalesce import Coalescer


def _score(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, str]:
    values = columns["x"].astype(float) / 100
    return values, values >= 0.5, f"batch{len(values)}"


def test_requests_of_one_loop_turn_share_one_call_and_get_their_own_rows() -> None:
    coalescer = Coalescer(_score)

    async def run() -> list[tuple]:
        sizes = [1, 3, 1, 2]
        starts = np.cumsum([0, *sizes])
        return await asyncio.gather(*(coalescer.score({"x": np.arange(s, s + n)})
                                      for s, n in zip(starts, sizes, strict=False)))

    results = asyncio.run(run())
    assert coalescer.calls == 1
    assert [r[0].tolist() for r in results] == [[0.0], [0.01, 0.02, 0.03], [0.04], [0.05, 0.06]]
    assert [r[3] for r in results] == [0, 1, 4, 5] and {r[2] for r in results} == {"batch7"}


def test_a_lone_request_is_scored_at_once() -> None:
    coalescer = Coalescer(_score)

    async def run() -> tuple:
        return await asyncio.wait_for(coalescer.score({"x": np.array([70])}), timeout=1)

    proba, severe, request_id, offset = asyncio.run(run())
    assert proba.tolist() == [0.7] and severe.tolist() == [True] and offset == 0


def test_a_scorer_error_reaches_every_waiting_request() -> None:
    def broken(columns: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, str]:
        raise ValueError("model failed")

    coalescer = Coalescer(broken)

    async def run() -> list:
        return await asyncio.gather(*(coalescer.score({"x": np.array([i])}) for i in range(3)),
                                    return_exceptions=True)

    results = asyncio.run(run())
    assert all(isinstance(r, ValueError) for r in results)
    with pytest.raises(ValueError):
        asyncio.run(Coalescer(broken).score({"x": np.array([1])}))
