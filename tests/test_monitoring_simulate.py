"""Unit tests of the continuous-training simulation's parts (table, plot, month periods).

The full ``run.py simulate`` run (real ZenML) is in tests/test_monitoring_pipeline.py,
where it also provides the monitoring runs the pipeline tests inspect.
"""

from __future__ import annotations

from pathlib import Path

from accidents.monitoring.simulation import PeriodRecord, plot_png, records_table


def test_plot_and_table_from_records() -> None:
    records = [
        PeriodRecord("2021", "", None, None, retrain=True, new_version="1", promoted=True),
        PeriodRecord("2022", "1", 3000, 0.0, roc_auc=0.79, reference_roc_auc=0.78),
        PeriodRecord("2023", "1", 3100, 0.08, ["vma", "atm", "an_nais"], 0.72, 0.78,
                     retrain=True, new_version="2", promoted=True),
    ]
    table = records_table(records)
    assert table["served_by"].tolist() == ["(training)", "1", "1"]
    assert table["retrain"].tolist() == [True, False, True]
    assert table.loc[2, "drifted"] == "vma, atm, an_nais"
    png = plot_png(records, retrain_share=0.05)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000


def test_month_periods_are_month_filtered_baac_files(tmp_path: Path) -> None:
    """Month mode writes "data so far" as BAAC files the loader reads, holding only those
    months; a shifted month comes from the shifted copy, the others are untouched."""
    from accidents.data.loader import load_years
    from accidents.data.subsets import filter_months, merge_months
    from accidents.synthetic import write_synthetic

    write_synthetic(tmp_path / "base", [2023], 400, seed=3)
    write_synthetic(tmp_path / "shifted", [2023], 400, seed=3, shift={"atm": 1.0})
    full = load_years(tmp_path / "base", [2023])
    filter_months(tmp_path / "base", 2023, {1, 2, 3}, tmp_path / "q1")
    q1 = load_years(tmp_path / "q1", [2023])
    in_q1 = full.caracteristiques["mois"].isin([1, 2, 3])
    assert set(q1.caracteristiques["mois"]) <= {1, 2, 3}
    assert len(q1.caracteristiques) == int(in_q1.sum()) > 0
    assert len(q1.usagers) == int(full.usagers["Num_Acc"].isin(
        full.caracteristiques.loc[in_q1, "Num_Acc"]).sum())
    merge_months(tmp_path / "base", tmp_path / "shifted", 2023, {12}, tmp_path / "mixed")
    mixed = load_years(tmp_path / "mixed", [2023]).caracteristiques.set_index("Num_Acc")
    base = full.caracteristiques.set_index("Num_Acc")
    assert len(mixed) == len(base)
    december = base["mois"] == 12
    assert (mixed.loc[base.index[~december], "atm"] == base.loc[~december, "atm"]).all()
    assert (mixed.loc[base.index[december], "atm"] != base.loc[december, "atm"]).mean() > 0.5


def test_every_synthetic_folder_is_named_by_one_rule(tmp_path: Path) -> None:
    """Shifted monitoring/simulation data lives beside the training data, named with the
    generator's fingerprint (a changed generator never reuses stale files)."""
    from accidents.config import DataConfig
    from accidents.data.source import synthetic_dir, write_synthetic_years
    from accidents.synthetic import generator_fingerprint

    cfg = DataConfig(cache_dir=str(tmp_path), n_accidents=60, years=[2023])
    shifted = write_synthetic_years(cfg, [2023], {"atm": 1.0, "vma": 0.5})
    plain = synthetic_dir(cfg)
    assert shifted.parent == plain.parent and shifted != plain
    assert generator_fingerprint()[:8] in shifted.name and shifted.name.endswith("shift-atm1-vma0.5")
    assert (shifted / "usagers-2023.csv").is_file() and not plain.exists()
    mixed = write_synthetic_years(cfg, [2022, 2023], {"atm": 1.0}, shifted_years=[2023], variant="from2023")
    assert mixed.name.endswith("shift-atm1-from2023") and (mixed / "usagers-2022.csv").is_file()


def test_retraining_folder_links_training_years_and_the_batch(tmp_path: Path) -> None:
    """``monitor --retrain`` learns from the training years plus the monitored batch: one folder
    of links the loader reads; a batch year replaces the same training year; --months keeps
    only those months of the batch."""
    from accidents.data.loader import load_years
    from accidents.monitoring.retraining import retraining_folder
    from accidents.synthetic import write_synthetic

    write_synthetic(tmp_path / "train", [2022, 2023], 150, seed=1)
    write_synthetic(tmp_path / "batch", [2023, 2024], 150, seed=2, shift={"atm": 1.0})
    folder, years = retraining_folder(tmp_path / "train", [2022, 2023], tmp_path / "batch", [2023, 2024],
                                      tmp_path / "out")
    assert years == [2022, 2023, 2024]
    assert all(p.is_symlink() for p in folder.rglob("*.csv"))
    assert (folder / "2023" / "usagers-2023.csv").resolve() == (tmp_path / "batch" / "usagers-2023.csv").resolve()
    both = load_years(folder, years).caracteristiques
    batch = load_years(tmp_path / "batch", [2023, 2024]).caracteristiques
    train = load_years(tmp_path / "train", [2022]).caracteristiques
    assert len(both) == len(batch) + len(train)
    folder_q1, _ = retraining_folder(tmp_path / "train", [2022], tmp_path / "batch", [2024], tmp_path / "out",
                                     months=[1, 2, 3])
    q1 = load_years(folder_q1, [2024]).caracteristiques
    assert 0 < len(q1) < 150 and set(q1["mois"]) <= {1, 2, 3}
