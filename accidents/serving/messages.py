"""Validation error messages that name the field, the value (and row) and the allowed values.

Shared by the row model and the columnar model so both paths word an error the same way,
e.g. ``lum: 9 is not a BAAC code for Lighting conditions; allowed: -1 = Not recorded, ...``.
Rewriting runs only on the error path.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.serving.fields import FIELD_SPECS, MAX_COLUMN_ROWS, FieldSpec


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


def error_detail(loc: tuple, value: Any, message: str) -> InitErrorDetails:
    return InitErrorDetails(type=PydanticCustomError("baac_input", "{message}", {"message": message}),
                            loc=loc, input=value)


def explain_errors(exc: ValidationError) -> ValidationError:
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
        details.append(error_detail(loc, given, msg))
    return ValidationError.from_exception_data(exc.title, details)


def handled_explained(handler: Any, data: Any) -> Any:
    """Run pydantic's inner validation (a wrap validator's ``handler``), explaining its errors."""
    try:
        return handler(data)
    except ValidationError as exc:
        raise explain_errors(exc) from None
