"""The prediction service's input contract, in one import: what ``service.py``, the tests and
the benchmarks use.

The contract is split by job: ``fields`` (what each field accepts), ``messages`` (error
wording), ``rules`` (cross-field checks), ``rows`` (the ``RoadUser`` row model),
``columns`` (the columnar batch model) and ``form`` (the page's labelled choices). This
module only re-exports their public names, so callers need not know the split.
"""

from __future__ import annotations

from accidents.serving.columns import (
    RoadUserColumns,
    columns_to_frame,
    frame_to_columns,
    validate_columns,
)
from accidents.serving.fields import (
    FIELD_SPECS,
    GROUPS,
    HRMN_PATTERN,
    MAX_COLUMN_ROWS,
    NOT_RECORDED,
    REQUIRED,
    FieldSpec,
)
from accidents.serving.form import form_spec
from accidents.serving.messages import missing_message, value_message
from accidents.serving.rows import RoadUser, frame_to_records, rows_to_columns, rows_to_frame
from accidents.serving.rules import CROSS_RULES, CrossRule, days_in_month

__all__ = [
    "CROSS_RULES", "FIELD_SPECS", "GROUPS", "HRMN_PATTERN", "MAX_COLUMN_ROWS", "NOT_RECORDED", "REQUIRED",
    "CrossRule", "FieldSpec", "RoadUser", "RoadUserColumns", "columns_to_frame", "days_in_month",
    "form_spec", "frame_to_columns", "frame_to_records", "missing_message", "rows_to_columns",
    "rows_to_frame", "validate_columns", "value_message",
]
