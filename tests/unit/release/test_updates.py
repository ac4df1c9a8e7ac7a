"""Which control-plane updates hcp makes: one minor at a time, never down, unless forced (docs 6)."""

from __future__ import annotations

import pytest

from hcp.release.updates import available_updates, channel_problem, update_problem


@pytest.mark.parametrize(("current", "desired"), [
    (None, "1.37.1"), ("1.36.4", "1.36.4"), ("1.36.4", "1.36.9"), ("1.36.4", "1.37.1"), ("v1.36.4", "1.37.0"),
])
def test_patch_and_next_minor_updates_are_allowed(current, desired):
    assert update_problem(current, desired) == ""


def test_a_downgrade_is_refused_with_both_versions():
    assert update_problem("1.37.1", "1.36.4") == "downgrading from 1.37.1 to 1.36.4 is not supported"
    assert update_problem("1.37.1", "1.37.0") == "downgrading from 1.37.1 to 1.37.0 is not supported"


def test_a_skipped_minor_is_refused_naming_the_minor_to_go_through():
    assert update_problem("1.35.2", "1.37.1") == (
        "updating from 1.35.2 to 1.37.1 skips minor version 1.36; update to a 1.36 release first")


def test_available_updates_are_newer_at_most_one_minor_ahead_newest_first():
    releases = [("r:v1.36.4", "1.36.4"), ("r:v1.37.1", "1.37.1"), ("r:v1.38.0", "1.38.0"), ("r:v1.36.9", "1.36.9")]
    assert available_updates("1.36.4", releases) == [{"image": "r:v1.37.1", "version": "1.37.1"},
                                                     {"image": "r:v1.36.9", "version": "1.36.9"}]
    assert available_updates("1.38.0", releases) == []


RELEASES = [("r:v1.36.4", "1.36.4"), ("r:v1.36.9", "1.36.9"), ("r:v1.37.1", "1.37.1")]


def test_a_channel_of_the_current_minor_offers_only_its_patches():
    assert available_updates("1.36.4", RELEASES, "stable-1.36") == [{"image": "r:v1.36.9", "version": "1.36.9"}]


def test_a_channel_of_the_next_minor_offers_that_minor_too():
    assert [u["version"] for u in available_updates("1.36.4", RELEASES, "fast-1.37")] == ["1.37.1", "1.36.9"]


@pytest.mark.parametrize(("channel", "reason"), [
    (None, ""), ("", ""), ("stable-1.36", ""), ("candidate-1.37", ""),
    ("stable-1.38", "VersionNotFound"), ("stable-1.35", "VersionNotFound"),
    ("stable-4.17", "VersionNotFound"), ("nightly", "InvalidChannel"), ("eus-1.36", "InvalidChannel"),
])
def test_a_channel_without_the_current_version_retrieves_nothing_and_says_why(channel, reason):
    assert channel_problem(channel, "1.36.4")[0] == reason
    if reason:
        assert available_updates("1.36.4", RELEASES, channel) == []


def test_the_channel_messages_name_the_channel_and_the_forms():
    assert channel_problem("nightly", "1.36.4")[1] == (
        "channel 'nightly' is not one hcp serves; channels are <stable|fast|candidate>-<major>.<minor>, "
        "e.g. stable-1.36")
    assert channel_problem("stable-1.38", "1.36.4")[1] == (
        "Unable to retrieve available updates: version 1.36.4 not found in the 'stable-1.38' channel")
