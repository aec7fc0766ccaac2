"""What the prediction service accepts, field by field: one ``FieldSpec`` per model input.

Why generated rather than hand-written: the field list is ``features.MODEL_INPUT_COLUMNS``
and the codes/labels/ranges are ``accidents.data.schema``, so the service can never accept
a code the codebook does not know or miss a column the model needs. The row model
(``rows``), the columnar model (``columns``), the page (``form``) and the error messages
(``messages``) all read these specs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from accidents.data import schema
from accidents.learning.features import (
    ACCIDENT_INPUTS,
    AGGREGATE_INPUTS,
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
    raise RuntimeError("serving.fields.GROUPS must list MODEL_INPUT_COLUMNS in order")


def description(spec: FieldSpec) -> str:
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

