"""A quicker way in and out for the batch routes, with the same contract as BentoML's own.

Why: on a 1,000-row columnar request BentoML's JSON handling cost more than the numpy
rules it wraps (on the rows route, pydantic's object per road user and Python check per row
cost 11.5 ms per 1,000 rows, against 2.1 ms read this way). In (``_bentoml_impl.serde.JSONSerde``): pydantic-core parses the body into
Python lists and checks every item against the field types, ~0.8 ms before the numpy rules
run. Out (``_bentoml_sdk.io_models.IOMixin.to_http_response``): the answer is dumped to a
dict twice and encoded by the standard library's ``json``, ~0.4 ms for 1,000 probabilities.
msgspec does each in a fraction of that (docs/serving.md, "Where the time goes").

The contract does not move:

- **In** (``/predict_columns``, and ``/predict_batch`` with one msgspec struct per road user
  turned column-wise; not ``/predict``, whose few rows pydantic reads quicker than the numpy
  rules' fixed cost): msgspec decodes the body into typed lists, strictly (a JSON
  integer where the model wants an integer, ``null`` only where it allows one, the ``hrmn``
  pattern, the list lengths, no unknown field), then the numpy rules of ``columns`` run as
  on the pydantic path. Anything msgspec or the rules refuse, and anything pydantic's lax
  mode might still accept (``"7"`` for 7, ``true`` for 1), goes down BentoML's own path,
  which gives the answer or the explained 400 it always gave: the fast path accepts a subset
  of what pydantic accepts and builds the same arrays from it (tests/test_serving_fast_io.py).
- **Out** (the JSON answers): the same JSON text as BentoML's encoder, byte for byte in
  meaning; an answer msgspec cannot encode goes down BentoML's path.

``install`` swaps the generated input and output classes of the service's APIs; it touches
BentoML's ``APIMethod.input_spec``/``output_spec`` as ``request_limits.forbid_unknown_fields``
does, and raises if a BentoML release renames them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Annotated, Any

import msgspec
from pydantic import BaseModel, ValidationError

from accidents.serving.columns import RoadUserColumns, validate_columns
from accidents.serving.fields import FIELD_SPECS, HRMN_PATTERN, MAX_COLUMN_ROWS
from accidents.serving.rows import ValidatedRows

#: Every ``hrmn`` of a batch, checked in one regex call over the values joined by newlines
#: (a value cannot match the pattern and hold a newline, so the count check below makes this
#: exactly "each value matches"): ~0.03 ms per 1,000 rows, where msgspec's per-value pattern
#: (Python's ``re`` called once per string) took ~0.27 ms.
_HRMN_LINES = re.compile("(?:" + HRMN_PATTERN.removeprefix("^").removesuffix("$") + r"\n)*")


def _times_match(values: Sequence[str]) -> bool:
    joined = "\n".join(values) + "\n"
    return joined.count("\n") == len(values) and _HRMN_LINES.fullmatch(joined) is not None


def _checked(columns: Mapping[str, Any]) -> dict[str, Any] | None:
    """The rules on the lists msgspec read (the times in one regex call, then the numpy rules
    of ``columns``), or None: pydantic's path then answers, its errors located as always."""
    if not _times_match(columns["hrmn"]):
        return None
    try:
        return validate_columns(columns)
    except ValidationError:
        return None


def _item_type(kind: str) -> Any:
    """The msgspec type of one value of a field (a column's item, a row's field): as strict
    as JSON allows; the ``hrmn`` pattern is ``_times_match``'s, once per batch."""
    return int | None if kind == "measure" else str if kind == "hrmn" else int


def _column_type(kind: str, required: bool) -> tuple[Any, Any]:
    """The msgspec type of one column and its default (msgspec.NODEFAULT: required)."""
    item = _item_type(kind)
    if required:
        return Annotated[list[item], msgspec.Meta(min_length=1, max_length=MAX_COLUMN_ROWS)], msgspec.NODEFAULT
    return Annotated[list[item], msgspec.Meta(max_length=MAX_COLUMN_ROWS)] | None, None


_Columns = msgspec.defstruct(
    "Columns",
    [(name, *_column_type(spec.kind, spec.required)) for name, spec in FIELD_SPECS.items()],
    forbid_unknown_fields=True,
    kw_only=True,  # required and optional fields interleave, as in FIELD_SPECS
)


class _ColumnsBody(msgspec.Struct, forbid_unknown_fields=True):
    columns: _Columns  # type: ignore[valid-type]
    explain: bool = False


class _RawColumnsBody(msgspec.Struct):
    """The same body with every column kept as its own JSON text (a slice, no parsing)."""

    columns: dict[str, msgspec.Raw]
    explain: Any = None


_DECODER = msgspec.json.Decoder(_ColumnsBody)
_RAW_DECODER = msgspec.json.Decoder(_RawColumnsBody)
_ENCODER = msgspec.json.Encoder()


def decode_columns_body(body: bytes) -> tuple[RoadUserColumns, bool] | None:
    """The ``/predict_columns`` body as (validated columns, explain), or None: take pydantic's path.

    None covers every body this strict reading does not accept as it stands, valid or not:
    pydantic-core then parses it as it always did and answers the value or the located error.
    """
    try:
        parsed = _DECODER.decode(body)
    except msgspec.DecodeError:  # ValidationError is a DecodeError: wrong type, length, field
        return None
    cols = parsed.columns
    arrays = _checked({name: getattr(cols, name) for name in FIELD_SPECS})
    if arrays is None:
        return None
    batch = RoadUserColumns.model_construct()
    batch._arrays = arrays
    if b"\n" not in body and b"\r" not in body:  # a list's JSON text may go into the log's single line
        given = _RAW_DECODER.decode(body).columns
        batch._raw_json = {name: text for name, text in given.items() if getattr(cols, name) is not None}
    return batch, parsed.explain


def _row_field(name: str) -> tuple[str, Any, Any]:
    spec = FIELD_SPECS[name]
    return name, _item_type(spec.kind), msgspec.NODEFAULT if spec.required else spec.default


_Row = msgspec.defstruct("Row", [_row_field(name) for name in FIELD_SPECS],
                         forbid_unknown_fields=True, kw_only=True)
_ROW_VALUES = attrgetter(*FIELD_SPECS)


def rows_decoder(max_rows: int) -> msgspec.json.Decoder:
    """A strict decoder of ``{"road_users": [1..max_rows objects], "explain": bool}``."""
    body = msgspec.defstruct("RowsBody", [
        ("road_users", Annotated[list[_Row], msgspec.Meta(min_length=1, max_length=max_rows)]),  # type: ignore[valid-type]
        ("explain", bool, False)], forbid_unknown_fields=True)
    return msgspec.json.Decoder(body)


def decode_rows_body(body: bytes, decoder: msgspec.json.Decoder) -> tuple[ValidatedRows, bool] | None:
    """A rows body (``/predict_batch``) as (validated columns, explain), or None: take pydantic's path.

    The same strict reading as ``decode_columns_body``, one msgspec struct per road user
    (omitted optional fields take their defaults, as on ``RoadUser``), turned column-wise
    by one C-level getter per row, then the same numpy rules: the row model's rules, as
    tests/test_serving_schema.py checks, without a pydantic object and a Python check per row.
    """
    try:
        parsed = decoder.decode(body)
    except msgspec.DecodeError:
        return None
    columns = dict(zip(FIELD_SPECS, zip(*map(_ROW_VALUES, parsed.road_users), strict=True), strict=True))
    arrays = _checked(columns)
    return None if arrays is None else (ValidatedRows(arrays), parsed.explain)


def _fast_input_class(spec: type, field: str, decode: Callable[[bytes], tuple[Any, bool] | None]) -> type:
    """The API's input model, reading its body with ``decode`` first (``field``: the data's name).

    Built with ``type`` under the generated model's own name: pydantic names the model in
    its validation errors ("2 validation errors for Input") and its schema from the name
    the class is created with.
    """

    def model_validate_json(cls: type, json_data: str | bytes | bytearray, **kwargs: Any) -> Any:
        body = json_data.encode() if isinstance(json_data, str) else bytes(json_data)
        decoded = decode(body) if not kwargs else None
        if decoded is None:
            return spec.model_validate_json.__func__(cls, json_data, **kwargs)  # type: ignore[attr-defined]
        data, explain = decoded
        return cls.model_construct(**{field: data, "explain": explain})  # type: ignore[attr-defined]

    return type(spec.__name__, (spec,), {"__module__": spec.__module__, "__qualname__": spec.__qualname__,
                                         "model_validate_json": classmethod(model_validate_json)})


def encode_answer(obj: Any) -> bytes | None:
    """The JSON of an API's answer (plain dicts, lists, numbers, strings), or None: BentoML encodes it.

    A pydantic answer is encoded from its fields as they are: right for the service's answer
    models (no aliases, no custom serializers, plain values; tests/test_serving_limits.py
    compares every route's answer with BentoML's own encoding), not for models in general.
    """
    if isinstance(obj, BaseModel):
        obj = obj.__dict__
    try:
        return _ENCODER.encode(obj)
    except (TypeError, ValueError):  # a pydantic model, a numpy scalar...: not ours to guess
        return None


def _fast_output_class(spec: type) -> type:
    """The API's output model, encoding plain answers with msgspec (once, no model dumps)."""
    from starlette.responses import Response

    async def to_http_response(cls: type, obj: Any, serde: Any) -> Any:
        body = encode_answer(obj)
        if body is None:
            return await spec.to_http_response.__func__(cls, obj, serde)  # type: ignore[attr-defined]
        return Response(content=body, media_type=cls.mime_type())  # type: ignore[attr-defined]

    return type(spec.__name__, (spec,), {"__module__": spec.__module__, "__qualname__": spec.__qualname__,
                                         "to_http_response": classmethod(to_http_response)})


def install(service: Any, columns_api: str, rows_apis: Mapping[str, int], json_apis: Iterable[str]) -> None:
    """Give ``columns_api`` and ``rows_apis`` (name -> most road users) the fast body reading,
    ``json_apis`` the fast JSON answers."""
    apis = service.apis
    missing = [name for name in (columns_api, *rows_apis, *json_apis) if name not in apis]
    if missing:
        raise KeyError(f"fast_io.install: the service has no API named {missing}")
    readers: dict[str, tuple[str, Callable[[bytes], tuple[Any, bool] | None]]] = {
        columns_api: ("columns", decode_columns_body)}
    for name, max_rows in rows_apis.items():
        decoder = rows_decoder(max_rows)
        readers[name] = ("road_users", lambda body, decoder=decoder: decode_rows_body(body, decoder))
    for name, (field, decode) in readers.items():
        method = apis[name]
        if set(method.input_spec.model_fields) != {field, "explain"}:
            raise TypeError(f"{name}'s input is {sorted(method.input_spec.model_fields)}, "
                            f"fast_io reads {{{field!r}, 'explain'}}: update fast_io")
        method.input_spec = _fast_input_class(method.input_spec, field, decode)
    for name in json_apis:
        apis[name].output_spec = _fast_output_class(apis[name].output_spec)
