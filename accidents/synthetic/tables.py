"""Draw the four BAAC tables of one synthetic year as typed DataFrames (before grav).

Order of draws: accidents (date, place, conditions) -> roads -> vehicles -> users. Each
stage has its own random stream (``numpy`` ``SeedSequence`` spawned from the seed and the
year), so the tables are reproducible and a change in one stage does not move the others.
Values are the BAAC codes; -1 = not recorded, NaN = missing measure. Columns starting with
``_`` are generator internals (not written to disk).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from accidents.synthetic import params as P
from accidents.synthetic.departements import DEPARTEMENTS, METROPOLE, OVERSEAS
from accidents.synthetic.sampling import (
    draw,
    draw_by_group,
    normalised,
    padded,
    set_missing,
    within_group_rank,
)

#: Road-user "mode" used by the age, equipment and severity models.
MODES: dict[str, tuple[int, ...]] = {
    "bicycle": (1, 80),
    "edp": (50, 60),
    "moped": (2, 30, 35, 41),
    "motorcycle": (31, 32, 33, 34, 36, 42, 43),
    "car": (3, 7),
    "van": (10,),
    "heavy": (13, 14, 15, 16, 17, 20, 21),
    "bus": (37, 38),
    "rail": (39, 40),
    "other": (-1, 0, 99),
}
#: Mass class of a vehicle (used for "heaviest other vehicle").
MASS_CLASS = {"bicycle": 0, "edp": 0, "moped": 1, "motorcycle": 1, "car": 2, "van": 3,
              "other": 2, "heavy": 4, "bus": 4, "rail": 5}
_PASSENGER_GROUP = {"car": "car", "van": "car", "other": "other", "moped": "two_wheel",
                    "motorcycle": "two_wheel", "bicycle": "cycle", "edp": "cycle",
                    "heavy": "heavy", "bus": "bus", "rail": "bus"}

_STREETS = ("RUE DE PARIS", "Avenue du Général Leclerc", "Rue de la République",
            "Boulevard Voltaire", "Allée des Tilleuls", "Route de Lyon", "Place de la Mairie",
            "Chemin des Écoliers", "Rue Victor Hugo", "Avenue Jean Jaurès")


@dataclass
class YearTables:
    """The typed tables of one synthetic year (grav filled by synthetic_severity)."""

    year: int
    caracteristiques: pd.DataFrame
    lieux: pd.DataFrame
    vehicules: pd.DataFrame
    usagers: pd.DataFrame


def mode_of_catv(catv: np.ndarray) -> np.ndarray:
    """Mode name per vehicle category code."""
    out = np.full(len(catv), "other", dtype=object)
    for mode, codes in MODES.items():
        out[np.isin(catv, codes)] = mode
    return out


def _drift_t(year: int, year_drift: float) -> float:
    return (year - P.DRIFT_REFERENCE_YEAR) * year_drift


def _dates(rng: np.random.Generator, year: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(mois, jour) drawn with the month and weekday shares of FACTS §7 (Friday 16.4 %,
    Sunday 11.3 %): each day of the year weighs its month's share spread over its days,
    times its weekday's share."""
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    month_w = np.array(P.MONTH_SHARES)[days.month - 1] / days.days_in_month.to_numpy(float)
    weight = month_w * np.array(P.WEEKDAY_SHARES)[days.dayofweek.to_numpy()]
    picked = days[rng.choice(len(days), size=n, p=weight / weight.sum())]
    return picked.month.to_numpy(np.int64), picked.day.to_numpy(np.int64)


def _places(rng: np.random.Generator, agg: np.ndarray, n: int) -> tuple[np.ndarray, ...]:
    """(dep, com, lat, long) that agree with each other (issue 15: positions were random).

    dep: overseas with probability ``P_OVERSEAS`` [FACTS §1], then by the accident shares
    of ``departements`` [PROXY<2019, caract-2013]. Position inside the département's
    bounding box: in built-up areas 70 % near its main town (normal, sd 8 % of the box),
    the rest uniform over the box [ASSUMED]; clipped to the box.
    """
    def pick(codes: tuple[str, ...]) -> np.ndarray:
        w = np.array([DEPARTEMENTS[c].weight for c in codes])
        return np.array(codes, dtype=object)[rng.choice(len(codes), n, p=w / w.sum())]

    overseas = rng.random(n) < P.P_OVERSEAS
    dep = np.where(overseas, pick(OVERSEAS), pick(METROPOLE))
    commune = rng.integers(1, 700, n)
    com = dep + np.where(overseas, padded(commune % 100, 2), padded(commune, 3))
    table = pd.DataFrame.from_dict({c: d._asdict() for c, d in DEPARTEMENTS.items()}, orient="index")
    box = table.loc[dep]
    lo_lat, hi_lat = box.lat_min.to_numpy(float), box.lat_max.to_numpy(float)
    lo_lon, hi_lon = box.lon_min.to_numpy(float), box.lon_max.to_numpy(float)
    near_town = (agg == 2) & (rng.random(n) < 0.7)
    lat = np.where(near_town, box.lat_main.to_numpy(float) + rng.normal(0, 0.08, n) * (hi_lat - lo_lat),
                   lo_lat + rng.random(n) * (hi_lat - lo_lat))
    lon = np.where(near_town, box.lon_main.to_numpy(float) + rng.normal(0, 0.08, n) * (hi_lon - lo_lon),
                   lo_lon + rng.random(n) * (hi_lon - lo_lon))
    return dep, com, lat.clip(lo_lat, hi_lat), lon.clip(lo_lon, hi_lon)


def _accidents(rng: np.random.Generator, year: int, n: int) -> pd.DataFrame:
    n_veh = draw(rng, P.VEHICLES_PER_ACCIDENT, n)
    single = n_veh == 1
    p_ped = np.where(single, P.P_PEDESTRIAN_ACCIDENT["single"], P.P_PEDESTRIAN_ACCIDENT["multi"])
    n_ped = np.where(rng.random(n) < p_ped, draw(rng, P.PEDESTRIANS_PER_PEDESTRIAN_ACCIDENT, n), 0)
    agg = np.where(rng.random(n) < P.P_BUILT_UP, 2, 1)
    mois, jour = _dates(rng, year, n)
    hour = rng.choice(np.arange(24), size=n, p=normalised(dict(enumerate(P.HOUR_SHARES)))[1])
    minute = np.where(rng.random(n) < 0.75, 5 * rng.integers(0, 12, n), rng.integers(0, 60, n))
    # Light from hour, season and area [ASSUMED shapes]: winter nights are longer; lit
    # streets inside built-up areas, mostly unlit outside. Tuned to the lum shares of
    # FACTS §7 (day 68.7, night lit 16.6, night unlit 7.6, dusk 6.1, lights off 1.0 %):
    # twilight is a short part of the transition hours (issue 15: dusk was x1.6).
    winter = np.isin(mois, P.WINTER_MONTHS)
    night = (hour < 6) | (hour >= 21) | (winter & ((hour >= 18) | (hour < 8)))
    dusk = (~night & np.isin(hour, (6, 7, 19, 20))) | (winter & np.isin(hour, (8, 17)))
    night_lum = draw_by_group(rng, agg, {2: {5: 0.90, 3: 0.06, 4: 0.04}, 1: {3: 0.80, 5: 0.17, 4: 0.03}})
    lum = np.where(night, night_lum, np.where(dusk & (rng.random(n) < 0.38), 2, 1))
    inter = draw_by_group(rng, agg, {2: P.INT_SHARES["urban"], 1: P.INT_SHARES["rural"]})
    # Snow only in winter, with the winter weight that keeps its yearly share (params).
    atm = draw_by_group(rng, winter, {
        True: {**P.ATM_SHARES, 4: P.ATM_SHARES[4] * P.SNOW_IN_WINTER},
        False: {k: w for k, w in P.ATM_SHARES.items() if k != 4}})
    col = np.select(
        [n_ped > 0, single, n_veh == 2],
        [np.full(n, 6), draw(rng, P.COL_SINGLE_NO_PEDESTRIAN, n), draw(rng, P.COL_TWO, n)],
        draw(rng, P.COL_MORE, n),
    )
    col_missing = P.COL_MISSING_2019_2020 if year <= 2020 else P.MISSING_RATES["col"]
    dep, com, lat, lon = _places(rng, agg, n)
    return pd.DataFrame({
        "Num_Acc": year * 10**8 + 1 + np.arange(n, dtype=np.int64),
        "jour": jour, "mois": mois, "an": year,
        "hrmn": padded(hour, 2) + ":" + padded(minute, 2),
        "lum": set_missing(rng, lum, P.MISSING_RATES["lum"]),
        "dep": dep, "com": com, "agg": agg,
        "int": set_missing(rng, inter, P.MISSING_RATES["int"]),
        "atm": set_missing(rng, atm, P.MISSING_RATES["atm"]),
        "col": set_missing(rng, col, col_missing),
        "lat": lat.round(6), "long": lon.round(6),
        "_n_veh": n_veh, "_n_ped": n_ped, "_hour": hour, "_col_true": col,
        "_lum_true": lum, "_atm_true": atm,
    })


def _lieux(rng: np.random.Generator, acc: pd.DataFrame, year: int, t: float) -> pd.DataFrame:
    n = len(acc)
    agg = acc["agg"].to_numpy()
    catr = draw_by_group(rng, agg, {2: P.CATR_SHARES["urban"], 1: P.CATR_SHARES["rural"]})
    context = np.where(catr == 1, "motorway", np.where(agg == 2, "urban", "rural"))
    urban = dict(P.VMA_SHARES["urban"])
    total = sum(urban.values())
    shift = min(max(P.VMA_URBAN_30_GROWTH * t * total, -urban[30] + 1), urban[50] - 1)
    urban[30] += shift
    urban[50] -= shift
    vma = draw_by_group(rng, context, {"motorway": P.VMA_SHARES["motorway"], "urban": urban,
                                        "rural": P.VMA_SHARES["rural"]})
    circ = draw_by_group(rng, context, {"motorway": {3: 0.95, 1: 0.05},
                                         "urban": {2: 0.60, 1: 0.30, 3: 0.08, 4: 0.02},
                                         "rural": {2: 0.85, 3: 0.13, 1: 0.02}})
    nbv = np.where(
        catr == 1, draw(rng, {2: 0.30, 3: 0.35, 4: 0.20, 5: 0.05, 6: 0.08, 8: 0.02}, n),
        np.where(circ == 1, draw(rng, {1: 0.50, 2: 0.35, 3: 0.10, 4: 0.05}, n),
                 draw(rng, {2: 0.74, 1: 0.05, 3: 0.05, 4: 0.10, 0: 0.05, 6: 0.01}, n)))
    vosp = draw_by_group(rng, agg, {2: {0: 0.88, 1: 0.045, 2: 0.025, 3: 0.05},
                                     1: {0: 0.98, 1: 0.01, 2: 0.005, 3: 0.005}})
    prof = draw(rng, {1: 0.80, 2: 0.16, 3: 0.02, 4: 0.02}, n)
    plan = draw_by_group(rng, agg, {2: {1: 0.88, 2: 0.05, 3: 0.05, 4: 0.02},
                                     1: {1: 0.66, 2: 0.15, 3: 0.14, 4: 0.05}})
    atm = acc["_atm_true"].to_numpy()
    surf = np.select(
        [np.isin(atm, (2, 3)), atm == 4],
        [draw(rng, {2: 0.85, 3: 0.08, 4: 0.02, 1: 0.05}, n), draw(rng, {5: 0.5, 7: 0.4, 2: 0.1}, n)],
        draw(rng, {1: 0.95, 2: 0.03, 9: 0.008, 8: 0.004, 7: 0.004, 6: 0.004}, n))
    infra = draw_by_group(rng, agg, {2: {0: 0.84, 5: 0.08, 6: 0.015, 3: 0.01, 2: 0.01,
                                         1: 0.005, 4: 0.005, 8: 0.015, 9: 0.02},
                                     1: {0: 0.90, 3: 0.035, 2: 0.02, 5: 0.02, 1: 0.005,
                                         4: 0.003, 7: 0.005, 8: 0.007, 9: 0.005}})
    n_ped = acc["_n_ped"].to_numpy()
    situ = np.where(n_ped > 0, draw(rng, {1: 0.80, 4: 0.12, 8: 0.04, 3: 0.04}, n),
                    draw(rng, {1: 0.86, 3: 0.07, 8: 0.03, 2: 0.01, 5: 0.015, 6: 0.01, 4: 0.005}, n))
    road_no = rng.integers(1, 999, n)
    larrout = np.where(rng.random(n) < (0.0 if year <= 2020 else 0.75), -1.0,
                       np.round(rng.uniform(3, 15, n) * 2) / 2)
    if year <= 2020:
        larrout = np.full(n, np.nan)  # empty in 2019 files (FACTS §5: NaN 16 %)
    km = rng.integers(0, 60, n).astype(float)
    frame = pd.DataFrame({
        "Num_Acc": acc["Num_Acc"].to_numpy(),
        "catr": catr, "_road_no": road_no,
        "circ": set_missing(rng, circ, P.MISSING_RATES["circ"]),
        "nbv": set_missing(rng, nbv.astype(float), P.MISSING_RATES["nbv"]),
        "vosp": set_missing(rng, vosp, P.MISSING_RATES["vosp"]),
        "prof": set_missing(rng, prof, P.MISSING_RATES["prof"]),
        "pr": np.where(np.isin(catr, (1, 2, 3)), km, -1.0),
        "pr1": np.where(np.isin(catr, (1, 2, 3)), rng.integers(0, 1000, n), -1).astype(float),
        "plan": set_missing(rng, plan, P.MISSING_RATES["plan"]),
        "lartpc": np.full(n, np.nan), "larrout": larrout,
        "surf": set_missing(rng, surf, P.MISSING_RATES["surf"]),
        "infra": set_missing(rng, infra, P.MISSING_RATES["infra"]),
        "situ": set_missing(rng, situ, P.MISSING_RATES["situ"]),
        "vma": set_missing(rng, vma.astype(float), P.MISSING_RATES["vma"]),
        "_vma_true": vma, "_street": rng.integers(0, len(_STREETS), n),
    })
    if year >= P.LIEUX_EXTRA_FROM_YEAR:
        at_int = np.where(acc["_int_true"].to_numpy() != 1, "intersection", "other")
        rows = draw_by_group(rng, at_int, P.P_EXTRA_LIEUX)
        extra = frame.loc[np.repeat(np.arange(n), rows - 1)].copy()
        # The other road of the intersection: same category as the first row (all 31
        # multi-row accidents of the samples), another road number or street, its own
        # traffic layout; the same speed limit in 80 % of cases [ASSUMED from the samples,
        # where most rows of one accident share vma].
        k = len(extra)
        extra["_road_no"] = rng.integers(1, 999, k)
        extra["_street"] = rng.integers(0, len(_STREETS), k)
        extra["circ"] = set_missing(rng, draw(rng, {2: 0.6, 1: 0.35, 3: 0.05}, k), P.MISSING_RATES["circ"])
        extra["nbv"] = set_missing(rng, draw(rng, {2: 0.6, 1: 0.25, 4: 0.1, 3: 0.05}, k).astype(float),
                                   P.MISSING_RATES["nbv"])
        other_vma = set_missing(rng, draw(rng, {50: 0.6, 30: 0.2, 80: 0.1, 70: 0.1}, k).astype(float),
                                P.MISSING_RATES["vma"])
        extra["vma"] = np.where(rng.random(k) < 0.8, extra["vma"].to_numpy(), other_vma)
        frame = pd.concat([frame.assign(_order=0), extra.assign(_order=1)])
        frame = frame.sort_values(["Num_Acc", "_order"], kind="stable").drop(columns="_order")
        frame = frame.reset_index(drop=True)
    k = len(frame)
    frame["_voie_na"] = (rng.random(k) < P.P_VOIE_NA) if year >= P.VOIE_NA_FROM_YEAR else np.zeros(k, bool)
    # A few speed limits typed ten times too large (FACTS §3c); _vma_true keeps the real one.
    vma_typed = frame["vma"].to_numpy(float)
    typo = (rng.random(k) < P.P_VMA_TYPO) & (vma_typed > 0)
    frame["vma"] = np.where(typo, vma_typed * 10, vma_typed)
    return frame


def _catv(rng: np.random.Generator, agg: np.ndarray, t: float) -> np.ndarray:
    """Vehicle categories: pooled shares, tilted by area, grown by year (see params)."""
    codes = np.array(list(P.CATV_SHARES))
    base = np.array([P.CATV_SHARES[c] for c in codes], dtype=float)
    base *= np.exp(np.array([P.CATV_GROWTH.get(int(c), 0.0) for c in codes]) * t)
    base /= base.sum()
    k = np.array([P.CATV_URBAN_TILT.get(int(c), 0.0) for c in codes])
    k -= (base * k).sum()  # centred: 0.66 * urban + 0.34 * rural == base exactly
    urban = base * (1 + (1 - P.P_BUILT_UP) * k)
    rural = base * (1 - P.P_BUILT_UP * k)
    rural = rural.clip(min=base * 0.05)
    tables = {2: dict(zip(codes.tolist(), urban.tolist(), strict=True)),
              1: dict(zip(codes.tolist(), rural.tolist(), strict=True))}
    return draw_by_group(rng, agg, tables)


def _vehicles(rng: np.random.Generator, acc: pd.DataFrame, year: int, t: float) -> pd.DataFrame:
    n_veh = acc["_n_veh"].to_numpy()
    acc_idx = np.repeat(np.arange(len(acc)), n_veh)
    v = len(acc_idx)
    rank = within_group_rank(n_veh)
    agg = acc["agg"].to_numpy()[acc_idx]
    catv = _catv(rng, agg, t)
    mode = mode_of_catv(catv)
    n_ped = acc["_n_ped"].to_numpy()[acc_idx]
    single = n_veh[acc_idx] == 1
    hits_ped = (n_ped > 0) & (rank == 0)
    context = np.where(hits_ped, "pedestrian", np.where(single, "single", "multi"))
    p_obs = np.select([context == "pedestrian", context == "single"],
                      [P.P_OBSTACLE["pedestrian"], P.P_OBSTACLE["single"]], P.P_OBSTACLE["multi"])
    obs = np.where(rng.random(v) < p_obs, draw(rng, P.OBS_SHARES, v), 0)
    multi_other = np.where(single, "single", "multi")
    obsm = draw_by_group(rng, multi_other, {"single": P.OBSM_SINGLE, "multi": P.OBSM_MULTI})
    obsm = np.where(hits_ped, 1, obsm)
    col = acc["_col_true"].to_numpy()[acc_idx]
    choc = draw(rng, P.CHOC_SHARES, v)
    choc = np.where((col == 1) & (rng.random(v) < 0.35), 1, choc)  # head-on: front impacts
    manv = draw(rng, P.MANV_SHARES, v)
    # Energy: human-powered cycles, electric EDPm/e-bikes; cars slowly electrify
    # (+8 %/year of the hybrid/electric weight) [ASSUMED].
    growth = float(np.exp(0.08 * t))
    motor = draw_by_group(rng, mode, {
        "bicycle": {5: 0.93, 0: 0.04, 3: 0.03}, "edp": {3: 0.88, 5: 0.07, 0: 0.05},
        "car": {1: 0.87, 2: 0.028 * growth, 3: 0.015 * growth, 0: 0.075, 6: 0.005, 4: 0.0008},
        "van": {1: 0.88, 3: 0.03 * growth, 0: 0.08, 6: 0.01},
        "moped": {1: 0.86, 3: 0.06 * growth, 0: 0.07, 6: 0.01},
        "motorcycle": {1: 0.90, 3: 0.02 * growth, 0: 0.07, 6: 0.01},
        "heavy": {1: 0.90, 0: 0.08, 6: 0.02}, "bus": {1: 0.6, 2: 0.15, 3: 0.15, 0: 0.1},
        "rail": {3: 0.6, 6: 0.3, 0: 0.1}, "other": {1: 0.5, 0: 0.3, 6: 0.2}})
    motor = np.where((catv == 80) & (motor == 5), 3, motor)  # e-bikes are electric
    bus_like = np.isin(mode, ("bus", "rail"))
    # Fled vehicles: the last vehicle of some multi-vehicle accidents, named Z01 or keeping
    # its letter, with one unknown user or none (params, from the samples and FACTS §5).
    recent = year >= P.RUNAWAY_FROM_YEAR
    p_fled = P.P_RUNAWAY_VEHICLE if recent else P.P_RUNAWAY_VEHICLE_BEFORE_2021
    has = (n_veh > 1) & (rng.random(len(acc)) < p_fled)
    runaway = has[acc_idx] & (rank == n_veh[acc_idx] - 1)
    as_z01 = runaway & ((rng.random(v) < P.P_FLED_AS_Z01) | (not recent))
    p_no_user = np.where(as_z01, P.P_FLED_NO_USER["Z01"], P.P_FLED_NO_USER["letter"])
    no_user = runaway & ((rng.random(v) < p_no_user) | (not recent))
    letters = np.array([chr(ord("A") + i) for i in range(26)], dtype=object)
    num_veh = np.where(as_z01, "Z01", letters[np.minimum(rank, 24)] + "01")
    return pd.DataFrame({
        "Num_Acc": acc["Num_Acc"].to_numpy()[acc_idx],
        "id_vehicule": _id_base(year, "veh") + np.arange(v, dtype=np.int64),
        "num_veh": num_veh,
        "senc": set_missing(rng, draw(rng, P.SENC_SHARES, v), P.MISSING_RATES["senc"]),
        "catv": set_missing(rng, catv, P.MISSING_RATES["catv"]),
        "obs": set_missing(rng, obs, P.MISSING_RATES["obs"]),
        "obsm": set_missing(rng, obsm, P.MISSING_RATES["obsm"]),
        "choc": set_missing(rng, choc, P.MISSING_RATES["choc"]),
        "manv": set_missing(rng, manv, P.MISSING_RATES["manv"]),
        "motor": set_missing(rng, motor, P.MISSING_RATES["motor"]),
        "occutc": np.where(bus_like, rng.integers(1, 40, v), np.nan),
        "_acc": acc_idx, "_rank": rank, "_mode": mode, "_catv_true": catv,
        "_obs_true": obs, "_runaway": runaway, "_no_user": no_user,
        "_n_ped": np.where(hits_ped, n_ped, 0),
    })


def _id_base(year: int, kind: str) -> int:
    """First id of a year, shaped like the published ones (``155 680 557``; 2021: 6 digits)."""
    if year == 2021:
        return 200_000 if kind == "veh" else 260_000
    step = (year - 2019) * 1_500_000
    return (138_000_000 if kind == "veh" else 196_000_000) + step


#: Age bins (years, [lo, hi)) and weights by road-user type [ASSUMED shapes, tuned to the
#: age quartiles of FACTS §3b (q25 23, median 35, q75 52), the deaths by age of FACTS §4a
#: (18-24: ~17 %, 65+: ~26 %, 0-13: 1.8-2.9 %) and car drivers aged 18-24 (23 % in the
#: samples)]. Ages are uniform inside a bin.
AGE_BINS: dict[str, dict[tuple[int, int], float]] = {
    "car": {(18, 25): 22, (25, 35): 21, (35, 45): 17, (45, 55): 15, (55, 65): 11, (65, 75): 8, (75, 95): 4},
    "other": {(16, 25): 20, (25, 35): 20, (35, 45): 17, (45, 55): 15, (55, 65): 12, (65, 90): 16},
    "van": {(18, 25): 14, (25, 35): 25, (35, 45): 23, (45, 55): 20, (55, 65): 13, (65, 80): 5},
    "heavy": {(21, 30): 12, (30, 40): 25, (40, 50): 30, (50, 60): 27, (60, 70): 6},
    "bus": {(24, 30): 8, (30, 40): 22, (40, 50): 32, (50, 60): 30, (60, 67): 8},
    "motorcycle": {(16, 18): 4, (18, 25): 22, (25, 35): 24, (35, 45): 19, (45, 55): 17, (55, 65): 10,
                   (65, 80): 4},
    "moped": {(14, 18): 35, (18, 25): 30, (25, 35): 12, (35, 50): 12, (50, 80): 11},
    "bicycle": {(6, 14): 10, (14, 18): 8, (18, 25): 10, (25, 35): 13, (35, 45): 13, (45, 55): 14,
                (55, 65): 15, (65, 90): 13},
    "edp": {(10, 14): 5, (14, 18): 22, (18, 25): 31, (25, 35): 22, (35, 45): 12, (45, 70): 8},
    "passenger": {(0, 6): 7, (6, 14): 10, (14, 18): 9, (18, 25): 22, (25, 35): 12, (35, 45): 8,
                  (45, 55): 8, (55, 65): 8, (65, 75): 7, (75, 95): 4},
    "pedestrian": {(2, 6): 3, (6, 14): 8, (14, 18): 6, (18, 25): 10, (25, 35): 11, (35, 45): 9,
                   (45, 55): 10, (55, 65): 11, (65, 75): 13, (75, 97): 14},
}
AGE_BINS["rail"] = AGE_BINS["bus"]


def _ages(rng: np.random.Generator, mode: np.ndarray, catu: np.ndarray, t: float) -> np.ndarray:
    """Ages in years by road-user type (``AGE_BINS``), older over the years."""
    n = len(mode)
    role = np.where(catu == 3, "pedestrian", np.where(catu == 2, "passenger", mode))
    lo, hi = np.zeros(n), np.ones(n)
    for name, bins in AGE_BINS.items():
        sel = np.flatnonzero(role == name)
        if not len(sel):
            continue
        edges = np.array(list(bins))
        pick = draw(rng, dict(enumerate(bins.values())), len(sel))
        lo[sel], hi[sel] = edges[pick, 0], edges[pick, 1]
    age = lo + rng.random(n) * (hi - lo)
    # Older users over the years (ageing population) [ASSUMED: +0.3 year per year].
    age = age + 0.3 * t
    return np.floor(age.clip(0, 100))


def _users(rng: np.random.Generator, acc: pd.DataFrame, veh: pd.DataFrame, year: int,
           t: float) -> pd.DataFrame:
    mode_v = veh["_mode"].to_numpy()
    group = pd.Series(mode_v).map(_PASSENGER_GROUP).to_numpy(object)
    n_pass = draw_by_group(rng, group, P.PASSENGERS, default=0)
    runaway_v = veh["_runaway"].to_numpy()
    n_pass = np.where(runaway_v, 0, n_pass)
    n_ped_v = veh["_n_ped"].to_numpy()
    per_vehicle = np.where(veh["_no_user"].to_numpy(), 0, 1 + n_pass + n_ped_v)
    vi = np.repeat(np.arange(len(veh)), per_vehicle)
    r = within_group_rank(per_vehicle)
    n = len(vi)
    catu = np.where(r == 0, 1, np.where(r <= n_pass[vi], 2, 3))
    mode = np.where(catu == 3, "pedestrian", mode_v[vi])
    runaway = runaway_v[vi]
    age = _ages(rng, mode_v[vi], catu, t)
    male_p = {"car": 0.63, "van": 0.86, "heavy": 0.97, "bus": 0.85, "rail": 0.85,
              "moped": 0.80, "motorcycle": 0.91, "bicycle": 0.74, "edp": 0.74, "other": 0.8}
    p_male = np.select([catu == 2, catu == 3], [0.42, 0.50],
                       pd.Series(mode_v[vi]).map(male_p).to_numpy(float))
    sexe = np.where(rng.random(n) < p_male, 1, 2)
    place_pass = draw_by_group(rng, np.where(np.isin(mode_v[vi], ("moped", "motorcycle", "bicycle", "edp")), "2rm", "car"),
                               {"2rm": {2: 1.0}, "car": {2: 0.55, 4: 0.16, 3: 0.16, 5: 0.05, 6: 0.01, 7: 0.02, 9: 0.03, 8: 0.02}})
    place = np.select([catu == 1, catu == 2], [1, place_pass], 10)
    trajet = draw(rng, {0: 0.26, 1: 0.14, 2: 0.03, 3: 0.05, 4: 0.08, 5: 0.37, 9: 0.07}, n)
    trajet = np.where(age < 18, np.where(trajet == 1, 2, trajet), trajet)
    equip_group = np.select(
        [catu == 3, np.isin(mode, ("moped", "motorcycle")), mode == "bicycle", mode == "edp",
         (catu == 2) & (age < 10), (catu == 2) & np.isin(mode, ("bus", "rail"))],
        ["pedestrian" if year >= 2020 else "pedestrian_2019", "2rm", "bicycle", "edp", "child",
         "bus_passenger"], "occupant")
    # Equipment by user type [ASSUMED, tuned to the secu1 shares of FACTS §3b].
    secu1 = draw_by_group(rng, equip_group, {
        # Codes 4 (vest) and 9 (other) are rare: 0.05-0.08 % and 0.08-0.15 % [FACTS §3b].
        "occupant": {1: 0.87, 8: 0.122, 0: 0.005, 9: 0.0007, 2: 0.001, 4: 0.0002},
        "child": {3: 0.25, 1: 0.60, 8: 0.10, 0: 0.05},
        "bus_passenger": {0: 0.2, 8: 0.6, 1: 0.2},
        "2rm": {2: 0.90, 8: 0.065, 0: 0.017, 6: 0.007, 5: 0.001, 9: 0.002, 4: 0.0005, 7: 0.0002},
        "bicycle": {2: 0.40, 0: 0.33, 8: 0.23, 4: 0.004, 9: 0.004},
        "edp": {2: 0.34, 0: 0.40, 8: 0.24, 4: 0.003, 9: 0.003},
        "pedestrian": {0: 0.95, 8: 0.03, 4: 0.002, 9: 0.001, -1: 0.017},
        # 2019 pedestrians: 12 of 24 coded 8, the rest 0 (sample 2019); from 2020 on 0
        # (35 of 37 in the 2021-2024 samples). This is the secu1 0/8 coding shift of FACTS
        # §3b (0: 5.4 % in 2019, 9.5 % from 2020; 8: 14.5 % -> 11 %).
        "pedestrian_2019": {0: 0.50, 8: 0.50},
    })
    if year < P.RUNAWAY_FROM_YEAR:  # 2019-2020: secu1 = -1 is 0.03-0.07 % [FACTS §3b]
        secu1 = set_missing(rng, np.where(secu1 == -1, 8, secu1), 0.0005)
    two_wheel = equip_group == "2rm"
    secu2 = np.where(two_wheel, draw(rng, {6: 0.5, 0: 0.35, 8: 0.1, 5: 0.05}, n),
                     draw(rng, {0: 0.82, 8: 0.13, 9: 0.03, 4: 0.02}, n))
    # A second item never repeats the first (0 of 640 users in the samples 2019-2024).
    secu2 = np.where((secu2 == secu1) & (secu2 > 0), 0, secu2)
    secu2 = set_missing(rng, secu2, P.MISSING_RATES["secu2"])
    # A third item only when a second one is recorded (samples: never secu3 without secu2);
    # its fill rate among those keeps secu3 = -1 at 96.6 % of users [FACTS §5].
    fill3 = (1 - P.MISSING_RATES["secu3"]) / (1 - P.MISSING_RATES["secu2"])
    secu3 = np.where((secu2 != -1) & (rng.random(n) < fill3), draw(rng, {0: 0.5, 9: 0.3, 8: 0.2}, n), -1)
    ped = catu == 3
    # Pedestrian fields [ASSUMED shares]; other users: "0" or -1 about half each
    # (locp -1 47.5 %, actp "0" 50.5 %, etatp -1 92.3 % [FACTS §5, §3b]).
    na_or_zero = np.where(rng.random(n) < 0.5, -1, 0)
    locp = np.where(ped, draw(rng, {1: 0.18, 2: 0.10, 3: 0.30, 4: 0.10, 5: 0.14, 6: 0.04,
                                    7: 0.01, 8: 0.03, 9: 0.10}, n), na_or_zero)
    actp_codes = np.array(["1", "2", "3", "4", "5", "6", "9", "A", "B"], dtype=object)
    actp_ped = actp_codes[draw(rng, dict(enumerate([0.1, 0.08, 0.55, 0.05, 0.06, 0.01, 0.06, 0.04, 0.05])), n)]
    actp = np.where(ped, actp_ped, np.where(na_or_zero == -1, "-1", "0"))
    etatp = np.where(ped, draw(rng, {1: 0.70, 2: 0.25, 3: 0.05}, n), -1)
    an_nais = (year - age).astype(float)
    # Runaway users: sex, age, trip unknown, equipment mostly unknown [FACTS §5, §4c].
    sexe = np.where(runaway, -1, set_missing(rng, sexe, 0.0005))
    an_nais = np.where(runaway, np.nan, an_nais)
    if year >= P.RUNAWAY_FROM_YEAR:
        an_nais[rng.random(n) < 0.0015] = np.nan
    trajet = np.where(runaway, -1, set_missing(rng, trajet, 0.002))
    secu1 = np.where(runaway, np.where(rng.random(n) < 0.9, -1, 8), secu1)
    secu2 = np.where(runaway, -1, secu2)
    secu3 = np.where(runaway, -1, secu3)
    frame = pd.DataFrame({
        "Num_Acc": veh["Num_Acc"].to_numpy()[vi],
        "id_usager": _id_base(year, "usr") + np.arange(n, dtype=np.int64),
        "id_vehicule": veh["id_vehicule"].to_numpy()[vi],
        "num_veh": veh["num_veh"].to_numpy()[vi],
        "place": set_missing(rng, place, P.MISSING_RATES["place"]),
        "catu": catu, "grav": np.full(n, -1, dtype=np.int64), "sexe": sexe,
        "an_nais": an_nais, "trajet": trajet, "secu1": secu1, "secu2": secu2, "secu3": secu3,
        "locp": locp, "actp": actp, "etatp": etatp,
        "_veh": vi, "_acc": veh["_acc"].to_numpy()[vi], "_mode": mode, "_runaway": runaway,
        "_age": np.where(runaway, np.nan, age),
    })
    return frame


def draw_year(seed: int, year: int, n_accidents: int, year_drift: float) -> YearTables:
    """The four typed tables of one year (grav still -1; see synthetic_severity)."""
    streams = np.random.SeedSequence([seed, year]).spawn(4)
    rng_acc, rng_road, rng_veh, rng_usr = (np.random.default_rng(s) for s in streams)
    t = _drift_t(year, year_drift)
    acc = _accidents(rng_acc, year, n_accidents)
    acc["_int_true"] = acc["int"].where(acc["int"] != -1, 1)
    road = _lieux(rng_road, acc, year, t)
    veh = _vehicles(rng_veh, acc, year, t)
    usr = _users(rng_usr, acc, veh, year, t)
    return YearTables(year, acc, road, veh, usr)
