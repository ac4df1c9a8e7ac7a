"""A root filesystem layer made of Debian packages, built without a container daemon or chroot.

The host's apt resolves and downloads the packages (so the image gets the host
release's security updates); `dpkg-deb -x` unpacks them. No maintainer scripts
run, so packages that only serve package management or interactive use are
left out: they are listed in EXCLUDED and treated as satisfying any dependency
on them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from hcp.images.oci import File
from hcp.cache import cache_dir

# Not needed to run programs in a FROM-scratch image: package management and its
# scripting (dpkg, debconf, perl), info/readline configuration, and data files
# Python falls back from (mime types) or hcp does not use (time zones).
EXCLUDED = frozenset({
    "cdebconf", "debconf", "dpkg", "install-info", "libc-bin", "mailcap", "media-types",
    "mime-support", "perl", "perl-base", "readline-common", "tzdata",
})

# Documentation and translations: dropped from the unpacked packages.
DROPPED = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale", "usr/share/lintian")

# Debian's merged-/usr aliases, as the relative links a merged system has.
MERGED_USR = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}

USER = "hcp"
UID = 65532

_DEPENDS = ("Depends", "PreDepends")


@dataclass(frozen=True)
class Package:
    """One binary package at the version apt would install."""

    name: str
    version: str
    architecture: str

    @property
    def filename(self) -> str:
        """The name `apt-get download` gives the .deb (an epoch's colon is escaped)."""
        return f"{self.name}_{self.version.replace(':', '%3a')}_{self.architecture}.deb"


def parse_depends(text: str) -> dict[str, list[list[str]]]:
    """Parse `apt-cache depends --recurse` into package → dependency groups (alternatives in order).

    ` |Depends: a` joins the next line's dependency as an alternative; a virtual
    `<v>` is replaced by its providers, listed on the deeper-indented lines after it.
    """
    graph: dict[str, list[list[str]]] = {}
    groups: list[list[str]] = []
    continues = False
    for line in text.splitlines():
        if not line.strip():
            continue
        if not line.startswith(" "):
            # Virtual packages get headers of their own, with nothing under them.
            groups = graph.setdefault(line.strip(), []) if not line.startswith("<") else []
            continues = False
        elif line.startswith("    "):
            groups[-1].append(line.strip())
        else:
            kind, _, name = line.strip().lstrip("|").partition(": ")
            if kind not in _DEPENDS:
                continue
            if not continues:
                groups.append([])
            if not name.startswith("<"):
                groups[-1].append(name)
            continues = line.startswith(" |")
    return {name: [list(dict.fromkeys(group)) for group in deps if group] for name, deps in graph.items()}


def closure(roots: Iterable[str], graph: dict[str, list[list[str]]], exclude: frozenset[str] = EXCLUDED) -> list[str]:
    """The packages `roots` need, in the order found: per group, an alternative already chosen or the first.

    A group that names an excluded package counts as satisfied, so excluding
    debconf does not pull in cdebconf as the other provider of debconf-2.0.
    """
    chosen = dict.fromkeys(root for root in roots if root not in exclude)
    queue = deque(chosen)
    while queue:
        for group in graph.get(queue.popleft(), []):
            if exclude.intersection(group) or chosen.keys() & set(group):
                continue
            chosen[group[0]] = None
            queue.append(group[0])
    return list(chosen)


def resolve(packages: Iterable[str], exclude: frozenset[str] = EXCLUDED) -> list[Package]:
    """The Depends/Pre-Depends closure of `packages` for the host architecture, minus `exclude`."""
    packages = list(packages)
    depends = _run([
        "apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
        "--no-breaks", "--no-replaces", "--no-enhances", *packages,
    ])
    names = closure(packages, parse_depends(depends), exclude)
    records = parse_records(_run(["apt-cache", "show", "--no-all-versions", *names]))
    found = {r["Package"]: Package(r["Package"], r["Version"], r["Architecture"]) for r in records}
    return [found[name] for name in names]


def parse_records(text: str) -> list[dict[str, str]]:
    """The single-line fields of each deb822 record (`apt-cache show` output)."""
    records = []
    for paragraph in text.strip().split("\n\n"):
        fields = (line.partition(": ") for line in paragraph.splitlines() if not line.startswith(" "))
        records.append({key: value for key, _, value in fields})
    return records


def download(packages: Iterable[Package], cache: Path | None = None) -> list[Path]:
    """The .deb files of `packages`, fetched with `apt-get download` into the cache unless there already."""
    cache = cache or cache_dir() / "debs"
    cache.mkdir(parents=True, exist_ok=True)
    packages = list(packages)
    missing = [p for p in packages if not (cache / p.filename).exists()]
    if missing:
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            # As root apt would otherwise warn that its sandbox user cannot write here.
            _run(["apt-get", "download", "-q", "-o", "APT::Sandbox::User=root",
                  *(f"{p.name}:{p.architecture}={p.version}" for p in missing)], cwd=tmp)
            for p in missing:
                os.replace(Path(tmp) / p.filename, cache / p.filename)
    return [cache / p.filename for p in packages]


def layer_files(debs: Iterable[Path]) -> tuple[File, ...]:
    """The unpacked contents of `debs` as layer entries, without documentation.

    Unpacked once into the cache (keyed by the .deb names, which carry the versions)
    because the layer reads the files from there when the image is built.
    """
    debs = list(debs)
    key = hashlib.sha256("\n".join(deb.name for deb in debs).encode()).hexdigest()[:16]

    def unpack(staging: Path) -> None:
        for deb in debs:
            _run(["dpkg-deb", "-x", str(deb), str(staging)])
        for dropped in DROPPED:
            shutil.rmtree(staging / dropped, ignore_errors=True)
        link_merged_usr(staging)

    return tree_files(cached_tree(cache_dir() / "debian-rootfs" / key, unpack))


def cached_tree(path: Path, fill: Callable[[Path], None]) -> Path:
    """`path`, made by `fill` in a fresh directory beside it unless present.

    Renaming the finished directory into place means an interrupted or
    concurrent build never leaves a half-filled tree at `path`.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=path.parent, prefix=".tmp-"))
        try:
            fill(staging)
            staging.rename(path)
        except OSError:
            if not path.exists():  # not merely another build that finished first
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return path


def link_merged_usr(root: Path) -> None:
    """Add the merged-/usr alias links for the aliases the packages ship nothing under.

    Bookworm's libc6 still ships /lib and /lib64 (with the loader link
    /lib64/ld-linux-x86-64.so.2), so those stay directories.
    """
    for alias, target in MERGED_USR.items():
        if not os.path.lexists(root / alias):
            (root / alias).symlink_to(target)


def tree_files(root: Path) -> tuple[File, ...]:
    """Layer entries for the regular files and symlinks under `root`, with their modes."""
    files = []
    for directory, dirnames, filenames in os.walk(root):
        for name in sorted(dirnames + filenames):
            path = Path(directory) / name
            image_path = "/" + path.relative_to(root).as_posix()
            if path.is_symlink():
                files.append(File(image_path, symlink_to=os.readlink(path)))
            elif path.is_file():
                files.append(File(image_path, source=path, mode=path.stat().st_mode & 0o7777))
    return tuple(files)


def user_files() -> tuple[File, ...]:
    """/etc/passwd and /etc/group with root and the unprivileged user images run as."""
    return (
        File("/etc/passwd", mode=0o644, data=(
            f"root:x:0:0:root:/root:/sbin/nologin\n{USER}:x:{UID}:{UID}:{USER}:/nonexistent:/sbin/nologin\n"
        ).encode()),
        File("/etc/group", data=f"root:x:0:\n{USER}:x:{UID}:\n".encode(), mode=0o644),
    )


def _run(command: list[str], cwd: str | None = None) -> str:
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:3])} ... failed ({result.returncode}): {result.stderr.strip()}")
    return result.stdout
