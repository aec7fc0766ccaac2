"""The BAAC (2019+) schema in one place: tables, columns, codes, "not recorded" markers.

Every other module takes column names, code sets and labels from here.
Source: ONISR, "Description des bases de données annuelles des accidents corporels de la
circulation routière - Années de 2005 à 2022" (../shared/references/baac-description-2022.pdf).
"""

from __future__ import annotations

TABLES: tuple[str, ...] = ("caracteristiques", "lieux", "vehicules", "usagers")

#: The accident key as used everywhere in this project (2022 caracteristiques files may
#: name it ``Accident_Id``; the loader renames it).
KEY = "Num_Acc"

#: Canonical column order of each table as published from 2019 on. ``id_usager`` exists
#: in usagers from 2023 (and in some 2021 copies) and is optional.
COLUMNS: dict[str, tuple[str, ...]] = {
    "caracteristiques": (
        "Num_Acc", "jour", "mois", "an", "hrmn", "lum", "dep", "com", "agg", "int",
        "atm", "col", "adr", "lat", "long",
    ),
    "lieux": (
        "Num_Acc", "catr", "voie", "v1", "v2", "circ", "nbv", "vosp", "prof", "pr", "pr1",
        "plan", "lartpc", "larrout", "surf", "infra", "situ", "vma",
    ),
    "vehicules": (
        "Num_Acc", "id_vehicule", "num_veh", "senc", "catv", "obs", "obsm", "choc", "manv",
        "motor", "occutc",
    ),
    "usagers": (
        "Num_Acc", "id_usager", "id_vehicule", "num_veh", "place", "catu", "grav", "sexe",
        "an_nais", "trajet", "secu1", "secu2", "secu3", "locp", "actp", "etatp",
    ),
}
OPTIONAL_COLUMNS: dict[str, frozenset[str]] = {"usagers": frozenset({"id_usager"})}
