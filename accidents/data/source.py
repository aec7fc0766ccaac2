"""Where the BAAC files of a run come from: a folder, the download cache, or synthetic files.

Plain Python (no ZenML) so the CLI can fingerprint the data before a run (ZenML's step
cache is keyed on the actual files: an unchanged re-run is cached, new or edited files are
not), the ingest step can materialise them, and benchmarks can reuse both without
importing ZenML.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from collections.abc import Iterable, Mapping
from pathlib import Path

from accidents.config import DataConfig, resolve_path
from accidents.errors import ConfigError, DataError
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


def shift_slug(shift: Mapping[str, float] | None) -> str:
    """``{"vma": 0.8, "atm": 0.5}`` -> ``atm0.5-vma0.8`` (stable: sorted by column)."""
    return "-".join(f"{k}{v:g}" for k, v in sorted((shift or {}).items()))


def synthetic_dir(cfg: DataConfig, shift: Mapping[str, float] | None = None, variant: str = "") -> Path:
    """Folder of the synthetic files for these generator settings (re-used across runs).

    The one naming rule for every synthetic folder (training data, monitoring batches, the
    simulation's periods): ``shift`` and ``variant`` (e.g. ``from2023``: which years or
    months are shifted) name folders whose content differs from the plain generator output.
    """
    from accidents.synthetic import generator_fingerprint

    # The generator's fingerprint is in the name so a changed generator never reuses old files.
    key = f"seed{cfg.seed}-n{cfg.n_accidents}-drift{cfg.year_drift:g}-gen{generator_fingerprint()[:8]}"
    if shift:
        key += f"-shift-{shift_slug(shift)}"
    if variant:
        key += f"-{variant}"
    return resolve_path(cfg.cache_dir) / SYNTHETIC_SUBDIR / key


def write_synthetic_years(cfg: DataConfig, years: Iterable[int], shift: Mapping[str, float] | None = None,
                          shifted_years: Iterable[int] | None = None, variant: str = "") -> Path:
    """Generate (once) the synthetic ``years`` into ``synthetic_dir(cfg, shift, variant)``.

    ``shift`` applies to ``shifted_years`` (default: all of ``years``); the others are the
    plain generator output. Years already in the folder are not written again.
    """
    from accidents.synthetic import write_synthetic

    folder = synthetic_dir(cfg, shift, variant)
    shifted = set(years if shifted_years is None else shifted_years)
    for year in sorted(int(y) for y in years):
        if not has_years(folder, [year]):
            write_synthetic(folder, [year], cfg.n_accidents, seed=cfg.seed, year_drift=cfg.year_drift,
                            shift=shift if shift and year in shifted else None)
    return folder


def holds_synthetic_files(cfg: DataConfig, folder: Path) -> bool:
    """True when a BAAC file in ``folder`` is (or links to) a file of the synthetic cache.

    Why: a folder assembled from synthetic years (the simulation's "data so far", a retrain
    on a monitored synthetic batch) is read as ``data.source: dir``, yet its figures must
    still be announced as synthetic.
    """
    root = (resolve_path(cfg.cache_dir) / SYNTHETIC_SUBDIR).resolve()
    folder = Path(folder)
    if not folder.is_dir():
        return False
    return any(path.resolve().is_relative_to(root) or folder.resolve().is_relative_to(root)
               for path in folder.rglob("*.csv*"))


def is_synthetic(cfg: DataConfig, source: str, folder: Path) -> bool:
    """The one rule for announcing a run's data as synthetic: generated for it, or a folder
    holding (links to) files of the synthetic cache. The ingest step records it and every
    report, tag and banner reads that record or this rule."""
    return source == "synthetic" or holds_synthetic_files(cfg, folder)


def resolve_source(cfg: DataConfig) -> tuple[str, Path]:
    """(source actually used, folder with the files) for a data section, without loading.

    ``auto``: real files in ``dir`` if all years are there, else in the download cache,
    else synthetic. ``dir``/``download`` never fall back to synthetic: missing files are an error.
    """
    data_dir = resolve_path(cfg.dir)
    cache = resolve_path(cfg.cache_dir) / DOWNLOAD_SUBDIR
    if cfg.source == "dir":
        if not has_years(data_dir, cfg.years) and data_dir.is_dir():
            from accidents.data.csv_formats import find_table_file, table_file_candidates

            # some tables there, not all: the precise message (which table of which year is missing)
            if any(table_file_candidates(data_dir, t, y) for y in cfg.years for t in TABLES):
                for year in cfg.years:
                    for table in TABLES:
                        find_table_file(data_dir, table, year)
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
    from accidents.synthetic.generator import FIRST_YEAR

    early = [y for y in cfg.years if y < FIRST_YEAR]
    if early:  # refused here, before a pipeline step would fail on it
        raise ConfigError(f"data.years {early}: no real BAAC files for them in {data_dir} or {cache}, "
                          f"and the synthetic generator writes the {FIRST_YEAR}+ format only")
    return "synthetic", synthetic_dir(cfg)


@dataclass(frozen=True)
class ResolvedData:
    """Where a run's BAAC files come from, decided once per run (by the command).

    The command resolves, the preflight and the ingest step materialise and read exactly
    this (no second decision that could differ, e.g. after a download filled the cache).
    """

    source: str  # dir | download | synthetic
    folder: str
    years: tuple[int, ...]

    @property
    def path(self) -> Path:
        return Path(self.folder)


def resolve(cfg: DataConfig) -> ResolvedData:
    """Decide the source of ``cfg``'s years (no generation or download here)."""
    source, folder = resolve_source(cfg)
    return ResolvedData(source, str(folder), tuple(int(y) for y in cfg.years))


def data_fingerprint(resolved: ResolvedData) -> str:
    """Hash of what the ingest step will read (file names, sizes, mtimes; or generator settings).

    Call it once the files exist (after ``materialise``): it keys ZenML's step cache, so an
    unchanged re-run is cached and new or edited files are not.
    """
    folder = resolved.path
    digest = hashlib.sha256(f"{resolved.source}|{sorted(resolved.years)}".encode())
    if resolved.source == "synthetic":
        from accidents.synthetic import generator_fingerprint

        digest.update(generator_fingerprint().encode())
        digest.update(folder.name.encode())
    elif folder.is_dir():
        for path in sorted(folder.rglob("*.csv*")):
            stat = path.stat()
            digest.update(f"{path.relative_to(folder)}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def materialise(cfg: DataConfig, resolved: ResolvedData | None = None) -> tuple[str, Path]:
    """Make the files exist (generate synthetic / download) and return (source, folder).

    ``resolved``: the run's decision (the command resolved it); None = decide now.
    """
    resolved = resolved or resolve(cfg)
    source, folder = resolved.source, resolved.path
    if source == "synthetic":
        from accidents.synthetic import SYNTHETIC_NOTICE

        print(SYNTHETIC_NOTICE, flush=True)
        write_synthetic_years(cfg, cfg.years)
    elif source == "download":
        from accidents.data.download import fetch_years

        fetched = fetch_years(cfg.years, folder)
        folder = Path(fetched) if isinstance(fetched, (str, Path)) else folder
    return source, folder
