"""What a source file imports, read statically (``ast``), lazy imports included.

Why one module: two tools ask the same question of the code. The layering test
(``tests/test_layering.py``) checks that no module imports upward and that there is no
cycle; ``ops/bentofile_pins.py`` follows the service's imports to learn which third-party
distributions the Bento needs. Reading the source (not importing it) sees imports inside
functions too, which run as soon as the function does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path


def module_name(path: Path, root: Path) -> str:
    """Dotted name of a source file (``accidents/data/__init__.py`` -> ``accidents.data``)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def module_files(root: Path, packages: Iterable[str], modules: Iterable[str] = ()) -> dict[str, Path]:
    """Dotted name -> file for every module of ``packages`` and the top-level ``modules``."""
    files = {module_name(p, root): p for pkg in packages for p in sorted((root / pkg).rglob("*.py"))}
    for name in modules:
        if (root / f"{name}.py").exists():
            files[name] = root / f"{name}.py"
    return files


def imported_modules(path: Path, name: str, known: Iterable[str] = ()) -> set[str]:
    """Every module ``path`` (module ``name``) imports, as absolute dotted names.

    ``from X import Y`` counts as importing ``X.Y`` when that is one of the ``known``
    modules (a submodule), else ``X``; relative imports are resolved against ``name``.
    """
    known = set(known)
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = {f"{module}.{alias.name}" for alias in node.names} & known
            out.update(submodules or {module})
    return out
