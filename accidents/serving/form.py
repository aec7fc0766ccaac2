"""Labelled choices, ranges and defaults for the interactive page (web/), from the field specs."""

from __future__ import annotations

from typing import Any

from accidents.serving.fields import FIELD_SPECS, GROUPS


def form_spec() -> list[dict[str, Any]]:
    """Field groups with labelled choices, ranges and defaults, for the interactive page."""
    groups = []
    for group, names in GROUPS.items():
        fields = []
        for name in names:
            spec = FIELD_SPECS[name]
            fields.append({
                "name": name,
                "kind": spec.kind,
                "label_en": spec.meaning_en,
                "label_fr": spec.meaning_fr,
                "required": spec.required,
                "default": spec.default,
                "choices": [{"code": c, "label_en": en, "label_fr": fr}
                            for c, (fr, en) in spec.codes.items()],
                "min": spec.valid_range[0] if spec.valid_range else None,
                "max": spec.valid_range[1] if spec.valid_range else None,
            })
        groups.append({"group": group, "fields": fields})
    return groups
