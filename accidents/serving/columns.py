"""The columnar batch input ``RoadUserColumns``: one list per field, validated with numpy.

Same rules as the row model (codes, ranges, pattern, required fields from
``fields.FIELD_SPECS``; cross-field checks from ``rules``), applied to whole columns: Python
runs per field, not per row, and builds a message only for the first offending row of each
field. The bulk path never creates per-row Python objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import InitErrorDetails

from accidents.learning.features import FLOAT_INPUTS, MODEL_INPUT_COLUMNS
from accidents.serving.fields import (
    FIELD_SPECS,
    HRMN_PATTERN,
    MAX_COLUMN_ROWS,
    FieldSpec,
    description,
)
from accidents.serving.messages import (
    error_detail,
    handled_explained,
    missing_message,
    value_message,
)
from accidents.serving.rules import CROSS_FIELDS, CROSS_RULES, plain_number


def _column_annotation(spec: FieldSpec) -> tuple[Any, Any]:
    """A JSON list per field; pydantic-core only checks item types, numpy checks the rules."""
    item: Any = int | None if spec.kind == "measure" else int
    if spec.kind == "hrmn":  # the pattern is checked in Rust by pydantic-core, as on a row
        item = Annotated[str, Field(pattern=HRMN_PATTERN)]
    desc = "One value per road user. " + description(spec)
    if spec.required:
        return list[item], Field(..., min_length=1, max_length=MAX_COLUMN_ROWS, description=desc)
    return list[item] | None, Field(None, max_length=MAX_COLUMN_ROWS,
                                     description=desc + " Omitted or null: every row takes the default.")


def _as_int64(name: str, values: Sequence[Any]) -> np.ndarray | InitErrorDetails:
    try:
        return np.asarray(values, dtype=np.int64)
    except OverflowError:  # an integer beyond int64: name the first one
        i = next(i for i, v in enumerate(values) if not -(2**63) <= v < 2**63)
        spec = FIELD_SPECS[name]
        return error_detail((name, i), values[i], value_message(spec, values[i], "too large", i))


def _column_errors(spec: FieldSpec, values: Sequence[Any], arr: np.ndarray) -> InitErrorDetails | None:
    """The first value breaking ``spec``'s codes or range (vectorised test; Python only for
    the message). The ``hrmn`` pattern is left to pydantic-core (checked in Rust per item)."""
    if spec.name in _INT_INDEX:  # codes, or a range of integers: the block's own lookup
        bad = _not_allowed([spec.name], arr[None, :])[0]
    elif spec.valid_range is not None:
        bad = (arr < spec.valid_range[0]) | (arr > spec.valid_range[1])  # NaN (not recorded): allowed
    else:  # pragma: no cover - every model input has codes, a range or a pattern
        return None
    if not bad.any():
        return None
    reason = "unknown code" if spec.codes else "outside {}..{}".format(*(int(v) for v in spec.valid_range))
    i = int(np.argmax(bad))
    count = int(bad.sum())
    reason += f"; {count} of {len(arr)} rows" if count > 1 else ""
    return error_detail((spec.name, i), values[i], value_message(spec, values[i], reason, i))


def _code_table(codes: Sequence[int]) -> tuple[int, np.ndarray]:
    """(lowest code, allowed[code - lowest]) for a vectorised membership test."""
    low = min(codes)
    table = np.zeros(max(codes) - low + 1, dtype=bool)
    table[np.asarray(codes) - low] = True
    return low, table


def _allowed_tables() -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every integer field's allowed values in one table, for ``_valid_int_block``.

    Returns (field -> its index, lowest allowed value, table size, offset of the field's
    part in the table, the table): a coded field's part is its code table, a ranged field's
    part is all True over ``low..high``, so one lookup checks codes and ranges alike.
    """
    parts: list[np.ndarray] = []
    index: dict[str, int] = {}
    lows: list[int] = []
    for name, spec in FIELD_SPECS.items():
        if spec.kind in ("measure", "hrmn"):
            continue
        if spec.codes:
            low, part = _code_table(list(spec.codes))
        else:
            assert spec.valid_range is not None, name
            low, high = (int(v) for v in spec.valid_range)
            part = np.ones(high - low + 1, dtype=bool)
        index[name] = len(lows)
        lows.append(low)
        parts.append(part)
    sizes = np.array([len(part) for part in parts], dtype=np.uint64)
    offsets = np.cumsum([0] + [len(part) for part in parts[:-1]]).astype(np.int64)
    return index, np.array(lows, dtype=np.int64), sizes, offsets, np.concatenate(parts)


_INT_INDEX, _INT_LOW, _INT_SIZE, _INT_OFFSET, _INT_ALLOWED = _allowed_tables()


def _valid_int_block(names: Sequence[str], given: Mapping[str, Sequence[Any]]) -> np.ndarray | None:
    """The given integer columns as one (field, row) int64 block, if every value is allowed.

    Why: checking ~35 columns one by one costs ~35 x 6 numpy calls of fixed cost (~0.4 ms
    per 1,000-row request); one block checks them all in ~8 calls. None when any value is
    not allowed (or not an int64): the per-field path then names the first offender of
    each field, so errors read exactly as before.
    """
    try:
        block = np.array([given[name] for name in names], dtype=np.int64)
    except (OverflowError, TypeError, ValueError):
        return None
    if block.ndim != 2:
        return None
    return None if _not_allowed(names, block).any() else block


def _not_allowed(names: Sequence[str], block: np.ndarray) -> np.ndarray:
    """(field, row) mask of the values outside each integer field's codes or range: the one
    check of integer fields, for the whole block and for one field's error message alike."""
    fields = np.fromiter((_INT_INDEX[name] for name in names), dtype=np.intp, count=len(names))
    pos = block - _INT_LOW[fields, None]  # wraps for values near the int64 bounds: never inside
    inside = pos.view(np.uint64) < _INT_SIZE[fields, None]  # negative positions wrap to huge
    return ~(inside & _INT_ALLOWED[np.where(inside, pos + _INT_OFFSET[fields, None], 0)])


def validate_columns(columns: Mapping[str, Sequence[Any] | None]) -> dict[str, np.ndarray]:
    """Columnar input (one list per field) -> one numpy array per model input, or a ValidationError.

    The same rules as ``RoadUser`` (codes, ranges, pattern, required fields from
    ``FIELD_SPECS``; cross-field checks from ``CROSS_RULES``), applied to whole numpy
    columns: Python runs per field, not per row, and only builds a message for the first
    offending row of each field. Errors are located ``(field, row)``.
    """
    given = {name: values for name, values in columns.items() if values is not None}
    missing = [name for name, spec in FIELD_SPECS.items() if spec.required and name not in given]
    if missing:
        raise ValidationError.from_exception_data("RoadUserColumns", [
            error_detail((name,), None, missing_message(FIELD_SPECS[name])) for name in missing])
    n = len(given["an"])
    uneven = [(name, len(values)) for name, values in given.items() if len(values) != n]
    if uneven or not 1 <= n <= MAX_COLUMN_ROWS:
        raise ValidationError.from_exception_data("RoadUserColumns", [
            error_detail((name,), size, f"{name}: {size} values but 'an' has {n}; every list needs one value "
                                  "per road user (row i of each list = road user i)")
            for name, size in uneven] or [
            error_detail(("an",), n, f"an: {n} rows; send 1 to {MAX_COLUMN_ROWS:,} road users per request")])
    data: dict[str, np.ndarray] = {}
    errors: list[InitErrorDetails] = []
    int_names = [name for name in given if name in _INT_INDEX]
    block = _valid_int_block(int_names, given) if int_names else None
    if block is not None:
        data.update(zip(int_names, block, strict=True))
    for name, spec in FIELD_SPECS.items():
        if name in data:  # a checked row of the integer block
            continue
        values = given.get(name)
        if values is None:
            data[name] = (np.full(n, np.nan) if spec.kind == "measure"
                          else np.full(n, spec.default, dtype=np.int64))
            continue
        if spec.kind == "hrmn":
            data[name] = np.array(values, dtype=object)
            continue
        if spec.kind == "measure":
            arr: Any = np.array(values, dtype=np.float64)  # None -> NaN (not recorded)
        else:
            arr = _as_int64(name, values)
            if not isinstance(arr, np.ndarray):
                errors.append(arr)
                continue
        data[name] = arr
        error = _column_errors(spec, values, arr)
        if error is not None:
            errors.append(error)
    if not errors:
        view = {name: data[name] for name in CROSS_FIELDS}
        for rule in CROSS_RULES:
            bad = np.asarray(rule.broken(view), dtype=bool)
            if bad.any():
                i = int(np.argmax(bad))
                row = {name: plain_number(col[i]) for name, col in view.items()}
                errors.append(error_detail((rule.field, i), row[rule.field],
                                     f"{rule.field}: {rule.message(row)} (row {i})"))
    if errors:
        raise ValidationError.from_exception_data("RoadUserColumns", errors)
    return {name: data[name] for name in MODEL_INPUT_COLUMNS}


def columns_to_frame(columns: Mapping[str, Sequence[Any] | None]) -> pd.DataFrame:
    """``validate_columns`` as the model's input frame (what the saved Pipeline takes)."""
    return pd.DataFrame(validate_columns(columns), columns=list(MODEL_INPUT_COLUMNS), copy=False)


class _ColumnsBase(BaseModel):
    """Columnar batch: explained type errors, then the vectorised rules; keeps the arrays."""

    model_config = ConfigDict(extra="forbid")
    _arrays: dict[str, np.ndarray] | None = PrivateAttr(default=None)
    #: Read by fast_io: each given column's own JSON text (``msgspec.Raw``) for the
    #: prediction log, which writes it as it is (``PredictionLogWriter.write(raw_inputs=)``).
    _raw_json: dict[str, Any] | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _validate(cls, data: Any, handler: Any) -> Any:
        batch = handled_explained(handler, data)
        batch._arrays = validate_columns({name: getattr(batch, name) for name in MODEL_INPUT_COLUMNS})
        return batch

    def arrays(self) -> dict[str, np.ndarray]:
        """The validated model inputs, one numpy array per field (built once, during validation)."""
        if self._arrays is None:  # constructed without validation (model_construct)
            self._arrays = validate_columns({name: getattr(self, name) for name in MODEL_INPUT_COLUMNS})
        return self._arrays

    def raw_json(self) -> dict[str, Any] | None:
        """The given columns' own JSON text, when the body was read by fast_io (else None)."""
        return self._raw_json

    def frame(self) -> pd.DataFrame:
        """The validated inputs as the model's input frame (what the saved Pipeline takes)."""
        return pd.DataFrame(self.arrays(), columns=list(MODEL_INPUT_COLUMNS), copy=False)


RoadUserColumns: type[_ColumnsBase] = create_model(  # type: ignore[call-overload]
    "RoadUserColumns",
    __base__=_ColumnsBase,
    __doc__=(
        "A batch of road users column-wise: one list per field, row i of every list describing "
        "road user i (same codes, ranges and defaults as RoadUser; optional fields may be omitted)."
    ),
    **{name: _column_annotation(spec) for name, spec in FIELD_SPECS.items()},
)


def frame_to_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """Model-input rows as the columnar JSON body (NaN -> None), e.g. to send test rows."""
    out: dict[str, list[Any]] = {}
    for name in MODEL_INPUT_COLUMNS:
        col = frame[name]
        if name == "hrmn":
            out[name] = col.astype(str).tolist()
        elif name in FLOAT_INPUTS:
            out[name] = [None if pd.isna(v) else int(v) if float(v).is_integer() else v for v in col.tolist()]
        else:
            out[name] = col.astype("int64").tolist()
    return out


