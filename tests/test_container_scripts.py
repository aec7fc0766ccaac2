"""The container scripts' argument checks and error messages (fast; no image is built).

Why in the default suite: a user's first contact with container/*.sh is often a typo or
a Bento/image that does not exist; those must fail at once with exit code 2 and a message
naming what is wrong and what to do, not with a buildah stack trace after minutes.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

from tests.fixtures.container import CONTAINER_DIR, buildah_missing_reason, run_script, script_env

SCRIPTS = ("buildah-env.sh", "make-base-image.sh", "build-image.sh", "run-image.sh")


@pytest.mark.parametrize("name", SCRIPTS)
def test_scripts_parse(name: str) -> None:
    out = subprocess.run(["bash", "-n", str(CONTAINER_DIR / name)], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr


def test_scripts_pass_shellcheck() -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck not installed (Debian: apt-get install shellcheck)")
    out = subprocess.run(["shellcheck", "-x", *SCRIPTS], cwd=CONTAINER_DIR, capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stdout


@pytest.fixture(scope="module")
def can_run() -> None:
    reason = buildah_missing_reason()
    if reason:
        pytest.skip(reason)


@pytest.mark.parametrize(("name", "args", "message"), [
    ("run-image.sh", ["no-such-image:1"], "image 'no-such-image:1' not in buildah's store"),
    ("run-image.sh", ["img", "--port", "http"], "--port must be a number, got 'http'"),
    ("run-image.sh", ["img", "--bogus"], "unknown option '--bogus'"),
    ("run-image.sh", [], "usage:"),
    ("build-image.sh", [], "usage:"),
    ("build-image.sh", ["a:1", "b:2"], "only one BENTO_TAG expected, got 'a:1' and 'b:2'"),
    ("build-image.sh", ["a:1", "--no-cache"], "unknown option '--no-cache'"),
    ("make-base-image.sh", ["--rebuild"], "unknown argument '--rebuild'"),
])
def test_bad_arguments_exit_2_with_the_reason(can_run: None, name: str, args: list[str],
                                              message: str) -> None:
    out = run_script(name, *args, timeout=60)
    assert out.returncode == 2, out.stdout
    assert "error: " in out.stdout and message in out.stdout, out.stdout


def test_run_image_refuses_a_busy_port(can_run: None) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        out = run_script("run-image.sh", "any-image:1", "--port", str(port), timeout=60)
    assert out.returncode == 2, out.stdout
    assert f"port {port} on 127.0.0.1 is already in use" in out.stdout


def test_unknown_bento_names_the_store(can_run: None, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("empty-bentoml-home")
    out = run_script("build-image.sh", "road_accident_severity:v999", env=script_env(home), timeout=120)
    assert out.returncode == 2, out.stdout
    assert f"Bento 'road_accident_severity:v999' not found in the BentoML store {home}" in out.stdout
    assert "python run.py deploy" in out.stdout


def test_build_context_refuses_an_existing_folder(tmp_path_factory: pytest.TempPathFactory) -> None:
    out_dir = tmp_path_factory.mktemp("ctx-exists")
    home = tmp_path_factory.mktemp("empty-bentoml-home2")
    from tests.fixtures.serving import PYTHON

    out = subprocess.run([PYTHON, str(CONTAINER_DIR / "build_context.py"), "x:1", str(out_dir)],
                         env=script_env(home), capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode != 0
    assert f"output folder {out_dir} already exists" in out.stderr
