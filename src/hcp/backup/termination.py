"""The one line a backup step leaves for Kubernetes to report: its container's termination message.

The backup Job's upload and etcd's restore-fetch init container both end by
writing what happened here; the operator reads it back from the Pod's status
(hcp.operator.etcdbackup, hcp.controlplane.components.etcd) for a condition.
"""

from __future__ import annotations

import sys
from pathlib import Path

TERMINATION_LOG = Path("/dev/termination-log")
MAX_MESSAGE = 4096
"""Kubernetes keeps at most this many bytes of a termination message."""


def write_message(path: Path, message: str) -> None:
    """Write `message`, cut to what Kubernetes keeps; a failure to write is said on stderr, never raised."""
    try:
        path.write_text(message.encode()[:MAX_MESSAGE].decode(errors="ignore"))
    except OSError as error:
        print(f"cannot write the termination message to {path}: {error}", file=sys.stderr)
