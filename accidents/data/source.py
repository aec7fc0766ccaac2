"""Where the BAAC files of a run come from: a folder, the download cache, or synthetic files.

Plain Python (no ZenML) so the CLI can fingerprint the data before a run (ZenML's step
cache is keyed on the actual files: an unchanged re-run is cached, new or edited files are
not), the ingest step can materialise them, and benchmarks can reuse both without
importing ZenML.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from accidents.config import DataConfig, resolve_path
from accidents.errors import DataError
from accidents.data.schema import TABLES

SYNTHETIC_SUBDIR = "synthetic"
#: Sub-folder of ``data.cache_dir`` where accidents.data.download.fetch_years caches real files.
DOWNLOAD_SUBDIR = "baac"


def has_years(folder: Path, years: list[int]) -> bool:
    """True when every table of every year has a file in ``folder`` (names as the loader finds them)."""
    from accidents.data.csv_formats import table_file_candidates

    return folder.is_dir() and all(
        table_file_candidates(folder, table, year) for year in years for table in TABLES
    )


def synthetic_dir(cfg: DataConfig) -> Path:
    """Folder of the synthetic files for these generator settings (re-used across runs)."""
    from accidents.synthetic import generator_fingerprint

    # The generator's fingerprint is in the name so a changed generator never reuses old files.
    key = f"seed{cfg.seed}-n{cfg.n_accidents}-drift{cfg.year_drift:g}-gen{generator_fingerprint()[:8]}"
    return resolve_path(cfg.cache_dir) / SYNTHETIC_SUBDIR / key


def resolve_source(cfg: DataConfig) -> tuple[str, Path]:
    """(source actually used, folder with the files) for a data section, without loading.

    ``auto``: real files in ``dir`` if all years are there, else in the download cache,
    else synthetic. ``dir``/``download`` never fall back to synthetic: missing files are an error.
    """
    data_dir = resolve_path(cfg.dir)
    cache = resolve_path(cfg.cache_dir) / DOWNLOAD_SUBDIR
    if cfg.source == "dir":
        if not has_years(data_dir, cfg.years):
            raise DataError(f"data.source is dir but {data_dir} does not hold the four BAAC tables for "
                            f"years {cfg.years} (expected e.g. usagers-{cfg.years[0]}.csv)")
        return "dir", data_dir
    if cfg.source == "download":
        return "download", cache
    if cfg.source == "auto":
        if has_years(data_dir, cfg.years):
            return "dir", data_dir
        if has_years(cache, cfg.years):
            return "dir", cache
    return "synthetic", synthetic_dir(cfg)


def data_fingerprint(cfg: DataConfig) -> str:
    """Hash of what the ingest step will read (file names, sizes, mtimes; or generator settings)."""
    source, folder = resolve_source(cfg)
    digest = hashlib.sha256(f"{source}|{sorted(cfg.years)}".encode())
    if source == "synthetic":
        from accidents.synthetic import generator_fingerprint

        digest.update(generator_fingerprint().encode())
        digest.update(folder.name.encode())
    elif folder.is_dir():
        for path in sorted(folder.rglob("*.csv*")):
            stat = path.stat()
            digest.update(f"{path.relative_to(folder)}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def materialise(cfg: DataConfig) -> tuple[str, Path]:
    """Make the files exist (generate synthetic / download) and return (source, folder)."""
    source, folder = resolve_source(cfg)
    if source == "synthetic":
        from accidents.synthetic import SYNTHETIC_NOTICE, write_synthetic

        print(SYNTHETIC_NOTICE, flush=True)
        if not has_years(folder, cfg.years):
            folder.mkdir(parents=True, exist_ok=True)
            write_synthetic(folder, cfg.years, cfg.n_accidents, seed=cfg.seed, year_drift=cfg.year_drift)
    elif source == "download":
        from accidents.data.download import fetch_years

        fetched = fetch_years(cfg.years, folder)
        folder = Path(fetched) if isinstance(fetched, (str, Path)) else folder
    return source, folder
