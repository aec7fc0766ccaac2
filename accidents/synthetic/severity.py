"""How badly each synthetic road user is hurt: a latent severity model, stated in code.

Each user gets a latent severity ``z = x·beta + u_accident + e_user`` (logit scale):
``x·beta`` is the sum of the effects below, ``u_accident ~ N(0, ACCIDENT_SD)`` is the
violence of the crash shared by everyone in it (what the files do not record), and
``e_user ~ Logistic(0, NOISE_SCALE)`` is individual luck. ``grav`` follows the order of
``z``: the cut points are the per-year quantiles that reproduce the grav shares of
BAAC-FACTS §2 exactly, with one rule of the data kept: every accident (an *injury*
accident) has at least one injured user (its highest-``z`` user).

The facts give severity only by equipment (secu1, §4c), deaths by mode (§4a) and some
qualitative rankings (§4b: head-on, night without lighting, two-wheelers, outside built-up
areas, speed, heavy vehicle involved). Every size below is [ASSUMED], chosen so that the
secu1 severity rates, deaths by mode and the Cramér's V of §4d come out close to the facts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accidents.synthetic import params as P
from accidents.synthetic.tables import MASS_CLASS, YearTables

#: Vulnerability of the user's mode (car occupant = 0).
MODE_EFFECT = {"pedestrian": 1.2, "bicycle": 1.55, "edp": 1.45, "moped": 1.3,
               "motorcycle": 1.5, "car": 0.0, "van": -0.1, "heavy": -0.4, "bus": -1.4,
               "rail": -1.8, "other": 0.4}
#: Speed limit of the (first) road, by km/h (missing: 0).
VMA_EFFECT = {10: -0.7, 20: -0.6, 25: -0.5, 30: -0.4, 40: -0.2, 50: 0.0, 60: 0.2, 70: 0.45,
              80: 0.75, 90: 0.85, 110: 0.7, 130: 0.55}
OUTSIDE_BUILT_UP = 0.3  # agg = 1
CATR_EFFECT = {1: -0.35, 2: 0.1, 3: 0.15, 4: 0.0, 5: -0.5, 6: -0.6, 7: 0.0, 9: 0.0}
LUM_EFFECT = {1: 0.0, 2: 0.1, 3: 0.55, 4: 0.25, 5: 0.15}
SMALL_HOURS = 0.35  # 02:00-05:59: the fatal rate doubles there (FACTS §3d)
ATM_EFFECT = {5: 0.25, 3: 0.1, 6: 0.1, 4: -0.1}
AGE_SLOPE = 0.024  # per year above 40, capped at +1.3 (the elderly are frailer)
YOUNG = -0.15  # under 18
FEMALE = -0.25
#: Passengers are hurt as badly as the average user: 18.3 % killed or hospitalised in the
#: samples (24 of 131, 2019-2024) vs 18.0 % for all users [FACTS §2].
PASSENGER = 0.45
REAR_SEAT = 0.0
#: Equipment relative to being belted (car-like) or helmeted (two-wheelers).
NO_BELT = 1.6  # car-like occupant with secu1 = 0
NO_HELMET_2RM = 0.9
NO_HELMET_CYCLE = 0.5
NOT_DETERMINABLE = 0.0  # secu1 = 8
CHILD_SEAT = 0.0  # was 0.5 before passengers got PASSENGER; severe ~9 % (FACTS §4c)
OBSTACLE = 0.75  # own vehicle hit a fixed obstacle
HARD_OBSTACLE = 0.55  # extra for a tree, wall, pole, parapet, culvert head
SOFT_OBSTACLE = -0.2  # crash barriers
OTHER_HEAVY = 0.9  # a lorry / bus on the other side
OTHER_RAIL = 1.3
VULNERABLE_VS_MOTOR = 0.2
#: In a vehicle heavier than everything it hit (car vs cyclist, lorry vs car): the
#: other side absorbs the energy; hitting a pedestrian protects the occupants even more.
OTHER_LIGHTER = -0.9
HIT_PEDESTRIAN = -1.0
COL_EFFECT = {1: 0.85, 2: -0.35, 3: 0.0, 4: -0.25, 5: 0.1, 6: 0.0, 7: 0.3}
AT_INTERSECTION = -0.15
ACCIDENT_SD = 0.6
NOISE_SCALE = 0.75

# Second stage: among the severely hurt (killed or hospitalised), who dies. Ranking by
# ``z + lethality + noise``: deaths are concentrated where energy is highest (speed,
# rural roads, hard obstacles, head-on, no belt) and on frail (old) users, which is why
# car occupants are ~48 % of deaths but ~30 % of serious injuries while pedestrians and
# two-wheelers have more hospitalised per death (FACTS §4a).
LETHAL_MODE = {"pedestrian": 0.5, "bicycle": -0.5, "edp": -0.8, "moped": -0.7,
               "motorcycle": -0.25, "car": 0.7, "van": 0.6, "heavy": 1.2, "bus": 0.0,
               "rail": 0.0, "other": 0.0}
LETHAL_SPEED = 0.3  # times VMA_EFFECT
LETHAL_OUTSIDE = 0.0
LETHAL_OLD = 0.02  # per year above 60
#: Young adults die more often when hurt (speed, night, inexperience): 18-24-year-olds
#: have 94 deaths per million vs 44 for all ages (FACTS §4a, 2021) and are 17 % of deaths;
#: children (<= 13) only 1.8-2.9 % of deaths (FACTS §4a) [sizes ASSUMED, tuned to those].
LETHAL_YOUNG_ADULT = 0.2
LETHAL_CHILD = -0.6
LETHAL_HARD_OBSTACLE = 0.5
LETHAL_HEAD_ON = 0.5
LETHAL_NO_BELT = 1.5
LETHAL_NOISE = 0.8
LETHAL_FEMALE = -0.5  # 78 % of the killed are men (FACTS §3b)
LETHAL_SMALL_HOURS = 0.4  # fatal rate ~12 % of accidents at 02:00-05:59 vs 5.7 % (FACTS §3d)

# First stage: injured at all. Without a shell, a pedestrian or rider is almost never
# unharmed (secu1 = helmet / none: 7-9 % unharmed vs 58 % for belted, FACTS §4c).
INJURY_MODE = {"pedestrian": 2.5, "bicycle": 2.0, "edp": 2.0, "moped": 2.0,
               "motorcycle": 2.0, "car": 0.0, "van": 0.0, "heavy": 0.0, "bus": 0.0,
               "rail": 0.0, "other": 0.5}
INJURY_NOISE = 0.5
#: Passengers are hurt about as often as drivers [ASSUMED; grav~catu V ≈ 0.17, FACTS §4d].
INJURY_PASSENGER = 0.8

_VULNERABLE = ("pedestrian", "bicycle", "edp", "moped", "motorcycle")


def _lookup(values: np.ndarray, table: dict[int, float]) -> np.ndarray:
    return pd.Series(values).map(table).fillna(0.0).to_numpy(float)


def linear_predictor(tables: YearTables) -> np.ndarray:
    """``x·beta`` per user (same row order as ``tables.usagers``)."""
    usr, veh, acc = tables.usagers, tables.vehicules, tables.caracteristiques
    road = tables.lieux.drop_duplicates("Num_Acc")  # the first lieux row
    a = usr["_acc"].to_numpy()
    v = usr["_veh"].to_numpy()
    mode = usr["_mode"].to_numpy()
    z = pd.Series(mode).map(MODE_EFFECT).to_numpy(float)
    z += _lookup(road["_vma_true"].to_numpy()[a], VMA_EFFECT)
    z += OUTSIDE_BUILT_UP * (acc["agg"].to_numpy()[a] == 1)
    z += _lookup(road["catr"].to_numpy()[a], CATR_EFFECT)
    z += _lookup(acc["_lum_true"].to_numpy()[a], LUM_EFFECT)
    hour = acc["_hour"].to_numpy()[a]
    z += SMALL_HOURS * ((hour >= 2) & (hour < 6))
    z += _lookup(acc["_atm_true"].to_numpy()[a], ATM_EFFECT)
    age = usr["_age"].to_numpy()
    z += np.nan_to_num(np.clip(AGE_SLOPE * (age - 40), 0, 1.3))
    z += YOUNG * (age < 18)
    z += FEMALE * (usr["sexe"].to_numpy() == 2)
    catu = usr["catu"].to_numpy()
    place = usr["place"].to_numpy()
    z += PASSENGER * (catu == 2) + REAR_SEAT * np.isin(place, (3, 4, 5, 7, 8, 9))
    secu1 = usr["secu1"].to_numpy()
    car_like = np.isin(mode, ("car", "van", "heavy", "other"))
    z += NO_BELT * (car_like & (secu1 == 0))
    z += NO_HELMET_2RM * (np.isin(mode, ("moped", "motorcycle")) & (secu1 == 0))
    z += NO_HELMET_CYCLE * (np.isin(mode, ("bicycle", "edp")) & (secu1 == 0))
    z += NOT_DETERMINABLE * (secu1 == 8) + CHILD_SEAT * (secu1 == 3)
    obs = veh["_obs_true"].to_numpy()[v]
    own_vehicle_obstacle = (obs > 0) & (catu != 3)
    z += OBSTACLE * own_vehicle_obstacle
    z += HARD_OBSTACLE * (own_vehicle_obstacle & np.isin(obs, (2, 6, 8, 10, 17)))
    z += SOFT_OBSTACLE * (own_vehicle_obstacle & np.isin(obs, (3, 4, 5)))
    other = heaviest_other_class(tables)
    own_heavy = np.isin(mode, ("heavy", "bus", "rail"))
    z += OTHER_HEAVY * ((other == 4) & ~own_heavy) + OTHER_RAIL * (other == 5)
    z += VULNERABLE_VS_MOTOR * (np.isin(mode, _VULNERABLE) & np.isin(other, (2, 3)))
    own_class = pd.Series(veh["_mode"].to_numpy()[v]).map(MASS_CLASS).to_numpy(np.int64)
    occupant = catu != 3
    z += OTHER_LIGHTER * (occupant & (other >= 0) & (other < own_class))
    z += HIT_PEDESTRIAN * (occupant & (veh["_n_ped"].to_numpy()[v] > 0))
    z += _lookup(acc["_col_true"].to_numpy()[a], COL_EFFECT)
    z += AT_INTERSECTION * (acc["_int_true"].to_numpy()[a] != 1)
    return z


def lethality(tables: YearTables) -> np.ndarray:
    """Extra latent for dying rather than being hospitalised (see ``LETHAL_*``)."""
    usr, veh, acc = tables.usagers, tables.vehicules, tables.caracteristiques
    road = tables.lieux.drop_duplicates("Num_Acc")
    a = usr["_acc"].to_numpy()
    v = usr["_veh"].to_numpy()
    mode = usr["_mode"].to_numpy()
    catu = usr["catu"].to_numpy()
    out = pd.Series(mode).map(LETHAL_MODE).to_numpy(float)
    out += LETHAL_SPEED * _lookup(road["_vma_true"].to_numpy()[a], VMA_EFFECT)
    out += LETHAL_OUTSIDE * (acc["agg"].to_numpy()[a] == 1)
    age = usr["_age"].to_numpy()
    out += np.nan_to_num(LETHAL_OLD * np.clip(age - 60, 0, 40))
    out += LETHAL_YOUNG_ADULT * ((age >= 18) & (age <= 24)) + LETHAL_CHILD * (age <= 13)
    obs = veh["_obs_true"].to_numpy()[v]
    out += LETHAL_HARD_OBSTACLE * ((catu != 3) & np.isin(obs, (2, 6, 8, 10, 17)))
    out += LETHAL_HEAD_ON * (acc["_col_true"].to_numpy()[a] == 1)
    car_like = np.isin(mode, ("car", "van", "heavy", "other"))
    out += LETHAL_NO_BELT * (car_like & (usr["secu1"].to_numpy() == 0))
    out += LETHAL_FEMALE * (usr["sexe"].to_numpy() == 2)
    hour = acc["_hour"].to_numpy()[a]
    out += LETHAL_SMALL_HOURS * ((hour >= 2) & (hour < 6))
    return out


def heaviest_other_class(tables: YearTables) -> np.ndarray:
    """Per user: mass class of the heaviest vehicle other than their own (-1: none).

    For a pedestrian every vehicle of the accident counts (including the one they are
    attached to in the files, which is the one that hit them).
    """
    veh, usr = tables.vehicules, tables.usagers
    cls = pd.Series(veh["_mode"].to_numpy()).map(MASS_CLASS).to_numpy(np.int64)
    frame = pd.DataFrame({"acc": veh["_acc"].to_numpy(), "cls": cls})
    top = frame.groupby("acc")["cls"].max()
    n_top = frame.assign(is_top=cls == top.reindex(frame["acc"]).to_numpy()).groupby("acc")["is_top"].sum()
    second = frame[cls < top.reindex(frame["acc"]).to_numpy()].groupby("acc")["cls"].max()
    second = second.reindex(top.index).fillna(-1).astype(np.int64)
    v = usr["_veh"].to_numpy()
    a = usr["_acc"].to_numpy()
    own = cls[v]
    top_a, n_top_a, second_a = top.to_numpy()[a], n_top.to_numpy()[a], second.to_numpy()[a]
    other = np.where((own == top_a) & (n_top_a == 1), second_a, top_a)
    return np.where(usr["catu"].to_numpy() == 3, top_a, other)


def _at_least_one_per_accident(z: np.ndarray, acc: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """Mask of the highest-``z`` eligible user of each accident."""
    z_eff = np.where(eligible, z, -np.inf)
    order = np.lexsort((-z_eff, acc))
    first = np.ones(len(z), dtype=bool)
    first[1:] = acc[order][1:] != acc[order][:-1]
    mask = np.zeros(len(z), dtype=bool)
    mask[order[first]] = True
    return mask & eligible


def assign_grav(tables: YearTables, rng: np.random.Generator) -> None:
    """Fill ``usagers.grav`` (and the latents ``_z``, ``_xb``) in place.

    Three rankings, each cut at the count that gives the year's grav shares exactly:
    1. injured or not: ``z + INJURY_MODE`` (a pedestrian or rider is almost never
       unharmed, a car occupant often is); the top-ranked user of every accident is
       injured, so each accident is an injury accident as in the files;
    2. among the injured, severely (killed or hospitalised) or lightly: ``z``;
    3. among the severely hurt, killed: ``z + lethality``.
    Runaway users (2021+) get their grav from ``RUNAWAY_GRAV`` (mostly unharmed).
    """
    usr = tables.usagers
    n = len(usr)
    acc = usr["_acc"].to_numpy()
    u_acc = rng.normal(0.0, ACCIDENT_SD, len(tables.caracteristiques))
    xb = linear_predictor(tables)
    z = xb + u_acc[acc] + rng.logistic(0, NOISE_SCALE, n)
    runaway = usr["_runaway"].to_numpy()
    grav = np.full(n, -1, dtype=np.int64)
    codes = np.array(list(P.RUNAWAY_GRAV))
    probs = np.array(list(P.RUNAWAY_GRAV.values()))
    grav[runaway] = codes[rng.choice(len(codes), runaway.sum(), p=probs / probs.sum())]
    shares = P.GRAV_SHARES[min(P.GRAV_SHARES, key=lambda y: abs(y - tables.year))]
    known = n - int((grav[runaway] == -1).sum())
    target = {k: share * known - (grav[runaway] == k).sum() for k, share in shares.items()}
    n_killed, n_hosp = int(round(target[2])), int(round(target[3]))
    n_unharmed = int(round(max(target[1], 0)))
    # 1. unharmed
    mode = usr["_mode"].to_numpy()
    z_inj = (z + pd.Series(mode).map(INJURY_MODE).to_numpy(float)
             + INJURY_PASSENGER * (usr["catu"].to_numpy() == 2) + rng.logistic(0, INJURY_NOISE, n))
    must_injure = _at_least_one_per_accident(z_inj, acc, ~runaway)
    free = np.flatnonzero(~runaway & ~must_injure)
    grav[free[np.argsort(z_inj[free], kind="stable")[:n_unharmed]]] = 1
    # 2. severe or light
    injured = np.flatnonzero(~runaway & (grav == -1))
    ranked = injured[np.argsort(-z[injured], kind="stable")]
    severe = ranked[:n_killed + n_hosp]
    grav[ranked[n_killed + n_hosp:]] = 4
    # 3. killed or hospitalised
    z_kill = z[severe] + lethality(tables)[severe] + rng.logistic(0, LETHAL_NOISE, len(severe))
    by_lethality = severe[np.argsort(-z_kill, kind="stable")]
    grav[by_lethality[:n_killed]] = 2
    grav[by_lethality[n_killed:]] = 3
    usr["grav"] = grav
    usr["_z"] = z
    usr["_xb"] = xb
