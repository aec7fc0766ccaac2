"""Two realistic road users: the service's first prediction, everywhere it is shown.

Why one module: the OpenAPI examples (accidents/serving/schema.py), the page's defaults
(``form.json`` -> web/app.js), the README's curl and the quick-start test all describe the
same people, so a first prediction never reads "0.0 %" because every field was left
"not recorded" (which the model has learnt to read as *unhurt*: docs/FEATURES.md,
"Not recorded"). tests/test_serving_examples.py checks the README's curl body is this dict.

Every field is filled, with codes as the BAAC 2019+ files write them. ``examples/road_users.json``
(the README's second request) is this module's output, checked by the same test.
"""

from __future__ import annotations

import json
from typing import Any

#: A belted car driver, two cars colliding side-on at a town crossroads on a June afternoon.
CAR_DRIVER: dict[str, Any] = {
    "an": 2023, "mois": 6, "jour": 14, "hrmn": "15:30",
    "lum": 1, "agg": 2, "int": 2, "atm": 1, "col": 3,
    "catr": 4, "circ": 2, "nbv": 2, "vosp": 0, "prof": 1, "plan": 1, "surf": 1, "infra": 0,
    "situ": 1, "vma": 50,
    "catv": 7, "obs": 0, "obsm": 2, "choc": 3, "manv": 1, "motor": 1,
    "place": 1, "catu": 1, "sexe": 2, "an_nais": 1984, "trajet": 1,
    "secu1": 1, "secu2": 0, "secu3": -1, "locp": 0, "etatp": -1,
    "n_vehicles": 2, "n_users": 2, "n_pedestrians": 0, "other_vehicle_class": 3,
}

#: An unhelmeted motorcyclist hitting a car head-on at night on an unlit 90 km/h country road.
MOTORCYCLIST: dict[str, Any] = {
    "an": 2023, "mois": 9, "jour": 23, "hrmn": "23:40",
    "lum": 3, "agg": 1, "int": 1, "atm": 1, "col": 1,
    "catr": 3, "circ": 2, "nbv": 2, "vosp": 0, "prof": 1, "plan": 2, "surf": 1, "infra": 0,
    "situ": 1, "vma": 90,
    "catv": 33, "obs": 0, "obsm": 2, "choc": 1, "manv": 1, "motor": 1,
    "place": 1, "catu": 1, "sexe": 1, "an_nais": 1998, "trajet": 5,
    "secu1": 0, "secu2": 0, "secu3": -1, "locp": 0, "etatp": -1,
    "n_vehicles": 2, "n_users": 2, "n_pedestrians": 0, "other_vehicle_class": 3,
}

#: An elderly pedestrian hit by a car on a crossing without lights, rainy November evening in town.
PEDESTRIAN: dict[str, Any] = {
    "an": 2023, "mois": 11, "jour": 8, "hrmn": "18:10",
    "lum": 5, "agg": 2, "int": 1, "atm": 2, "col": 6,
    "catr": 4, "circ": 2, "nbv": 2, "vosp": 0, "prof": 1, "plan": 1, "surf": 2, "infra": 0,
    "situ": 1, "vma": 50,
    "catv": 7, "obs": 0, "obsm": 1, "choc": 1, "manv": 1, "motor": 1,
    "place": 10, "catu": 3, "sexe": 2, "an_nais": 1946, "trajet": 3,
    "secu1": 0, "secu2": 0, "secu3": -1, "locp": 3, "etatp": 1,
    "n_vehicles": 1, "n_users": 2, "n_pedestrians": 1, "other_vehicle_class": 0,
}

#: A helmeted cyclist on a town cycle lane hit side-on by a car at a T junction, morning commute.
CYCLIST: dict[str, Any] = {
    "an": 2023, "mois": 5, "jour": 2, "hrmn": "08:20",
    "lum": 1, "agg": 2, "int": 3, "atm": 1, "col": 3,
    "catr": 4, "circ": 2, "nbv": 2, "vosp": 2, "prof": 1, "plan": 1, "surf": 1, "infra": 0,
    "situ": 1, "vma": 30,
    "catv": 1, "obs": 0, "obsm": 2, "choc": 7, "manv": 1, "motor": 5,
    "place": 1, "catu": 1, "sexe": 1, "an_nais": 1979, "trajet": 1,
    "secu1": 2, "secu2": 0, "secu3": -1, "locp": 0, "etatp": -1,
    "n_vehicles": 2, "n_users": 2, "n_pedestrians": 0, "other_vehicle_class": 3,
}

#: A belted child in the back of a car hit from behind on the motorway, summer Saturday.
PASSENGER: dict[str, Any] = {
    "an": 2023, "mois": 8, "jour": 5, "hrmn": "11:15",
    "lum": 1, "agg": 1, "int": 1, "atm": 1, "col": 2,
    "catr": 1, "circ": 3, "nbv": 3, "vosp": 0, "prof": 1, "plan": 1, "surf": 1, "infra": 0,
    "situ": 1, "vma": 130,
    "catv": 7, "obs": 0, "obsm": 2, "choc": 4, "manv": 1, "motor": 1,
    "place": 4, "catu": 2, "sexe": 2, "an_nais": 2012, "trajet": 5,
    "secu1": 1, "secu2": 0, "secu3": -1, "locp": 0, "etatp": -1,
    "n_vehicles": 2, "n_users": 5, "n_pedestrians": 0, "other_vehicle_class": 3,
}

#: A belted van driver alone, off a wet right-hand bend into a tree before dawn in January.
VAN_DRIVER: dict[str, Any] = {
    "an": 2023, "mois": 1, "jour": 21, "hrmn": "05:50",
    "lum": 3, "agg": 1, "int": 1, "atm": 2, "col": 7,
    "catr": 3, "circ": 2, "nbv": 2, "vosp": 0, "prof": 1, "plan": 3, "surf": 2, "infra": 0,
    "situ": 1, "vma": 80,
    "catv": 10, "obs": 2, "obsm": 0, "choc": 1, "manv": 1, "motor": 1,
    "place": 1, "catu": 1, "sexe": 1, "an_nais": 1990, "trajet": 4,
    "secu1": 1, "secu2": 0, "secu3": -1, "locp": 0, "etatp": -1,
    "n_vehicles": 1, "n_users": 1, "n_pedestrians": 0, "other_vehicle_class": 0,
}

#: Name -> (one-line description, road user), in the order the page offers them.
EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "car_driver": ("Belted car driver, two-car side crash in town, daytime", CAR_DRIVER),
    "motorcyclist": ("Unhelmeted motorcyclist, head-on at night on a 90 km/h road", MOTORCYCLIST),
    "pedestrian": ("Elderly pedestrian on a crossing, rainy evening", PEDESTRIAN),
    "cyclist": ("Helmeted cyclist, side crash at a town junction", CYCLIST),
    "passenger": ("Child passenger, rear-ended on the motorway", PASSENGER),
    "van_driver": ("Van driver alone into a tree, before dawn", VAN_DRIVER),
}
#: The README's second quick-start request sends these (``.venv/bin/python -m accidents.serving.examples``).
EXAMPLES_FILE = "examples/road_users.json"


def examples_request() -> dict[str, Any]:
    """Every example as one ``/predict`` body (what ``EXAMPLES_FILE`` holds)."""
    return {"road_users": [values for _label, values in EXAMPLES.values()]}


def examples_json() -> str:
    """``examples_request()`` as JSON text, one road user per line (readable in a diff)."""
    rows = ",\n".join(f"  {json.dumps(row)}" for row in examples_request()["road_users"])
    return f'{{"road_users": [\n{rows}\n]}}\n'


if __name__ == "__main__":  # writes EXAMPLES_FILE's content to stdout
    print(examples_json(), end="")
