"""Benchmark of whole-cluster backup, restore and migration; prints JSON (issue 9, requirement 10).

On two fresh embedded management clusters with the operator installed:
- create-to-Available of a KWOK hosted cluster with `hcp create cluster --wait` (median of --runs):
  the baseline the restore is measured against, in the same run;
- the cluster is filled with --objects ConfigMaps, then `hcp backup cluster --to DIR` is timed
  (median of --runs) and the backup's size reported (etcd snapshot and files);
- `hcp restore cluster --from DIR --name …` to Available with its nodes, timed (median of --runs),
  and its ratio to create-to-Available;
- `hcp migrate cluster` back and forth between the two management clusters (--runs times): the
  window without a hosted API the command reports, and the whole command's time (medians).

Run as root from the repository: `.venv/bin/python bench/backup.py [--runs 3] [--objects 10000]`.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hcp.upstream import binaries  # noqa: E402
from tests.integration.conftest import ManagementCluster  # noqa: E402

NAMESPACE, NAME = "bench", "bk"
CHUNK = 500


def hcp(cluster: ManagementCluster, *args: str) -> subprocess.CompletedProcess:
    return cluster.hcp(*args, "--state-dir", str(cluster.state_dir),
                       "--kubeconfig", str(cluster.state_dir / "admin.kubeconfig"))


def timed(action) -> tuple[float, subprocess.CompletedProcess]:
    started = time.monotonic()
    result = action()
    return time.monotonic() - started, result


def fill(cluster: ManagementCluster, objects: int, work: Path) -> float:
    """Create `objects` ConfigMaps in the hosted cluster, CHUNK per request batch; seconds taken."""
    kubeconfig = work / "bk.kubeconfig"
    kubeconfig.write_text(hcp(cluster, "create", "kubeconfig", "--namespace", NAMESPACE, "--name", NAME).stdout)
    kubectl = str(binaries.binary("kubernetes", "kubectl"))
    started = time.monotonic()
    for first in range(0, objects, CHUNK):
        items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"fill-{n:06d}"},
                  "data": {"payload": "x" * 256}} for n in range(first, min(first + CHUNK, objects))]
        subprocess.run([kubectl, "--kubeconfig", str(kubeconfig), "create", "-f", "-"], check=True,
                       input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}), text=True,
                       capture_output=True, timeout=600)
    return time.monotonic() - started


def destroy(cluster: ManagementCluster, name: str) -> None:
    hcp(cluster, "destroy", "cluster", "kwok", "--name", name, "--namespace", NAMESPACE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--objects", type=int, default=10000)
    options = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="hcp-bench-backup-"))
    source = ManagementCluster("bkbench", work / "source")
    target = ManagementCluster("bkbench2", work / "target")
    create = ["create", "cluster", "kwok", "--namespace", NAMESPACE, "--node-pool-replicas", "2",
              "--etcd-storage-size", "2Gi", "--generate-ssh", "--wait", "--timeout", "15m"]
    try:
        for cluster in (source, target):
            cluster.mc("up", "--name", cluster.name)
            cluster.hcp("install", "--state-dir", str(cluster.state_dir))

        creates = []
        for run in range(options.runs):
            seconds, _ = timed(lambda: hcp(source, *create, "--name", NAME))
            creates.append(seconds)
            if run < options.runs - 1:
                destroy(source, NAME)
        fill_seconds = fill(source, options.objects, work)

        backups, bundle = [], None
        for run in range(options.runs):
            seconds, done = timed(lambda: hcp(source, "backup", "cluster", "--name", NAME, "--namespace",
                                              NAMESPACE, "--to", str(work / "backups")))
            backups.append(seconds)
            bundle = Path(re.search(r"^backed up \S+ to (\S+) \(", done.stdout, re.M).group(1))
        manifest = json.loads((bundle / "manifest.json").read_text())
        size = sum(p.stat().st_size for p in bundle.iterdir())

        restores = []
        for run in range(options.runs):
            name = f"bkr{run}"
            seconds, _ = timed(lambda: hcp(source, "restore", "cluster", "--from", str(bundle), "--name", name))
            restores.append(seconds)
            destroy(source, name)

        windows, migrations = [], []
        here, there = source, target
        for run in range(options.runs):
            seconds, done = timed(lambda: hcp(here, "migrate", "cluster", "--name", NAME, "--namespace", NAMESPACE,
                                              "--to-kubeconfig", str(there.state_dir / "admin.kubeconfig")))
            migrations.append(seconds)
            windows.append(float(re.search(r"unavailable for ([0-9.]+)s", done.stdout).group(1)))
            here, there = there, here

        create_s = statistics.median(creates)
        restore_s = statistics.median(restores)
        result = {
            "benchmark": "backup",
            "runs": options.runs,
            "objects": options.objects,
            "kubernetes": binaries.TOOLSETS["kubernetes"].version,
            "fill_s": round(fill_seconds, 1),
            "etcd_keys": manifest["etcd"]["totalKey"],
            "etcd_snapshot_bytes": manifest["etcd"]["size"],
            "backup_bytes": size,
            "backup_s": round(statistics.median(backups), 2),
            "create_to_available_s": round(create_s, 2),
            "restore_to_available_s": round(restore_s, 2),
            "ratio_restore_to_create": round(restore_s / create_s, 2),
            "migration_unavailable_s": round(statistics.median(windows), 2),
            "migration_total_s": round(statistics.median(migrations), 2),
            "samples": {"create_s": creates, "backup_s": backups, "restore_s": restores,
                        "migration_unavailable_s": windows, "migration_total_s": migrations},
        }
        print(json.dumps(result, indent=2))
    finally:
        for cluster in (source, target):
            cluster.mc("delete", check=False)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
