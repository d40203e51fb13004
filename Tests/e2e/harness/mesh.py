"""The config dir `trellis serve` watches, and the Istio YAML written into it."""

import os
import tempfile
from pathlib import Path
from typing import Iterable, Tuple

import yaml



def service_entry(
    name: str,
    host: str,
    port: int,
    endpoints: Iterable[Tuple[str, int]] = (),
    namespace: str = "default",
    port_name: str = "http",
    protocol: str = "HTTP",
    resolution: str = "STATIC",
    location: str = "MESH_INTERNAL",
) -> dict:
    """A `networking.istio.io/v1` ServiceEntry with one host and one port; each endpoint is
    (address, target port), mapped through the port's name."""
    spec = {
        "hosts": [host],
        "location": location,
        "resolution": resolution,
        "ports": [{"number": port, "name": port_name, "protocol": protocol}],
    }
    endpoints = list(endpoints)
    if endpoints:
        spec["endpoints"] = [{"address": address, "ports": {port_name: target}} for address, target in endpoints]
    return {
        "apiVersion": "networking.istio.io/v1",
        "kind": "ServiceEntry",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


class MeshDir:
    """A directory of Istio YAML. Writes are atomic (temporary file + rename, the temporary name
    not ending in .yaml) so the poller never sees half a file."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)

    def file(self, name: str) -> Path:
        return self.path / name

    def write_text(self, name: str, text: str) -> Path:
        target = self.file(name)
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=".tmp-", suffix=".partial")
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            os.replace(tmp, target)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return target

    def write(self, name: str, *documents: dict) -> Path:
        """Writes `documents` as one multi-document YAML file."""
        return self.write_text(name, yaml.safe_dump_all(list(documents), sort_keys=False))

    def remove(self, name: str) -> None:
        self.file(name).unlink()
