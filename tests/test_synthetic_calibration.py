"""The synthetic generator reproduces the figures measured on the real BAAC files.

Expected values are the figures of ../shared/data/BAAC-FACTS.md (section in each test);
tolerances are stated next to them. They are wider where the facts themselves vary
between years or come from a proxy, and narrow where the generator is calibrated
exactly (grav shares). Checked on 30,000 accidents a year without year drift (the facts
on vehicles are pooled over 2019-2024).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from accidents.synthetic import params as P
from accidents.synthetic.tables import YearTables
from tests.conftest import FACTS_FILE
from tests.fixtures.synthetic import cramers_v, shares

YEARS = (2019, 2021, 2023)


def _users(t: YearTables) -> pd.DataFrame:
    return t.usagers


@pytest.mark.parametrize("year", YEARS)
def test_table_sizes_per_accident(synthetic_calibration: dict[int, YearTables], year: int) -> None:
    """FACTS §1: users/accident 2.21-2.29, vehicles/accident 1.70-1.72, lieux 1.29 from 2023."""
    t = synthetic_calibration[year]
    n = len(t.caracteristiques)
    assert 2.22 <= len(t.usagers) / n <= 2.32
    assert 1.68 <= len(t.vehicules) / n <= 1.74
    per_acc = t.vehicules.groupby("Num_Acc").size().value_counts(normalize=True) * 100
    # Pre-2019 proxy distribution: 1: 38.7 %, 2: 53.7 %, 3: 5.9 %, 4: 1.2 % (±1.5 points).
    for k, expected in {1: 38.7, 2: 53.7, 3: 5.9, 4: 1.2}.items():
        assert per_acc[k] == pytest.approx(expected, abs=1.5), k
    lieux_per_acc = len(t.lieux) / n
    if year >= 2023:
        assert lieux_per_acc == pytest.approx(1.29, abs=0.04)
    else:
        assert lieux_per_acc == 1.0


@pytest.mark.parametrize("year", YEARS)
def test_grav_shares(synthetic_calibration: dict[int, YearTables], year: int) -> None:
    """FACTS §2: killed 2.5-2.8 %, hospitalised ~15 %, severe 17-19 %, grav -1 ~0.1 %."""
    u = _users(synthetic_calibration[year])
    known = u[u.grav != -1]
    got = shares(known.grav)
    for code, expected in P.GRAV_SHARES[year].items():
        assert got[code] == pytest.approx(expected * 100, abs=0.1), code
    severe = known.grav.isin((2, 3)).mean() * 100
    assert 17.0 <= severe <= 19.0
    missing = (u.grav == -1).mean() * 100
    assert (missing < 0.02) if year < 2021 else (0.05 <= missing <= 0.2)


def test_grav_shares_are_the_facts_file_figures() -> None:
    """The calibration table was transcribed from FACTS §2 without error."""
    if not FACTS_FILE.is_file():
        pytest.skip(f"{FACTS_FILE} not found (set BAAC_SHARED_DIR)")
    text = FACTS_FILE.read_text(encoding="utf-8")
    rows = re.findall(
        r"^\| (20\d\d)(?: \(ref\.\))? \| [\d,]+ \| [\d,]+ \(([\d.]+) %\) \| [\d,]+ \(([\d.]+) %\) "
        r"\| [\d,]+ \(([\d.]+) %\) \| [\d,]+ \(([\d.]+) %\)", text, flags=re.M)
    assert len(rows) == 6
    for year, unharmed, light, hosp, killed in rows:
        expected = {1: unharmed, 4: light, 3: hosp, 2: killed}
        for code, value in expected.items():
            assert P.GRAV_SHARES[int(year)][code] * 100 == pytest.approx(float(value), abs=1e-6)


def test_vehicle_category_shares(synthetic_calibration: dict[int, YearTables]) -> None:
    """FACTS §3a (pooled 2019-2024): car 58.8 %, motorcycle>125 8.0 %, van 7.1 %, ..."""
    veh = pd.concat([t.vehicules for t in synthetic_calibration.values()])
    got = shares(veh.catv)
    expected = {7: 58.83, 33: 8.01, 10: 7.06, 1: 5.56, 2: 3.66, 30: 2.85, 32: 2.18, 50: 1.85,
                31: 1.80, 34: 1.04, 15: 0.99}
    for code, share in expected.items():
        # ±1 point for the big categories, ±25 % relative for the small ones.
        assert got[code] == pytest.approx(share, abs=max(1.0, 0.25 * share)), code


@pytest.mark.parametrize(("column", "expected"), [
    ("obs", {0: 85.38, 1: 2.36, 13: 1.77, 2: 1.52}),
    ("obsm", {2: 69.97, 0: 18.68, 1: 9.30, 9: 1.62}),
    ("choc", {1: 36.16, 3: 14.82, 2: 12.13, 4: 9.81, 0: 6.41}),
    ("manv", {1: 40.86, 2: 11.48, 15: 8.06, 0: 6.40}),
    ("motor", {1: 80.52, 0: 7.30, 5: 5.42, 3: 3.93, 2: 2.06}),
])
def test_vehicle_field_shares(synthetic_calibration: dict[int, YearTables], column: str,
                              expected: dict[int, float]) -> None:
    """FACTS §3a: obstacle, moving obstacle, impact, manoeuvre, energy shares (±1.5 points
    or ±30 % relative; motor ±3 points, since its 0 also absorbs -1 in the source)."""
    veh = pd.concat([t.vehicules for t in synthetic_calibration.values()])
    got = shares(veh[column].replace(-1, 0))
    for code, share in expected.items():
        tol = 3.0 if column == "motor" else max(1.5, 0.3 * share)
        assert got.get(code, 0.0) == pytest.approx(share, abs=tol), (column, code)


@pytest.mark.parametrize("year", YEARS)
def test_equipment_shares(synthetic_calibration: dict[int, YearTables], year: int) -> None:
    """FACTS §3b: secu1 belt ~58 %, helmet ~18 %, none ~9.5 % (5.4 % in 2019), not
    determinable 11-12 % (14.5 % in 2019: pedestrians were coded 8 then, 0 from 2020),
    child restraint 0.6 %, -1 0.07 % (2019) / ~2 % (2021+)."""
    got = shares(_users(synthetic_calibration[year]).secu1)
    assert got[1] == pytest.approx(58.5, abs=2.5)
    assert got[2] == pytest.approx(18.0, abs=2.0)
    assert got[0] == pytest.approx(9.5 if year >= 2020 else 5.4, abs=2.0)
    assert got[8] == pytest.approx(11.5 if year >= 2020 else 14.5, abs=2.5)
    assert got[3] == pytest.approx(0.6, abs=0.4)
    if year < 2021:
        assert got.get(-1, 0.0) < 0.2
    else:
        assert got[-1] == pytest.approx(2.0, abs=0.5)


@pytest.mark.parametrize("year", YEARS)
def test_severity_by_equipment(synthetic_calibration: dict[int, YearTables], year: int) -> None:
    """FACTS §4c: killed % / severe % / unharmed % by secu1 (2020-2024 ranges, widened)."""
    u = _users(synthetic_calibration[year])
    u = u[u.grav != -1]
    by = u.groupby("secu1").grav
    killed = by.apply(lambda g: (g == 2).mean() * 100)
    severe = by.apply(lambda g: g.isin((2, 3)).mean() * 100)
    unharmed = by.apply(lambda g: (g == 1).mean() * 100)
    # belt: 1.5-1.6 / 9.8-10.7 / ~58
    assert 1.1 <= killed[1] <= 2.1 and 8.5 <= severe[1] <= 12.0 and 53 <= unharmed[1] <= 63
    # helmet: 3.4-4.2 / 32.8-34.9 / ~8.5
    assert 2.8 <= killed[2] <= 5.0 and 30.0 <= severe[2] <= 38.0 and unharmed[2] <= 12
    # no equipment: 7-8 / 37-37.5 / ~7
    assert 4.5 <= killed[0] <= 9.0 and 32.0 <= severe[0] <= 42.0 and unharmed[0] <= 15
    # not determinable: ~3 / 16-18 / ~36
    assert 1.8 <= killed[8] <= 4.0 and 14.0 <= severe[8] <= 21.0
    # child restraint: ~1.3 / ~9 / ~48
    assert severe[3] <= 14.0
    if year >= 2021:  # not filled: almost all unharmed
        assert unharmed[-1] >= 85.0


def test_deaths_by_mode(synthetic_calibration: dict[int, YearTables]) -> None:
    """FACTS §4a (2021-2023 official): cars ~48 %, pedestrians ~14 %, powered two-wheelers
    ~22 %, cyclists ~7.5 %, EDPm ~1-1.4 % of deaths (±5 / ±3 / ±4 / ±2.5 / ±1 points)."""
    u = pd.concat([t.usagers for t in synthetic_calibration.values()])
    killed = u[u.grav == 2]
    got = shares(killed._mode)
    assert got["car"] == pytest.approx(48.0, abs=5.0)
    assert got["pedestrian"] == pytest.approx(14.0, abs=3.0)
    assert got.get("moped", 0) + got.get("motorcycle", 0) == pytest.approx(22.0, abs=4.0)
    assert got["bicycle"] == pytest.approx(7.5, abs=2.5)
    assert got["edp"] == pytest.approx(1.2, abs=1.0)
    male = (killed.sexe == 1).mean() * 100  # 78 % of the killed are men (§3b)
    assert male == pytest.approx(78.0, abs=4.0)


def test_age_distribution(synthetic_calibration: dict[int, YearTables]) -> None:
    """FACTS §3b: age = year - an_nais: mean 38.6, sd 19.0, q25 23, median 35, q75 52."""
    ages = pd.concat([t.year - t.usagers.an_nais for t in synthetic_calibration.values()]).dropna()
    assert ages.mean() == pytest.approx(38.6, abs=1.0)
    assert ages.std() == pytest.approx(19.0, abs=1.0)
    assert ages.quantile(0.25) == pytest.approx(23, abs=3)
    assert ages.median() == pytest.approx(35, abs=2)
    assert ages.quantile(0.75) == pytest.approx(52, abs=5)
    assert ages.min() >= 0 and ages.max() <= 101


@pytest.mark.parametrize("year", YEARS)
def test_missing_value_rates(synthetic_calibration: dict[int, YearTables], year: int) -> None:
    """FACTS §5 (% of rows, pooled 2021-2024 unless noted)."""
    t = synthetic_calibration[year]
    u, road, veh = t.usagers, t.lieux, t.vehicules

    def pct(mask: pd.Series) -> float:
        return float(mask.mean() * 100)

    if year >= 2021:
        assert pct(u.an_nais.isna()) == pytest.approx(2.2, abs=0.5)
        assert pct(u.sexe == -1) == pytest.approx(2.1, abs=0.5)
        assert pct(u.trajet == -1) == pytest.approx(2.2, abs=0.5)
    else:  # 2019-2020: no missing birth year
        assert pct(u.an_nais.isna()) == 0.0
    assert pct(u.secu2 == -1) == pytest.approx(44.2, abs=2.0)
    assert pct(u.secu3 == -1) == pytest.approx(96.6, abs=1.0)
    assert pct(u.locp == -1) == pytest.approx(47.5, abs=5.0)
    assert pct(u.etatp == -1) == pytest.approx(92.3, abs=2.5)
    assert pct(road.circ == -1) == pytest.approx(6.2, abs=1.0)
    assert pct(road.vosp == -1) == pytest.approx(3.2, abs=0.8)
    assert pct(road.vma == -1) == pytest.approx(3.9, abs=0.8)
    assert pct(road.infra == -1) == pytest.approx(1.2, abs=0.5)
    assert pct(road.lartpc.isna()) >= 99.0
    assert pct(veh.senc == -1) <= 0.6 and pct(veh.motor == -1) <= 0.6
    assert pct(veh.occutc.isna()) == pytest.approx(99.1, abs=0.6)
    col_missing = pct(t.caracteristiques.col == -1)
    assert col_missing <= 0.2 if year >= 2021 else 0.8 <= col_missing <= 2.0


@pytest.mark.parametrize("year", YEARS)
def test_association_strengths(synthetic_calibration: dict[int, YearTables], year: int) -> None:
    """FACTS §4d: Cramér's V grav~secu1 0.255-0.275, grav~catu 0.170-0.184 (±0.02)."""
    u = _users(synthetic_calibration[year])
    assert 0.235 <= cramers_v(u.grav, u.secu1) <= 0.295
    assert 0.150 <= cramers_v(u.grav, u.catu) <= 0.205


def test_accident_level_severity(synthetic_calibration: dict[int, YearTables]) -> None:
    """FACTS §2/§3d: 5.8 % of accidents fatal, 35.7 % with a killed or hospitalised user,
    ~12 % fatal between 02:00 and 06:00; deaths outside built-up areas 59 % (2023)."""
    t = synthetic_calibration[2023]
    u = t.usagers
    per_acc = u.assign(k=u.grav == 2, s=u.grav.isin((2, 3))).groupby("_acc")[["k", "s"]].any()
    assert per_acc.k.mean() * 100 == pytest.approx(5.8, abs=1.0)
    assert per_acc.s.mean() * 100 == pytest.approx(35.7, abs=3.0)
    hour = t.caracteristiques._hour.to_numpy()
    small_hours = (hour >= 2) & (hour < 6)
    assert per_acc.k.to_numpy()[small_hours].mean() * 100 >= 9.0
    outside = t.caracteristiques["agg"].to_numpy()[u._acc.to_numpy()] == 1
    assert outside[u.grav.to_numpy() == 2].mean() * 100 == pytest.approx(59.0, abs=6.0)
    # Every accident is an injury accident: at least one user is hurt.
    hurt = u.assign(h=u.grav.isin((2, 3, 4))).groupby("_acc").h.any()
    assert bool(np.all(hurt))
