"""Typed input of the prediction service: one road user's situation in BAAC codes.

Why a generated pydantic model rather than a hand-written one: the field list is
``features.MODEL_INPUT_COLUMNS`` and the codes/labels/ranges are ``accidents.schema``, so
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

import calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from accidents import schema
from accidents.features import (
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


def _explain(exc: ValidationError) -> ValidationError:
    """Same errors, each message naming the field, the value and the allowed values."""
    details: list[InitErrorDetails] = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        name = str(loc[0]) if loc else ""
        spec = FIELD_SPECS.get(name)
        given = err.get("input")
        if spec is None:
            msg = f"{name or 'road user'}: {err['msg']}"
            if err["type"] == "extra_forbidden":
                msg = f"{name}: unknown field; the fields are {', '.join(MODEL_INPUT_COLUMNS)}"
        elif err["type"] == "missing":
            msg = f"{name} ({spec.meaning_en}) is required; allowed: {spec.allowed_text()}"
        elif spec.codes:
            msg = (f"{name}: {given!r} is not a BAAC code for {spec.meaning_en}; "
                   f"allowed: {spec.allowed_text()}")
        else:
            msg = f"{name} ({spec.meaning_en}): {given!r} is not allowed ({err['msg']}); allowed: {spec.allowed_text()}"
        details.append(InitErrorDetails(
            type=PydanticCustomError("baac_input", "{message}", {"message": msg}),
            loc=loc, input=given,
        ))
    return ValidationError.from_exception_data(exc.title, details)


def _inconsistent(name: str, value: Any, message: str) -> ValidationError:
    detail = InitErrorDetails(
        type=PydanticCustomError("baac_input", "{message}", {"message": f"{name}: {message}"}),
        loc=(name,), input=value,
    )
    return ValidationError.from_exception_data("RoadUser", [detail])


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
    """Checks a single field cannot express (each error names the field to fix)."""
    if row.jour > calendar.monthrange(row.an, row.mois)[1]:
        raise _inconsistent("jour", row.jour, f"{row.an}-{row.mois:02d}-{row.jour:02d} is not a date")
    if row.an_nais is not None and row.an_nais > row.an:
        raise _inconsistent("an_nais", row.an_nais, f"born in {row.an_nais}, after the accident year {row.an}")
    if row.n_pedestrians > row.n_users:
        raise _inconsistent("n_pedestrians", row.n_pedestrians,
                            f"{row.n_pedestrians} pedestrians but only {row.n_users} road users involved")
    if row.catu == 3 and row.n_pedestrians < 1:
        raise _inconsistent("n_pedestrians", row.n_pedestrians,
                            "the person is a pedestrian (catu 3), so at least 1 pedestrian is involved")


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
