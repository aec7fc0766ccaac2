"""Registering ZenML stack components and stacks idempotently (create, or update to match).

Why a module of its own: both the profile stacks (``ops/stacks.py``) and the S3 + MLflow
stack (``ops/stack_minio.py``) need it, and ``stacks`` dispatches to ``stack_minio``; with
these helpers in ``stacks`` the two modules imported each other (an import cycle).
"""

from __future__ import annotations

from typing import Any

from accidents.errors import ConfigError

DEFAULT_COMPONENT = "default"


def _get(getter: Any, *args: Any) -> Any | None:
    try:
        return getter(*args, allow_name_prefix_match=False)
    except KeyError:
        return None


def ensure_component(name: str, component_type: Any, flavor: str, configuration: dict[str, Any]) -> None:
    """Create the component, or update its configuration when it differs."""
    from zenml.client import Client

    client = Client()
    existing = _get(client.get_stack_component, component_type, name)
    if existing is None:
        client.create_stack_component(name=name, flavor=flavor, component_type=component_type,
                                      configuration=configuration)
        return
    if existing.flavor_name != flavor:
        raise ConfigError(f"ZenML component {name!r} exists with flavor {existing.flavor_name!r}, "
                          f"the profile needs {flavor!r}; rename the stack in the profile")
    current = {k: existing.configuration.get(k) for k in configuration}
    if current != configuration:
        client.update_stack_component(name, component_type, configuration=configuration)


def ensure_named_stack(name: str, components: dict[Any, str]) -> None:
    """Register ``name`` with these components, or update it to them, then activate it."""
    from zenml.client import Client

    client = Client()
    stack = _get(client.get_stack, name)
    if stack is None:
        client.create_stack(name=name, components=components)
    else:
        current = {t: [c.name for c in comps] for t, comps in stack.components.items()}
        wanted = {t: [n] for t, n in components.items()}
        if current != wanted:
            client.update_stack(name, component_updates={t: [n] for t, n in components.items()})
            # drop components the profile no longer names (e.g. mlflow -> local renamed)
            for t in set(current) - set(wanted):
                client.update_stack(name, component_updates={t: []})
    if client.active_stack_model.name != name:
        client.activate_stack(name)
