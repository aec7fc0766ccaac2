"""Same arguments, same bytes; another seed, other data; a year does not depend on its
neighbours in the call."""

from __future__ import annotations

import hashlib
from pathlib import Path

from accidents.synthetic import write_synthetic


def _digests(paths: list[Path]) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in paths}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = write_synthetic(tmp_path / "a", [2021, 2023], 400, seed=5)
    b = write_synthetic(tmp_path / "b", [2021, 2023], 400, seed=5)
    assert len(a) == 8
    assert _digests(a) == _digests(b)


def test_other_seed_other_data(tmp_path: Path) -> None:
    a = _digests(write_synthetic(tmp_path / "a", [2023], 400, seed=5))
    b = _digests(write_synthetic(tmp_path / "b", [2023], 400, seed=6))
    assert all(a[name] != b[name] for name in a)


def test_a_year_is_the_same_alone_or_with_others(tmp_path: Path) -> None:
    alone = _digests(write_synthetic(tmp_path / "a", [2023], 300, seed=2))
    together = _digests(write_synthetic(tmp_path / "b", [2020, 2023], 300, seed=2))
    assert {k: together[k] for k in alone} == alone


def test_generator_fingerprint_covers_the_helper_modules(tmp_path: Path) -> None:
    import shutil

    import accidents.synthetic as synthetic
    from accidents.synthetic import generator_fingerprint

    package = Path(synthetic.__file__).parent
    for path in package.glob("*.py"):
        shutil.copy(path, tmp_path / path.name)
    first = generator_fingerprint(tmp_path)
    assert first == generator_fingerprint() and len(first) == 16
    helper = tmp_path / "severity.py"
    helper.write_bytes(helper.read_bytes() + b"\n# changed\n")
    assert generator_fingerprint(tmp_path) != first
