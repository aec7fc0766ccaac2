"""Write typed synthetic tables in the published BAAC on-disk format of their year.

What the real 2019+ files look like (../shared/data/baac-samples): ``;`` separator, every
field double-quoted (also empty ones), UTF-8, LF line ends; "not recorded" codes written
``" -1"`` (leading space); ids with no-break spaces between digit groups
(``"155 680 557"``); ``lat``/``long`` with a decimal comma and 7 (2019), 10 (2021) or 8
(2023-2024) decimals, negative ones with a leading space; ``hrmn`` "HH:MM"; ``jour``
never padded, ``mois`` padded from 2021 on; ``pr``/``pr1`` "(1)" until 2021 and
``" -1"`` after; ``v2`` empty in 2019 and "N/A" later; ``larrout`` empty in 2019 and
``" -1"`` later; ``id_usager`` from 2021; the 2022 caracteristiques key is ``Accident_Id``.
Years without a sample follow the nearest sampled convention [ASSUMED].
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from accidents.data.schema import COLUMNS
from accidents.data.subsets import write_baac_csv
from accidents.synthetic import params as P
from accidents.synthetic.sampling import padded
from accidents.synthetic.tables import YearTables

NBSP = "\u00a0"
_STREET_NAMES = ("GENERAL LECLERC (AVENUE DU)", "PARIS (RUE DE)", "REPUBLIQUE (RUE DE LA)",
                 "VOLTAIRE (BOULEVARD)", "TILLEULS (ALLEE DES)", "LYON (ROUTE DE)",
                 "MAIRIE (PLACE DE LA)", "ÉCOLIERS (CHEMIN DES)", "VICTOR HUGO (RUE)",
                 "JEAN JAURES (AVENUE)")
_ADDRESSES = ("RUE DE PARIS", "Avenue du Général Leclerc", "Rue de la République",
              "Boulevard Voltaire", "Allée des Tilleuls", "Route de Lyon", "Place de la Mairie",
              "Chemin des Écoliers", "Rue Victor Hugo", "Avenue Jean Jaurès")


def file_names(year: int) -> dict[str, str]:
    """Published file name of each table (contract names)."""
    return {t: f"{t}-{year}.csv" for t in COLUMNS}


def _int_text(values: np.ndarray) -> np.ndarray:
    """Integers as text, converting each distinct value once (fast for code columns)."""
    inverse, uniq = pd.factorize(np.asarray(values, dtype=np.int64))
    return uniq.astype(str).astype(object)[inverse]


def _code(values: np.ndarray) -> np.ndarray:
    """Integer codes as text, -1 as ``" -1"``."""
    text = _int_text(values)
    text[np.asarray(values) == -1] = " -1"
    return text


def _measure(values: np.ndarray, nan: str = "", minus_one: str = " -1") -> np.ndarray:
    """Numbers as text (decimal comma, integers without decimals), NaN/-1 as given."""
    x = np.asarray(values, dtype=float)
    out = np.full(len(x), nan, dtype=object)
    known = ~np.isnan(x)
    whole = known & (x == np.round(x))
    out[whole] = _int_text(x[whole])
    frac = known & ~whole  # only half metres (larrout): "5,5"
    out[frac] = _int_text(np.floor(x[frac])) + ","
    out[frac] += _int_text(np.round((x[frac] - np.floor(x[frac])) * 10))
    out[x == -1] = minus_one
    return out


_TRIPLETS = np.array([f"{i:03d}" for i in range(1000)])


def _grouped_id(values: np.ndarray) -> np.ndarray:
    """``155680557`` -> ``"155 680 557"`` with no-break spaces (ids below 10**9)."""
    v = np.asarray(values, dtype=np.int64)
    hi, mid, lo = v // 1_000_000, (v // 1000) % 1000, v % 1000
    add = np.strings.add
    lo_text = _TRIPLETS[lo]
    six = add(add(add(add(hi.astype(str), NBSP), _TRIPLETS[mid]), NBSP), lo_text)
    three = add(add(mid.astype(str), NBSP), lo_text)
    out = np.where(v >= 1_000_000, six, np.where(v >= 1000, three, lo.astype(str)))
    return out.astype(object)


def _coord(values: np.ndarray, decimals: int) -> np.ndarray:
    """Decimal-comma coordinates with a fixed number of decimals, ``" -"`` when negative."""
    x = np.asarray(values, dtype=float)
    scaled = np.round(np.abs(x) * 10**decimals).astype(np.int64)
    whole, frac = scaled // 10**decimals, scaled % 10**decimals
    digits = np.char.zfill(frac.astype(str), decimals).astype(object)
    text = _int_text(whole) + "," + digits
    return np.where(x < 0, " -" + text, text)


def _key_text(values: pd.Series) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).astype(str).astype(object)


def _pseudo(n: int, salt: int) -> np.ndarray:
    """Deterministic pseudo-random numbers in [0, 1) for cosmetic choices."""
    i = np.arange(n, dtype=np.uint64) + np.uint64(salt)
    return ((i * np.uint64(2654435761)) % np.uint64(1000)).astype(float) / 1000


def _caracteristiques(t: YearTables, road_first: pd.DataFrame) -> pd.DataFrame:
    acc, year = t.caracteristiques, t.year
    n = len(acc)
    decimals = 7 if year <= 2019 else 10 if year <= 2022 else 8
    catr = road_first["catr"].to_numpy()
    road_no = road_first["_road_no"].to_numpy()
    street = np.array(_ADDRESSES, dtype=object)[road_first["_street"].to_numpy()]
    no = _int_text(road_no)
    adr = np.select([catr == 1, catr == 2, catr == 3],
                    ["AUTOROUTE A" + _int_text(road_no % 90 + 1), "N" + no, "D" + no], street)
    adr = np.where(_pseudo(n, 11) < P.P_ADR_EMPTY, "", adr)
    mois = acc["mois"].to_numpy()
    return pd.DataFrame({
        "Accident_Id" if year in P.ACCIDENT_ID_KEY_YEARS else "Num_Acc": _key_text(acc["Num_Acc"]),
        "jour": _int_text(acc["jour"]),
        "mois": _int_text(mois) if year <= 2020 else padded(mois, 2),
        "an": _int_text(acc["an"]),
        "hrmn": acc["hrmn"].to_numpy(),
        "lum": _code(acc["lum"]), "dep": acc["dep"].to_numpy(), "com": acc["com"].to_numpy(),
        "agg": _code(acc["agg"]), "int": _code(acc["int"]), "atm": _code(acc["atm"]),
        "col": _code(acc["col"]), "adr": adr,
        "lat": _coord(acc["lat"], decimals), "long": _coord(acc["long"], decimals),
    })


def _lieux(t: YearTables) -> pd.DataFrame:
    road, year = t.lieux, t.year
    n = len(road)
    catr = road["catr"].to_numpy()
    road_no = road["_road_no"].to_numpy()
    street = np.array(_STREET_NAMES, dtype=object)[road["_street"].to_numpy()]
    voie = np.where(np.isin(catr, (1, 2, 3)),
                    _int_text(np.where(catr == 1, road_no % 90 + 1, road_no)),
                    street)
    voie = np.where(road["_voie_na"].to_numpy(), "N/A", voie)  # FACTS §5: voie missing ~14 %
    old = year <= 2020
    pr_missing = "(1)" if year <= 2021 else " -1"
    u = _pseudo(n, 5)
    v1 = np.where(old | (u < 0.7), "0", " -1")
    v2 = np.where(u > 0.96, "D", "" if old else "N/A")
    return pd.DataFrame({
        "Num_Acc": _key_text(road["Num_Acc"]), "catr": _code(catr), "voie": voie,
        "v1": v1, "v2": v2, "circ": _code(road["circ"]), "nbv": _measure(road["nbv"]),
        "vosp": _code(road["vosp"]), "prof": _code(road["prof"]),
        "pr": _measure(road["pr"], minus_one=pr_missing),
        "pr1": _measure(road["pr1"], minus_one=pr_missing),
        "plan": _code(road["plan"]), "lartpc": _measure(road["lartpc"]),
        "larrout": _measure(road["larrout"]), "surf": _code(road["surf"]),
        "infra": _code(road["infra"]), "situ": _code(road["situ"]), "vma": _measure(road["vma"]),
    })


def _vehicules(t: YearTables) -> pd.DataFrame:
    veh = t.vehicules
    return pd.DataFrame({
        "Num_Acc": _key_text(veh["Num_Acc"]),
        "id_vehicule": _grouped_id(veh["id_vehicule"]), "num_veh": veh["num_veh"].to_numpy(),
        **{c: _code(veh[c]) for c in ("senc", "catv", "obs", "obsm", "choc", "manv", "motor")},
        "occutc": _measure(veh["occutc"]),
    })


def _usagers(t: YearTables) -> pd.DataFrame:
    usr = t.usagers
    out = {
        "Num_Acc": _key_text(usr["Num_Acc"]),
        "id_usager": _grouped_id(usr["id_usager"]),
        "id_vehicule": _grouped_id(usr["id_vehicule"]), "num_veh": usr["num_veh"].to_numpy(),
        **{c: _code(usr[c]) for c in ("place", "catu", "grav", "sexe")},
        "an_nais": _measure(usr["an_nais"]),
        **{c: _code(usr[c]) for c in ("trajet", "secu1", "secu2", "secu3", "locp")},
        "actp": np.where(usr["actp"].to_numpy() == "-1", " -1", usr["actp"].to_numpy()),
        "etatp": _code(usr["etatp"]),
    }
    if t.year < P.ID_USAGER_FROM_YEAR:
        del out["id_usager"]
    return pd.DataFrame(out)


def to_disk_frames(t: YearTables) -> dict[str, pd.DataFrame]:
    """The four tables as text columns, exactly as they are written."""
    road_first = t.lieux.drop_duplicates("Num_Acc")
    frames = {
        "caracteristiques": _caracteristiques(t, road_first),
        "lieux": _lieux(t), "vehicules": _vehicules(t), "usagers": _usagers(t),
    }
    for frame in frames.values():
        frame.reset_index(drop=True, inplace=True)
    return frames


def write_year(t: YearTables, out_dir: Path) -> list[Path]:
    """Write the four files of one year into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    names = file_names(t.year)
    for table, frame in to_disk_frames(t).items():
        paths.append(write_baac_csv(frame, out_dir / names[table]))
    return paths
