"""Where accidents happen: each département's extent, main town and share of accidents.

Why: the ``dep`` code, ``com`` and ``lat``/``long`` of a synthetic accident must agree (a
user who maps the synthetic files must not find Paris accidents in the Channel).

Sources, per column of ``DEPARTEMENTS``:
- extent (``lat_min`` .. ``lon_max``) and main town (``lat_main``, ``lon_main``, the
  préfecture or, where it dominates, the largest city): [ASSUMED] approximate
  administrative bounding boxes written from general geography, rounded to 0.01° and
  meant to be within ~0.05° of the real limits. They are checked, not trusted: the tests
  require every real accident position of the 2019-2024 samples
  (../shared/data/baac-samples) and the median real position of each département in the
  official caracteristiques-2013 file (data/baac/2013, FACTS §7 proxy file) to fall inside.
- ``weight``: % of the 58,397 accidents of caracteristiques-2013 in the département
  [PROXY<2019, FACTS §7: caract-2013 includes overseas]. The overseas collectivities
  (975, 977, 978, 986, 987, 988), which the files contain since 2019 (FACTS §0) but not in
  2013, get small weights [ASSUMED]. The overseas total is set separately
  (``params.P_OVERSEAS``, FACTS §1), these weights only split it.
"""

from __future__ import annotations

from typing import NamedTuple


class Departement(NamedTuple):
    """One département: name, bounding box, main town, share of accidents (%)."""

    name: str
    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float
    lat_main: float
    lon_main: float
    weight: float


#: Codes as written in the 2019+ ``dep`` column ("01", "2A", "971").
DEPARTEMENTS: dict[str, Departement] = {
    "01": Departement("Ain", 45.61, 46.52, 4.73, 6.17, 46.21, 5.23, 0.656),
    "02": Departement("Aisne", 48.84, 50.07, 2.96, 4.26, 49.56, 3.62, 0.464),
    "03": Departement("Allier", 45.93, 46.80, 2.28, 4.01, 46.57, 3.33, 0.325),
    "04": Departement("Alpes-de-Haute-Provence", 43.67, 44.66, 5.50, 6.97, 44.09, 6.24, 0.195),
    "05": Departement("Hautes-Alpes", 44.18, 45.13, 5.42, 7.08, 44.56, 6.08, 0.158),
    "06": Departement("Alpes-Maritimes", 43.48, 44.37, 6.64, 7.72, 43.70, 7.27, 3.065),
    "07": Departement("Ardeche", 44.26, 45.37, 3.86, 4.89, 44.74, 4.60, 0.219),
    "08": Departement("Ardennes", 49.23, 50.17, 4.03, 5.40, 49.77, 4.72, 0.175),
    "09": Departement("Ariege", 42.57, 43.32, 0.82, 2.18, 42.97, 1.61, 0.139),
    "10": Departement("Aube", 47.92, 48.72, 3.38, 4.87, 48.30, 4.08, 0.301),
    "11": Departement("Aude", 42.65, 43.46, 1.69, 3.24, 43.21, 2.35, 0.76),
    "12": Departement("Aveyron", 43.69, 44.94, 1.84, 3.45, 44.35, 2.57, 0.332),
    "13": Departement("Bouches-du-Rhone", 43.16, 43.93, 4.23, 5.81, 43.30, 5.37, 6.658),
    "14": Departement("Calvados", 48.75, 49.43, -1.16, 0.45, 49.18, -0.37, 0.716),
    "15": Departement("Cantal", 44.62, 45.48, 2.06, 3.37, 44.93, 2.44, 0.125),
    "16": Departement("Charente", 45.19, 46.14, -0.46, 0.95, 45.65, 0.16, 0.353),
    "17": Departement("Charente-Maritime", 45.09, 46.37, -1.56, 0.01, 46.16, -1.15, 0.952),
    "18": Departement("Cher", 46.42, 47.63, 1.77, 3.08, 47.08, 2.40, 0.555),
    "19": Departement("Correze", 44.92, 45.77, 1.23, 2.53, 45.27, 1.77, 0.385),
    "21": Departement("Cote-d'Or", 46.90, 48.03, 4.07, 5.52, 47.32, 5.04, 0.389),
    "22": Departement("Cotes-d'Armor", 48.03, 48.90, -3.66, -1.91, 48.51, -2.76, 0.721),
    "23": Departement("Creuse", 45.66, 46.46, 1.37, 2.61, 46.17, 1.87, 0.092),
    "24": Departement("Dordogne", 44.57, 45.72, -0.05, 1.45, 45.18, 0.72, 0.32),
    "25": Departement("Doubs", 46.55, 47.58, 5.70, 7.07, 47.24, 6.02, 0.562),
    "26": Departement("Drome", 44.12, 45.35, 4.65, 5.83, 44.93, 4.89, 0.798),
    "27": Departement("Eure", 48.66, 49.49, 0.30, 1.80, 49.02, 1.15, 0.437),
    "28": Departement("Eure-et-Loir", 47.95, 48.94, 0.76, 1.99, 48.45, 1.49, 0.598),
    "29": Departement("Finistere", 47.70, 48.76, -5.14, -3.39, 48.00, -4.10, 1.058),
    "2A": Departement("Corse-du-Sud", 41.36, 42.38, 8.53, 9.41, 41.93, 8.74, 0.277),
    "2B": Departement("Haute-Corse", 41.83, 43.03, 8.57, 9.56, 42.70, 9.45, 0.473),
    "30": Departement("Gard", 43.46, 44.46, 3.26, 4.85, 43.84, 4.36, 1.144),
    "31": Departement("Haute-Garonne", 42.69, 43.92, 0.44, 2.05, 43.60, 1.44, 1.389),
    "32": Departement("Gers", 43.31, 44.08, -0.28, 1.20, 43.65, 0.59, 0.219),
    "33": Departement("Gironde", 44.19, 45.57, -1.27, 0.32, 44.84, -0.58, 2.651),
    "34": Departement("Herault", 43.21, 43.97, 2.54, 4.20, 43.61, 3.88, 1.644),
    "35": Departement("Ille-et-Vilaine", 47.63, 48.71, -2.29, -1.01, 48.11, -1.68, 1.214),
    "36": Departement("Indre", 46.35, 47.28, 0.87, 2.20, 46.81, 1.69, 0.421),
    "37": Departement("Indre-et-Loire", 46.74, 47.71, 0.05, 1.37, 47.39, 0.69, 1.17),
    "38": Departement("Isere", 44.69, 45.89, 4.74, 6.36, 45.19, 5.72, 1.038),
    "39": Departement("Jura", 46.26, 47.31, 5.25, 6.21, 46.67, 5.55, 0.204),
    "40": Departement("Landes", 43.49, 44.53, -1.53, 0.14, 43.89, -0.50, 0.334),
    "41": Departement("Loir-et-Cher", 47.19, 48.13, 0.58, 2.25, 47.59, 1.33, 0.418),
    "42": Departement("Loire", 45.23, 46.28, 3.69, 4.76, 45.44, 4.39, 0.98),
    "43": Departement("Haute-Loire", 44.74, 45.43, 3.08, 4.49, 45.04, 3.88, 0.223),
    "44": Departement("Loire-Atlantique", 46.86, 47.83, -2.56, -0.96, 47.22, -1.55, 1.243),
    "45": Departement("Loiret", 47.48, 48.35, 1.51, 3.13, 47.90, 1.91, 0.548),
    "46": Departement("Lot", 44.20, 45.05, 0.98, 2.21, 44.45, 1.44, 0.147),
    "47": Departement("Lot-et-Garonne", 43.97, 44.76, -0.14, 1.08, 44.20, 0.62, 0.291),
    "48": Departement("Lozere", 44.11, 44.97, 2.98, 4.00, 44.52, 3.50, 0.098),
    "49": Departement("Maine-et-Loire", 46.97, 47.81, -1.36, 0.24, 47.47, -0.55, 1.12),
    "50": Departement("Manche", 48.45, 49.73, -1.95, -0.73, 49.12, -1.09, 0.74),
    "51": Departement("Marne", 48.51, 49.41, 3.39, 5.04, 48.96, 4.36, 0.426),
    "52": Departement("Haute-Marne", 47.57, 48.69, 4.63, 5.90, 48.11, 5.14, 0.223),
    "53": Departement("Mayenne", 47.73, 48.57, -1.24, -0.05, 48.07, -0.77, 0.192),
    "54": Departement("Meurthe-et-Moselle", 48.35, 49.57, 5.43, 7.12, 48.69, 6.18, 1.0),
    "55": Departement("Meuse", 48.41, 49.62, 4.89, 5.87, 48.77, 5.16, 0.154),
    "56": Departement("Morbihan", 47.28, 48.21, -3.73, -2.03, 47.66, -2.76, 0.978),
    "57": Departement("Moselle", 48.53, 49.52, 5.89, 7.64, 49.12, 6.18, 0.776),
    "58": Departement("Nievre", 46.65, 47.59, 2.84, 4.24, 46.99, 3.16, 0.307),
    "59": Departement("Nord", 49.97, 51.09, 2.07, 4.23, 50.63, 3.06, 2.649),
    "60": Departement("Oise", 49.06, 49.76, 1.69, 3.17, 49.43, 2.08, 0.623),
    "61": Departement("Orne", 48.18, 48.97, -0.86, 0.98, 48.43, 0.09, 0.221),
    "62": Departement("Pas-de-Calais", 50.02, 51.01, 1.55, 3.19, 50.29, 2.78, 1.188),
    "63": Departement("Puy-de-Dome", 45.29, 46.26, 2.39, 3.98, 45.78, 3.08, 1.233),
    "64": Departement("Pyrenees-Atlantiques", 42.78, 43.60, -1.79, -0.03, 43.30, -0.37, 1.231),
    "65": Departement("Hautes-Pyrenees", 42.67, 43.61, -0.33, 0.65, 43.23, 0.08, 0.38),
    "66": Departement("Pyrenees-Orientales", 42.33, 42.92, 1.72, 3.18, 42.70, 2.90, 0.459),
    "67": Departement("Bas-Rhin", 48.12, 49.08, 6.94, 8.24, 48.57, 7.75, 1.149),
    "68": Departement("Haut-Rhin", 47.42, 48.31, 6.84, 7.62, 48.08, 7.36, 0.616),
    "69": Departement("Rhone", 45.45, 46.31, 4.24, 4.92, 45.76, 4.84, 3.353),
    "70": Departement("Haute-Saone", 47.25, 48.03, 5.37, 6.83, 47.62, 6.15, 0.188),
    "71": Departement("Saone-et-Loire", 46.16, 47.16, 3.62, 5.47, 46.31, 4.83, 0.423),
    "72": Departement("Sarthe", 47.57, 48.48, -0.45, 0.92, 48.00, 0.20, 0.351),
    "73": Departement("Savoie", 45.05, 45.94, 5.62, 7.19, 45.57, 5.92, 0.271),
    "74": Departement("Haute-Savoie", 45.68, 46.41, 5.80, 7.05, 45.90, 6.13, 0.675),
    "75": Departement("Paris", 48.81, 48.91, 2.22, 2.47, 48.86, 2.35, 11.422),
    "76": Departement("Seine-Maritime", 49.25, 50.07, 0.06, 1.80, 49.44, 1.10, 1.337),
    "77": Departement("Seine-et-Marne", 48.12, 49.12, 2.39, 3.56, 48.54, 2.66, 1.161),
    "78": Departement("Yvelines", 48.44, 49.09, 1.44, 2.23, 48.80, 2.13, 1.622),
    "79": Departement("Deux-Sevres", 45.97, 47.11, -0.90, 0.22, 46.32, -0.46, 0.337),
    "80": Departement("Somme", 49.57, 50.37, 1.38, 3.21, 49.89, 2.30, 0.793),
    "81": Departement("Tarn", 43.38, 44.20, 1.54, 2.94, 43.93, 2.15, 0.214),
    "82": Departement("Tarn-et-Garonne", 43.77, 44.40, 0.74, 1.99, 44.02, 1.35, 0.295),
    "83": Departement("Var", 42.98, 43.81, 5.66, 6.94, 43.12, 5.93, 1.533),
    "84": Departement("Vaucluse", 43.66, 44.43, 4.65, 5.76, 43.95, 4.81, 0.426),
    "85": Departement("Vendee", 46.27, 47.08, -2.40, -0.54, 46.67, -1.43, 0.456),
    "86": Departement("Vienne", 46.05, 47.18, -0.10, 1.21, 46.58, 0.34, 0.533),
    "87": Departement("Haute-Vienne", 45.44, 46.41, 0.63, 1.91, 45.83, 1.26, 0.68),
    "88": Departement("Vosges", 47.81, 48.52, 5.39, 7.20, 48.17, 6.45, 0.36),
    "89": Departement("Yonne", 47.31, 48.40, 2.85, 4.34, 47.80, 3.57, 0.39),
    "90": Departement("Territoire-de-Belfort", 47.43, 47.83, 6.76, 7.14, 47.64, 6.86, 0.322),
    "91": Departement("Essonne", 48.28, 48.78, 1.91, 2.59, 48.63, 2.44, 2.221),
    "92": Departement("Hauts-de-Seine", 48.73, 48.95, 2.15, 2.34, 48.89, 2.21, 4.49),
    "93": Departement("Seine-Saint-Denis", 48.80, 49.01, 2.29, 2.61, 48.91, 2.44, 4.456),
    "94": Departement("Val-de-Marne", 48.69, 48.87, 2.31, 2.62, 48.79, 2.46, 4.016),
    "95": Departement("Val-d'Oise", 48.91, 49.24, 1.61, 2.60, 49.04, 2.07, 1.666),
    "971": Departement("Guadeloupe", 15.83, 16.52, -61.81, -61.00, 16.24, -61.53, 0.599),
    "972": Departement("Martinique", 14.38, 14.88, -61.24, -60.80, 14.60, -61.07, 0.582),
    "973": Departement("Guyane", 2.11, 5.78, -54.61, -51.61, 4.93, -52.33, 0.414),
    "974": Departement("La-Reunion", -21.39, -20.87, 55.21, 55.84, -20.88, 55.45, 1.07),
    "976": Departement("Mayotte", -13.00, -12.63, 45.01, 45.31, -12.78, 45.23, 0.048),
    "975": Departement("Saint-Pierre-et-Miquelon", 46.74, 47.15, -56.42, -56.11, 46.78, -56.18, 0.005),
    "977": Departement("Saint-Barthelemy", 17.87, 17.97, -62.96, -62.78, 17.90, -62.85, 0.02),
    "978": Departement("Saint-Martin", 18.04, 18.13, -63.16, -62.96, 18.07, -63.08, 0.05),
    "986": Departement("Wallis-et-Futuna", -14.40, -13.18, -178.20, -176.10, -13.28, -176.17, 0.005),
    "987": Departement("Polynesie-francaise", -27.70, -7.80, -154.80, -134.40, -17.54, -149.57, 0.3),
    "988": Departement("Nouvelle-Caledonie", -22.70, -19.50, 163.50, 168.20, -22.27, 166.45, 0.5),
}

#: Overseas codes (DROM and COM): everything whose code has three digits.
OVERSEAS: tuple[str, ...] = tuple(code for code in DEPARTEMENTS if len(code) == 3)
METROPOLE: tuple[str, ...] = tuple(code for code in DEPARTEMENTS if len(code) == 2)
