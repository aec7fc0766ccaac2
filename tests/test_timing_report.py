"""The per-part timing table that every run prints (tests/fixtures/timing.py)."""

from __future__ import annotations

from tests.fixtures.timing import UNMARKED, format_parts, part_of


def test_a_test_counts_in_its_most_specific_part() -> None:
    assert part_of(["service", "container"]) == "container"
    assert part_of(["pipeline", "airflow"]) == "airflow"
    assert part_of(["pipeline"]) == "pipeline"
    assert part_of(["parametrize", "timeout"]) == UNMARKED


def test_the_table_lists_the_slowest_part_first_with_its_share_and_a_total() -> None:
    lines = format_parts({"unit": 60.0, "airflow": 180.0}, {"unit": 500, "airflow": 3})
    assert lines[1].split() == ["airflow", "3", "3.0", "min", "75%"]
    assert lines[2].split() == ["unit", "500", "1.0", "min", "25%"]
    assert lines[-1].split() == ["total", "503", "4.0", "min"]
