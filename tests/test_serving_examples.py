"""The realistic examples shown to a first visitor are valid and are what the API documents."""

from __future__ import annotations

import pytest

from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.serving.examples import CAR_DRIVER, EXAMPLES, MOTORCYCLIST
from accidents.serving.schema import NOT_RECORDED, RoadUser
from tests.quickstart import REPO_ROOT


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_is_a_complete_valid_road_user(name: str) -> None:
    _label, values = EXAMPLES[name]
    assert set(values) == set(MODEL_INPUT_COLUMNS)
    RoadUser.model_validate(values)  # raises with the field's message when a code is wrong
    not_recorded = [k for k, v in values.items() if v == NOT_RECORDED]
    assert len(not_recorded) <= 2, not_recorded  # only what real files leave blank for such a user


def test_openapi_field_examples_are_the_car_driver() -> None:
    """Swagger's "Try it out" body is built from the field examples: one coherent person."""
    properties = RoadUser.model_json_schema()["properties"]
    assert {name: prop["examples"][0] for name, prop in properties.items()} == CAR_DRIVER


def test_examples_describe_what_they_say() -> None:
    assert (CAR_DRIVER["catv"], CAR_DRIVER["secu1"], CAR_DRIVER["agg"], CAR_DRIVER["lum"]) == (7, 1, 2, 1)
    assert (MOTORCYCLIST["catv"], MOTORCYCLIST["secu1"], MOTORCYCLIST["vma"]) == (33, 0, 90)
    assert MOTORCYCLIST["lum"] in (3, 4, 5) and CAR_DRIVER["n_vehicles"] == 2


def test_examples_file_is_the_module_output() -> None:
    """examples/road_users.json (the README's second request) = accidents/serving/examples.py."""
    from accidents.serving.examples import EXAMPLES_FILE, examples_json

    path = REPO_ROOT / EXAMPLES_FILE
    assert path.read_text(encoding="utf-8") == examples_json(), (
        f"{EXAMPLES_FILE} is stale: .venv/bin/python -m accidents.serving.examples > {EXAMPLES_FILE}")
