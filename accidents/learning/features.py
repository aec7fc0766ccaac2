"""Per-road-user feature table and targets (leak-free; see docs/FEATURES.md).

One row per road user with known ``grav``: the user joined with their vehicle, the
accident and the road, plus accident-level aggregates. The model (accidents/learning/model.py) takes
``MODEL_INPUT_COLUMNS`` exactly as built here (raw BAAC codes + aggregates) and derives
hour / weekday / age itself, so the served model and the training data share one object.

Pedestrians (catu 3) are attached in BAAC to the vehicle that hit them: their "vehicle"
fields (catv, obs, obsm, choc, manv, motor) describe that vehicle, which is what matters
for their injuries.

Leak rule: nothing derived from anyone's ``grav`` enters the inputs; aggregates count
people and vehicles involved, which the police know at the scene before any outcome.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from accidents.data.loader import BaacTables
from accidents.data.schema import CATV_CLASS, KEY, NOT_RECORDED

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
#: grav codes counted as severe: 2 killed, 3 hospitalised (> 24 h).
SEVERE_GRAV: tuple[int, ...] = (2, 3)
#: Severity order used to pick an accident's worst-hurt user (grav codes are not ordered:
#: 1 unharmed, 4 slight, 3 hospitalised, 2 killed).
GRAV_RANK: dict[int, int] = {1: 0, 4: 1, 3: 2, 2: 3}

#: Float model inputs (NaN = not recorded); every other input but ``hrmn`` is int64.
FLOAT_INPUTS: tuple[str, ...] = ("an_nais", "vma", "nbv")


@dataclass
class FeatureReport:
    """Counts from building the feature table (logged as step metadata)."""

    users_in: int = 0
    rows_out: int = 0
    #: reason -> users left out (unknown grav, ...); never silent.
    excluded: dict[str, int] = field(default_factory=dict)
    #: accidents with several lieux rows (the first row is used).
    accidents_multi_lieux: int = 0
    #: users whose accident has no lieux row (road fields set to not recorded).
    users_without_lieux: int = 0
    severe_rate: float = float("nan")

    def to_dict(self) -> dict[str, object]:
        """Plain JSON-able dict."""
        return asdict(self)


def vehicle_class(catv: pd.Series) -> pd.Series:
    """Mass class (``schema.CATV_CLASS``) of each catv code; unknown codes -> -1."""
    return catv.map(CATV_CLASS).fillna(NOT_RECORDED).astype("int64")


def _other_vehicle_class(vehicules: pd.DataFrame, users: pd.DataFrame) -> np.ndarray:
    """For each user, the class of the heaviest vehicle of the accident other than theirs.

    Computed from the two heaviest vehicles of each accident: a user whose own vehicle is
    the heaviest gets the second one. 0 = no other vehicle; -1 = other vehicles of unknown
    class only.
    """
    v = vehicules[[KEY, "id_vehicule"]].copy()
    v["cls"] = vehicle_class(vehicules["catv"]).to_numpy()
    v = v.sort_values([KEY, "cls"], ascending=[True, False], kind="stable")
    rank = v.groupby(KEY, sort=False).cumcount()
    top = v[rank == 0].set_index(KEY)
    second = v[rank == 1].set_index(KEY)["cls"]
    acc = users[KEY]
    top_id = acc.map(top["id_vehicule"])
    top_cls = acc.map(top["cls"])
    second_cls = acc.map(second).fillna(0)  # no second vehicle: nothing else on the road
    own_is_top = (users["id_vehicule"] == top_id).to_numpy()
    out = np.where(own_is_top, second_cls.to_numpy(), top_cls.fillna(0).to_numpy())
    return out.astype("int64")


def _gather(source: pd.DataFrame, cols: tuple[str, ...], pos: np.ndarray) -> dict[str, np.ndarray]:
    """``source[cols]`` rows at positions ``pos`` (-1 = no row: not recorded / NaN / "")."""
    missing = pos < 0
    safe = np.where(missing, 0, pos)
    out: dict[str, np.ndarray] = {}
    for col in cols:
        values = source[col].to_numpy()
        if len(values) == 0:
            values = np.array([NOT_RECORDED], dtype=source[col].dtype)
        got = values.take(safe)
        if missing.any():
            fill: object = np.nan if col in FLOAT_INPUTS else "" if col == "hrmn" else NOT_RECORDED
            if got.dtype == object:
                got[missing] = fill  # take() returned a copy
            else:
                got = np.where(missing, fill, got)
        out[col] = got
    return out


def build_user_table(tables: BaacTables) -> tuple[pd.DataFrame, FeatureReport]:
    """One row per road user with known grav: ``ID_COLUMNS + MODEL_INPUT_COLUMNS + (grav, severe)``.

    Each user is matched to their accident, first road row and vehicle by position
    (``get_indexer``) and the columns are gathered once, instead of chained joins that
    copy the whole table at each step: five years (630,000 users) stay in a few seconds.
    """
    report = FeatureReport()
    users = tables.usagers
    report.users_in = len(users)
    car = tables.caracteristiques
    lieux = tables.lieux
    veh = tables.vehicules

    # Aggregates are counted over everyone involved, including users whose grav is
    # unknown: they were at the scene.
    n_vehicles = veh.groupby(KEY).size()
    n_users = users.groupby(KEY).size()
    n_ped = users[users["catu"] == 3].groupby(KEY).size()

    unknown = users["grav"] == NOT_RECORDED
    report.excluded["unknown grav (-1)"] = int(unknown.sum())
    outside = ~users["grav"].isin((1, 2, 3, 4)) & ~unknown
    if outside.any():
        report.excluded["grav outside the codebook"] = int(outside.sum())
    u = users[~unknown & ~outside]
    acc_key = u[KEY].to_numpy()

    n_lieux = lieux.groupby(KEY).size()
    report.accidents_multi_lieux = int((n_lieux > 1).sum())
    road = lieux.drop_duplicates(KEY, keep="first")

    acc_pos = pd.Index(car[KEY]).get_indexer(acc_key)
    road_pos = pd.Index(road[KEY]).get_indexer(acc_key)
    veh_index = pd.MultiIndex.from_arrays([veh[KEY].to_numpy(), veh["id_vehicule"].to_numpy()])
    veh_pos = veh_index.get_indexer(
        pd.MultiIndex.from_arrays([acc_key, u["id_vehicule"].to_numpy()]))
    report.users_without_lieux = int((road_pos < 0).sum())

    columns: dict[str, np.ndarray] = {
        c: u[c].to_numpy() for c in (KEY, "year", "id_vehicule", "num_veh", *USER_INPUTS, "grav")
    }
    columns.update(_gather(car, ACCIDENT_INPUTS, acc_pos))
    columns.update(_gather(road, ROAD_INPUTS, road_pos))
    columns.update(_gather(veh, VEHICLE_INPUTS, veh_pos))
    keys = pd.Series(acc_key)
    columns["n_vehicles"] = keys.map(n_vehicles).fillna(0).to_numpy().astype("int64")
    columns["n_users"] = keys.map(n_users).fillna(0).to_numpy().astype("int64")
    columns["n_pedestrians"] = keys.map(n_ped).fillna(0).to_numpy().astype("int64")
    columns["other_vehicle_class"] = _other_vehicle_class(
        veh, pd.DataFrame({KEY: acc_key, "id_vehicule": columns["id_vehicule"]}))
    columns[TARGET] = np.isin(columns["grav"], SEVERE_GRAV).astype("int64")

    for col in MODEL_INPUT_COLUMNS:  # the contract's dtypes, whatever the gather produced
        kind = object if col == "hrmn" else "float64" if col in FLOAT_INPUTS else "int64"
        columns[col] = columns[col].astype(kind, copy=False)
    # copy=False keeps one block per column: no consolidation copy of the whole table.
    out = pd.DataFrame(
        {c: columns.pop(c) for c in (*ID_COLUMNS, *MODEL_INPUT_COLUMNS, "grav", TARGET)},
        copy=False,
    )
    report.rows_out = len(out)
    report.severe_rate = float(out[TARGET].mean()) if len(out) else float("nan")
    return out, report


def accident_level_table(user_table: pd.DataFrame) -> pd.DataFrame:
    """One row per accident; ``grav`` = the worst-hurt user's, ``severe`` = any user severe.

    This is the target of the older accident-level projects (kept for comparison).

    Why the row is NOT the worst-hurt user's row: choosing whose fields describe the
    accident by looking at injuries is a leak (if the worst-hurt is a pedestrian, the row
    says catu = 3, and severity follows). The representative row is chosen without grav:
    the first vehicle's (``num_veh`` order) driver, else its first person by seat.
    Pedestrians and other vehicles still show through the accident aggregates.
    """
    rep = user_table.assign(
        _role=np.where(user_table["catu"].to_numpy() == 1, 0, 1),
        _pos=np.arange(len(user_table)),
    ).sort_values([KEY, "num_veh", "_role", "place", "_pos"], kind="stable")
    rows = rep.drop_duplicates(KEY, keep="first").drop(columns=["_role", "_pos"])
    worst_rank = user_table["grav"].map(GRAV_RANK).groupby(user_table[KEY]).max()
    rank_to_grav = {rank: grav for grav, rank in GRAV_RANK.items()}
    any_severe = user_table.groupby(KEY)[TARGET].max()
    keys = rows[KEY]
    rows = rows.assign(
        grav=keys.map(worst_rank).map(rank_to_grav).astype("int64").to_numpy(),
        **{TARGET: keys.map(any_severe).astype("int64").to_numpy()},
    )
    return rows.reset_index(drop=True)
