"""The row input model ``RoadUser`` (one pydantic object per road user) and its conversions.

``RoadUser`` is generated from ``fields.FIELD_SPECS``: every field carries its meaning and
code list in the OpenAPI schema; errors are explained by ``messages``, cross-field checks
come from ``rules``. ``rows_to_columns`` turns validated rows into the numpy columns the
scorer takes.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator

from accidents.learning.features import FLOAT_INPUTS, MODEL_INPUT_COLUMNS
from accidents.serving.examples import CAR_DRIVER
from accidents.serving.fields import FIELD_SPECS, HRMN_PATTERN, FieldSpec, description
from accidents.serving.messages import error_detail, handled_explained
from accidents.serving.rules import CROSS_FIELDS, CROSS_RULES


def _annotation(spec: FieldSpec) -> tuple[Any, Any]:
    desc = description(spec)
    default: Any = ... if spec.required else spec.default
    # every field's example is the realistic car driver's value, so Swagger's "Try it out"
    # body is one coherent road user (accidents/serving/examples.py)
    example = CAR_DRIVER[spec.name]
    if spec.kind == "code":
        typ: Any = Literal[tuple(spec.codes)]  # type: ignore[valid-type]
        return typ, Field(default, description=desc, examples=[example])
    if spec.kind == "hrmn":
        return str, Field(default, description=desc, pattern=HRMN_PATTERN, examples=[example])
    low, high = spec.valid_range if spec.valid_range else (None, None)
    inner = Annotated[int, Field(ge=low, le=high)]
    if spec.kind == "measure":
        return inner | None, Field(default, description=desc, examples=[example])
    return inner, Field(default, description=desc, examples=[example])


class _RoadUserBase(BaseModel):
    """Validation shared by every generated field: explained errors + cross-field checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="wrap")
    @classmethod
    def _validate(cls, data: Any, handler: Any) -> Any:
        row = handled_explained(handler, data)
        _check_consistency(row)
        return row


def _check_consistency(row: Any) -> None:
    """``CROSS_RULES`` on one validated row (each error names the field to fix)."""
    values = {name: getattr(row, name) for name in CROSS_FIELDS}
    if values["an_nais"] is None:
        values["an_nais"] = float("nan")  # not recorded: no comparison holds, as on the columnar path
    for rule in CROSS_RULES:
        if rule.broken(values):
            value = getattr(row, rule.field)
            raise ValidationError.from_exception_data(
                "RoadUser", [error_detail((rule.field,), value, f"{rule.field}: {rule.message(values)}")])


RoadUser: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "RoadUser",
    __base__=_RoadUserBase,
    __doc__=(
        "One road user's situation in a French injury road accident, coded as in the ONISR "
        "BAAC files (2019+): the accident, the road, the user's vehicle (for a pedestrian, the "
        "vehicle that hit them), the person, and counts at the scene."
    ),
    **{name: _annotation(spec) for name, spec in FIELD_SPECS.items()},
)

_GET_ALL = attrgetter(*MODEL_INPUT_COLUMNS)
_INT_COLUMNS = tuple(c for c in MODEL_INPUT_COLUMNS if c not in FLOAT_INPUTS and c != "hrmn")


class ValidatedRows:
    """Road users read without one pydantic object each (``fast_io``): their validated columns.

    What BentoML hands the service for ``road_users`` when fast_io read the body;
    ``rows_to_columns`` returns the columns as they are.
    """

    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.arrays[MODEL_INPUT_COLUMNS[0]])


def rows_to_columns(rows: Sequence[BaseModel] | ValidatedRows) -> dict[str, np.ndarray]:
    """Validated rows -> one numpy array per model input (dtypes as ``features.build_user_table``).

    Built column-wise: one C-level attrgetter call per row, one transpose, one numpy array
    per column, so a batch of thousands of rows costs a few milliseconds. These columns
    are what the scorer (``scoring.Scorer``) and the prediction log take.
    """
    if isinstance(rows, ValidatedRows):
        return rows.arrays
    if not rows:
        return {c: np.array([], dtype=_dtype(c)) for c in MODEL_INPUT_COLUMNS}
    columns = zip(*map(_GET_ALL, rows), strict=True)
    return {name: np.array(values, dtype=_dtype(name))  # None -> NaN for the float measures
            for name, values in zip(MODEL_INPUT_COLUMNS, columns, strict=True)}


def _dtype(name: str) -> Any:
    return object if name == "hrmn" else "float64" if name in FLOAT_INPUTS else "int64"


def rows_to_frame(rows: Sequence[BaseModel]) -> pd.DataFrame:
    """Validated rows -> the model's input frame (what the saved Pipeline takes)."""
    return pd.DataFrame(rows_to_columns(rows), columns=list(MODEL_INPUT_COLUMNS), copy=False)


def frame_to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Model-input rows as JSON-ready dicts (NaN -> None), e.g. to send test rows."""
    out = frame[list(MODEL_INPUT_COLUMNS)].astype(object)
    out = out.where(pd.notna(out), None)
    records = out.to_dict(orient="records")
    for rec in records:
        for name in _INT_COLUMNS:
            rec[name] = int(rec[name])
        for name in FLOAT_INPUTS:
            if rec[name] is not None:
                rec[name] = int(rec[name]) if float(rec[name]).is_integer() else rec[name]
    return records

