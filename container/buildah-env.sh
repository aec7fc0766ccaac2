# shellcheck shell=bash
# Sourced by the container/*.sh scripts: the buildah settings this machine needs.
#
# Why: there is no Docker engine. buildah builds and runs images without a daemon when
# run as root with "chroot" isolation (no runc/user namespaces needed); it reads that
# from BUILDAH_ISOLATION, and `bentoml containerize --backend buildah` passes its own
# environment through to buildah, so both paths pick it up.
#
# Storage: buildah's default driver is used (here: overlay, native on this ext4 root).
# STORAGE_DRIVER in the environment is NOT read by buildah 1.28; to force a driver (e.g.
# vfs where the kernel cannot mount overlay, such as inside an unprivileged container),
# set ACCIDENTS_STORAGE_DRIVER=vfs: every buildah call then gets --storage-driver. One
# store holds one driver: point buildah at an empty store to switch (ACCIDENTS_STORAGE_ROOT).
export BUILDAH_ISOLATION="${BUILDAH_ISOLATION:-chroot}"
# Docker-format images keep HEALTHCHECK/SHELL and are what `docker load` expects.
export BUILDAH_FORMAT="${BUILDAH_FORMAT:-docker}"
# Name under which the local stand-in for Docker Hub's python:3.11-slim is committed.
# Fully qualified so buildah's short-name lookup of "python:3.11-slim" in a
# Dockerfile resolves to it locally and never tries to pull.
export ACCIDENTS_BASE_IMAGE="${ACCIDENTS_BASE_IMAGE:-docker.io/library/python:3.11-slim}"
# Where the debootstrap root filesystem tarball is cached between runs.
export ACCIDENTS_CONTAINER_CACHE="${ACCIDENTS_CONTAINER_CACHE:-/var/cache/accidents-container}"

# Global buildah options (storage driver / root) as an array, for buildah and containerize.
BUILDAH_GLOBAL=()
BENTOML_OPTS=()
if [ -n "${ACCIDENTS_STORAGE_DRIVER:-}" ]; then
    BUILDAH_GLOBAL+=(--storage-driver "$ACCIDENTS_STORAGE_DRIVER")
    BENTOML_OPTS+=(--opt "storage-driver=$ACCIDENTS_STORAGE_DRIVER")
fi
if [ -n "${ACCIDENTS_STORAGE_ROOT:-}" ]; then
    BUILDAH_GLOBAL+=(--root "$ACCIDENTS_STORAGE_ROOT")
    BENTOML_OPTS+=(--opt "root=$ACCIDENTS_STORAGE_ROOT")
fi

# bah ARGS...: buildah with the global options above.
bah() {
    buildah "${BUILDAH_GLOBAL[@]}" "$@"
}

# die MESSAGE: print an error naming what failed and exit 2 (user/environment problem).
die() {
    echo "error: $*" >&2
    exit 2
}

# need_root_and_buildah: fail early with a clear message instead of a buildah stack trace.
need_root_and_buildah() {
    command -v buildah >/dev/null || die "buildah not found on PATH (Debian: apt-get install buildah)"
    [ "$(id -u)" = 0 ] || die "buildah with chroot isolation needs root here (run as root)"
}

# image_exists NAME: true when NAME is in buildah's local image store.
image_exists() {
    bah inspect --type image "$1" >/dev/null 2>&1
}
