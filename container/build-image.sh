#!/usr/bin/env bash
# Build the Bento's container image on a machine without a Docker engine, with buildah.
#
# Why: `bentoml containerize` defaults to the Docker daemon, absent here. BentoML 1.4 can
# drive buildah instead (`--backend buildah`: it generates the Dockerfile and runs
# `buildah build`, passing its own environment through), which only needs the settings
# of buildah-env.sh and a local base image (make-base-image.sh) since no registry can
# be pulled from. If that path fails (or with --fallback), the build context containerize
# would use (the Bento, its generated Dockerfile and the models it declares; written by
# build_context.py with BentoML's own code) is built with `buildah build` directly.
#
# Usage: container/build-image.sh BENTO_TAG [--image-tag NAME:TAG] [--fallback]
#   BENTO_TAG   a Bento in the BentoML store ($BENTOML_HOME), e.g. accidents_severity:latest
#   --image-tag image name (default: the Bento's own name:version, lower-cased)
#   --fallback  skip `bentoml containerize`: buildah build of the same context (build_context.py)
# Env: BENTOML (bentoml executable, default: the repo's .venv), BENTOML_HOME.
set -Eeuo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$HERE")"
# shellcheck source-path=SCRIPTDIR source=buildah-env.sh
source "$HERE/buildah-env.sh"
need_root_and_buildah

BENTO=""
IMAGE=""
FALLBACK=0
while [ $# -gt 0 ]; do
    case "$1" in
        --image-tag) IMAGE="${2:?--image-tag needs a value}"; shift 2 ;;
        --fallback) FALLBACK=1; shift ;;
        -*) die "unknown option '$1' (expected --image-tag NAME:TAG or --fallback)" ;;
        *) [ -z "$BENTO" ] || die "only one BENTO_TAG expected, got '$BENTO' and '$1'"; BENTO="$1"; shift ;;
    esac
done
[ -n "$BENTO" ] || die "usage: $0 BENTO_TAG [--image-tag NAME:TAG] [--fallback]"

BENTOML="${BENTOML:-$REPO/.venv/bin/bentoml}"
[ -x "$BENTOML" ] || die "bentoml executable not found at $BENTOML (set BENTOML=...)"
export BENTOML_DO_NOT_TRACK="${BENTOML_DO_NOT_TRACK:-true}"

# Resolve the Bento once: its exact tag (name:version) and its directory in the store.
# COLUMNS: `bentoml get -o path` prints through rich, which wraps a path longer than the
# terminal width (80 without a terminal) onto a second line.
if ! BENTO_PATH="$(COLUMNS=4096 "$BENTOML" get "$BENTO" -o path 2>/dev/null)" || [ ! -d "$BENTO_PATH" ]; then
    die "Bento '$BENTO' not found in the BentoML store ${BENTOML_HOME:-~/bentoml} (build it first: python run.py deploy, or bentoml build)"
fi
BENTO_TAG="$(basename "$(dirname "$BENTO_PATH")"):$(basename "$BENTO_PATH")"
IMAGE="${IMAGE:-$(echo "$BENTO_TAG" | tr '[:upper:]' '[:lower:]')}"

"$HERE/make-base-image.sh"

start=$SECONDS
if [ "$FALLBACK" = 0 ]; then
    echo "bentoml containerize $BENTO_TAG --backend buildah -t $IMAGE"
    # --pull-never: the base image exists only locally; never ask a registry.
    # --layers: keep per-step layers so a rebuild after a code-only change is fast.
    # containerize exits 0 even when buildah fails (it only logs the error), so the
    # result is checked by looking the image up afterwards.
    "$BENTOML" containerize "$BENTO_TAG" --backend buildah --image-tag "$IMAGE" \
        --opt pull-never --opt layers "${BENTOML_OPTS[@]}" || true
    if ! image_exists "$IMAGE"; then
        echo "bentoml containerize did not produce $IMAGE: falling back to buildah build" >&2
        FALLBACK=1
    fi
fi
if [ "$FALLBACK" = 1 ]; then
    # The same context containerize builds (Bento + the models it declares), made by
    # BentoML's own code, then a plain `buildah build` with the options given here.
    ctx="$(mktemp -d -t bento-ctx-XXXX)"
    trap 'rm -rf "$ctx"' EXIT
    PYTHON="${PYTHON:-$(dirname "$BENTOML")/python}"
    dockerfile="$("$PYTHON" "$HERE/build_context.py" "$BENTO_TAG" "$ctx/context")"
    echo "buildah build -f $dockerfile -t $IMAGE $ctx/context"
    bah build --pull-never --layers -f "$dockerfile" -t "$IMAGE" "$ctx/context"
fi
image_exists "$IMAGE" || die "image $IMAGE was not built (see the buildah output above)"
echo "built image $IMAGE from Bento $BENTO_TAG in $((SECONDS - start)) s"
bah images "$IMAGE"
