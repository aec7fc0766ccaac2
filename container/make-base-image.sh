#!/usr/bin/env bash
# Build, without a Docker engine or a registry, a local stand-in for Docker Hub's
# `python:3.11-slim`: the base image that BentoML's generated Dockerfile names.
#
# Why: no registry can be pulled from on this machine, but Debian's mirror and PyPI
# are reachable. Debian bookworm's python3 is 3.11, so a debootstrap'ed bookworm with
# python3, pip, venv and uv behaves, for BentoML's Dockerfile, like python:3.11-slim
# (python/pip/uv on PATH, apt-get working, /bin/sh = dash).
#
# Idempotent and cached: the debootstrap tarball is kept in $ACCIDENTS_CONTAINER_CACHE
# and the image is rebuilt only when it is missing, when this script changed, or with
# --force.
#
# Usage: container/make-base-image.sh [--force]
set -Eeuo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=buildah-env.sh
source "$HERE/buildah-env.sh"
need_root_and_buildah
command -v debootstrap >/dev/null || die "debootstrap not found on PATH (Debian: apt-get install debootstrap)"

FORCE=0
case "${1:-}" in
    --force) FORCE=1 ;;
    "") ;;
    *) die "unknown argument '$1' (expected: --force or nothing)" ;;
esac

SUITE=bookworm
UV_VERSION="${ACCIDENTS_BASE_UV_VERSION:-0.13.9}"
RECIPE="$(sha256sum <"$0" | cut -c1-16)-uv${UV_VERSION}"
TARBALL="$ACCIDENTS_CONTAINER_CACHE/$SUITE-minbase-python3.tar"

# debian_mirror: the Debian mirror apt uses on this host (deb822 or one-line format),
# so the image's apt and the build's apt-get go where this machine can reach.
debian_mirror() {
    local uri
    uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | grep -Eo 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ' || true)"
    echo "${uri:-http://deb.debian.org/debian}"
}

if [ "$FORCE" = 0 ] && image_exists "$ACCIDENTS_BASE_IMAGE"; then
    have="$(bah inspect --type image --format '{{index .OCIv1.Config.Labels "accidents.base.recipe"}}' "$ACCIDENTS_BASE_IMAGE")"
    if [ "$have" = "$RECIPE" ]; then
        echo "base image $ACCIDENTS_BASE_IMAGE is up to date (recipe $RECIPE): nothing to do"
        exit 0
    fi
    echo "base image $ACCIDENTS_BASE_IMAGE has recipe '$have', want '$RECIPE': rebuilding"
fi

mkdir -p "$ACCIDENTS_CONTAINER_CACHE"
MIRROR="$(debian_mirror)"
if [ "$FORCE" = 1 ] || [ ! -s "$TARBALL" ]; then
    rootfs="$ACCIDENTS_CONTAINER_CACHE/rootfs.tmp"
    rm -rf "$rootfs"
    echo "debootstrap $SUITE from $MIRROR into $rootfs (takes a few minutes)"
    debootstrap --variant=minbase \
        --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
        "$SUITE" "$rootfs" "$MIRROR" >"$ACCIDENTS_CONTAINER_CACHE/debootstrap.log" 2>&1 \
        || die "debootstrap failed, see $ACCIDENTS_CONTAINER_CACHE/debootstrap.log"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    tar --numeric-owner -C "$rootfs" -cf "$TARBALL.part" .
    mv "$TARBALL.part" "$TARBALL"
    rm -rf "$rootfs"
fi

ctr="$(bah from scratch)"
trap 'bah rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt="$(bah mount "$ctr")"
tar --numeric-owner -C "$mnt" -xpf "$TARBALL"
# Site-local CAs of the build host (Debian's place for them). Where outbound HTTPS goes
# through a TLS-inspecting proxy, as on this machine, pip/uv inside build steps need it
# to reach PyPI. Empty on a normal host: nothing is added.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$mnt/usr/local/share/ca-certificates/"
fi
bah umount "$ctr" >/dev/null

bah run "$ctr" -- sh -eu -c "
    update-ca-certificates >/dev/null
    pip install --break-system-packages --no-cache-dir --root-user-action=ignore uv==$UV_VERSION
    uv --version
    python --version
"

bah config \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 \
    --env PIP_BREAK_SYSTEM_PACKAGES=1 \
    --env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
    --cmd python3 \
    --label "accidents.base.recipe=$RECIPE" \
    --label "org.opencontainers.image.description=Local stand-in for python:3.11-slim: Debian $SUITE (debootstrap from $MIRROR) + python3 3.11, pip, venv, uv $UV_VERSION" \
    "$ctr"
bah commit --rm "$ctr" "$ACCIDENTS_BASE_IMAGE" >/dev/null
trap - EXIT
echo "committed $ACCIDENTS_BASE_IMAGE (recipe $RECIPE)"
bah images "$ACCIDENTS_BASE_IMAGE"
