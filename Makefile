# Two entry points: `make demo` (the main job on this machine) and `make test` (the whole suite).
# Both install what they need: Debian packages for the node, a Python venv for hcp.

PYTHON ?= python3
VENV := .venv
HCP := $(VENV)/bin/hcp
KUBECTL = $$($(VENV)/bin/python -c "from hcp.upstream.binaries import binary; print(binary('kubernetes', 'kubectl'))")
DEBIAN_PACKAGES := containerd runc containernetworking-plugins iptables ipset nftables conntrack iproute2 \
	util-linux mount busybox-static gcc libc6-dev
# Only for the tests: the web console's browser test drives Debian's headless Chromium through its chromedriver.
TEST_DEBIAN_PACKAGES := chromium chromium-driver

.PHONY: demo test unit deps host-packages test-packages clean-demo

deps: host-packages $(VENV)/.installed

host-packages:
	@dpkg -s $(DEBIAN_PACKAGES) >/dev/null 2>&1 || { \
		echo "installing Debian packages: $(DEBIAN_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(DEBIAN_PACKAGES) >/dev/null; }
	@command -v go >/dev/null || { echo "error: the Go toolchain is needed to build upstream binaries" >&2; exit 1; }

test-packages:
	@dpkg -s $(TEST_DEBIAN_PACKAGES) >/dev/null 2>&1 || { \
		echo "installing Debian packages for the tests: $(TEST_DEBIAN_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(TEST_DEBIAN_PACKAGES) >/dev/null; }

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -c requirements.lock -e '.[test]'
	touch $@

# The main job: management cluster, operator, hosted cluster `demo` with 2 real nodes (platform Container:
# nodes as pods), a web Deployment of 2 replicas behind a Service in it, demo.kubeconfig.
# Safe to re-run: every step converges on what is already there.
BUSYBOX = $$($(VENV)/bin/python -c "from hcp.management import layout; from hcp.upstream import images; print(images.image('hcp/busybox').ref.on(f'{layout.REGISTRY_HOST}:{layout.REGISTRY_PORT}'))")
demo: deps
	$(HCP) management-cluster up
	$(HCP) install
	@if $(HCP) management-cluster kubectl -- get hostedcluster/demo -n clusters >/dev/null 2>&1; then \
		echo "hosted cluster clusters/demo exists; waiting for it"; \
		$(HCP) management-cluster kubectl -- wait hostedcluster/demo -n clusters \
			--for=condition=Available --timeout=15m; \
	else \
		$(HCP) create cluster container --name demo --node-pool-replicas 2 --wait --timeout 15m; \
	fi
	$(HCP) create kubeconfig --name demo > demo.kubeconfig
	@chmod 600 demo.kubeconfig
	@$(KUBECTL) --kubeconfig demo.kubeconfig wait nodes --all --for=condition=Ready --timeout=5m >/dev/null
	@sed "s|IMAGE|$(BUSYBOX)|" demo/web.yaml | $(KUBECTL) --kubeconfig demo.kubeconfig apply -f - >/dev/null
	@$(KUBECTL) --kubeconfig demo.kubeconfig rollout status deployment/web --timeout=5m >/dev/null
	@echo '$$ kubectl --kubeconfig demo.kubeconfig get nodes -o wide'
	@$(KUBECTL) --kubeconfig demo.kubeconfig get nodes -o wide
	@echo '$$ kubectl --kubeconfig demo.kubeconfig get pods -o wide'
	@$(KUBECTL) --kubeconfig demo.kubeconfig get pods -o wide -l app=web
	@echo '$$ kubectl --kubeconfig demo.kubeconfig run web-client --image ... -- wget -qO- http://web.default.svc.cluster.local'
	@$(KUBECTL) --kubeconfig demo.kubeconfig delete pod web-client --ignore-not-found >/dev/null
	@$(KUBECTL) --kubeconfig demo.kubeconfig run web-client --restart=Never --image $(BUSYBOX) \
		-- wget -qO- http://web.default.svc.cluster.local >/dev/null
	@$(KUBECTL) --kubeconfig demo.kubeconfig wait pod/web-client --for=jsonpath='{.status.phase}'=Succeeded \
		--timeout=2m >/dev/null
	@$(KUBECTL) --kubeconfig demo.kubeconfig logs web-client
	@$(KUBECTL) --kubeconfig demo.kubeconfig delete pod web-client >/dev/null

# The suite on TEST_WORKERS pytest-xdist workers: 4 on a machine of 2 cores, measured (README): 19 min 23 s
# to 23 min 42 s, 3 about a minute more. At 4 the CPU is saturated (idle under 10 %), so more workers only
# stretch every test; the integration tests otherwise mostly wait (for pods, conditions, certificates to
# come due, kubelets to refresh mounted files). Each worker runs a management cluster of its own with hosted
# control planes on it. Each test module runs whole on one worker, unit tests first, then the integration
# modules longest first (tests/conftest.py).
# TEST_WORKERS=0 runs everything in one process, in the same order.
TEST_WORKERS ?= 4
test: deps test-packages
	$(VENV)/bin/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

unit: deps
	$(VENV)/bin/pytest tests/unit

clean-demo: deps
	$(HCP) management-cluster delete
