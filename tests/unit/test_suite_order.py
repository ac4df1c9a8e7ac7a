"""The suite's order (tests/conftest.py): every integration module has an expected duration to be sorted by."""

from pathlib import Path

from tests import conftest

ROOT = Path(__file__).resolve().parents[2]


def test_every_integration_module_has_an_expected_duration_and_no_other_is_listed():
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "tests" / "integration").rglob("test_*.py")}
    assert modules == set(conftest.EXPECTED_SECONDS)


def test_unit_tests_come_first_then_the_longest_integration_modules():
    ranks = sorted(["tests/integration/test_operator_image.py", "tests/unit/test_progress.py",
                    "tests/integration/test_real_nodes.py"], key=conftest._rank)
    assert ranks == ["tests/unit/test_progress.py", "tests/integration/test_real_nodes.py",
                     "tests/integration/test_operator_image.py"]
