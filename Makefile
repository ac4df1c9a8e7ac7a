# Two entry points: `make demo` (the main job on this machine) and `make test` (the whole suite).
# Both install what they need: Debian packages for the node, a Python venv for hcp.

PYTHON ?= python3
VENV := .venv
HCP := $(VENV)/bin/hcp
DEBIAN_PACKAGES := containerd runc containernetworking-plugins iptables conntrack iproute2 \
	util-linux mount busybox-static gcc libc6-dev

.PHONY: demo test unit deps host-packages clean-demo

deps: host-packages $(VENV)/.installed

host-packages:
	@dpkg -s $(DEBIAN_PACKAGES) >/dev/null 2>&1 || { \
		echo "installing Debian packages: $(DEBIAN_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; }
	@command -v go >/dev/null || { echo "error: the Go toolchain is needed to build upstream binaries" >&2; exit 1; }

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -c requirements.lock -e '.[test]'
	touch $@

demo: deps
	$(HCP) management-cluster up
	$(HCP) management-cluster kubectl -- get nodes,pods -A

test: deps
	$(VENV)/bin/pytest

unit: deps
	$(VENV)/bin/pytest tests/unit

clean-demo: deps
	$(HCP) management-cluster delete
