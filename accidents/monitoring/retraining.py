"""The data a retrain after a monitoring run learns from: the training years plus the batch.

``run.py monitor --retrain`` (and the README's drift demo) retrains when the decision says
so. What it retrains on must hold what the production model knew (the profile's training
years) and what it has just been shown to miss (the monitored batch, with its labels), in
one folder the training pipeline's loader reads like any BAAC folder. Both sides keep
their files: the folder is made of symbolic links (``<year>/<published file name>``), so
no BAAC file is copied or rewritten, and the data fingerprint (file sizes and times, read
through the links) changes exactly when a side's files change. A batch year that is also a
training year replaces it (the batch is the newer copy of that year). A batch restricted to
some months is written as month-filtered BAAC files first (same format, same loader).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterable
from pathlib import Path

from accidents.data.csv_formats import find_table_file
from accidents.data.schema import TABLES
from accidents.data.subsets import filter_months


def retraining_folder(training_dir: Path, training_years: Iterable[int], batch_dir: Path,
                      batch_years: Iterable[int], target_root: Path,
                      months: Iterable[int] | None = None) -> tuple[Path, list[int]]:
    """(folder, years): links to ``training_years`` of ``training_dir`` and ``batch_years`` of
    ``batch_dir`` under ``target_root/<digest of the sources>/``."""
    batch_years = sorted({int(y) for y in batch_years})
    kept = sorted({int(y) for y in training_years} - set(batch_years))
    months = sorted({int(m) for m in months}) if months else None
    key = f"{Path(training_dir).resolve()}|{kept}|{Path(batch_dir).resolve()}|{batch_years}|{months}"
    folder = Path(target_root) / hashlib.sha256(key.encode()).hexdigest()[:12]
    shutil.rmtree(folder, ignore_errors=True)  # links only: rebuilt so they follow the sources
    batch_source = Path(batch_dir)
    if months:
        for year in batch_years:
            filter_months(batch_source, year, months, folder / "months")
        batch_source = folder / "months"
    for source, years in ((Path(training_dir), kept), (batch_source, batch_years)):
        for year in years:
            for table in TABLES:
                found = find_table_file(source, table, year).resolve()
                link = folder / str(year) / found.name
                link.parent.mkdir(parents=True, exist_ok=True)
                link.symlink_to(found)
    return folder, sorted(kept + batch_years)
