"""Per-road-user feature table and targets (CONTRACT; implementation in progress).

One row per road user with known ``grav``: the user joined with their vehicle, the
accident and the road, plus accident-level aggregates. The model (accidents/model.py) takes
``MODEL_INPUT_COLUMNS`` exactly as built here (raw BAAC codes + aggregates) and derives
hour / weekday / age itself, so the served model and the training data share one object.
"""

from __future__ import annotations

#: Accident fields (caracteristiques). ``hrmn`` stays the BAAC "HH:MM" text.
ACCIDENT_INPUTS: tuple[str, ...] = ("an", "mois", "jour", "hrmn", "lum", "agg", "int", "atm", "col")
#: Road fields (lieux; the first lieux row of the accident when there are several).
ROAD_INPUTS: tuple[str, ...] = (
    "catr", "circ", "nbv", "vosp", "prof", "plan", "surf", "infra", "situ", "vma",
)
#: Vehicle fields (the user's own vehicle).
VEHICLE_INPUTS: tuple[str, ...] = ("catv", "obs", "obsm", "choc", "manv", "motor")
#: Person fields.
USER_INPUTS: tuple[str, ...] = (
    "place", "catu", "sexe", "an_nais", "trajet", "secu1", "secu2", "secu3", "locp", "etatp",
)
#: Accident-level aggregates, known at the scene without knowing anyone's injuries.
AGGREGATE_INPUTS: tuple[str, ...] = (
    "n_vehicles", "n_users", "n_pedestrians", "other_vehicle_class",
)
MODEL_INPUT_COLUMNS: tuple[str, ...] = (
    ACCIDENT_INPUTS + ROAD_INPUTS + VEHICLE_INPUTS + USER_INPUTS + AGGREGATE_INPUTS
)
#: Identifiers kept beside the inputs (never fed to the model).
ID_COLUMNS: tuple[str, ...] = ("Num_Acc", "year", "id_vehicule", "num_veh")
TARGET = "severe"
