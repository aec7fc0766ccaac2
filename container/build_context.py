"""Write the build context `bentoml containerize` would hand to its backend, to a folder.

Why: the Dockerfile stored in a Bento (env/docker/Dockerfile) is not enough to build a
working image: `bentoml containerize` first copies the Bento to a temporary context and
adds the models the service declares (`bentoml.models.BentoModel`) from the model store
under `models/`, which the container's BentoML then loads. build-image.sh's fallback
(plain `buildah build`, for when containerize cannot pass what buildah needs) uses this
to get exactly that context, made by BentoML's own code, instead of re-implementing it.

Usage: python container/build_context.py BENTO_TAG OUT_DIR   (OUT_DIR must not exist)
Prints the Dockerfile path. Uses $BENTOML_HOME like every bentoml command.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def write_build_context(bento_tag: str, out_dir: Path) -> Path:
    """Copy BentoML's containerize context for ``bento_tag`` to ``out_dir``; return its Dockerfile."""
    import bentoml
    from bentoml._internal.container import construct_containerfile
    from bentoml.exceptions import NotFound

    if out_dir.exists():
        raise SystemExit(f"error: output folder {out_dir} already exists; give a new path")
    try:
        bento = bentoml.get(bento_tag)
    except NotFound as exc:
        raise SystemExit(f"error: Bento {bento_tag!r} not found in the BentoML store: {exc}") from None
    # enable_buildkit=False: buildah does not run BuildKit-only syntax (cache mounts).
    with construct_containerfile(bento, enable_buildkit=False) as (context, dockerfile):
        shutil.copytree(context, out_dir, symlinks=True)
        return out_dir / Path(dockerfile).relative_to(context)


def main(argv: list[str]) -> int:
    """CLI entry: ``BENTO_TAG OUT_DIR``."""
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-3], file=sys.stderr)
        return 2
    print(write_build_context(argv[0], Path(argv[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
