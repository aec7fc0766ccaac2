"""Two realistic road users: the service's first prediction, everywhere it is shown.

Why one module: the OpenAPI examples (accidents/serving/schema.py), the page's defaults
(``form.json`` -> web/app.js), the README's curl and the quick-start test all describe the
same people, so a first prediction never reads "0.0 %" because every field was left
"not recorded" (which the model has learnt to read as *unhurt*: docs/FEATURES.md,
"Not recorded"). tests/test_serving_examples.py checks the README's curl body is this dict.

Every field is filled, with codes as the BAAC 2019+ files write them.
"""

from __future__ import annotations

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

#: Name -> (one-line description, road user), in the order the page offers them.
EXAMPLES: dict[str, tuple[str, dict[str, Any]]] = {
    "car_driver": ("Belted car driver, two-car side crash in town, daytime", CAR_DRIVER),
    "motorcyclist": ("Unhelmeted motorcyclist, head-on at night on a 90 km/h road", MOTORCYCLIST),
}
