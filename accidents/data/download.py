"""Download the real BAAC yearly files from data.gouv.fr into a verified local cache.

Why: with internet, the pipelines should run on the real data, fetched once and reused.
``fetch_years(years, cache_dir)`` asks the data.gouv.fr dataset API (API 1:
``<api>/datasets/<dataset>/``) for the dataset's resources, picks the four tables of each
year by title / file name (names vary between years: ``carcteristiques-2022.csv``,
``caract-2023.csv``, ``usagers_2023.csv``...; the ``vehicules-immatricules-baac`` files and
documentation are ignored), and downloads each one:

- into ``<cache_dir>/<year>/<table>-<year>.csv`` (the layout ``load_years`` reads);
- through a ``.part`` file, resumed with an HTTP ``Range`` request after a dropped
  connection, retried on server errors (5xx) with a short back-off;
- verified with the checksum the API gives (sha1 / sha256 / md5), else the announced
  size; a mismatch discards the file and raises;
- idempotently: ``<cache_dir>/<year>/manifest.json`` records what each file is; a second
  call with an unchanged resource downloads nothing.

The API base URL comes from the ``api_url`` argument, else ``$BAAC_API_URL``, else
data.gouv.fr; the dataset from ``$BAAC_DATASET`` or its stable id (the slug changes when
a year is added). Errors name the URL, the year and table, and what was expected.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests
from tqdm import tqdm

from accidents.errors import DataError
from accidents.data.schema import TABLES

DEFAULT_API_URL = "https://www.data.gouv.fr/api/1"
#: "Bases de données annuelles des accidents corporels de la circulation routière".
DEFAULT_DATASET = "53698f4ca3a729239d2036df"
DEFAULT_CACHE_DIR = Path("data/cache/baac")
#: Read size: what a dropped connection can lose of the last, incomplete read.
CHUNK = 1 << 13
#: Seconds: (connect, read) for every request.
TIMEOUT = (10, 60)

_TABLE_PATTERNS: dict[str, re.Pattern[str]] = {
    "caracteristiques": re.compile(r"carac|carct|caract"),
    "lieux": re.compile(r"lieux"),
    "vehicules": re.compile(r"vehicule"),
    "usagers": re.compile(r"usager"),
}
#: Resources that look like a table but are something else.
_EXCLUDE = re.compile(r"immatricul|description|documentation|guide|notice|\.pdf\b")
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_HASHES = {"sha1": "sha1", "sha2": "sha256", "sha256": "sha256", "md5": "md5"}


class DownloadError(DataError):
    """A download that could not be completed or verified (names URL, year/table)."""


@dataclass(frozen=True)
class Resource:
    """One file of the dataset as the API describes it."""

    year: int
    table: str
    title: str
    url: str
    filesize: int | None
    checksum_type: str | None
    checksum: str | None
    last_modified: str | None
    resource_id: str | None

    @property
    def what(self) -> str:
        """``"usagers 2023 (usagers-2023.csv, <url>)"``, for messages."""
        return f"{self.table} {self.year} ({self.title}, {self.url})"


def _fold(text: str) -> str:
    """Lower-case ASCII form of a title (accents removed) for matching."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def classify(title: str, url: str) -> tuple[str, int] | None:
    """``(table, year)`` of a resource from its title, else its URL's file name; None if
    it is not one of the four yearly tables."""
    for text in (_fold(title), _fold(url.rsplit("/", 1)[-1])):
        if _EXCLUDE.search(text):
            return None
        tables = [t for t, p in _TABLE_PATTERNS.items() if p.search(text)]
        years = _YEAR.findall(text)
        if len(tables) == 1 and len(set(years)) == 1:
            return tables[0], int(years[0])
    return None


def _api_get(session: requests.Session, url: str) -> Any:
    try:
        response = session.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
    except requests.RequestException as exc:
        raise DownloadError(f"dataset API {url} did not answer: {exc}") from exc
    if response.status_code != 200:
        raise DownloadError(
            f"dataset API {url} answered HTTP {response.status_code} (expected 200 with the "
            f"dataset's JSON description): {response.text[:200]!r}")
    try:
        return response.json()
    except ValueError as exc:
        raise DownloadError(f"dataset API {url} did not return JSON: {response.text[:200]!r}") from exc


def _resource_list(session: requests.Session, payload: Any, url: str) -> list[Mapping[str, Any]]:
    """The resources of a dataset payload: an inline list (API 1) or a paginated link
    (``{"href": ...}``, API 2 style)."""
    if not isinstance(payload, Mapping) or "resources" not in payload:
        raise DownloadError(f"dataset API {url}: the answer has no 'resources' field "
                            "(expected a data.gouv.fr dataset description)")
    resources = payload["resources"]
    if isinstance(resources, list):
        return resources
    if isinstance(resources, Mapping) and resources.get("href"):
        out: list[Mapping[str, Any]] = []
        page_url: str | None = str(resources["href"])
        while page_url:
            page = _api_get(session, page_url)
            out.extend(page.get("data", []))
            page_url = page.get("next_page")
        return out
    raise DownloadError(f"dataset API {url}: unexpected 'resources' value {str(resources)[:100]}")


def list_resources(years: Sequence[int], api_url: str | None = None,
                   dataset: str | None = None,
                   session: requests.Session | None = None) -> dict[tuple[int, str], Resource]:
    """The resource to download for each (year, table) asked.

    When several resources match one (year, table), the most recently modified wins.
    Raises DownloadError listing what the dataset offers for a year with a missing table.
    """
    session = session or requests.Session()
    base = (api_url or os.environ.get("BAAC_API_URL") or DEFAULT_API_URL).rstrip("/")
    dataset = dataset or os.environ.get("BAAC_DATASET") or DEFAULT_DATASET
    url = f"{base}/datasets/{dataset}/"
    found: dict[tuple[int, str], Resource] = {}
    titles_by_year: dict[int, list[str]] = {}
    for item in _resource_list(session, _api_get(session, url), url):
        title, res_url = str(item.get("title") or ""), str(item.get("url") or "")
        if not res_url:
            continue
        kind = classify(title, res_url)
        for y in {int(y) for y in _YEAR.findall(_fold(title + " " + res_url))}:
            titles_by_year.setdefault(y, []).append(title)
        if kind is None or kind[1] not in years:
            continue
        table, year = kind
        checksum = item.get("checksum") or {}
        res = Resource(
            year=year, table=table, title=title, url=res_url,
            filesize=int(item["filesize"]) if item.get("filesize") else None,
            checksum_type=str(checksum.get("type") or "sha1") if checksum.get("value") else None,
            checksum=str(checksum["value"]).lower() if checksum.get("value") else None,
            last_modified=item.get("last_modified"), resource_id=item.get("id"))
        previous = found.get((year, table))
        if previous is None or (res.last_modified or "") > (previous.last_modified or ""):
            found[(year, table)] = res
    missing = [(y, t) for y in years for t in TABLES if (y, t) not in found]
    if missing:
        lines = "; ".join(
            f"{t} {y} (the dataset lists for {y}: {', '.join(sorted(titles_by_year.get(y, []))) or 'nothing'})"
            for y, t in missing)
        raise DownloadError(f"dataset API {url}: no resource found for {lines}. Expected a "
                            "CSV resource whose title or file name names the table and the year "
                            "(e.g. usagers-2023.csv)")
    return found


def _hash_file(path: Path, kind: str) -> str:
    digest = hashlib.new(_HASHES[kind])
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(path: Path, res: Resource) -> None:
    """Raise DownloadError unless ``path`` has the resource's checksum (or size)."""
    if res.checksum and res.checksum_type in _HASHES:
        got = _hash_file(path, res.checksum_type)
        if got != res.checksum:
            raise DownloadError(
                f"{res.what}: {res.checksum_type} checksum of the downloaded file is {got}, "
                f"expected {res.checksum} (as the dataset API announces); file discarded")
    elif res.filesize is not None and path.stat().st_size != res.filesize:
        raise DownloadError(
            f"{res.what}: downloaded {path.stat().st_size} bytes, expected {res.filesize} "
            "(as the dataset API announces); file discarded")


def _transfer(session: requests.Session, res: Resource, part: Path, progress: bool | None) -> None:
    """One attempt: fetch (the rest of) ``res`` into ``part``; raises on failure."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with session.get(res.url, stream=True, timeout=TIMEOUT, headers=headers) as response:
        if response.status_code == 416 and offset:  # nothing left: the part is complete
            return
        if response.status_code not in (200, 206):
            raise _RetryableError(
                f"{res.what}: HTTP {response.status_code} (expected 200 or 206)",
                retry=response.status_code >= 500 or response.status_code == 429)
        if response.status_code == 200 and offset:  # server ignored Range: start over
            offset = 0
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else res.filesize
        with part.open("ab" if offset else "wb") as fh, tqdm(
                total=total, initial=offset, unit="B", unit_scale=True, file=sys.stderr,
                desc=f"{res.table}-{res.year}", disable=None if progress is None else not progress,
                leave=False) as bar:
            for chunk in response.iter_content(CHUNK):
                fh.write(chunk)
                bar.update(len(chunk))
        if total is not None and part.stat().st_size < total:
            raise _RetryableError(
                f"{res.what}: connection closed after {part.stat().st_size} of {total} bytes",
                retry=True)


class _RetryableError(Exception):
    def __init__(self, message: str, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def download_resource(res: Resource, dest: Path, session: requests.Session | None = None,
                      retries: int = 3, backoff: float = 0.5,
                      progress: bool | None = None) -> Path:
    """Download ``res`` to ``dest`` (via ``dest.part``, resumed, verified); returns ``dest``."""
    session = session or requests.Session()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    errors: list[str] = []
    restarted = False
    attempt = 0
    while True:
        attempt += 1
        try:
            _transfer(session, res, part, progress)
            verify(part, res)
            part.replace(dest)
            return dest
        except DownloadError:
            part.unlink(missing_ok=True)
            if restarted:  # a fresh full download was already tried
                raise
            restarted = True  # resumed bytes may be bad: one clean retry
            errors.append("verification failed")
        except _RetryableError as exc:
            errors.append(str(exc))
            if not exc.retry:
                raise DownloadError(f"{exc} while downloading {res.url}") from None
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
        if attempt > retries:
            raise DownloadError(
                f"{res.what}: gave up after {attempt} attempts; the partial file is kept at "
                f"{part} and the next run resumes it. Errors: " + " | ".join(errors))
        time.sleep(backoff * attempt)


def _manifest_path(cache_dir: Path, year: int) -> Path:
    return cache_dir / str(year) / "manifest.json"


def _read_manifest(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # unreadable manifest: files are re-verified and re-fetched if needed


def _is_cached(dest: Path, res: Resource, entry: Mapping[str, Any] | None) -> bool:
    """Whether ``dest`` already holds this very resource (same description, verified)."""
    if not dest.is_file() or not entry:
        return False
    if {k: entry.get(k) for k in ("url", "checksum", "filesize", "last_modified")} != {
            "url": res.url, "checksum": res.checksum, "filesize": res.filesize,
            "last_modified": res.last_modified}:
        return False
    try:
        verify(dest, res)
    except DownloadError:
        return False
    return True


def fetch_years(years: Sequence[int], cache_dir: Path = DEFAULT_CACHE_DIR,
                api_url: str | None = None, dataset: str | None = None,
                retries: int = 3, backoff: float = 0.5,
                progress: bool | None = None) -> Path:
    """Make sure the four tables of each year are in ``cache_dir``; returns ``cache_dir``
    (a directory ``load_years`` reads). Downloads only what is missing or changed."""
    years = [int(y) for y in years]
    if not years:
        raise DownloadError("fetch_years: no year given")
    cache_dir = Path(cache_dir)
    session = requests.Session()
    resources = list_resources(years, api_url, dataset, session)
    for year in years:
        manifest_path = _manifest_path(cache_dir, year)
        manifest = _read_manifest(manifest_path)
        for table in TABLES:
            res = resources[(year, table)]
            suffix = ".csv.gz" if res.url.lower().endswith(".gz") else ".csv"
            dest = cache_dir / str(year) / f"{table}-{year}{suffix}"
            if _is_cached(dest, res, manifest.get(table)):
                continue
            download_resource(res, dest, session, retries, backoff, progress)
            manifest[table] = {**asdict(res), "file": dest.name}
            manifest_path.write_text(json.dumps(manifest, indent=2, sort_keys=True), "utf-8")
    return cache_dir


def main(argv: Sequence[str] | None = None) -> int:
    """``.venv/bin/python -m accidents.data.download 2022 2023 [--cache-dir DIR] [--api-url URL]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("years", nargs="+", type=int)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR)
    parser.add_argument("--api-url", default=None)
    args = parser.parse_args(argv)
    try:
        out = fetch_years(args.years, args.cache_dir, args.api_url)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"BAAC files for {', '.join(map(str, args.years))} are in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
