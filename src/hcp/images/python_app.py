"""Images of Python programs: Debian's Python runtime, locked third-party wheels, and the program.

Layers go from least to most often changing (runtime, dependencies, program),
so a rebuild after a code change pushes only the last one.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from hcp.images import debian
from hcp.images.oci import File, ImageSpec
from hcp.cache import cache_dir

PYTHON_VERSION = "3.11"
PYTHON = f"/usr/bin/python{PYTHON_VERSION}"
PACKAGES = (f"python{PYTHON_VERSION}-minimal", f"libpython{PYTHON_VERSION}-stdlib")
SITE_PACKAGES = "/opt/hcp/site-packages"
APP = "/opt/hcp/app"


def python_app_image(
    name: str,
    tag: str,
    *,
    requirements: Sequence[str],
    project_dir: Path,
    entrypoint: Sequence[str],
    packages: Sequence[str] = PACKAGES,
) -> ImageSpec:
    """An image running `entrypoint` (e.g. `(PYTHON, "-m", "hcp.operator")`) as the unprivileged user.

    `requirements` are exact pins (see `runtime_requirements`), installed without
    resolving their dependencies; `project_dir` is built as a wheel.
    """
    runtime = debian.resolve(packages)
    glibc = next(p.version for p in runtime if p.name == "libc6")
    return ImageSpec(
        name=name,
        tag=tag,
        layers=(
            debian.layer_files(debian.download(runtime)) + debian.user_files(),
            site_packages_layer(requirements, manylinux_platforms(glibc)),
            app_layer(project_dir),
        ),
        entrypoint=tuple(entrypoint),
        env=("PATH=/usr/local/bin:/usr/bin:/bin", f"PYTHONPATH={APP}:{SITE_PACKAGES}"),
        user=f"{debian.UID}:{debian.UID}",
    )


def manylinux_platforms(glibc_version: str) -> list[str]:
    """The wheel platform tags a glibc of this (Debian) version runs, newest first.

    pip does not widen a `--platform manylinux_2_N` to older glibc versions itself.
    """
    major, minor = (int(part) for part in re.match(r"(\d+)\.(\d+)", glibc_version).groups())
    return [f"manylinux_{major}_{m}_x86_64" for m in range(minor, 4, -1)] + ["manylinux2014_x86_64"]


def site_packages_layer(requirements: Sequence[str], platforms: Sequence[str]) -> tuple[File, ...]:
    """The wheels of `requirements` for the image's CPython on `platforms`, installed under SITE_PACKAGES.

    Kept in the cache by a hash of the pins and platforms, since the layer reads the files from there.
    """
    options = [
        "--no-deps", "--no-compile", "--only-binary=:all:", "--implementation", "cp",
        "--python-version", PYTHON_VERSION, *(f"--platform={p}" for p in platforms),
    ]
    key = hashlib.sha256("\n".join([*options, *sorted(requirements)]).encode()).hexdigest()[:16]

    def install(target: Path) -> None:
        pins = target.parent / f"{target.name}.txt"
        pins.write_text("".join(f"{r}\n" for r in requirements))
        try:
            _pip("install", "--quiet", "--target", str(target), *options, "-r", str(pins))
        finally:
            pins.unlink()
        # Console scripts name the host's interpreter and pip's scratch directory: drop them
        # and their RECORD lines, which would otherwise differ on every install.
        shutil.rmtree(target / "bin", ignore_errors=True)
        for record in target.glob("*.dist-info/RECORD"):
            lines = record.read_text().splitlines(keepends=True)
            record.write_text("".join(line for line in lines if not line.startswith("../../bin/")))

    root = debian.cached_tree(cache_dir() / "site-packages" / key, install)
    return _under(SITE_PACKAGES, debian.tree_files(root))


def app_layer(project_dir: Path) -> tuple[File, ...]:
    """The project's wheel unpacked under APP, held in memory (it is small and changes on every build).

    The wheel is built from a copy, as building in place would leave build/ and egg-info in the project.
    """
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "project"
        shutil.copytree(project_dir, source, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.egg-info", "build"))
        _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", tmp, str(source))
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            return tuple(
                File(f"{APP}/{entry.filename}", data=archive.read(entry), mode=0o644)
                for entry in sorted(archive.infolist(), key=lambda e: e.filename)
                if not entry.is_dir()
            )


def runtime_requirements(lock: Path, project_dir: Path) -> list[str]:
    """The pins of `lock` that the project needs at run time (its dependency closure, no extras).

    The closure is read from the installed distributions' metadata; the lock's
    pins are already those of this platform, so only requested extras decide
    whether a marked requirement counts (pytest and its helpers thus stay out).
    """
    pins = {_normalize(line.split("==")[0]): line.strip() for line in lock.read_text().splitlines() if "==" in line}
    project = tomllib.loads((project_dir / "pyproject.toml").read_text())["project"]
    wanted: dict[str, set[str]] = {}
    queue = [_split(r)[:2] for r in project.get("dependencies", [])]
    while queue:
        name, extras = queue.pop()
        if name not in pins or (name in wanted and extras <= wanted[name]):
            continue
        wanted[name] = wanted.get(name, set()) | extras
        for requirement in importlib.metadata.requires(name) or []:
            dependency, dependency_extras, condition = _split(requirement)
            if condition is None or condition in wanted[name]:
                queue.append((dependency, dependency_extras))
    return [pins[name] for name in sorted(wanted)]


def _split(requirement: str) -> tuple[str, frozenset[str], str | None]:
    """Name, requested extras, and the extra the requirement is conditional on (if any)."""
    match = re.match(r"\s*([A-Za-z0-9._-]+)\s*(?:\[([^]]*)\])?[^;]*(?:;(.*))?", requirement)
    name, extras, marker = match.groups()
    extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker or "")
    return (
        _normalize(name),
        frozenset(_normalize(e) for e in (extras or "").split(",") if e.strip()),
        _normalize(extra.group(1)) if extra else None,
    )


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _under(prefix: str, files: Iterable[File]) -> tuple[File, ...]:
    return tuple(
        File(prefix + f.path, source=f.source, data=f.data, mode=f.mode, symlink_to=f.symlink_to) for f in files
    )


def _pip(*args: str) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"pip {args[0]} failed ({result.returncode}): {result.stderr.strip()}")
