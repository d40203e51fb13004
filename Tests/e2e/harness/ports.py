"""Free ports and distinct loopback addresses.

Envoy's listeners use SO_REUSEPORT, so two Envoys binding the same address:port both succeed and
the kernel splits connections between them. Each Envoy therefore gets its own 127.0.0.x address,
and every port is one the kernel just handed out.
"""

import itertools
import os
import random
import socket
import threading

_lock = threading.Lock()
# Different pytest processes start from different places in 127.0.0.2..127.0.0.254.
_rng = random.Random(os.getpid())
_offset = _rng.randrange(253)
_counter = itertools.count()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on `host` a moment ago (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def loopback_address() -> str:
    """A 127.0.0.x address (x in 2..254) not handed out before by this process."""
    with _lock:
        n = next(_counter)
    if n >= 253:
        raise RuntimeError("ran out of distinct 127.0.0.x addresses")
    return f"127.0.0.{2 + (_offset + n) % 253}"
