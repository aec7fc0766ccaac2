"""The one rule that announces a run's data as synthetic (accidents.data.source.is_synthetic).

A retrain after monitoring reads a folder of links (accidents/monitoring/retraining.py) as
``data.source: dir``; its files are the synthetic cache's, so the run, its MLflow tags and
its banner must still say SYNTHETIC. Real files in a plain folder must not.
"""

from __future__ import annotations

from pathlib import Path

from accidents.config import DataConfig
from accidents.data.source import SYNTHETIC_SUBDIR, is_synthetic
from accidents.monitoring.retraining import retraining_folder
from accidents.synthetic import write_synthetic


def test_links_to_the_synthetic_cache_are_synthetic_real_folders_are_not(tmp_path: Path) -> None:
    cfg = DataConfig(cache_dir=str(tmp_path / "cache"))
    generated = tmp_path / "cache" / SYNTHETIC_SUBDIR / "run"
    write_synthetic(generated, [2022], 200, seed=1)
    real = tmp_path / "real"
    write_synthetic(real, [2023], 200, seed=2)  # stands for real files: outside the cache

    folder, years = retraining_folder(generated, [2022], real, [2023], tmp_path / "retrain")
    assert years == [2022, 2023]
    assert is_synthetic(cfg, "dir", folder)
    assert is_synthetic(cfg, "dir", generated)
    assert is_synthetic(cfg, "synthetic", real)
    assert not is_synthetic(cfg, "dir", real)
    assert not is_synthetic(cfg, "dir", tmp_path / "missing")
