"""Typed input of the prediction service: one road user's situation in BAAC codes.

Why a generated pydantic model rather than a hand-written one: the field list is
``features.MODEL_INPUT_COLUMNS`` and the codes/labels/ranges are ``accidents.data.schema``, so
the service can never accept a code the codebook does not know or miss a column the model
needs. Every field carries its meaning and its code list in the OpenAPI schema.

Validation errors are rewritten (only on the error path, one wrap validator per row) so
each message names the field, the value and the allowed values with their labels, e.g.
``lum: 9 is not a BAAC code for Lighting conditions; allowed: -1 = Not recorded, ...``.

Also here, because they must agree with the model above: ``rows_to_frame`` (validated
rows -> the model's input DataFrame, built column-wise for the batch handler) and
``form_spec`` (labelled choices for the interactive page).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Annotated, Any, Literal

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
from pydantic_core import InitErrorDetails, PydanticCustomError

from accidents.data import schema
from accidents.learning.features import (
    ACCIDENT_INPUTS,
    AGGREGATE_INPUTS,
    FLOAT_INPUTS,
    MODEL_INPUT_COLUMNS,
    ROAD_INPUTS,
    USER_INPUTS,
    VEHICLE_INPUTS,
)

NOT_RECORDED = schema.NOT_RECORDED
#: ``HH:MM`` as the 2019+ files write it (a one-digit hour is accepted too).
HRMN_PATTERN = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"
#: At most this many road users per batch request (rows or columns).
MAX_COLUMN_ROWS = 10_000

GROUPS: dict[str, tuple[str, ...]] = {
    "accident": ACCIDENT_INPUTS,
    "road": ROAD_INPUTS,
    "vehicle": VEHICLE_INPUTS,
    "person": USER_INPUTS,
    "scene": AGGREGATE_INPUTS,
}

#: Fields without a "not recorded" value: the date and time (the model derives hour and
#: weekday from them), who the person is and in what vehicle, and how many were involved.
REQUIRED: frozenset[str] = frozenset(
    {"an", "mois", "jour", "hrmn", "catu", "catv", "n_vehicles", "n_users"}
)

#: Scene aggregates are not BAAC columns; their meaning and ranges are defined here.
_AGGREGATES: dict[str, tuple[str, str, tuple[int, int] | None]] = {
    "n_vehicles": ("Nombre de véhicules impliqués", "Number of vehicles involved", (1, 100)),
    "n_users": ("Nombre d'usagers impliqués", "Number of road users involved", (1, 500)),
    "n_pedestrians": ("Nombre de piétons impliqués", "Number of pedestrians involved", (0, 500)),
    "other_vehicle_class": (
        "Classe du véhicule le plus lourd parmi les autres",
        "Class of the heaviest other vehicle involved",
        None,
    ),
}


@dataclass(frozen=True)
class FieldSpec:
    """What the service accepts for one model-input column (and how the page shows it)."""

    name: str
    group: str
    kind: Literal["code", "int", "hrmn", "measure", "count"]
    meaning_en: str
    meaning_fr: str
    required: bool
    default: Any
    codes: Mapping[int, tuple[str, str]] = field(default_factory=dict)
    valid_range: tuple[float, float] | None = None

    def allowed_text(self) -> str:
        """The allowed values in words, for error messages and descriptions."""
        if self.codes:
            return ", ".join(f"{c} = {en}" for c, (_fr, en) in self.codes.items())
        if self.kind == "hrmn":
            return "a time of day HH:MM (00:00 to 23:59)"
        if self.valid_range is not None:
            low, high = (int(v) for v in self.valid_range)
            text = f"an integer from {low} to {high}"
            return text + (" or null (not recorded)" if not self.required else "")
        return "any value"


def _spec(name: str, group: str) -> FieldSpec:
    if name in _AGGREGATES:
        fr, en, rng = _AGGREGATES[name]
        if name == "other_vehicle_class":
            return FieldSpec(name, group, "code", en, fr, False, NOT_RECORDED,
                             dict(schema.VEHICLE_CLASS_LABELS))
        default = None if name in REQUIRED else 0
        return FieldSpec(name, group, "count", en, fr, name in REQUIRED, default, valid_range=rng)
    col = schema.column(name)
    required = name in REQUIRED
    if col.kind == "code":
        codes = {int(c): label for c, label in col.codes.items()}
        return FieldSpec(name, group, "code", col.meaning_en, col.meaning_fr, required,
                         None if required else NOT_RECORDED, codes)
    if col.kind == "hrmn":
        return FieldSpec(name, group, "hrmn", col.meaning_en, col.meaning_fr, True, None)
    if col.kind == "int":
        return FieldSpec(name, group, "int", col.meaning_en, col.meaning_fr, required, None,
                         valid_range=col.valid_range)
    if col.kind == "measure":
        return FieldSpec(name, group, "measure", col.meaning_en, col.meaning_fr, required, None,
                         valid_range=col.valid_range)
    raise TypeError(f"model input {name!r} has BAAC kind {col.kind!r}, which the service cannot take")


#: One spec per model input, in ``MODEL_INPUT_COLUMNS`` order.
FIELD_SPECS: dict[str, FieldSpec] = {
    name: _spec(name, group) for group, names in GROUPS.items() for name in names
}
if tuple(FIELD_SPECS) != tuple(MODEL_INPUT_COLUMNS):  # pragma: no cover - import-time guard
    raise RuntimeError("serving_schema.GROUPS must list MODEL_INPUT_COLUMNS in order")


def _description(spec: FieldSpec) -> str:
    head = f"{spec.meaning_en} ({spec.meaning_fr}; BAAC `{spec.name}`, {spec.group})."
    if spec.codes:
        body = " Codes: " + "; ".join(f"{c} = {en}" for c, (_fr, en) in spec.codes.items()) + "."
    elif spec.kind == "hrmn":
        body = " Format HH:MM, 24 h clock."
    else:
        body = ""
    if spec.required:
        tail = " Required."
    elif spec.kind == "code":
        tail = f" Optional: default {spec.default} ({spec.codes[spec.default][1].lower()})."
    elif spec.kind == "measure":
        tail = " Optional: default null (not recorded)."
    else:
        tail = f" Optional: default {spec.default}."
    return head + body + tail


def _annotation(spec: FieldSpec) -> tuple[Any, Any]:
    desc = _description(spec)
    default: Any = ... if spec.required else spec.default
    if spec.kind == "code":
        typ: Any = Literal[tuple(spec.codes)]  # type: ignore[valid-type]
        example = next(c for c in spec.codes if c != NOT_RECORDED)
        return typ, Field(default, description=desc, examples=[example])
    if spec.kind == "hrmn":
        return str, Field(default, description=desc, pattern=HRMN_PATTERN, examples=["17:30"])
    low, high = spec.valid_range if spec.valid_range else (None, None)
    inner = Annotated[int, Field(ge=low, le=high)]
    example = int(high) if spec.name == "an" else int(low if spec.kind == "count" else (low + high) // 2)
    if spec.kind == "count" and spec.name in ("n_vehicles", "n_users"):
        example = 2
    if spec.kind == "measure":
        examples = {"an_nais": 1985, "vma": 50, "nbv": 2}
        return inner | None, Field(default, description=desc, examples=[examples.get(spec.name, example)])
    return inner, Field(default, description=desc, examples=[example])


def _at(row: int | None) -> str:
    return "" if row is None else f" (row {row})"


def missing_message(spec: FieldSpec) -> str:
    """A required field is absent (same text on the row and the columnar path)."""
    return f"{spec.name} ({spec.meaning_en}) is required; allowed: {spec.allowed_text()}"


def value_message(spec: FieldSpec, value: Any, reason: str, row: int | None = None) -> str:
    """``value`` is not allowed for ``spec``: names the field, the value, the row and the allowed values."""
    if spec.codes:
        return (f"{spec.name}: {value!r}{_at(row)} is not a BAAC code for {spec.meaning_en}; "
                f"allowed: {spec.allowed_text()}")
    return (f"{spec.name} ({spec.meaning_en}): {value!r}{_at(row)} is not allowed ({reason}); "
            f"allowed: {spec.allowed_text()}")


def _error(loc: tuple, value: Any, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("baac_input", "{message}", {"message": message}),
                            loc=loc, input=value)


def _explain(exc: ValidationError) -> ValidationError:
    """Same errors, each message naming the field, the value (and row) and the allowed values.

    Serves both input models: a row's errors have ``loc == (field,)``, the columnar
    model's ``(field, row index)``.
    """
    details: list[InitErrorDetails] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        name = str(loc[0]) if loc else ""
        row = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
        spec = FIELD_SPECS.get(name)
        given = err.get("input")
        if spec is None:
            msg = f"{name or 'road user'}: {err['msg']}"
            if err["type"] == "extra_forbidden":
                msg = f"{name}: unknown field; the fields are {', '.join(MODEL_INPUT_COLUMNS)}"
        elif err["type"] == "missing":
            msg = missing_message(spec)
        elif err["type"] in ("list_type", "too_long", "too_short"):
            msg = (f"{name}: {err['msg']}; send one list of 1 to {MAX_COLUMN_ROWS:,} values per field, "
                   "row i of every list describing road user i")
        else:
            msg = value_message(spec, given, err["msg"], row)
        details.append(_error(loc, given, msg))
    return ValidationError.from_exception_data(exc.title, details)


#: Days per month (index 1..12); February gets one more in leap years.
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def days_in_month(an: Any, mois: Any) -> Any:
    """Days in month ``mois`` of year ``an``; works on ints and on numpy arrays alike."""
    leap = (an % 4 == 0) & ((an % 100 != 0) | (an % 400 == 0))
    return _MONTH_DAYS[mois] + ((mois == 2) & leap)


def _num(value: Any) -> Any:
    """2030.0 -> 2030 for messages (the columnar path holds measures as floats)."""
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return int(value)
    return value.item() if isinstance(value, np.generic) else value


@dataclass(frozen=True)
class CrossRule:
    """A check across fields, written once for both input paths.

    ``broken`` uses only operators and ``days_in_month``, so it takes a row's scalars
    (``an_nais`` None given as NaN) or whole numpy columns and returns a bool or a mask.
    ``message`` explains one offending row (after the field name).
    """

    field: str
    broken: Callable[[Mapping[str, Any]], Any]
    message: Callable[[Mapping[str, Any]], str]


CROSS_RULES: tuple[CrossRule, ...] = (
    CrossRule("jour", lambda v: v["jour"] > days_in_month(v["an"], v["mois"]),
              lambda v: f"{v['an']}-{v['mois']:02d}-{v['jour']:02d} is not a date"),
    CrossRule("an_nais", lambda v: v["an_nais"] > v["an"],
              lambda v: f"born in {_num(v['an_nais'])}, after the accident year {v['an']}"),
    CrossRule("n_pedestrians", lambda v: v["n_pedestrians"] > v["n_users"],
              lambda v: f"{v['n_pedestrians']} pedestrians but only {v['n_users']} road users involved"),
    CrossRule("n_pedestrians", lambda v: (v["catu"] == 3) & (v["n_pedestrians"] < 1),
              lambda v: "the person is a pedestrian (catu 3), so at least 1 pedestrian is involved"),
)
_CROSS_FIELDS = ("an", "mois", "jour", "an_nais", "n_pedestrians", "n_users", "catu")


class _RoadUserBase(BaseModel):
    """Validation shared by every generated field: explained errors + cross-field checks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="wrap")
    @classmethod
    def _validate(cls, data: Any, handler: Any) -> Any:
        try:
            row = handler(data)
        except ValidationError as exc:
            raise _explain(exc) from None
        _check_consistency(row)
        return row


def _check_consistency(row: Any) -> None:
    """``CROSS_RULES`` on one validated row (each error names the field to fix)."""
    values = {name: getattr(row, name) for name in _CROSS_FIELDS}
    if values["an_nais"] is None:
        values["an_nais"] = float("nan")  # not recorded: no comparison holds, as on the columnar path
    for rule in CROSS_RULES:
        if rule.broken(values):
            value = getattr(row, rule.field)
            raise ValidationError.from_exception_data(
                "RoadUser", [_error((rule.field,), value, f"{rule.field}: {rule.message(values)}")])


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


def rows_to_frame(rows: Sequence[BaseModel]) -> pd.DataFrame:
    """Validated rows -> the model's input frame (dtypes as ``features.build_user_table``).

    Built column-wise: one C-level attrgetter call per row, one transpose, one numpy array
    per column, so a batch of thousands of rows costs a few milliseconds.
    """
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in MODEL_INPUT_COLUMNS})
    columns = list(zip(*map(_GET_ALL, rows), strict=True))
    data: dict[str, Any] = {}
    for name, values in zip(MODEL_INPUT_COLUMNS, columns, strict=True):
        if name == "hrmn":
            data[name] = np.array(values, dtype=object)
        elif name in FLOAT_INPUTS:
            data[name] = np.array(values, dtype="float64")  # None -> NaN (not recorded)
        else:
            data[name] = np.array(values, dtype="int64")
    return pd.DataFrame(data, columns=list(MODEL_INPUT_COLUMNS), copy=False)


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


# --- Columnar batch input: one list per field, validated with numpy ------------------


def _column_annotation(spec: FieldSpec) -> tuple[Any, Any]:
    """A JSON list per field; pydantic-core only checks item types, numpy checks the rules."""
    item: Any = int | None if spec.kind == "measure" else int
    if spec.kind == "hrmn":  # the pattern is checked in Rust by pydantic-core, as on a row
        item = Annotated[str, Field(pattern=HRMN_PATTERN)]
    desc = "One value per road user. " + _description(spec)
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
        return _error((name, i), values[i], value_message(spec, values[i], "too large", i))


def _column_errors(spec: FieldSpec, values: Sequence[Any], arr: np.ndarray) -> InitErrorDetails | None:
    """The first value breaking ``spec``'s codes or range (vectorised test; Python only for
    the message). The ``hrmn`` pattern is left to pydantic-core (checked in Rust per item)."""
    if spec.codes:
        low, table = _CODE_TABLES[spec.name]
        pos = arr - low
        inside = (pos >= 0) & (pos < len(table))
        bad = ~(inside & table[np.where(inside, pos, 0)])  # np.isin by table lookup: 3x faster
        reason = "unknown code"
    elif spec.valid_range is not None:
        low, high = spec.valid_range
        bad = (arr < low) | (arr > high)  # NaN (not recorded) compares False: allowed
        reason = f"outside {int(low)}..{int(high)}"
    else:  # pragma: no cover - every model input has codes, a range or a pattern
        return None
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    count = int(bad.sum())
    reason += f"; {count} of {len(arr)} rows" if count > 1 else ""
    return _error((spec.name, i), values[i], value_message(spec, values[i], reason, i))


def _code_table(codes: Sequence[int]) -> tuple[int, np.ndarray]:
    """(lowest code, allowed[code - lowest]) for a vectorised membership test."""
    low = min(codes)
    table = np.zeros(max(codes) - low + 1, dtype=bool)
    table[np.asarray(codes) - low] = True
    return low, table


_CODE_TABLES: dict[str, tuple[int, np.ndarray]] = {
    name: _code_table(list(spec.codes)) for name, spec in FIELD_SPECS.items() if spec.codes
}


def columns_to_frame(columns: Mapping[str, Sequence[Any] | None]) -> pd.DataFrame:
    """Columnar input (one list per field) -> the model's input frame, or a ValidationError.

    The same rules as ``RoadUser`` (codes, ranges, pattern, required fields from
    ``FIELD_SPECS``; cross-field checks from ``CROSS_RULES``), applied to whole numpy
    columns: Python runs per field, not per row, and only builds a message for the first
    offending row of each field. Errors are located ``(field, row)``.
    """
    given = {name: values for name, values in columns.items() if values is not None}
    missing = [name for name, spec in FIELD_SPECS.items() if spec.required and name not in given]
    if missing:
        raise ValidationError.from_exception_data("RoadUserColumns", [
            _error((name,), None, missing_message(FIELD_SPECS[name])) for name in missing])
    n = len(given["an"])
    uneven = [(name, len(values)) for name, values in given.items() if len(values) != n]
    if uneven or not 1 <= n <= MAX_COLUMN_ROWS:
        raise ValidationError.from_exception_data("RoadUserColumns", [
            _error((name,), size, f"{name}: {size} values but 'an' has {n}; every list needs one value "
                                  "per road user (row i of each list = road user i)")
            for name, size in uneven] or [
            _error(("an",), n, f"an: {n} rows; send 1 to {MAX_COLUMN_ROWS:,} road users per request")])
    data: dict[str, np.ndarray] = {}
    errors: list[InitErrorDetails] = []
    for name, spec in FIELD_SPECS.items():
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
        view = {name: data[name] for name in _CROSS_FIELDS}
        for rule in CROSS_RULES:
            bad = np.asarray(rule.broken(view), dtype=bool)
            if bad.any():
                i = int(np.argmax(bad))
                row = {name: _num(col[i]) for name, col in view.items()}
                errors.append(_error((rule.field, i), row[rule.field],
                                     f"{rule.field}: {rule.message(row)} (row {i})"))
    if errors:
        raise ValidationError.from_exception_data("RoadUserColumns", errors)
    return pd.DataFrame(data, columns=list(MODEL_INPUT_COLUMNS), copy=False)


class _ColumnsBase(BaseModel):
    """Columnar batch: explained type errors, then the vectorised rules; keeps the frame."""

    model_config = ConfigDict(extra="forbid")
    _frame: pd.DataFrame | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _validate(cls, data: Any, handler: Any) -> Any:
        try:
            batch = handler(data)
        except ValidationError as exc:
            raise _explain(exc) from None
        batch._frame = columns_to_frame({name: getattr(batch, name) for name in MODEL_INPUT_COLUMNS})
        return batch

    def frame(self) -> pd.DataFrame:
        """The validated model-input frame (built once, during validation)."""
        if self._frame is None:  # constructed without validation (model_construct)
            self._frame = columns_to_frame({name: getattr(self, name) for name in MODEL_INPUT_COLUMNS})
        return self._frame


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


def form_spec() -> list[dict[str, Any]]:
    """Field groups with labelled choices, ranges and defaults, for the interactive page."""
    groups = []
    for group, names in GROUPS.items():
        fields = []
        for name in names:
            spec = FIELD_SPECS[name]
            fields.append({
                "name": name,
                "kind": spec.kind,
                "label_en": spec.meaning_en,
                "label_fr": spec.meaning_fr,
                "required": spec.required,
                "default": spec.default,
                "choices": [{"code": c, "label_en": en, "label_fr": fr}
                            for c, (fr, en) in spec.codes.items()],
                "min": spec.valid_range[0] if spec.valid_range else None,
                "max": spec.valid_range[1] if spec.valid_range else None,
            })
        groups.append({"group": group, "fields": fields})
    return groups
