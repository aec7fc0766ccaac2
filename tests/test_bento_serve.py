"""ops/bento_serve.py: which port a `bentoml serve` argument list means, and its metrics folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.bento_serve import DEFAULT_PORT, _port, metrics_dir


@pytest.mark.parametrize(("argv", "port"), [
    (["svc:v1", "--host", "127.0.0.1", "--port", "3001"], 3001),
    (["svc:v1", "-p", "3002"], 3002),
    (["svc:v1", "--port=3003"], 3003),
    (["svc:v1"], DEFAULT_PORT),
])
def test_port_is_read_like_bentoml_serve_reads_it(argv: list[str], port: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BENTOML_PORT", raising=False)
    assert _port(argv) == port


def test_port_falls_back_to_bentoml_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENTOML_PORT", "3100")
    assert _port(["svc:v1"]) == 3100


def test_each_port_has_its_own_folder_outside_the_one_bentoml_wipes(tmp_path: Path) -> None:
    a, b = metrics_dir(tmp_path, 3000), metrics_dir(tmp_path, 3001)
    assert a != b
    wiped = tmp_path / "prometheus_multiproc_dir"  # what a plain `bentoml serve` deletes at start
    assert wiped not in a.parents and wiped not in b.parents
