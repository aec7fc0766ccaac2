"""Synthetic BAAC files in the published on-disk format (NOT real data).

The public entry points live in ``generator``; they are re-exported here so callers write
``from accidents.synthetic import write_synthetic`` and ``.venv/bin/python -m accidents.synthetic``.
"""

from accidents.synthetic.generator import (
    SYNTHETIC_NOTICE,
    generate_year,
    generator_fingerprint,
    write_synthetic,
)
from accidents.synthetic.shift import INDEPENDENT_SHIFT_COLUMNS, SHIFT_DEPENDENTS, SHIFTABLE_COLUMNS

__all__ = [
    "INDEPENDENT_SHIFT_COLUMNS",
    "SHIFTABLE_COLUMNS",
    "SHIFT_DEPENDENTS",
    "SYNTHETIC_NOTICE",
    "generate_year",
    "generator_fingerprint",
    "write_synthetic",
]
