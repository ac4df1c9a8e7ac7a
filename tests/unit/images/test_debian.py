import shutil
import subprocess

import pytest

from hcp.images import debian
from hcp.images.oci import File

# `apt-cache depends --recurse --no-recommends ... python3.11-minimal libpython3.11-stdlib` on bookworm.
PYTHON_DEPENDS = """\
python3.11-minimal
  PreDepends: libc6
  Depends: libpython3.11-minimal
  Depends: libexpat1
  Depends: zlib1g
libpython3.11-stdlib
  Depends: libpython3.11-minimal
 |Depends: media-types
  Depends: mime-support
  Depends: libbz2-1.0
  Depends: libc6
  Depends: libcrypt1
  Depends: libdb5.3
  Depends: libffi8
  Depends: liblzma5
  Depends: libncursesw6
  Depends: libnsl2
  Depends: libreadline8
  Depends: libsqlite3-0
  Depends: libtinfo6
  Depends: libtirpc3
  Depends: libuuid1
libc6
  Depends: libgcc-s1
libpython3.11-minimal
  Depends: libc6
  Depends: libssl3
libexpat1
  Depends: libc6
zlib1g
  Depends: libc6
media-types
mime-support
  Depends: mailcap
  Depends: media-types
libbz2-1.0
  Depends: libc6
libcrypt1
  Depends: libc6
libdb5.3
  Depends: libc6
libffi8
  Depends: libc6
liblzma5
  Depends: libc6
libncursesw6
  Depends: libtinfo6
  Depends: libc6
libnsl2
  Depends: libc6
  Depends: libtirpc3
libreadline8
  Depends: readline-common
  Depends: libc6
  Depends: libtinfo6
libsqlite3-0
  Depends: libc6
libtinfo6
  Depends: libc6
libtirpc3
  Depends: libc6
  Depends: libgssapi-krb5-2
  Depends: libtirpc-common
libuuid1
  Depends: libc6
libgcc-s1
  Depends: gcc-12-base
  Depends: libc6
libssl3
  Depends: libc6
mailcap
  Depends: perl
  Depends: media-types
readline-common
 |Depends: dpkg
  Depends: install-info
libgssapi-krb5-2
  Depends: libc6
  Depends: libcom-err2
  Depends: libk5crypto3
  Depends: libkrb5-3
  Depends: libkrb5support0
libtirpc-common
gcc-12-base
perl
  PreDepends: dpkg
  Depends: perl-base
  Depends: perl-modules-5.36
  Depends: libperl5.36
dpkg
  PreDepends: libbz2-1.0
  PreDepends: libc6
  PreDepends: liblzma5
  PreDepends: libmd0
  PreDepends: libselinux1
  PreDepends: libzstd1
  PreDepends: zlib1g
  Depends: tar
install-info
  Depends: libc6
libcom-err2
  Depends: libc6
libk5crypto3
  Depends: libc6
  Depends: libkrb5support0
libkrb5-3
  Depends: libc6
  Depends: libcom-err2
  Depends: libk5crypto3
  Depends: libkeyutils1
  Depends: libkrb5support0
  Depends: libssl3
libkrb5support0
  Depends: libc6
perl-base
  PreDepends: libc6
  PreDepends: libcrypt1
  PreDepends: dpkg
perl-modules-5.36
  PreDepends: dpkg
  Depends: perl-base
libperl5.36
  Depends: libbz2-1.0
  Depends: libc6
  Depends: libcrypt1
  Depends: libdb5.3
  Depends: libgdbm-compat4
  Depends: libgdbm6
  Depends: zlib1g
  Depends: perl-modules-5.36
libmd0
  Depends: libc6
libselinux1
  Depends: libc6
  Depends: libpcre2-8-0
libzstd1
  Depends: libc6
tar
  PreDepends: libacl1
  PreDepends: libc6
  PreDepends: libselinux1
libkeyutils1
  Depends: libc6
libgdbm-compat4
  Depends: libc6
  Depends: libgdbm6
libgdbm6
  Depends: libc6
libpcre2-8-0
  Depends: libc6
libacl1
  Depends: libc6
"""

# A virtual package (debconf-2.0) with its providers, and an alternative naming one of them.
PAM_DEPENDS = """\
libpam0g
  Depends: libaudit1
  Depends: libc6
 |Depends: debconf
  Depends: <debconf-2.0>
    cdebconf
    debconf
libaudit1
  Depends: libc6
libc6
  Depends: libgcc-s1
debconf
cdebconf
  Depends: libc6
  Depends: libnewt0.52
  Depends: debconf
<debconf-2.0>
libgcc-s1
  Depends: libc6
libnewt0.52
  Depends: libc6
"""


def test_parse_depends_groups_alternatives_and_providers():
    graph = debian.parse_depends(PAM_DEPENDS)
    assert graph["libpam0g"] == [["libaudit1"], ["libc6"], ["debconf", "cdebconf"]]
    assert graph["debconf"] == []
    assert "<debconf-2.0>" not in graph


def test_parse_depends_reads_pre_depends_and_or_groups():
    graph = debian.parse_depends(PYTHON_DEPENDS)
    assert graph["python3.11-minimal"] == [["libc6"], ["libpython3.11-minimal"], ["libexpat1"], ["zlib1g"]]
    assert ["media-types", "mime-support"] in graph["libpython3.11-stdlib"]
    assert graph["readline-common"] == [["dpkg", "install-info"]]
    assert graph["media-types"] == []


def test_closure_of_python_keeps_libraries_and_drops_package_management():
    names = debian.closure(["python3.11-minimal", "libpython3.11-stdlib"], debian.parse_depends(PYTHON_DEPENDS))
    assert names[:2] == ["python3.11-minimal", "libpython3.11-stdlib"]
    assert {"libc6", "libgcc-s1", "libpython3.11-minimal", "libssl3", "libexpat1", "zlib1g", "libffi8",
            "libsqlite3-0", "liblzma5", "libbz2-1.0"} <= set(names)
    assert not debian.EXCLUDED & set(names)
    # Reached only through excluded packages: dpkg's, perl's and mailcap's dependencies.
    assert not {"tar", "libmd0", "libselinux1", "libzstd1", "perl-modules-5.36", "libperl5.36", "libgdbm6"} & set(names)
    assert len(names) == len(set(names))


def test_excluded_package_satisfies_a_group_instead_of_pulling_another_provider():
    names = debian.closure(["libpam0g"], debian.parse_depends(PAM_DEPENDS))
    assert names == ["libpam0g", "libaudit1", "libc6", "libgcc-s1"]


def test_closure_takes_the_first_alternative_unless_another_is_already_chosen():
    graph = {"app": [["libb"], ["liba", "libb"]], "tool": [["liba", "libb"]], "liba": [], "libb": []}
    assert debian.closure(["app"], graph, frozenset()) == ["app", "libb"]
    assert debian.closure(["tool"], graph, frozenset()) == ["tool", "liba"]


def test_exclusions_never_remove_what_programs_need_at_run_time():
    assert not {"libc6", "libgcc-s1", "libssl3", "zlib1g", "libffi8"} & debian.EXCLUDED


def test_parse_records_reads_apt_cache_show():
    text = (
        "Package: zlib1g\nVersion: 1:1.2.13.dfsg-1\nArchitecture: amd64\nDescription: compression\n"
        " more description\n\nPackage: media-types\nVersion: 10.0.0\nArchitecture: all\n"
    )
    records = debian.parse_records(text)
    assert [(r["Package"], r["Version"], r["Architecture"]) for r in records] == [
        ("zlib1g", "1:1.2.13.dfsg-1", "amd64"), ("media-types", "10.0.0", "all"),
    ]


def test_package_filename_is_the_one_apt_get_download_writes():
    assert debian.Package("zlib1g", "1:1.2.13.dfsg-1", "amd64").filename == "zlib1g_1%3a1.2.13.dfsg-1_amd64.deb"
    assert debian.Package("media-types", "10.0.0", "all").filename == "media-types_10.0.0_all.deb"


def test_download_skips_packages_in_the_cache(tmp_path, monkeypatch):
    package = debian.Package("libc6", "2.36-9", "amd64")
    (tmp_path / package.filename).write_bytes(b"deb")
    monkeypatch.setattr(debian, "_run", lambda *a, **k: pytest.fail("apt-get ran for a cached package"))
    assert debian.download([package], tmp_path) == [tmp_path / package.filename]


def _tree(root, files, links):
    for path, mode in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_bytes(b"x")
        (root / path).chmod(mode)
    for path, target in links.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).symlink_to(target)


def _resolve(files: tuple[File, ...], path: str) -> File:
    """Follow symlinks inside the image (as the kernel does with the image as root) to the file reached."""
    by_path = {f.path: f for f in files}
    parts, done = path.strip("/").split("/"), ""
    for _ in range(100):
        if not parts:
            return by_path[done]
        part = parts.pop(0)
        if part == "..":
            done = done.rsplit("/", 1)[0]
            continue
        link = by_path.get(f"{done}/{part}")
        if link is not None and link.symlink_to is not None:
            parts = link.symlink_to.strip("/").split("/") + parts
            done = "" if link.symlink_to.startswith("/") else done
        else:
            done = f"{done}/{part}"
    raise AssertionError(f"symlink loop at {path}")


def test_bookworm_layout_keeps_lib_directories_and_links_the_rest(tmp_path):
    _tree(tmp_path, {
        "lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": 0o755,
        "lib/x86_64-linux-gnu/libc.so.6": 0o755,
        "usr/bin/python3.11": 0o755,
        "usr/lib/python3.11/os.py": 0o644,
    }, {"lib64/ld-linux-x86-64.so.2": "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"})
    debian.link_merged_usr(tmp_path)
    files = debian.tree_files(tmp_path)
    links = {f.path: f.symlink_to for f in files if f.symlink_to}
    assert links == {
        "/bin": "usr/bin", "/sbin": "usr/sbin",
        "/lib64/ld-linux-x86-64.so.2": "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    }
    assert _resolve(files, "/lib64/ld-linux-x86-64.so.2").path == "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
    assert _resolve(files, "/bin/python3.11").path == "/usr/bin/python3.11"
    assert {f.path: f.mode for f in files if f.source}["/usr/lib/python3.11/os.py"] == 0o644


def test_merged_usr_layout_gets_every_alias_link(tmp_path):
    _tree(tmp_path, {"usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": 0o755},
          {"usr/lib64/ld-linux-x86-64.so.2": "../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"})
    debian.link_merged_usr(tmp_path)
    files = debian.tree_files(tmp_path)
    assert {f.path for f in files if f.symlink_to and f.path.count("/") == 1} == {"/bin", "/sbin", "/lib", "/lib64"}
    assert _resolve(files, "/lib64/ld-linux-x86-64.so.2").path == "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"


@pytest.mark.skipif(shutil.which("dpkg-deb") is None, reason="needs dpkg-deb")
def test_layer_files_unpacks_debs_without_docs_and_reuses_the_unpacked_tree(tmp_path, monkeypatch):
    monkeypatch.setenv("HCP_CACHE_DIR", str(tmp_path / "cache"))
    package = tmp_path / "pkg"
    _tree(package, {
        "usr/bin/tool": 0o755,
        "usr/lib/x86_64-linux-gnu/libtool.so.1": 0o644,
        "usr/share/doc/tool/copyright": 0o644,
        "usr/share/man/man1/tool.1.gz": 0o644,
        "usr/share/locale/de/LC_MESSAGES/tool.mo": 0o644,
    }, {"usr/lib/x86_64-linux-gnu/libtool.so": "libtool.so.1"})
    (package / "DEBIAN").mkdir()
    (package / "DEBIAN" / "control").write_text(
        "Package: tool\nVersion: 1.0\nArchitecture: amd64\nMaintainer: hcp\nDescription: test\n"
    )
    deb = tmp_path / "tool_1.0_amd64.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(package), str(deb)], check=True,
                   capture_output=True)

    files = debian.layer_files([deb])
    assert {f.path: (f.mode if f.source else f.symlink_to) for f in files} == {
        "/usr/bin/tool": 0o755,
        "/usr/lib/x86_64-linux-gnu/libtool.so.1": 0o644,
        "/usr/lib/x86_64-linux-gnu/libtool.so": "libtool.so.1",
        "/bin": "usr/bin", "/sbin": "usr/sbin", "/lib": "usr/lib", "/lib64": "usr/lib64",
    }
    deb.unlink()  # a second call must find the unpacked tree in the cache
    assert debian.layer_files([deb]) == files


def test_user_files_name_the_unprivileged_user():
    passwd, group = debian.user_files()
    assert f"hcp:x:{debian.UID}:{debian.UID}:" in passwd.data.decode()
    assert group.data.decode().splitlines()[-1] == f"hcp:x:{debian.UID}:"
