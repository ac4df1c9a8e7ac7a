"""Where hcp keeps what it builds and downloads (binaries, Debian packages, image layers), outside any repository.

The lowest layer: image building (hcp.images) and the upstream builds (hcp.upstream) both cache here.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """Where builds and other reusable artifacts live, outside any repository ($HCP_CACHE_DIR or ~/.cache/hcp)."""
    return Path(os.environ.get("HCP_CACHE_DIR") or Path.home() / ".cache" / "hcp")
