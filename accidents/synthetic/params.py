"""Calibration figures of the synthetic BAAC generator, each with where it comes from.

Tags as in ../shared/data/BAAC-FACTS.md: [FACTS §n] = a sourced figure of that section,
[PROXY<2019] = the pre-2019 proxy of section 7, [ASSUMED] = the facts are silent, the
value is a plausible choice of ours (stated here so it can be challenged).
Shares are given as {code: weight}; weights need not sum to 1 (they are normalised).
"""

from __future__ import annotations

#: grav shares per year among users with a known grav: unharmed 1, light 4, hospitalised 3,
#: killed 2 [FACTS §2]. Years outside the table use the nearest year.
GRAV_SHARES: dict[int, dict[int, float]] = {
    2019: {1: 0.4160, 4: 0.4008, 3: 0.1569, 2: 0.0263},
    2020: {1: 0.4108, 4: 0.4034, 3: 0.1594, 2: 0.0264},
    2021: {1: 0.4268, 4: 0.4004, 3: 0.1478, 2: 0.0249},
    2022: {1: 0.4242, 4: 0.3954, 3: 0.1523, 2: 0.0281},
    2023: {1: 0.4249, 4: 0.3947, 3: 0.1533, 2: 0.0270},
    2024: {1: 0.4227, 4: 0.3971, 3: 0.1528, 2: 0.0274},
}

#: Vehicles per accident: pre-2019 proxy (2018), mean 1.711 [FACTS §1, PROXY<2019];
#: the 5+ bucket split 5/6/7 = 0.25/0.10/0.05 % [ASSUMED].
VEHICLES_PER_ACCIDENT: dict[int, float] = {
    1: 0.387, 2: 0.537, 3: 0.059, 4: 0.012, 5: 0.0025, 6: 0.0010, 7: 0.0005,
}

#: Pedestrian accidents: 9.3 % of vehicles hit a pedestrian (obsm = 1) [FACTS §3a], i.e.
#: ~15 % of accidents; they are almost all single-vehicle accidents (samples 2019-2024:
#: 1 of 55 pedestrian accidents has a second vehicle), so 39.5 % of single-vehicle
#: accidents and 0.5 % of the others [derived from those two facts].
P_PEDESTRIAN_ACCIDENT = {"single": 0.395, "multi": 0.005}
PEDESTRIANS_PER_PEDESTRIAN_ACCIDENT: dict[int, float] = {1: 0.88, 2: 0.10, 3: 0.02}  # [ASSUMED]

#: Vehicle categories, pooled 2019-2024 [FACTS §3a]; 0 (undetermined) kept at its share.
CATV_SHARES: dict[int, float] = {
    7: 58.83, 33: 8.01, 10: 7.06, 1: 5.56, 2: 3.66, 30: 2.85, 32: 2.18, 50: 1.85, 31: 1.80,
    34: 1.04, 15: 0.99, 14: 0.74, 37: 0.69, 17: 0.67, 80: 0.60, 3: 0.58, 43: 0.57, 99: 0.43,
    13: 0.40, 0: 0.28, 21: 0.27, 60: 0.22, 36: 0.18, 38: 0.18, 40: 0.13, 20: 0.11, 16: 0.04,
    39: 0.03, 42: 0.02, 35: 0.02, 41: 0.02,
}
#: How much more (k > 0) or less (k < 0) each category is seen inside built-up areas
#: [ASSUMED, direction from ONISR: cyclists/EDPm mostly urban, lorries mostly rural].
#: Centred so that the pooled catv shares are kept exactly (see synthetic_tables).
CATV_URBAN_TILT: dict[int, float] = {
    1: 1.0, 80: 0.8, 50: 1.3, 60: 1.3, 2: 0.6, 30: 0.8, 32: 0.7, 34: 0.4, 31: 0.0, 33: -0.4,
    13: -0.8, 14: -1.2, 15: -1.3, 16: -1.2, 17: -1.3, 20: -0.5, 21: -1.4, 37: 1.0, 38: -0.6,
    39: -1.0, 40: 1.4, 10: -0.1, 7: 0.0,
}
#: Year-on-year growth of a category's weight (log scale, per year, times year_drift):
#: EDPm deaths 10 -> 44 from 2019 to 2023 and more cycling [FACTS §6]; the rates are
#: [ASSUMED] (e-scooters and e-bikes +30 %/year, bicycles +4 %/year, cars -1 %/year).
CATV_GROWTH: dict[int, float] = {50: 0.30, 80: 0.30, 60: 0.10, 1: 0.04, 7: -0.01}
#: Reference year of the pooled shares (middle of 2019-2024).
DRIFT_REFERENCE_YEAR = 2021.5

#: Share of accidents inside built-up areas (agg = 2): 69.1 % in 2013 [PROXY<2019]; we use
#: 66 % because 2019+ files have more rural deaths (59 % outside) [ASSUMED].
P_BUILT_UP = 0.66

#: Weekday shares Monday..Sunday, pre-2019 proxy [FACTS §7: Fri 16.4 %, Sun 11.3 %].
WEEKDAY_SHARES = [13.9, 15.1, 14.5, 15.1, 16.4, 13.6, 11.3]
#: Month and hour shares, pre-2019 proxy [FACTS §7].
MONTH_SHARES = [7.5, 6.7, 6.9, 7.8, 7.9, 9.4, 9.7, 7.6, 9.6, 9.4, 8.8, 8.6]
HOUR_SHARES = [1.7, 1.4, 1.3, 0.9, 1.0, 1.4, 2.0, 4.4, 6.0, 5.2, 4.9, 5.1, 5.4, 5.1, 5.4,
               6.1, 7.3, 8.8, 8.3, 6.5, 4.5, 3.1, 2.4, 2.0]

#: Intersection type by area [PROXY<2019 marginal 71 % none; split by area ASSUMED].
INT_SHARES = {
    "urban": {1: 62, 2: 14, 3: 11, 4: 1.8, 5: 1.6, 6: 3.5, 7: 1.8, 8: 0.1, 9: 1.5},
    "rural": {1: 88, 2: 4.5, 3: 3.5, 4: 1.0, 5: 0.4, 6: 1.5, 7: 0.2, 8: 0.1, 9: 0.8},
}
#: Weather [PROXY<2019].
ATM_SHARES = {1: 78.8, 2: 11.4, 8: 3.4, 3: 2.5, 7: 1.1, 4: 1.0, 9: 0.9, 5: 0.6, 6: 0.2}
#: Snow falls only in the winter months (Jan, Feb, Nov, Dec) [ASSUMED], so its weight
#: there is 1.0 % / 31.6 % (the winter months' share of accidents, MONTH_SHARES) to keep
#: the 1.0 % snow share of FACTS §7 over the year.
WINTER_MONTHS = (1, 2, 11, 12)
SNOW_IN_WINTER = 1.0 / 0.316

#: Collision type given the number of vehicles [ASSUMED, tuned to the proxy marginal
#: 6: 34 %, 3: 28 %, 2: 12 %, 7: 10 %, 1: 9 %, 4: 3 %, 5: 3 % of FACTS §7].
COL_SINGLE_NO_PEDESTRIAN = {7: 0.40, 6: 0.60}
COL_TWO = {1: 0.16, 2: 0.21, 3: 0.50, 6: 0.13}
COL_MORE = {4: 0.43, 5: 0.41, 3: 0.08, 2: 0.08}

#: Road category by area [ASSUMED, matching the proxy marginal 4: 46 %, 3: 35 %, 1: 10 %,
#: 2: 7 % of FACTS §7].
CATR_SHARES = {
    "urban": {4: 68.0, 3: 21.0, 2: 4.0, 1: 1.5, 6: 1.5, 7: 2.2, 9: 1.5, 5: 0.3},
    "rural": {3: 60.0, 1: 24.0, 2: 9.0, 4: 5.5, 9: 0.8, 5: 0.4, 6: 0.2, 7: 0.1},
}
#: Speed limits by road context [ASSUMED; 80 km/h became the rural default in 2018].
VMA_SHARES = {
    "motorway": {130: 68, 110: 22, 90: 6, 70: 4},
    "urban": {50: 69, 30: 18, 70: 5, 40: 2, 20: 2, 90: 1.5, 80: 1.5, 60: 1},
    "rural": {80: 54, 90: 18, 70: 14, 50: 9, 110: 3, 30: 1, 60: 1},
}
#: Speed-limit drift per year (times year_drift): the urban 30 km/h share grows by
#: 2 points a year, taken from 50 km/h [ASSUMED: the "ville 30" movement].
VMA_URBAN_30_GROWTH = 0.02

#: Missing (-1) rates, pooled 2021-2024 [FACTS §5]. ``col`` -1 is 1.4 % in 2019-2020.
MISSING_RATES = {
    "lum": 0.00002, "int": 0.00006, "atm": 0.00006, "col": 0.0005,
    "circ": 0.062, "vosp": 0.032, "prof": 0.001, "plan": 0.001, "surf": 0.001,
    "infra": 0.012, "situ": 0.001, "vma": 0.039, "nbv": 0.01,
    "senc": 0.002, "catv": 0.00003, "obs": 0.0005, "obsm": 0.0004, "choc": 0.0006,
    "manv": 0.0003, "motor": 0.002, "place": 0.00006,
    "secu2": 0.442, "secu3": 0.966,
}
COL_MISSING_2019_2020 = 0.014
#: Empty ``adr`` [FACTS §5, 1.9 %].
P_ADR_EMPTY = 0.019

#: Fixed obstacle hit (obs), pooled 2019-2024 [FACTS §3a] (shares among obs > 0).
OBS_SHARES = {1: 2.36, 13: 1.77, 2: 1.52, 4: 1.40, 3: 1.33, 8: 1.17, 6: 1.15, 12: 0.81,
              14: 0.74, 15: 0.57, 9: 0.49, 16: 0.43, 7: 0.30, 5: 0.19, 11: 0.18, 10: 0.11,
              17: 0.11}
#: Probability that a vehicle hit a fixed obstacle: mostly single-vehicle, non-pedestrian
#: crashes [ASSUMED, tuned to obs > 0 = 14.6 % of vehicles].
P_OBSTACLE = {"single": 0.72, "multi": 0.045, "pedestrian": 0.02}
#: Moving obstacle in single-vehicle crashes without a pedestrian [ASSUMED].
OBSM_SINGLE = {0: 0.915, 6: 0.02, 5: 0.006, 4: 0.006, 9: 0.053}
OBSM_MULTI = {2: 0.93, 0: 0.05, 9: 0.02}
#: Impact point [FACTS §3a].
CHOC_SHARES = {1: 36.16, 3: 14.82, 2: 12.13, 4: 9.81, 8: 6.94, 0: 6.41, 7: 5.93, 6: 3.52,
               5: 2.83, 9: 1.41}
#: Manoeuvre [FACTS §3a] (0 takes the "−1 or 0 unknown" share).
MANV_SHARES = {1: 40.86, 2: 11.48, 15: 8.06, 0: 6.40, 13: 4.38, 17: 3.31, 26: 3.21, 9: 2.99,
               16: 2.64, 19: 2.48, 23: 2.44, 14: 2.00, 21: 1.49, 5: 1.19, 11: 1.17, 3: 1.15,
               12: 1.08, 10: 0.68, 20: 0.58, 18: 0.52, 4: 0.47, 24: 0.40, 22: 0.31, 25: 0.29,
               7: 0.23, 6: 0.17, 8: 0.04}
#: senc: mean 1.57, median 1, q75 2 [FACTS §3a]; split [ASSUMED].
SENC_SHARES = {1: 0.40, 2: 0.38, 3: 0.14, 0: 0.08}

#: Passengers per vehicle by vehicle group [ASSUMED, tuned to users/accident 2.26-2.29].
PASSENGERS = {
    "car": {0: 0.785, 1: 0.155, 2: 0.036, 3: 0.019, 4: 0.005},
    # 15.7 % of powered 2/3-wheelers carry a passenger (14 of 89, samples 2019-2024).
    "two_wheel": {0: 0.843, 1: 0.157},
    "cycle": {0: 0.99, 1: 0.01},
    "heavy": {0: 0.88, 1: 0.10, 2: 0.02},
    "bus": {0: 0.45, 1: 0.25, 2: 0.15, 3: 0.10, 5: 0.05},
    "other": {0: 0.85, 1: 0.15},
}
#: Fled vehicles ("délit de fuite"). Since 2021 the files contain users who fled, with
#: sex, age and trip missing and grav mostly unharmed [FACTS §5, §4c]: ~2 % of users.
#: The samples show how they are coded: in 2021, 4 of 5 such users are on an ordinary
#: vehicle (A01, B01) and 1 on a Z01; in 2019 the 3 Z01 vehicles have no user row at
#: all; 1.1 % of vehicles have no driver or passenger row (5 of 453, 2019-2024).
#: Hence: a multi-vehicle accident has a fled vehicle with probability
#: ``P_RUNAWAY_VEHICLE`` (its last vehicle); it is named Z01 with probability
#: ``P_FLED_AS_Z01`` (always before 2021), else keeps its letter; it has no user row with
#: probability ``P_FLED_NO_USER`` (always before 2021), else one unknown user (the
#: split is [ASSUMED], tuned so that fled users are ~2 % of users and vehicles without
#: user rows ~1.1 % of vehicles).
P_RUNAWAY_VEHICLE = 0.10
P_RUNAWAY_VEHICLE_BEFORE_2021 = 0.031
P_FLED_AS_Z01 = 0.4
P_FLED_NO_USER = {"Z01": 0.5, "letter": 0.1}
RUNAWAY_FROM_YEAR = 2021
#: grav of runaway users: 92-98 % unharmed, and most grav = -1 rows [FACTS §4c].
RUNAWAY_GRAV = {1: 0.935, -1: 0.05, 4: 0.015}

#: Extra lieux rows from 2023 on [FACTS §1: 1.29 lieux rows/accident]: one per road of an
#: intersection. In the samples (2023-2024) every one of the 31 accidents with several
#: rows is at an intersection (int != 1) and has the same catr on every row, so only
#: intersection accidents (~29 %) get extra rows, copying the first row's category
#: [samples]; rows per intersection accident [ASSUMED, tuned to 1.29 rows per accident
#: and ~28 % of accidents with several rows, FACTS §1].
LIEUX_EXTRA_FROM_YEAR = 2023
P_EXTRA_LIEUX = {"intersection": {1: 0.05, 2: 0.85, 3: 0.10}, "other": {1: 1.0}}
#: ``voie`` not recorded ("N/A") on lieux rows, 2021+: 13.7 % pooled 2019-2024 [FACTS §5]
#: with none in the 2019 sample and 12-19.5 % in the 2021-2024 samples -> 16 % [derived].
P_VOIE_NA = 0.16
VOIE_NA_FROM_YEAR = 2021
#: ``vma`` typed ten times too large (300, 500, 800...) [FACTS §3c lists such values; the
#: rate is not published: ASSUMED 0.02 % of lieux rows, below the loader's tolerance].
P_VMA_TYPO = 0.0002

#: id_usager column: present from 2021 on (2019/2020 usagers have 15 columns, 2021+ 16)
#: [FACTS §1].
ID_USAGER_FROM_YEAR = 2021
#: The 2022 caracteristiques key is ``Accident_Id`` [FACTS header note].
ACCIDENT_ID_KEY_YEARS = frozenset({2022})
#: Overseas share of accidents (GPS outside the metropolitan box) [FACTS §1: 5.3-6.2 %].
P_OVERSEAS = 0.056
