"""The layering of docs/architecture.md, enforced.

Why: the domain package must stay plain Python (quick to import, testable without ZenML,
usable by the service and the benchmarks), and each layer may lean only on the layers
below it. These rules were kept by hand until now; a test keeps them.

Two checks: (1) in a fresh interpreter, importing every module of ``accidents/`` loads
neither ZenML nor BentoML; (2) statically (``ast``), no module imports upward, neither
between layers (accidents < ops < steps < pipelines < cli) nor between the subpackages of
``accidents/``, and no import cycle exists between modules. Imports inside functions count:
a lazy import still runs upward when it runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

from ops.import_graph import imported_modules, module_files

ROOT = Path(__file__).resolve().parents[1]
PROJECT_PACKAGES = ("accidents", "ops", "steps", "pipelines", "cli")
PROJECT_MODULES = ("service", "run")

#: Layers from the bottom up; a module may import its own layer and those below.
#: ``service`` is the BentoML service: it may use the domain package only.
LAYER_RANK: Mapping[str, int] = {"accidents": 0, "ops": 1, "steps": 2, "pipelines": 3, "cli": 4,
                                 "run": 5}
SERVICE_MAY_IMPORT = frozenset({"accidents"})

#: Ranks inside ``accidents/`` (longest prefix wins). A module may import modules of its own
#: rank or lower; docs/architecture.md explains the order.
ACCIDENTS_RANK: Mapping[str, int] = {
    "accidents": 0,  # errors, constants, config
    "accidents.data": 1,
    "accidents.learning": 2,
    "accidents.synthetic": 3,
    "accidents.serving": 3,
    "accidents.data.source": 4,  # the one data module that may generate synthetic files
    "accidents.data.preflight": 4,  # materialises the source (download / synthetic), then loads
    "accidents.monitoring": 5,
}


def project_files(root: Path = ROOT) -> dict[str, Path]:
    """Every module of the product (tests, benchmarks and tools excluded)."""
    return module_files(root, PROJECT_PACKAGES, PROJECT_MODULES)


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    files = project_files(root)
    ours = (*PROJECT_PACKAGES, *PROJECT_MODULES)
    return {name: {m for m in imported_modules(path, name, files) if m.split(".")[0] in ours}
            for name, path in files.items()}


def _accidents_rank(module: str) -> int:
    best = max((p for p in ACCIDENTS_RANK if module == p or module.startswith(p + ".")), key=len)
    return ACCIDENTS_RANK[best]


def upward_imports(graph: Mapping[str, set[str]]) -> list[str]:
    """Every edge that breaks a layering rule, as 'a -> b (why)'."""
    problems = []
    for source, targets in sorted(graph.items()):
        top = source.split(".")[0]
        for target in sorted(targets):
            target_top = target.split(".")[0]
            if target_top == "service":
                problems.append(f"{source} -> {target} (nothing imports the service module)")
            elif top == "service":
                if target_top not in SERVICE_MAY_IMPORT:
                    problems.append(f"{source} -> {target} (the service uses accidents/ only)")
            elif LAYER_RANK[target_top] > LAYER_RANK[top]:
                problems.append(f"{source} -> {target} ({top} is below {target_top})")
            elif top == "cli" and target_top == "steps":
                problems.append(f"{source} -> {target} (commands run pipelines through ops.runner "
                                "and ask ops.registry; they never import a step module)")
            elif top == target_top == "accidents" and _accidents_rank(target) > _accidents_rank(source):
                problems.append(f"{source} -> {target} (rank {_accidents_rank(source)} imports "
                                f"rank {_accidents_rank(target)}, see docs/architecture.md)")
    return problems


def find_cycle(graph: Mapping[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first = last), or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_domain_package_loads_neither_zenml_nor_bentoml() -> None:
    """Import every module of accidents/ in a fresh interpreter, then look at sys.modules."""
    modules = sorted(m for m in project_files() if m.split(".")[0] == "accidents"
                     and not m.endswith("__main__"))  # __main__ runs the command line
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('zenml', 'bentoml', 'ops', 'steps', 'pipelines', 'cli', 'service'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(modules) > 30, modules  # the walk found the package
    assert loaded == [], f"importing accidents/ loaded {sorted({m.split('.')[0] for m in loaded})}"


def test_no_module_imports_upward() -> None:
    assert upward_imports(import_graph()) == []


def test_no_import_cycles() -> None:
    assert find_cycle(import_graph()) is None


@pytest.mark.parametrize(("files", "expected"), [
    ({"accidents/data/loader.py": "from steps import ingest\n", "steps/ingest.py": ""},
     "accidents.data.loader -> steps.ingest (accidents is below steps)"),
    ({"ops/stacks.py": "def f():\n    import cli.train\n", "cli/train.py": ""},
     "ops.stacks -> cli.train (ops is below cli)"),
    ({"accidents/data/loader.py": "from accidents.learning import features\n",
      "accidents/learning/features.py": ""},
     "accidents.data.loader -> accidents.learning.features (rank 1 imports rank 2"),
    ({"service.py": "from ops import bento_export\n", "ops/bento_export.py": ""},
     "service -> ops.bento_export (the service uses accidents/ only)"),
    ({"cli/deploy.py": "def f():\n    from steps.deploy import export_to_bento\n", "steps/deploy.py": ""},
     "cli.deploy -> steps.deploy (commands run pipelines through ops.runner"),
])
def test_the_rules_catch_an_upward_import(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    """The checks can fail: an upward import written into a scratch tree is reported."""
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        for parent in path.relative_to(tmp_path).parents[:-1]:
            (tmp_path / parent / "__init__.py").touch()
    problems = upward_imports(import_graph(tmp_path))
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def test_the_cycle_check_finds_a_lazy_cycle() -> None:
    graph = {"cli.a": {"cli.b"}, "cli.b": {"cli.c"}, "cli.c": {"cli.a"}, "cli.d": set()}
    assert find_cycle(graph) == ["cli.a", "cli.b", "cli.c", "cli.a"]
