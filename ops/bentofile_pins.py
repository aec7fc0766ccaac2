"""``bentofile.yaml``'s Python packages, derived from ``uv.lock``.

    .venv/bin/python -m ops.bentofile_pins          # rewrite the packages list of bentofile.yaml
    .venv/bin/python -m ops.bentofile_pins --check  # exit 1 and show the difference when it is stale

Why: the container installs the Bento's ``python.packages`` from PyPI. Typed by hand they
drift from ``uv.lock`` (msgspec was once missing, so the container silently ran the slow
log writer). Here they are computed: the third-party imports of the service's runtime
(``service.py``, every ``accidents`` module it reaches, and the model pipeline's own module
that unpickling needs), mapped to their distributions, then closed over ``uv.lock``'s
dependency graph for the container's platform (Linux, CPython 3.11), every one pinned to
its locked version. ``tests/test_bentofile_pins.py`` fails when the file and the lock differ.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping
from importlib.metadata import packages_distributions
from pathlib import Path
from typing import Any

from packaging.markers import Marker

from ops.import_graph import imported_modules, module_files

REPO_ROOT = Path(__file__).resolve().parents[1]
BENTOFILE = REPO_ROOT / "bentofile.yaml"
LOCKFILE = REPO_ROOT / "uv.lock"

#: Where the service's runtime starts: the service module, and the module of the model
#: pipeline's own classes (the pickled sklearn Pipeline imports it when the Bento loads it).
ENTRY_MODULES = ("service", "accidents.learning.model")
#: Project code shipped in the Bento (bentofile ``include``): followed, never pinned.
PROJECT_TOP = ("accidents", "service")
#: The container's platform, for the lock's environment markers (bentofile ``docker``).
CONTAINER_ENV = {
    "python_version": "3.11", "python_full_version": "3.11.2", "implementation_name": "cpython",
    "platform_python_implementation": "CPython", "sys_platform": "linux", "os_name": "posix",
    "platform_system": "Linux", "platform_machine": "x86_64",
    "extra": "",
}

_BLOCK = re.compile(r"(?ms)^(  packages:\n)(.*?)(?=^  \S)")


def normalise(name: str) -> str:
    """PEP 503 name, as uv.lock writes it."""
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_imports(root: Path = REPO_ROOT, entries: Iterable[str] = ENTRY_MODULES) -> dict[str, str]:
    """Top-level third-party import name -> the first project module that imports it."""
    files = module_files(root, ["accidents"], ["service"])
    stdlib = set(sys.stdlib_module_names)
    found: dict[str, str] = {}
    todo, seen = list(entries), set()
    while todo:
        name = todo.pop(0)
        if name in seen or name not in files:
            continue
        seen.add(name)
        for target in sorted(imported_modules(files[name], name, files)):
            top = target.split(".")[0]
            if top in PROJECT_TOP:
                todo.append(target if target in files else top)
            elif top and top not in stdlib and top != "__future__":
                found.setdefault(top, name)
    return found


def root_distributions(imports: Mapping[str, str]) -> dict[str, str]:
    """Distribution (lock name) -> the project module whose import needs it."""
    dists = packages_distributions()
    roots: dict[str, str] = {}
    for top, where in sorted(imports.items()):
        if top not in dists:
            raise SystemExit(f"error: {where} imports {top!r}, which no installed distribution "
                             "provides; run `make venv` or add it to pyproject.toml")
        for dist in dists[top]:
            roots.setdefault(normalise(dist), where)
    return roots


def _wanted(dep: Mapping[str, Any]) -> bool:
    marker = dep.get("marker")
    return marker is None or Marker(marker).evaluate(CONTAINER_ENV)


def locked_closure(lock: Mapping[str, Any], roots: Iterable[str]) -> dict[str, str]:
    """Every distribution the roots need on the container's platform -> its locked version."""
    packages = {normalise(p["name"]): p for p in lock["package"]}
    versions: dict[str, str] = {}
    todo: list[tuple[str, tuple[str, ...]]] = [(r, ()) for r in roots]
    done: set[tuple[str, str]] = set()
    while todo:
        name, extras = todo.pop()
        name = normalise(name)
        if name not in packages:
            raise SystemExit(f"error: {name} is not in uv.lock; add it to pyproject.toml and run uv lock")
        package = packages[name]
        versions[name] = package["version"]
        deps = list(package.get("dependencies", []))
        for extra in extras:
            deps += package.get("optional-dependencies", {}).get(extra, [])
        for dep in deps:
            key = (normalise(dep["name"]), ",".join(dep.get("extra", [])))
            if _wanted(dep) and (name, str(key)) not in done:
                done.add((name, str(key)))
                todo.append((dep["name"], tuple(dep.get("extra", []))))
    return versions


def pinned_packages(root: Path = REPO_ROOT, lockfile: Path | None = None) -> list[str]:
    """The ``python.packages`` lines: ``name==version``, roots annotated with their importer."""
    lock = tomllib.loads((lockfile or root / "uv.lock").read_text(encoding="utf-8"))
    roots = root_distributions(runtime_imports(root))
    closure = locked_closure(lock, roots)
    lines = []
    for name in sorted(closure):
        line = f'    - "{name}=={closure[name]}"'
        if name in roots:
            line += f"  # imported by {roots[name]}"
        lines.append(line)
    return lines


def pins_of(lines: list[str]) -> list[str]:
    """The requirement of each package line, without its comment (what BentoML installs)."""
    return [line.split("#", 1)[0].strip() for line in lines]


def bentofile_packages(text: str) -> list[str]:
    """The package lines currently in a bentofile's ``python.packages`` block."""
    match = _BLOCK.search(text)
    if not match:
        raise SystemExit("error: bentofile.yaml has no indented `  packages:` block under `python:`")
    return [line for line in match.group(2).splitlines() if line.strip().startswith("- ")]


def render(text: str, lines: list[str]) -> str:
    """``text`` with its packages block replaced by ``lines`` (the rest kept as written)."""
    header = ("    # Generated from uv.lock by `.venv/bin/python -m ops.bentofile_pins`: the service's runtime\n"
              "    # closure, pinned to the locked versions. Do not edit by hand.\n")
    return _BLOCK.sub(lambda m: m.group(1) + header + "\n".join(lines) + "\n", text, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=".venv/bin/python -m ops.bentofile_pins", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 when stale")
    parser.add_argument("--bentofile", type=Path, default=BENTOFILE, help="default: %(default)s")
    parser.add_argument("--lockfile", type=Path, default=LOCKFILE, help="default: %(default)s")
    args = parser.parse_args(argv)
    text = args.bentofile.read_text(encoding="utf-8")
    wanted = pinned_packages(lockfile=args.lockfile)
    current = bentofile_packages(text)
    if pins_of(current) == pins_of(wanted) and (args.check or current == wanted):
        print(f"{args.bentofile.name}: {len(wanted)} packages match {args.lockfile.name}")
        return 0
    if args.check:
        sys.stdout.writelines(difflib.unified_diff([c + "\n" for c in current], [w + "\n" for w in wanted],
                                                   str(args.bentofile), f"from {args.lockfile}"))
        print("stale: run `.venv/bin/python -m ops.bentofile_pins` to rewrite it from the lock")
        return 1
    args.bentofile.write_text(render(text, wanted), encoding="utf-8")
    print(f"{args.bentofile.name}: wrote {len(wanted)} packages from {args.lockfile.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
