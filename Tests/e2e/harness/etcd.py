"""A real etcd cluster on loopback (Debian's `etcd-server`): three members by default, each its
own process, data dir and ports, for the HA tests. Members can be stopped and started again
(same data dir: they rejoin with their data)."""

from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path
from typing import List, Optional

from .ports import free_port
from .process import ManagedProcess
from .waiting import eventually


def etcd_binary() -> str:
    path = shutil.which("etcd")
    assert path, "etcd not found: the test set-up installs Debian's etcd-server (.ci/run, scripts/test)"
    return path


class EtcdMember:
    def __init__(self, name: str, directory: Path, client_port: int, peer_port: int):
        self.name = name
        self.directory = directory
        self.client_url = f"http://127.0.0.1:{client_port}"
        self.peer_url = f"http://127.0.0.1:{peer_port}"
        self.process: Optional[ManagedProcess] = None

    @property
    def endpoint(self) -> str:
        return self.client_url.removeprefix("http://")

    def start(self, initial_cluster: str, state: str) -> None:
        self.process = ManagedProcess(f"etcd[{self.name}]", [
            etcd_binary(), "--name", self.name, "--data-dir", self.directory / "data",
            "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", initial_cluster, "--initial-cluster-state", state,
            "--initial-cluster-token", "trellis-e2e", "--heartbeat-interval", "50", "--election-timeout", "500",
        ], self.directory / "etcd.log")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.client_url + "/health", timeout=1) as reply:
                return json.loads(reply.read()).get("health") == "true"
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.alive():
            self.process.stop(timeout=10, expect_code=None)


class EtcdCluster:
    def __init__(self, directory: Path, members: int = 3):
        self.members: List[EtcdMember] = [
            EtcdMember(f"m{index}", directory / f"m{index}", free_port(), free_port()) for index in range(members)]
        self.initial_cluster = ",".join(f"{m.name}={m.peer_url}" for m in self.members)
        for member in self.members:
            member.start(self.initial_cluster, "new")
        self.wait_healthy()

    @property
    def store_url(self) -> str:
        """`trellis serve --store` for every member."""
        return "etcd://" + ",".join(member.endpoint for member in self.members)

    def wait_healthy(self, members: Optional[List[EtcdMember]] = None, timeout: float = 60) -> None:
        def healthy():
            for member in members or self.members:
                member.process.check_alive()
                assert member.healthy(), f"{member.name} not healthy yet"
        eventually(healthy, timeout=timeout, interval=0.2, what="the etcd cluster healthy")

    def stop_member(self, member: EtcdMember) -> None:
        member.stop()

    def start_member(self, member: EtcdMember) -> None:
        member.start(self.initial_cluster, "existing")

    def stop(self) -> None:
        for member in self.members:
            member.stop()

    def start(self) -> None:
        for member in self.members:
            self.start_member(member)

    def close(self) -> None:
        for member in self.members:
            if member.process:
                member.process.close()
