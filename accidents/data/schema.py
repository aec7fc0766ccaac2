"""The BAAC (2019+) schema in one place: tables, columns, codes, "not recorded" markers.

Every other module (loader, synthetic generator, features, service input validation and
its web page's labelled choices) takes column names, code sets and labels from here, so a
code that the codebook adds or drops is changed once.

Source: ONISR, "Description des bases de données annuelles des accidents corporels de la
circulation routière - Années de 2005 à 2022" (../shared/references/baac-description-2022.pdf,
pages 4-13). English labels are our translations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

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

#: Header names seen in published copies that mean a canonical column (compared
#: case-insensitively after stripping quotes/spaces/BOM). ``Accident_Id`` is the key's
#: name in the 2022 caracteristiques file.
COLUMN_ALIASES: dict[str, str] = {"accident_id": KEY}

#: Raw markers that mean "not recorded" in any column (after stripping spaces):
#: ``-1`` (often written ``" -1"``), empty, ``(1)`` (pr/pr1 in 2019-2021), ``N/A``
#: (voie/v2/adr from 2021), and ``.`` (the codebook: "cellules vides ou un zéro ou un point").
MISSING_MARKERS: frozenset[str] = frozenset({"", "-1", "(1)", "N/A", "NA", "n/a", ".", "nan", "NaN"})

#: The integer that every code column uses for "not recorded" once loaded.
NOT_RECORDED = -1

Kind = Literal["key", "id", "code", "int", "measure", "text", "hrmn", "letter"]
Label = tuple[str, str]  # (French, English)


@dataclass(frozen=True)
class Column:
    """One column: what it means, how it is typed once loaded, and its codebook codes.

    ``kind``: ``key``/``id`` int64 identifiers; ``code`` int64 codes from ``codes``
    (-1 = not recorded); ``int`` int64 numbers with a ``valid_range`` (jour, mois, an);
    ``measure`` float64 with NaN for missing; ``text`` str; ``hrmn`` str "HH:MM";
    ``letter`` str codes (actp has letters A/B).
    ``not_recorded``: codes that carry no information (-1 always; 0 where the codebook
    says "non renseigné"/"inconnu").
    """

    name: str
    table: str
    kind: Kind
    meaning_fr: str
    meaning_en: str
    codes: Mapping[int | str, Label] = field(default_factory=dict)
    not_recorded: tuple[int | str, ...] = ()
    valid_range: tuple[float, float] | None = None


_NR: Label = ("Non renseigné", "Not recorded")


def _codes(*pairs: tuple[int | str, str, str]) -> dict[int | str, Label]:
    return {code: (fr, en) for code, fr, en in pairs}


LUM = _codes(
    (-1, *_NR),
    (1, "Plein jour", "Full daylight"),
    (2, "Crépuscule ou aube", "Dusk or dawn"),
    (3, "Nuit sans éclairage public", "Night, no street lighting"),
    (4, "Nuit avec éclairage public non allumé", "Night, street lighting off"),
    (5, "Nuit avec éclairage public allumé", "Night, street lighting on"),
)
AGG = _codes((-1, *_NR), (1, "Hors agglomération", "Outside built-up area"),
             (2, "En agglomération", "Inside built-up area"))
INT = _codes(
    (-1, *_NR),
    (1, "Hors intersection", "Not at an intersection"),
    (2, "Intersection en X", "X intersection"),
    (3, "Intersection en T", "T intersection"),
    (4, "Intersection en Y", "Y intersection"),
    (5, "Intersection à plus de 4 branches", "Intersection with more than 4 branches"),
    (6, "Giratoire", "Roundabout"),
    (7, "Place", "Square"),
    (8, "Passage à niveau", "Level crossing"),
    (9, "Autre intersection", "Other intersection"),
)
ATM = _codes(
    (-1, *_NR),
    (1, "Normale", "Normal"),
    (2, "Pluie légère", "Light rain"),
    (3, "Pluie forte", "Heavy rain"),
    (4, "Neige - grêle", "Snow - hail"),
    (5, "Brouillard - fumée", "Fog - smoke"),
    (6, "Vent fort - tempête", "Strong wind - storm"),
    (7, "Temps éblouissant", "Dazzling weather"),
    (8, "Temps couvert", "Overcast"),
    (9, "Autre", "Other"),
)
COL = _codes(
    (-1, *_NR),
    (1, "Deux véhicules - frontale", "Two vehicles - head-on"),
    (2, "Deux véhicules - par l'arrière", "Two vehicles - rear-end"),
    (3, "Deux véhicules - par le côté", "Two vehicles - side"),
    (4, "Trois véhicules et plus - en chaîne", "Three or more vehicles - chain"),
    (5, "Trois véhicules et plus - collisions multiples", "Three or more vehicles - multiple"),
    (6, "Autre collision", "Other collision"),
    (7, "Sans collision", "No collision"),
)
CATR = _codes(
    (-1, *_NR),
    (1, "Autoroute", "Motorway"),
    (2, "Route nationale", "National road"),
    (3, "Route départementale", "Departmental road"),
    (4, "Voie communale", "Municipal road"),
    (5, "Hors réseau public", "Off the public network"),
    (6, "Parc de stationnement ouvert à la circulation publique", "Public car park"),
    (7, "Route de métropole urbaine", "Metropolitan urban road"),
    (9, "Autre", "Other"),
)
CIRC = _codes(
    (-1, *_NR),
    (1, "À sens unique", "One-way"),
    (2, "Bidirectionnelle", "Two-way"),
    (3, "À chaussées séparées", "Dual carriageway"),
    (4, "Avec voies d'affectation variable", "Variable-assignment lanes"),
)
VOSP = _codes(
    (-1, *_NR),
    (0, "Sans objet", "None"),
    (1, "Piste cyclable", "Cycle track"),
    (2, "Bande cyclable", "Cycle lane"),
    (3, "Voie réservée", "Reserved lane"),
)
PROF = _codes(
    (-1, *_NR),
    (1, "Plat", "Flat"),
    (2, "Pente", "Slope"),
    (3, "Sommet de côte", "Hilltop"),
    (4, "Bas de côte", "Bottom of hill"),
)
PLAN = _codes(
    (-1, *_NR),
    (1, "Partie rectiligne", "Straight"),
    (2, "En courbe à gauche", "Left curve"),
    (3, "En courbe à droite", "Right curve"),
    (4, "En « S »", "S-bend"),
)
SURF = _codes(
    (-1, *_NR),
    (1, "Normale", "Normal"),
    (2, "Mouillée", "Wet"),
    (3, "Flaques", "Puddles"),
    (4, "Inondée", "Flooded"),
    (5, "Enneigée", "Snow-covered"),
    (6, "Boue", "Mud"),
    (7, "Verglacée", "Icy"),
    (8, "Corps gras - huile", "Grease - oil"),
    (9, "Autre", "Other"),
)
INFRA = _codes(
    (-1, *_NR),
    (0, "Aucun", "None"),
    (1, "Souterrain - tunnel", "Underpass - tunnel"),
    (2, "Pont - autopont", "Bridge - flyover"),
    (3, "Bretelle d'échangeur ou de raccordement", "Interchange or slip road"),
    (4, "Voie ferrée", "Railway"),
    (5, "Carrefour aménagé", "Engineered junction"),
    (6, "Zone piétonne", "Pedestrian zone"),
    (7, "Zone de péage", "Toll zone"),
    (8, "Chantier", "Roadworks"),
    (9, "Autres", "Other"),
)
SITU = _codes(
    (-1, *_NR),
    (0, "Aucun", "None"),
    (1, "Sur chaussée", "On the carriageway"),
    (2, "Sur bande d'arrêt d'urgence", "On the hard shoulder"),
    (3, "Sur accotement", "On the verge"),
    (4, "Sur trottoir", "On the pavement"),
    (5, "Sur piste cyclable", "On a cycle track"),
    (6, "Sur autre voie spéciale", "On another special lane"),
    (8, "Autres", "Other"),
)
SENC = _codes(
    (-1, *_NR),
    (0, "Inconnu", "Unknown"),
    (1, "PK, PR ou numéro d'adresse croissant", "Increasing kilometre/address marker"),
    (2, "PK, PR ou numéro d'adresse décroissant", "Decreasing kilometre/address marker"),
    (3, "Absence de repère", "No marker"),
)
CATV = _codes(
    (-1, *_NR),
    (0, "Indéterminable", "Undeterminable"),
    (1, "Bicyclette", "Bicycle"),
    (2, "Cyclomoteur <50cm3", "Moped < 50 cc"),
    (3, "Voiturette (quadricycle à moteur carrossé)", "Microcar (bodied motor quadricycle)"),
    (7, "VL seul", "Car"),
    (10, "VU seul 1,5T <= PTAC <= 3,5T avec ou sans remorque", "Light van 1.5-3.5 t"),
    (13, "PL seul 3,5T < PTCA <= 7,5T", "Lorry 3.5-7.5 t"),
    (14, "PL seul > 7,5T", "Lorry > 7.5 t"),
    (15, "PL > 3,5T + remorque", "Lorry > 3.5 t with trailer"),
    (16, "Tracteur routier seul", "Tractor unit alone"),
    (17, "Tracteur routier + semi-remorque", "Articulated lorry"),
    (20, "Engin spécial", "Special vehicle"),
    (21, "Tracteur agricole", "Agricultural tractor"),
    (30, "Scooter < 50 cm3", "Scooter < 50 cc"),
    (31, "Motocyclette > 50 cm3 et <= 125 cm3", "Motorcycle 50-125 cc"),
    (32, "Scooter > 50 cm3 et <= 125 cm3", "Scooter 50-125 cc"),
    (33, "Motocyclette > 125 cm3", "Motorcycle > 125 cc"),
    (34, "Scooter > 125 cm3", "Scooter > 125 cc"),
    (35, "Quad léger <= 50 cm3", "Light quad <= 50 cc"),
    (36, "Quad lourd > 50 cm3", "Heavy quad > 50 cc"),
    (37, "Autobus", "Bus"),
    (38, "Autocar", "Coach"),
    (39, "Train", "Train"),
    (40, "Tramway", "Tram"),
    (41, "3RM <= 50 cm3", "Three-wheeler <= 50 cc"),
    (42, "3RM > 50 cm3 <= 125 cm3", "Three-wheeler 50-125 cc"),
    (43, "3RM > 125 cm3", "Three-wheeler > 125 cc"),
    (50, "EDP à moteur", "Powered personal transporter (e-scooter...)"),
    (60, "EDP sans moteur", "Unpowered personal transporter"),
    (80, "VAE", "Electric-assist bicycle"),
    (99, "Autre véhicule", "Other vehicle"),
)
OBS = _codes(
    (-1, *_NR),
    (0, "Sans objet", "None"),
    (1, "Véhicule en stationnement", "Parked vehicle"),
    (2, "Arbre", "Tree"),
    (3, "Glissière métallique", "Metal crash barrier"),
    (4, "Glissière béton", "Concrete crash barrier"),
    (5, "Autre glissière", "Other crash barrier"),
    (6, "Bâtiment, mur, pile de pont", "Building, wall, bridge pier"),
    (7, "Support de signalisation verticale ou poste d'appel d'urgence", "Sign post or emergency phone"),
    (8, "Poteau", "Pole"),
    (9, "Mobilier urbain", "Street furniture"),
    (10, "Parapet", "Parapet"),
    (11, "Îlot, refuge, borne haute", "Traffic island, refuge, bollard"),
    (12, "Bordure de trottoir", "Kerb"),
    (13, "Fossé, talus, paroi rocheuse", "Ditch, embankment, rock face"),
    (14, "Autre obstacle fixe sur chaussée", "Other fixed obstacle on the carriageway"),
    (15, "Autre obstacle fixe sur trottoir ou accotement", "Other fixed obstacle on pavement or verge"),
    (16, "Sortie de chaussée sans obstacle", "Left the road without hitting an obstacle"),
    (17, "Buse - tête d'aqueduc", "Culvert head"),
)
OBSM = _codes(
    (-1, *_NR),
    (0, "Aucun", "None"),
    (1, "Piéton", "Pedestrian"),
    (2, "Véhicule", "Vehicle"),
    (4, "Véhicule sur rail", "Rail vehicle"),
    (5, "Animal domestique", "Domestic animal"),
    (6, "Animal sauvage", "Wild animal"),
    (9, "Autre", "Other"),
)
CHOC = _codes(
    (-1, *_NR),
    (0, "Aucun", "None"),
    (1, "Avant", "Front"),
    (2, "Avant droit", "Front right"),
    (3, "Avant gauche", "Front left"),
    (4, "Arrière", "Rear"),
    (5, "Arrière droit", "Rear right"),
    (6, "Arrière gauche", "Rear left"),
    (7, "Côté droit", "Right side"),
    (8, "Côté gauche", "Left side"),
    (9, "Chocs multiples (tonneaux)", "Multiple impacts (rolled over)"),
)
MANV = _codes(
    (-1, *_NR),
    (0, "Inconnue", "Unknown"),
    (1, "Sans changement de direction", "No change of direction"),
    (2, "Même sens, même file", "Same direction, same lane"),
    (3, "Entre 2 files", "Between two lanes"),
    (4, "En marche arrière", "Reversing"),
    (5, "À contresens", "Wrong way"),
    (6, "En franchissant le terre-plein central", "Crossing the central reservation"),
    (7, "Dans le couloir bus, dans le même sens", "In the bus lane, same direction"),
    (8, "Dans le couloir bus, dans le sens inverse", "In the bus lane, opposite direction"),
    (9, "En s'insérant", "Merging"),
    (10, "En faisant demi-tour sur la chaussée", "U-turn on the carriageway"),
    (11, "Changeant de file à gauche", "Changing lane to the left"),
    (12, "Changeant de file à droite", "Changing lane to the right"),
    (13, "Déporté à gauche", "Drifting left"),
    (14, "Déporté à droite", "Drifting right"),
    (15, "Tournant à gauche", "Turning left"),
    (16, "Tournant à droite", "Turning right"),
    (17, "Dépassant à gauche", "Overtaking on the left"),
    (18, "Dépassant à droite", "Overtaking on the right"),
    (19, "Traversant la chaussée", "Crossing the carriageway"),
    (20, "Manœuvre de stationnement", "Parking manoeuvre"),
    (21, "Manœuvre d'évitement", "Avoiding manoeuvre"),
    (22, "Ouverture de porte", "Opening a door"),
    (23, "Arrêté (hors stationnement)", "Stopped (not parked)"),
    (24, "En stationnement (avec occupants)", "Parked (with occupants)"),
    (25, "Circulant sur trottoir", "Driving on the pavement"),
    (26, "Autres manœuvres", "Other manoeuvre"),
)
MOTOR = _codes(
    (-1, *_NR),
    (0, "Inconnue", "Unknown"),
    (1, "Hydrocarbures", "Fossil fuel"),
    (2, "Hybride électrique", "Hybrid electric"),
    (3, "Électrique", "Electric"),
    (4, "Hydrogène", "Hydrogen"),
    (5, "Humaine", "Human-powered"),
    (6, "Autre", "Other"),
)
PLACE = _codes(
    (-1, *_NR),
    (1, "Conducteur (avant gauche)", "Driver (front left)"),
    (2, "Avant droit", "Front right"),
    (3, "Arrière droit", "Rear right"),
    (4, "Arrière gauche", "Rear left"),
    (5, "Arrière milieu", "Rear middle"),
    (6, "Avant milieu", "Front middle"),
    (7, "Milieu gauche", "Middle row left"),
    (8, "Milieu milieu", "Middle row middle"),
    (9, "Milieu droit", "Middle row right"),
    (10, "Piéton (non applicable)", "Pedestrian (not applicable)"),
)
CATU = _codes(
    (-1, *_NR),
    (1, "Conducteur", "Driver"),
    (2, "Passager", "Passenger"),
    (3, "Piéton", "Pedestrian"),
)
GRAV = _codes(
    (-1, *_NR),
    (1, "Indemne", "Unharmed"),
    (2, "Tué", "Killed"),
    (3, "Blessé hospitalisé", "Hospitalised"),
    (4, "Blessé léger", "Slightly injured"),
)
SEXE = _codes((-1, *_NR), (1, "Masculin", "Male"), (2, "Féminin", "Female"))
TRAJET = _codes(
    (-1, *_NR),
    (0, "Non renseigné", "Not recorded"),
    (1, "Domicile - travail", "Home - work"),
    (2, "Domicile - école", "Home - school"),
    (3, "Courses - achats", "Shopping"),
    (4, "Utilisation professionnelle", "Professional use"),
    (5, "Promenade - loisirs", "Leisure"),
    (9, "Autre", "Other"),
)
SECU = _codes(
    (-1, *_NR),
    (0, "Aucun équipement", "No equipment"),
    (1, "Ceinture", "Seat belt"),
    (2, "Casque", "Helmet"),
    (3, "Dispositif enfants", "Child restraint"),
    (4, "Gilet réfléchissant", "Reflective vest"),
    (5, "Airbag (2RM/3RM)", "Airbag (powered two/three-wheeler)"),
    (6, "Gants (2RM/3RM)", "Gloves (powered two/three-wheeler)"),
    (7, "Gants + Airbag (2RM/3RM)", "Gloves + airbag (powered two/three-wheeler)"),
    (8, "Non déterminable", "Not determinable"),
    (9, "Autre", "Other"),
)
LOCP = _codes(
    (-1, *_NR),
    (0, "Sans objet", "Not applicable"),
    (1, "Sur chaussée, à + 50 m du passage piéton", "On the road, > 50 m from a crossing"),
    (2, "Sur chaussée, à - 50 m du passage piéton", "On the road, < 50 m from a crossing"),
    (3, "Sur passage piéton sans signalisation lumineuse", "On a crossing without lights"),
    (4, "Sur passage piéton avec signalisation lumineuse", "On a crossing with lights"),
    (5, "Sur trottoir", "On the pavement"),
    (6, "Sur accotement", "On the verge"),
    (7, "Sur refuge ou BAU", "On a refuge or hard shoulder"),
    (8, "Sur contre allée", "On a service road"),
    (9, "Inconnue", "Unknown"),
)
ACTP = _codes(
    ("-1", *_NR),
    ("0", "Non renseigné ou sans objet", "Not recorded or not applicable"),
    ("1", "Se déplaçant dans le sens du véhicule heurtant", "Moving in the hitting vehicle's direction"),
    ("2", "Se déplaçant en sens inverse du véhicule", "Moving against the vehicle's direction"),
    ("3", "Traversant", "Crossing"),
    ("4", "Masqué", "Hidden"),
    ("5", "Jouant - courant", "Playing - running"),
    ("6", "Avec animal", "With an animal"),
    ("9", "Autre", "Other"),
    ("A", "Monte/descend du véhicule", "Getting in/out of the vehicle"),
    ("B", "Inconnue", "Unknown"),
)
ETATP = _codes(
    (-1, *_NR),
    (1, "Seul", "Alone"),
    (2, "Accompagné", "Accompanied"),
    (3, "En groupe", "In a group"),
)


def _c(name: str, table: str, kind: Kind, fr: str, en: str,
       codes: Mapping[int | str, Label] | None = None,
       not_recorded: tuple[int | str, ...] = (-1,),
       valid_range: tuple[float, float] | None = None) -> Column:
    return Column(name, table, kind, fr, en, dict(codes or {}),
                  not_recorded if kind in ("code", "letter") else (), valid_range)


_KEY_FR = "Numéro d'identifiant de l'accident"
_KEY_EN = "Accident identifier (the same in the four tables)"

#: Every column of the four tables (2019+), by table then column name.
SCHEMA: dict[str, dict[str, Column]] = {
    "caracteristiques": {c.name: c for c in (
        _c("Num_Acc", "caracteristiques", "key", _KEY_FR, _KEY_EN),
        _c("jour", "caracteristiques", "int", "Jour de l'accident", "Day of month", valid_range=(1, 31)),
        _c("mois", "caracteristiques", "int", "Mois de l'accident", "Month", valid_range=(1, 12)),
        _c("an", "caracteristiques", "int", "Année de l'accident", "Year", valid_range=(2005, 2100)),
        _c("hrmn", "caracteristiques", "hrmn", "Heure et minutes de l'accident", "Time of day (HH:MM)"),
        _c("lum", "caracteristiques", "code", "Conditions d'éclairage", "Lighting conditions", LUM),
        _c("dep", "caracteristiques", "text", "Département (code INSEE, 2A/2B, 971...)", "Département (INSEE code)"),
        _c("com", "caracteristiques", "text", "Commune (code INSEE)", "Municipality (INSEE code)"),
        _c("agg", "caracteristiques", "code", "Localisation (agglomération)", "Built-up area or not", AGG),
        _c("int", "caracteristiques", "code", "Intersection", "Intersection type", INT),
        _c("atm", "caracteristiques", "code", "Conditions atmosphériques", "Weather", ATM),
        _c("col", "caracteristiques", "code", "Type de collision", "Collision type", COL),
        _c("adr", "caracteristiques", "text", "Adresse postale", "Postal address (free text)"),
        _c("lat", "caracteristiques", "measure", "Latitude (WGS84)", "Latitude (WGS84)", valid_range=(-90, 90)),
        _c("long", "caracteristiques", "measure", "Longitude (WGS84)", "Longitude (WGS84)", valid_range=(-180, 180)),
    )},
    "lieux": {c.name: c for c in (
        _c("Num_Acc", "lieux", "key", _KEY_FR, _KEY_EN),
        _c("catr", "lieux", "code", "Catégorie de route", "Road category", CATR),
        _c("voie", "lieux", "text", "Numéro de la route", "Road number or name"),
        _c("v1", "lieux", "text", "Indice numérique du numéro de route", "Road number index (bis, ter)"),
        _c("v2", "lieux", "text", "Lettre indice alphanumérique de la route", "Road letter index"),
        _c("circ", "lieux", "code", "Régime de circulation", "Traffic regime", CIRC),
        _c("nbv", "lieux", "measure", "Nombre total de voies de circulation", "Number of traffic lanes", valid_range=(0, 99)),
        _c("vosp", "lieux", "code", "Voie réservée", "Reserved lane present", VOSP),
        _c("prof", "lieux", "code", "Profil en long", "Road gradient", PROF),
        _c("pr", "lieux", "measure", "Numéro du PR de rattachement", "Upstream kilometre marker"),
        _c("pr1", "lieux", "measure", "Distance en mètres au PR", "Distance to the marker (m)"),
        _c("plan", "lieux", "code", "Tracé en plan", "Road layout", PLAN),
        _c("lartpc", "lieux", "measure", "Largeur du terre-plein central (m)", "Central reservation width (m)"),
        _c("larrout", "lieux", "measure", "Largeur de la chaussée (m)", "Carriageway width (m)"),
        _c("surf", "lieux", "code", "État de la surface", "Surface condition", SURF),
        _c("infra", "lieux", "code", "Aménagement - infrastructure", "Infrastructure", INFRA),
        _c("situ", "lieux", "code", "Situation de l'accident", "Where on the road", SITU),
        _c("vma", "lieux", "measure", "Vitesse maximale autorisée", "Speed limit (km/h)", valid_range=(0, 200)),
    )},
    "vehicules": {c.name: c for c in (
        _c("Num_Acc", "vehicules", "key", _KEY_FR, _KEY_EN),
        _c("id_vehicule", "vehicules", "id", "Identifiant unique du véhicule", "Vehicle identifier (numeric)"),
        _c("num_veh", "vehicules", "text", "Identifiant alphanumérique du véhicule", "Vehicle letter code within the accident (A01...)"),
        _c("senc", "vehicules", "code", "Sens de circulation", "Direction of travel", SENC, (-1, 0)),
        _c("catv", "vehicules", "code", "Catégorie du véhicule", "Vehicle category", CATV, (-1, 0)),
        _c("obs", "vehicules", "code", "Obstacle fixe heurté", "Fixed obstacle hit", OBS),
        _c("obsm", "vehicules", "code", "Obstacle mobile heurté", "Moving obstacle hit", OBSM),
        _c("choc", "vehicules", "code", "Point de choc initial", "Initial point of impact", CHOC),
        _c("manv", "vehicules", "code", "Manœuvre principale avant l'accident", "Main manoeuvre before the accident", MANV, (-1, 0)),
        _c("motor", "vehicules", "code", "Type de motorisation", "Engine type", MOTOR, (-1, 0)),
        _c("occutc", "vehicules", "measure", "Nombre d'occupants du transport en commun", "Occupants of a public-transport vehicle"),
    )},
    "usagers": {c.name: c for c in (
        _c("Num_Acc", "usagers", "key", _KEY_FR, _KEY_EN),
        _c("id_usager", "usagers", "id", "Identifiant unique de l'usager", "Road-user identifier (numeric)"),
        _c("id_vehicule", "usagers", "id", "Identifiant du véhicule de l'usager (piéton: véhicule qui l'a heurté)", "Vehicle of the user (pedestrian: the vehicle that hit them)"),
        _c("num_veh", "usagers", "text", "Identifiant alphanumérique du véhicule", "Vehicle letter code within the accident"),
        _c("place", "usagers", "code", "Place occupée dans le véhicule", "Seat in the vehicle", PLACE),
        _c("catu", "usagers", "code", "Catégorie d'usager", "Road-user category", CATU),
        _c("grav", "usagers", "code", "Gravité de blessure", "Injury severity (the target)", GRAV),
        _c("sexe", "usagers", "code", "Sexe", "Sex", SEXE),
        _c("an_nais", "usagers", "measure", "Année de naissance", "Year of birth", valid_range=(1890, 2100)),
        _c("trajet", "usagers", "code", "Motif du déplacement", "Trip purpose", TRAJET, (-1, 0)),
        _c("secu1", "usagers", "code", "Équipement de sécurité 1", "Safety equipment 1", SECU, (-1, 8)),
        _c("secu2", "usagers", "code", "Équipement de sécurité 2", "Safety equipment 2", SECU, (-1, 8)),
        _c("secu3", "usagers", "code", "Équipement de sécurité 3", "Safety equipment 3", SECU, (-1, 8)),
        _c("locp", "usagers", "code", "Localisation du piéton", "Pedestrian location", LOCP, (-1, 9)),
        _c("actp", "usagers", "letter", "Action du piéton", "Pedestrian action", ACTP, ("-1", "B")),
        _c("etatp", "usagers", "code", "Piéton seul ou non", "Pedestrian alone or not", ETATP),
    )},
}

for _t, _cols in COLUMNS.items():  # the two descriptions must never disagree
    assert tuple(SCHEMA[_t]) == _cols, _t


def column(name: str, table: str | None = None) -> Column:
    """The description of ``name`` (first table that has it unless ``table`` is given)."""
    tables = (table,) if table else TABLES
    for t in tables:
        if name in SCHEMA[t]:
            return SCHEMA[t][name]
    raise KeyError(f"unknown BAAC column {name!r}" + (f" in table {table!r}" if table else ""))


def columns_of_kind(table: str, *kinds: Kind) -> tuple[str, ...]:
    """Columns of ``table`` whose kind is one of ``kinds``, in file order."""
    return tuple(c.name for c in SCHEMA[table].values() if c.kind in kinds)


def allowed_codes(name: str) -> tuple[int | str, ...]:
    """Every code the codebook allows for a code column, including -1 (not recorded)."""
    col = column(name)
    if not col.codes:
        raise KeyError(f"column {name!r} has no code list (kind {col.kind!r})")
    return tuple(col.codes)


def labels(name: str, lang: str = "en") -> dict[int | str, str]:
    """``code -> label`` for a code column in ``lang`` ("fr" or "en")."""
    if lang not in ("fr", "en"):
        raise ValueError(f"lang must be 'fr' or 'en', not {lang!r}")
    idx = 0 if lang == "fr" else 1
    return {code: pair[idx] for code, pair in column(name).codes.items()}


def code_columns(table: str | None = None) -> tuple[str, ...]:
    """Names of the columns that carry codebook codes (int codes and actp letters)."""
    tables = (table,) if table else TABLES
    seen: dict[str, None] = {}
    for t in tables:
        for c in SCHEMA[t].values():
            if c.codes:
                seen[c.name] = None
    return tuple(seen)


# --------------------------------------------------------------------------- vehicle mass
#: Vehicle mass class of a ``catv`` code, ordered from lightest to heaviest, so the
#: "heaviest other vehicle" of an accident is a simple max. Why a class and not catv
#: itself: what hurts a road user is mainly the mass (and protection) of what hits them,
#: and 30-odd catv codes with few rows each would be sparse for the model.
#: ``-1`` = unknown (catv -1, 0 undeterminable, 99 other); ``0`` = no other vehicle.
VEHICLE_CLASS_LABELS: dict[int, Label] = {
    -1: ("Inconnu", "Unknown"),
    0: ("Aucun autre véhicule", "No other vehicle"),
    1: ("Vélo, EDP", "Bicycle, personal transporter"),
    2: ("Deux/trois-roues motorisé, quad", "Powered two/three-wheeler, quad"),
    3: ("Voiture, voiturette, utilitaire léger", "Car, microcar, light van"),
    4: ("Poids lourd, bus, car, engin agricole ou spécial", "HGV, bus, coach, tractor, special"),
    5: ("Train, tramway", "Train, tram"),
}
CATV_CLASS: dict[int, int] = {
    -1: -1, 0: -1, 99: -1,
    1: 1, 50: 1, 60: 1, 80: 1,
    2: 2, 30: 2, 31: 2, 32: 2, 33: 2, 34: 2, 35: 2, 36: 2, 41: 2, 42: 2, 43: 2,
    3: 3, 7: 3, 10: 3,
    13: 4, 14: 4, 15: 4, 16: 4, 17: 4, 20: 4, 21: 4, 37: 4, 38: 4,
    39: 5, 40: 5,
}
assert set(CATV_CLASS) == {c for c in CATV if isinstance(c, int)}
