"""The production image's contents, proved without a Docker engine.

The Dockerfile installs exactly requirements/prod.txt (pinned, hashed, ``--no-deps``) and
the project's wheel (``--no-deps``): so what the image holds is what that lock holds. These
tests check the lock (no embedded database, no dev tools, in step with pyproject.toml and
with the dev lock), that the Dockerfile installs it that way on a base pinned by digest,
and then perform the Dockerfile's install steps for real in a scratch directory and look
at what got installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from harness import ROOT
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

DOCKERFILE = (ROOT / "Dockerfile").read_text()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCKS = ROOT / "requirements"

# Never in the production image: the embedded database (and what only it needs), the test
# runner, linters, type checker, profiler, lock tool and the suite's deployment checkers.
NOT_IN_PRODUCTION = {
    "nx-27017",
    "neosqlite",
    "pytest",
    "pytest-asyncio",
    "ruff",
    "mypy",
    "py-spy",
    "uv",
    "kubernetes-validate",
    "jsonschema",
}

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(;[^\\]*)?\\?$")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}(\s|$)")


def pins(lock: str) -> dict[tuple[str, str], str]:
    """``{(package, marker): version}`` of a uv-compiled lock file; every pin carries a hash."""
    lines = (LOCKS / lock).read_text().splitlines()
    found: dict[tuple[str, str], str] = {}
    for number, line in enumerate(lines):
        match = _PIN.match(line)
        if match is None:
            continue
        name, version, marker = match.groups()
        assert lines[number + 1].strip().startswith("--hash=sha256:"), f"{lock}: {name} unhashed"
        found[(canonicalize_name(name), (marker or "").strip("; "))] = version
    assert found, f"no pins in {lock}"
    return found


def names(lock: str) -> set[str]:
    return {name for name, _ in pins(lock)}


def runtime_requirements() -> list[Requirement]:
    return [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]


def extra_requirements(*extras: str) -> list[Requirement]:
    table = PYPROJECT["project"]["optional-dependencies"]
    return [Requirement(r) for extra in extras for r in table[extra]]


def test_the_production_lock_has_no_embedded_database_and_no_dev_tools() -> None:
    production = names("prod.txt")
    assert not production & NOT_IN_PRODUCTION
    embedded = {canonicalize_name(r.name) for r in extra_requirements("embedded")}
    assert embedded == {"nx-27017"}
    assert not production & embedded
    # …while the dev lock, which make and CI install, has them all.
    assert names("dev.txt") >= NOT_IN_PRODUCTION


def test_nx_27017_is_an_extra_not_a_dependency() -> None:
    runtime = {canonicalize_name(r.name) for r in runtime_requirements()}
    assert "nx-27017" not in runtime


@pytest.mark.parametrize(("lock", "extras"), [("prod.txt", ()), ("dev.txt", ("dev", "embedded"))])
def test_each_lock_satisfies_pyproject(lock: str, extras: tuple[str, ...]) -> None:
    """A dependency added to pyproject.toml without `make lock` fails here, by name."""
    locked = {name: version for (name, _), version in pins(lock).items()}
    for requirement in [*runtime_requirements(), *extra_requirements(*extras)]:
        name = canonicalize_name(requirement.name)
        assert name in locked, f"{name} is in pyproject.toml but not in {lock}: run make lock"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"{lock} pins {name}=={locked[name]}, outside {requirement.specifier}: make lock"
        )


def test_dev_and_prod_locks_agree_on_every_shared_version() -> None:
    """The suite runs on the versions the image runs."""
    dev = pins("dev.txt")
    for key, version in pins("prod.txt").items():
        assert dev.get(key) == version, f"{key[0]}: prod {version}, dev {dev.get(key)}"


def test_the_build_lock_satisfies_the_build_system() -> None:
    locked = {name: version for (name, _), version in pins("build.txt").items()}
    for spec in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(spec)
        assert requirement.specifier.contains(locked[canonicalize_name(requirement.name)])


def test_every_base_image_is_pinned_by_digest() -> None:
    froms = [line for line in DOCKERFILE.splitlines() if line.startswith("FROM ")]
    assert len(froms) == 2
    for line in froms:
        image = line.split()[1]
        assert _DIGEST.search(image + " "), f"not pinned by digest: {line}"
    assert "docker buildx imagetools inspect python:3.11-slim-bookworm" in DOCKERFILE


# The Dockerfile's install steps, as it writes them; run below in a scratch directory.
BUILD_BACKEND = "pip install --require-hashes --no-deps -r requirements/build.txt"
BUILD_WHEEL = "pip wheel --no-deps --no-build-isolation --wheel-dir /wheels ."
RUNTIME_VENV = "python -m venv --without-pip /opt/venv"
INSTALL_LOCK = "install --require-hashes --no-deps"
INSTALL_WHEEL = "install --no-deps /wheels/onestop-*.whl"


def test_the_dockerfile_installs_exactly_the_production_lock() -> None:
    flat = re.sub(r"\s*\\\n\s*", " ", DOCKERFILE)
    for step in (BUILD_BACKEND, BUILD_WHEEL, RUNTIME_VENV):
        assert step in flat
    runtime_installs = re.findall(r"pip --python /opt/venv/bin/python (install [^&\n]*)", flat)
    assert [i.strip() for i in runtime_installs] == [
        f"{INSTALL_LOCK} -r requirements/prod.txt",
        INSTALL_WHEEL,
    ]
    assert "requirements/dev.txt" not in DOCKERFILE
    # The runtime stage copies the virtualenv, never the source tree or a lock to re-resolve.
    runtime = DOCKERFILE.split(" AS runtime", 1)[1]
    assert "COPY --from=build /opt/venv /opt/venv" in runtime
    assert "pip install" not in runtime


# The suite puts the checkout on PYTHONPATH (for its gateway subprocesses); these installs
# must see only what they install.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _run(*args: str | Path, cwd: Path = ROOT) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=CLEAN_ENV, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


@pytest.mark.slow
def test_the_image_install_steps_give_a_runtime_without_the_embedded_database(
    tmp_path: Path,
) -> None:
    """What the Dockerfile does, here: the build backend from its lock into a build
    environment, the wheel built from the paths the Dockerfile copies, then a pip-less
    runtime environment with the production lock and the wheel, both --no-deps. pip check
    proves the lock complete; the gateway starts as far as its configuration; without a
    database URL it says the embedded database is not installed."""
    source = tmp_path / "src"
    source.mkdir()
    for path in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / path, source / path)
    for path in ("gateway", "modules"):
        shutil.copytree(ROOT / path, source / path, ignore=shutil.ignore_patterns("__pycache__"))
    build, runtime, wheels = tmp_path / "build", tmp_path / "venv", tmp_path / "wheels"
    _run(sys.executable, "-m", "venv", build)
    build_pip = (build / "bin" / "python", "-m", "pip", "--quiet")
    _run(*build_pip, *BUILD_BACKEND.split()[1:])
    _run(*build_pip, *BUILD_WHEEL.replace("/wheels", str(wheels)).split()[1:], cwd=source)
    _run(sys.executable, *RUNTIME_VENV.replace("/opt/venv", str(runtime)).split()[1:])
    pip = (sys.executable, "-m", "pip", "--python", runtime / "bin" / "python")
    _run(*pip, "--quiet", *INSTALL_LOCK.split(), "-r", LOCKS / "prod.txt")
    wheel = [*wheels.glob("onestop-*.whl")]
    _run(*pip, "--quiet", *INSTALL_WHEEL.replace("/wheels/onestop-*.whl", "").split(), *wheel)

    listed = _run(*pip, "list", "--format=freeze")
    installed = {canonicalize_name(line.split("==")[0]) for line in listed.split()}
    for_this_python = {
        name for name, marker in pins("prod.txt") if not marker or Marker(marker).evaluate()
    }
    assert installed == for_this_python | {"onestop"}
    assert not installed & NOT_IN_PRODUCTION
    assert "pip" not in installed
    _run(*pip, "check")

    started = subprocess.run(
        [runtime / "bin" / "onestop", "serve", "--port", "1"],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "ONESTOP_DATA_DIR": str(tmp_path / "var")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 2, started.stderr
    assert "pip install 'onestop[embedded]'" in started.stderr
