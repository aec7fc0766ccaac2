"""Per-prediction explanations in the raw BAAC fields a user typed.

XGBoost: ``Booster.predict(..., pred_contribs=True)`` gives TreeSHAP values per *model
feature* plus a bias, summing to the margin (log-odds). The model's features are the raw
fields except for three derived ones, so each derived contribution is added to the raw
field it stands for (``learning.model.DERIVED_FROM``: hour -> ``hrmn``, weekday -> ``jour``,
age -> ``an_nais``). That is a regrouping of a sum, so ``base + sum(all fields)`` is still
the margin exactly, and ``sigmoid(margin)`` the served probability.

RandomForest has no built-in TreeSHAP; the fallback is the decision-path decomposition
("Saabas"): in each tree, the change of the positive-class share from a node to its child
is credited to the field split on; averaged over the trees this sums, with the root share
as base, to the predicted *probability*. Units say which scale an explanation is in.
Other classifiers: no explanation (``None``).

Each answer keeps the ``top`` largest contributions by size and the sum of the others
(``rest``), so ``base + sum(top) + rest`` = the margin (XGBoost) or probability (forest).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy import sparse

from accidents.learning.features import MODEL_INPUT_COLUMNS
from accidents.learning.model import DERIVED_FROM
from accidents.serving.fields import FIELD_SPECS
from accidents.serving.scoring import Scorer

#: How many contributions an answer lists (the rest are summed in ``rest``).
TOP_CONTRIBUTIONS = 5
#: What a derived feature adds to its raw field's label ("Year of birth (as age)").
_DERIVED_NOTE = {"hour": "hour of day", "weekday": "day of week", "age": "as age"}


def field_labels() -> dict[str, str]:
    """The label shown for each raw field's contribution (derived ones say what was derived)."""
    labels = {name: spec.meaning_en for name, spec in FIELD_SPECS.items()}
    for derived, raw in DERIVED_FROM.items():
        labels[raw] = f"{labels[raw]} ({_DERIVED_NOTE[derived]})"
    return labels


class Explainer:
    """Contributions per raw field for the rows the ``scorer`` scores (same features, same trees)."""

    def __init__(self, scorer: Scorer) -> None:
        self.scorer = scorer
        self.units = {"xgboost": "log-odds", "random_forest": "probability"}.get(scorer.kind)
        self.fields = list(MODEL_INPUT_COLUMNS)
        self.labels = field_labels()
        if self.units is None:
            return
        # feature j of the model -> raw field column: a 0/1 matrix, so contributions @ it
        # sums each derived feature into its raw field.
        to_raw = np.zeros((len(scorer.feature_names), len(self.fields)))
        for j, name in enumerate(scorer.feature_names):
            to_raw[j, self.fields.index(DERIVED_FROM.get(name, name))] = 1.0
        self._to_raw = to_raw
        if scorer.kind == "random_forest":
            self._paths = [_tree_path_deltas(tree, len(scorer.feature_names), scorer.positive)
                           for tree in scorer.trees]

    @property
    def available(self) -> bool:
        """Whether this model kind can be explained."""
        return self.units is not None

    def contributions(self, columns: Mapping[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """(base per row, contributions rows x ``MODEL_INPUT_COLUMNS``) in ``self.units``."""
        x = self.scorer.features(columns)
        if self.scorer.kind == "xgboost":
            import xgboost

            matrix = xgboost.DMatrix(x, missing=self.scorer.missing, nthread=1)
            raw = self.scorer.booster.predict(matrix, pred_contribs=True, validate_features=False,
                                              iteration_range=self.scorer.iteration_range)
            return raw[:, -1].astype(np.float64), raw[:, :-1].astype(np.float64) @ self._to_raw
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        per_feature = np.zeros((len(x), x.shape[1]))
        base = 0.0
        for tree, (root, deltas) in zip(self.scorer.trees, self._paths, strict=True):
            per_feature += (tree.decision_path(x32, check_input=False) @ deltas).toarray()
            base += root
        n = len(self._paths)
        return np.full(len(x), base / n), (per_feature / n) @ self._to_raw

    def explain(self, columns: Mapping[str, np.ndarray], top: int = TOP_CONTRIBUTIONS) -> list[dict[str, Any]] | None:
        """Per row: units, base, the ``top`` largest contributions (field, label, value typed) and rest."""
        if not self.available:
            return None
        base, contrib = self.contributions(columns)
        order = np.argsort(-np.abs(contrib), axis=1, kind="stable")[:, :top]
        totals = contrib.sum(axis=1)
        out = []
        for i in range(len(base)):
            items = []
            for j in order[i].tolist():
                name = self.fields[j]
                value = columns[name][i]
                items.append({"field": name, "label": self.labels[name],
                              "value": None if isinstance(value, float) and np.isnan(value) else _plain(value),
                              "contribution": float(contrib[i, j])})
            shown = sum(item["contribution"] for item in items)
            out.append({"units": self.units, "base": float(base[i]), "top": items,
                        "rest": float(totals[i] - shown)})
        return out


def _plain(value: Any) -> Any:
    """numpy scalar -> JSON-ready Python value (whole floats as ints, as the user typed them)."""
    value = value.item() if isinstance(value, np.generic) else value
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _tree_path_deltas(tree: Any, n_features: int, positive: int) -> tuple[float, sparse.csr_matrix]:
    """(root share, nodes x features matrix of share changes credited to the parent's split field).

    ``decision_path(x) @ deltas`` then sums, per row, the changes along its path.
    """
    t = tree.tree_
    values = t.value[:, 0, :]
    share = values[:, positive] / values.sum(axis=1)
    parent = np.full(t.node_count, -1)
    for node in range(t.node_count):
        for child in (t.children_left[node], t.children_right[node]):
            if child >= 0:
                parent[child] = node
    nodes = np.flatnonzero(parent >= 0)
    deltas = sparse.csr_matrix((share[nodes] - share[parent[nodes]], (nodes, t.feature[parent[nodes]])),
                               shape=(t.node_count, n_features))
    return float(share[0]), deltas
