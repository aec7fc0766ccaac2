#!/usr/bin/env bash
# Run a Bento container image without a container daemon, and optionally smoke-check it.
#
# Why: with no Docker engine (and no podman), `docker run -p 3000:3000 IMAGE` is not
# available. buildah can create a working container from the image and run the
# image's entrypoint in it; with chroot isolation the process shares the host's
# network, so "publishing" the port means binding BentoML to a loopback port.
#
# Usage: container/run-image.sh IMAGE [--port N] [--env K=V]... [--volume H:C]...
#                               [--check [--predict PATH JSON]] [--timeout S]
#   (default)  serve in the foreground on 127.0.0.1:PORT until Ctrl-C
#   --check    start in the background, wait for GET /readyz = 200, POST JSON to PATH
#              if --predict is given (prints the answer; fails on non-200), then stop
#              the server and remove the working container. Exit 0 only if all passed.
# Env: ACCIDENTS_RUN_LOG (server log file for --check, default a temp file).
set -Eeuo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=buildah-env.sh
source "$HERE/buildah-env.sh"
need_root_and_buildah

IMAGE=""
PORT=3000
CHECK=0
TIMEOUT=180
PREDICT_PATH=""
PREDICT_JSON=""
RUN_OPTS=()
while [ $# -gt 0 ]; do
    case "$1" in
        --port) PORT="${2:?--port needs a value}"; shift 2 ;;
        --env) RUN_OPTS+=(--env "${2:?--env needs K=V}"); shift 2 ;;
        --volume) RUN_OPTS+=(--volume "${2:?--volume needs HOST:CONTAINER}"); shift 2 ;;
        --check) CHECK=1; shift ;;
        --predict) PREDICT_PATH="${2:?--predict needs PATH JSON}"; PREDICT_JSON="${3:?--predict needs PATH JSON}"; shift 3 ;;
        --timeout) TIMEOUT="${2:?--timeout needs seconds}"; shift 2 ;;
        -*) die "unknown option '$1' (see the usage at the top of $0)" ;;
        *) [ -z "$IMAGE" ] || die "only one IMAGE expected, got '$IMAGE' and '$1'"; IMAGE="$1"; shift ;;
    esac
done
[ -n "$IMAGE" ] || die "usage: $0 IMAGE [--port N] [--env K=V] [--check [--predict PATH JSON]]"
[[ "$PORT" =~ ^[0-9]+$ ]] || die "--port must be a number, got '$PORT'"
# Something already listening there would answer the readiness check in our place.
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
    die "port $PORT on 127.0.0.1 is already in use (choose another with --port)"
fi
image_exists "$IMAGE" || die "image '$IMAGE' not in buildah's store (build it: container/build-image.sh BENTO_TAG)"

# The image's ENTRYPOINT (BentoML's env/docker/entrypoint.sh): `buildah run` does not
# apply it by itself. With no arguments it runs `bentoml serve $BENTO_PATH`.
mapfile -t ENTRYPOINT < <(bah inspect --type image --format '{{range .OCIv1.Config.Entrypoint}}{{println .}}{{end}}' "$IMAGE" | sed '/^$/d')
[ "${#ENTRYPOINT[@]}" -gt 0 ] || die "image '$IMAGE' has no ENTRYPOINT (not a BentoML image?)"

RUN_ID="bento-run-$$-$RANDOM"
CTR="$(bah from --pull-never --name "$RUN_ID" "$IMAGE")"
SERVER_PID=""

# container_pids: the processes running inside this working container. BentoML's
# workers start their own sessions, so killing buildah's process group would orphan
# them; every process in the container inherits ACCIDENTS_RUN_ID, which finds them all.
container_pids() {
    local f
    for f in /proc/[0-9]*/environ; do
        { tr '\0' '\n' <"$f"; } 2>/dev/null | grep -x -- "ACCIDENTS_RUN_ID=$RUN_ID" >/dev/null && basename "$(dirname "$f")"
    done
    return 0
}

cleanup() {
    local pids
    pids="$(container_pids)"
    if [ -n "$pids" ]; then
        # SIGTERM first: `bentoml serve` then stops its workers itself.
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        for _ in $(seq 1 40); do [ -z "$(container_pids)" ] && break; sleep 0.25; done
        pids="$(container_pids)"
        # shellcheck disable=SC2086
        [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
    fi
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    bah rm "$CTR" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

RUN=(buildah "${BUILDAH_GLOBAL[@]}" run --network host --env "ACCIDENTS_RUN_ID=$RUN_ID"
     --env BENTOML_HOST=127.0.0.1 --env "BENTOML_PORT=$PORT"
     "${RUN_OPTS[@]}" "$CTR" -- "${ENTRYPOINT[@]}")

if [ "$CHECK" = 0 ]; then
    echo "serving $IMAGE on http://127.0.0.1:$PORT (Ctrl-C to stop)"
    setsid "${RUN[@]}" &
    SERVER_PID=$!
    wait "$SERVER_PID"
    exit $?
fi

LOG="${ACCIDENTS_RUN_LOG:-$(mktemp -t bento-run-XXXX.log)}"
start=$SECONDS
setsid "${RUN[@]}" >"$LOG" 2>&1 &
SERVER_PID=$!
echo "started $IMAGE in working container $CTR on 127.0.0.1:$PORT (log: $LOG)"
until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/readyz" || true)" = 200 ]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        tail -n 30 "$LOG" >&2
        die "the server in $IMAGE exited before /readyz answered (log: $LOG)"
    fi
    if [ $((SECONDS - start)) -ge "$TIMEOUT" ]; then
        tail -n 30 "$LOG" >&2
        die "/readyz did not answer 200 within ${TIMEOUT}s (log: $LOG)"
    fi
    sleep 1
done
echo "GET /readyz -> 200 after $((SECONDS - start)) s"
if [ -n "$PREDICT_PATH" ]; then
    body="$(mktemp)"
    code="$(curl -s -o "$body" -w '%{http_code}' -H 'Content-Type: application/json' \
        -d "$PREDICT_JSON" "http://127.0.0.1:$PORT$PREDICT_PATH")"
    echo "POST $PREDICT_PATH -> $code: $(cat "$body")"
    rm -f "$body"
    [ "$code" = 200 ] || die "POST $PREDICT_PATH answered $code, expected 200 (log: $LOG)"
fi
echo "check passed"
