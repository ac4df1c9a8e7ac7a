from pathlib import Path

from hcp.images import python_app

PROJECT = Path(__file__).resolve().parents[3]
TEST_ONLY = {"pytest", "iniconfig", "pluggy", "packaging", "pygments"}


def _names(pins):
    return {python_app._normalize(pin.split("==")[0]) for pin in pins}


def test_runtime_requirements_of_hcp_are_the_locked_closure_without_test_tools():
    pins = python_app.runtime_requirements(PROJECT / "requirements.lock", PROJECT)
    names = _names(pins)
    assert {"lightkube", "lightkube-models", "httpx", "httpx2", "cryptography", "cffi", "pycparser",
            "pydantic", "pydantic-core", "pyyaml", "click", "tomli-w"} <= names
    assert {"h2", "wsproto"} <= names  # lightkube asks for httpx2[http2,ws]
    assert not TEST_ONLY & names
    locked = {line.strip() for line in (PROJECT / "requirements.lock").read_text().splitlines()}
    assert set(pins) <= locked


def test_runtime_requirements_follow_requested_extras_only(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\ndependencies = ["web[http2]==1.0"]\n')
    lock = tmp_path / "requirements.lock"
    lock.write_text("web==1.0\nh2==4.0\nrich==13.0\ncore==2.0\nlegacy==1.0\npytest==9.0\n")
    metadata = {
        "web": ["core>=2", "h2<5; extra == 'http2'", "rich; extra == \"cli\"", "shim; sys_platform == 'emscripten'"],
        "h2": ["core", "legacy; python_version < '3.8' and extra == 'old'"],
        "core": None,
    }
    monkeypatch.setattr(python_app.importlib.metadata, "requires", lambda name: metadata[name])
    assert python_app.runtime_requirements(lock, tmp_path) == ["core==2.0", "h2==4.0", "web==1.0"]


def test_split_reads_name_extras_and_the_extra_a_requirement_depends_on():
    assert python_app._split("httpx2[http2, ws]>=0.28.1") == ("httpx2", frozenset({"http2", "ws"}), None)
    assert python_app._split("Typing_Extensions>=4.5.0; python_version < '3.13'") == (
        "typing-extensions", frozenset(), None)
    assert python_app._split('backports-zstd>=1.0.0; (python_version <= "3.13") and extra == "zstd"') == (
        "backports-zstd", frozenset(), "zstd")


def test_manylinux_platforms_cover_every_glibc_up_to_the_image_one():
    platforms = python_app.manylinux_platforms("2.36-9+deb12u14")
    assert platforms[0] == "manylinux_2_36_x86_64"
    assert {"manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux_2_5_x86_64",
            "manylinux2014_x86_64"} <= set(platforms)
    assert "manylinux_2_37_x86_64" not in platforms
