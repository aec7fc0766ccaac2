"""Download from a real HTTP server on loopback that answers like data.gouv.fr."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from accidents.data.download import CHUNK, DownloadError, classify, fetch_years
from accidents.data.loader import load_years
from accidents.data.schema import TABLES
from accidents.errors import DataError
from accidents.synthetic import write_synthetic
from tests.fixtures.download import FakeDataGouv, ServedFile

SYNTH_YEAR = 2022
#: Titles as data.gouv.fr publishes them (the 2022 caracteristiques name is misspelled).
SYNTH_TITLES = {"caracteristiques": "carcteristiques-2022.csv", "lieux": "lieux-2022.csv",
                "vehicules": "vehicules-2022.csv", "usagers": "usagers-2022.csv"}


@pytest.fixture(scope="module")
def synthetic_2022(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("served")
    write_synthetic(out, [SYNTH_YEAR], 300, seed=9)
    return out


@pytest.fixture
def api(fake_datagouv: FakeDataGouv, synthetic_2022: Path) -> FakeDataGouv:
    """The fake API offering synthetic 2022 files, plus look-alikes that must be ignored."""
    for table, title in SYNTH_TITLES.items():
        fake_datagouv.add(title, ServedFile(title, synthetic_2022 / f"{table}-{SYNTH_YEAR}.csv"))
    fake_datagouv.add("vehicules-immatricules-baac-2022.csv", ServedFile(
        "vehicules-immatricules-baac-2022.csv", synthetic_2022 / "vehicules-2022.csv"))
    fake_datagouv.add("description-bd-accidents-2022.pdf", ServedFile(
        "Description des bases de données 2022", synthetic_2022 / "lieux-2022.csv", fmt="pdf"))
    return fake_datagouv


def _fetch(api: FakeDataGouv, cache: Path, years: list[int] | None = None,
           **kw: int | bool) -> Path:
    return fetch_years(years or [SYNTH_YEAR], cache, api_url=api.api_url, backoff=0.0, **kw)


def _file_hits(api: FakeDataGouv) -> list[str]:
    return [path for path, _ in api.requests if path.startswith("/files/")]


def test_fetches_verifies_and_the_loader_reads_it(api: FakeDataGouv, synthetic_2022: Path,
                                                  tmp_path: Path) -> None:
    out = _fetch(api, tmp_path / "cache")
    assert out == tmp_path / "cache"
    for table in TABLES:
        got = out / str(SYNTH_YEAR) / f"{table}-{SYNTH_YEAR}.csv"
        assert got.read_bytes() == (synthetic_2022 / f"{table}-{SYNTH_YEAR}.csv").read_bytes()
    assert not list(out.rglob("*.part"))
    assert not any("immatricul" in p or ".pdf" in p for p in _file_hits(api))
    tables = load_years(out, [SYNTH_YEAR])
    assert len(tables.caracteristiques) == 300
    manifest = json.loads((out / str(SYNTH_YEAR) / "manifest.json").read_text())
    assert manifest["usagers"]["title"] == "usagers-2022.csv"


@pytest.mark.real_data
def test_real_samples_served_in_place(fake_datagouv: FakeDataGouv, samples_dir: Path,
                                      tmp_path: Path) -> None:
    """The real 2023 first pages, announced under published-style titles."""
    titles = {"caracteristiques": "caract-2023.csv", "lieux": "lieux-2023.csv",
              "vehicules": "vehicules-2023.csv", "usagers": "usagers_2023.csv"}
    for table, title in titles.items():
        fake_datagouv.add(title, ServedFile(title, samples_dir / "2023" / f"{table}-2023.csv",
                                            checksum_type="sha256"))
    out = fetch_years([2023], tmp_path, api_url=fake_datagouv.api_url, backoff=0.0)
    tables = load_years(out, [2023])
    assert len(tables.caracteristiques) == 65 and len(tables.usagers) == 147


def test_second_call_downloads_nothing(api: FakeDataGouv, tmp_path: Path) -> None:
    _fetch(api, tmp_path)
    first = len(_file_hits(api))
    assert first == 4
    _fetch(api, tmp_path)
    assert len(_file_hits(api)) == first


def test_changed_or_damaged_files_are_fetched_again(api: FakeDataGouv, tmp_path: Path) -> None:
    _fetch(api, tmp_path)
    api.files["lieux-2022.csv"].last_modified = "2025-01-01T00:00:00+00:00"  # republished
    damaged = tmp_path / str(SYNTH_YEAR) / f"usagers-{SYNTH_YEAR}.csv"
    damaged.write_bytes(damaged.read_bytes()[:-10])
    before = len(_file_hits(api))
    _fetch(api, tmp_path)
    again = _file_hits(api)[before:]
    assert sorted(again) == ["/files/lieux-2022.csv", "/files/usagers-2022.csv"]


def test_server_error_is_retried(api: FakeDataGouv, tmp_path: Path) -> None:
    api.faults["usagers-2022.csv"] = ["500", "500"]
    _fetch(api, tmp_path)
    assert len(api.file_requests("usagers-2022.csv")) == 3
    assert (tmp_path / str(SYNTH_YEAR) / f"usagers-{SYNTH_YEAR}.csv").is_file()


def test_persistent_server_error_names_url_table_and_year(api: FakeDataGouv,
                                                          tmp_path: Path) -> None:
    api.faults["usagers-2022.csv"] = ["500"] * 10
    with pytest.raises(DownloadError) as err:
        _fetch(api, tmp_path, retries=2)
    message = str(err.value)
    assert "usagers 2022" in message and f"{api.base_url}/files/usagers-2022.csv" in message
    assert "HTTP 500" in message and "expected 200 or 206" in message
    assert isinstance(err.value, DataError)  # run.py prints it as a user error


def test_interrupted_transfer_resumes_with_range(api: FakeDataGouv, synthetic_2022: Path,
                                                 tmp_path: Path) -> None:
    api.faults["usagers-2022.csv"] = ["drop"]
    _fetch(api, tmp_path)
    source = (synthetic_2022 / f"usagers-{SYNTH_YEAR}.csv").read_bytes()
    ranges = api.file_requests("usagers-2022.csv")
    assert len(ranges) == 2 and ranges[0] is None
    resumed_at = int(ranges[1].removeprefix("bytes=").removesuffix("-"))
    # Resumed where the drop happened (less at most the last incomplete read).
    assert len(source) // 2 - CHUNK < resumed_at <= len(source) // 2
    got = (tmp_path / str(SYNTH_YEAR) / f"usagers-{SYNTH_YEAR}.csv").read_bytes()
    assert hashlib.sha1(got).hexdigest() == hashlib.sha1(source).hexdigest()


def test_checksum_mismatch_is_refused(api: FakeDataGouv, tmp_path: Path) -> None:
    api.files["lieux-2022.csv"].announced_checksum = "0" * 40
    with pytest.raises(DownloadError) as err:
        _fetch(api, tmp_path)
    message = str(err.value)
    assert "lieux 2022" in message and "/files/lieux-2022.csv" in message
    assert f"expected {'0' * 40}" in message
    assert not (tmp_path / str(SYNTH_YEAR) / f"lieux-{SYNTH_YEAR}.csv").exists()
    assert not list(tmp_path.rglob("*.part"))
    assert len(api.file_requests("lieux-2022.csv")) == 2  # one clean retry, then refused


def test_size_is_checked_when_there_is_no_checksum(api: FakeDataGouv, tmp_path: Path) -> None:
    served = api.files["vehicules-2022.csv"]
    served.checksum_type = None
    served.announced_size = served.path.stat().st_size + 7
    with pytest.raises(DownloadError, match=r"vehicules 2022 .* expected \d+ \(as the dataset API"):
        _fetch(api, tmp_path)


def test_missing_year_lists_what_the_dataset_offers(api: FakeDataGouv, tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as err:
        _fetch(api, tmp_path, years=[2020])
    message = str(err.value)
    assert "caracteristiques 2020" in message and api.api_url in message
    assert "e.g. usagers-2023.csv" in message


def test_api_error_is_clear(api: FakeDataGouv, tmp_path: Path) -> None:
    api.api_status = 503
    with pytest.raises(DownloadError, match=r"dataset API http://127\.0\.0\.1:\d+/api/1/datasets/.* HTTP 503"):
        _fetch(api, tmp_path)


def test_api_url_from_environment(api: FakeDataGouv, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BAAC_API_URL", api.api_url)
    fetch_years([SYNTH_YEAR], tmp_path, backoff=0.0)
    assert (tmp_path / str(SYNTH_YEAR) / f"lieux-{SYNTH_YEAR}.csv").is_file()


def test_progress_bar_on_stderr(api: FakeDataGouv, tmp_path: Path,
                                capsys: pytest.CaptureFixture[str]) -> None:
    _fetch(api, tmp_path, progress=True)
    captured = capsys.readouterr()
    assert "usagers-2022" in captured.err and "usagers-2022" not in captured.out


@pytest.mark.parametrize(("title", "url", "expected"), [
    ("carcteristiques-2022.csv", "https://x/a.csv", ("caracteristiques", 2022)),
    ("caract-2023.csv", "https://x/b.csv", ("caracteristiques", 2023)),
    ("Caract_2024", "https://x/c.csv", ("caracteristiques", 2024)),
    ("Caractéristiques 2021", "https://x/d.csv", ("caracteristiques", 2021)),
    ("usagers_2023.csv", "https://x/e.csv", ("usagers", 2023)),
    ("Véhicules 2019", "https://x/f.csv", ("vehicules", 2019)),
    ("", "https://static.data.gouv.fr/resources/x/20231005-lieux-2023.csv", ("lieux", 2023)),
    ("vehicules-immatricules-baac-2023.csv", "https://x/g.csv", None),
    ("Description des bases de données annuelles 2005-2023", "https://x/h.pdf", None),
    ("lieux", "https://x/lieux.csv", None),
])
def test_resource_classification(title: str, url: str, expected: tuple[str, int] | None) -> None:
    assert classify(title, url) == expected


def test_command_line(api: FakeDataGouv, tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    from accidents.data.download import main

    assert main(["2022", "--cache-dir", str(tmp_path), "--api-url", api.api_url]) == 0
    assert str(tmp_path) in capsys.readouterr().out
    assert main(["2020", "--cache-dir", str(tmp_path), "--api-url", api.api_url]) == 2
    assert "error: dataset API" in capsys.readouterr().err


def test_paginated_resource_listing(api: FakeDataGouv, tmp_path: Path) -> None:
    """Resources given as a link to pages (as API 2 does) are followed page by page."""
    api.page_size = 2
    _fetch(api, tmp_path)
    pages = [p for p, _ in api.requests if "/api/2/" in p]
    assert len(pages) == 3  # six resources, two per page
    assert (tmp_path / str(SYNTH_YEAR) / f"vehicules-{SYNTH_YEAR}.csv").is_file()
