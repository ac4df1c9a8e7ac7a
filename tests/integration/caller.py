"""A client of a hosted API that calls it throughout a test, to count what a user would see fail."""

from __future__ import annotations

import subprocess
import threading
import time

from hcp.upstream import binaries


class Caller(threading.Thread):
    """Reads a namespace from the hosted API every half second with a kubeconfig file, counting failures.

    Not /readyz: a stopping API server answers it with a failure on purpose (so that it leaves the
    Service) while it still serves every other request."""

    def __init__(self, kubeconfig: str) -> None:
        super().__init__(daemon=True)
        self.kubeconfig = kubeconfig
        self.calls = 0
        self.failures: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        kubectl = str(binaries.binary("kubernetes", "kubectl"))
        while not self.stop.is_set():
            result = subprocess.run([kubectl, "--kubeconfig", self.kubeconfig, "get", "namespace", "default",
                                     "-o", "name", "--request-timeout=5s"], capture_output=True, text=True)
            self.calls += 1
            if result.returncode != 0:
                message = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "failed"
                self.failures.append(f"{time.strftime('%H:%M:%S')} {message}")
            time.sleep(0.5)
