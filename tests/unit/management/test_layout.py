from pathlib import Path

import pytest

from hcp.management.layout import ClusterConfig, Layout, validate_name, validate_state_dir


def test_addresses_and_names_follow_the_subnet_index():
    config = ClusterConfig(name="mgmt", subnet_index=3)
    assert (config.host_ip, config.node_ip, config.prefix_length) == ("172.30.3.1", "172.30.3.2", 24)
    assert config.netns == "hcp-mgmt"
    assert config.api_server_url == "https://172.30.3.2:6443"
    assert config.registry == "registry.hcp.internal:5000"
    assert len(config.host_veth) <= 15


@pytest.mark.parametrize("name", ["a", "mgmt", "test-1", "abcdefghij"])
def test_valid_names(name):
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "Mgmt", "-a", "a-", "abcdefghijk", "a_b"])
def test_invalid_names_say_what_is_allowed(name):
    with pytest.raises(ValueError, match="1-10 lowercase letters"):
        validate_name(name)


def test_config_round_trips_through_the_state_dir(tmp_path):
    layout = Layout(tmp_path / "state")
    assert layout.load_config() is None
    layout.save_config(ClusterConfig(name="x", subnet_index=7))
    assert layout.load_config() == ClusterConfig(name="x", subnet_index=7)


def test_pod_logs_and_container_log_links_live_in_the_state_dir():
    layout = Layout(Path("/state"))
    assert layout.pod_logs == Path("/state/pod-logs")
    assert layout.container_logs == Path("/state/container-logs")


@pytest.mark.parametrize("path", ["/var/lib/hcp", "/tmp/a-b/state"])
def test_absolute_normalized_ascii_state_dirs_are_accepted(path):
    assert validate_state_dir(Path(path)) == Path(path)


@pytest.mark.parametrize("path", ["relative/state", "/a/../b", "/état"])
def test_state_dirs_kubelet_would_refuse_for_pod_logs_are_rejected_with_a_reason(path):
    with pytest.raises(ValueError, match="absolute, normalized path of ASCII characters"):
        validate_state_dir(Path(path))
