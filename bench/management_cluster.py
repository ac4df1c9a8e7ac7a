"""Benchmark of the embedded management cluster; prints JSON.

- cold build of every upstream binary (with --cold-build: empty Go build
  cache and hcp cache, modules already downloaded), once;
- warm `up` (binaries cached, new state dir) to node Ready and to CoreDNS
  Ready, and a restart (`down` then `up` on the same state), median of --runs;
- the bare floor: etcd + kube-apiserver started directly until /readyz, in
  the same run, and the ratio of `up` to it;
- RSS of every host process after --idle seconds.

Run as root from the repository: `.venv/bin/python bench/management_cluster.py`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bare_control_plane import time_to_ready  # noqa: E402

from hcp.upstream import binaries  # noqa: E402
from hcp.management.cluster import component_status  # noqa: E402
from hcp.management.layout import Layout  # noqa: E402

NAME = "bench"
STEP = re.compile(r"^\[\s*([\d.]+)s\] (.*)$")


def hcp(*args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "hcp.cli", *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"hcp {' '.join(args)} failed:\n{result.stderr}")
    return result.stderr


def step_times(progress: str) -> dict[str, float]:
    """Seconds at which `up` reported the node Ready and CoreDNS Ready."""
    times = {}
    for line in progress.splitlines():
        match = STEP.match(line)
        if not match:
            continue
        seconds, message = float(match.group(1)), match.group(2)
        if message.startswith("node ") and message.endswith(" is Ready"):
            times["node_ready_s"] = seconds
        elif message == "CoreDNS is Ready":
            times["coredns_ready_s"] = seconds
    return times


def cold_build() -> float:
    """Seconds to build every toolset and pause from source, with empty build caches."""
    scratch = Path(tempfile.mkdtemp(prefix="hcp-cold-"))
    env = {**os.environ, "HCP_CACHE_DIR": str(scratch / "hcp"), "GOCACHE": str(scratch / "go-build")}
    started = time.monotonic()
    code = "from hcp.upstream import binaries\nfor t in binaries.TOOLSETS: binaries.ensure(t)\nbinaries.ensure_pause()"
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    elapsed = time.monotonic() - started
    shutil.rmtree(scratch, ignore_errors=True)
    return elapsed


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def median(samples: list[dict[str, float]], key: str) -> float:
    return round(statistics.median(s[key] for s in samples), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle", type=float, default=60.0)
    parser.add_argument("--cold-build", action="store_true", help="also time a build from empty caches")
    options = parser.parse_args()

    result: dict = {"benchmark": "management_cluster", "runs": options.runs,
                    "versions": {name: t.version for name, t in binaries.TOOLSETS.items()}}
    if options.cold_build:
        result["cold_build_s"] = round(cold_build(), 1)

    state = Path(tempfile.mkdtemp(prefix="hcp-bench-")) / "state"
    args = ("--state-dir", str(state))
    try:
        fresh, restart, floor = [], [], []
        for _ in range(options.runs):
            hcp("management-cluster", "delete", *args)
            fresh.append(step_times(hcp("management-cluster", "up", "--name", NAME, *args)))
            hcp("management-cluster", "down", *args)
            restart.append(step_times(hcp("management-cluster", "up", "--name", NAME, *args)))
            floor.append({"ready_s": time_to_ready()})
        result["warm_up"] = {key: median(fresh, key) for key in ("node_ready_s", "coredns_ready_s")}
        result["restart_up"] = {key: median(restart, key) for key in ("node_ready_s", "coredns_ready_s")}
        result["floor_bare_etcd_apiserver_ready_s"] = median(floor, "ready_s")
        result["ratio_warm_node_ready_to_floor"] = round(
            result["warm_up"]["node_ready_s"] / result["floor_bare_etcd_apiserver_ready_s"], 2)

        time.sleep(options.idle)
        layout = Layout(state)
        config = layout.load_config()
        result["idle_rss_mib"] = {}
        for status in component_status(layout, config):
            pid = json.loads(layout.status_file(config).read_text())["components"][status.name]["pid"]
            kib = rss_kib(pid) if pid else None
            result["idle_rss_mib"][status.name] = round(kib / 1024, 1) if kib else None
    finally:
        hcp("management-cluster", "delete", *args)
        shutil.rmtree(state.parent, ignore_errors=True)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
