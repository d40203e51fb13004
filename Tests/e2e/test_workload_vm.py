"""VMs joining the mesh, end to end with real Envoys: `trellis workload register` writes a
directory, `envoy -c DIR/envoy.yaml` alone joins over the secure xDS port, serves the VM's port
with mesh mTLS under STRICT and calls mesh services; certificates rotate and the control plane
restarts with no human step; `deregister` takes the endpoint away and ends the VM's stream;
WorkloadGroup auto-registration lives as long as the proxy (plus the cleanup grace)."""

import json
import stat

import grpc
import pytest
import yaml

from harness import (
    AdsClient,
    consistently,
    discovery_request,
    eventually,
    free_port,
    http_get,
    loopback_address,
    mesh_service,
    port,
    run_trellis,
    sidecar,
    wait_until,
)
from harness.ads import CLUSTER
from harness.istio import resource, workload_group
from harness.security import mint_token, peer_authentication, root_cert_path, secure_bootstrap_args
from harness.vm import VMEnvoy, register, workload_cli

VM_HOST = "vm-app.mesh.test"
BACKEND_HOST = "backend.mesh.test"


class VMMesh:
    """A server whose config dir holds the VM's service (selected by app=vm-app), a plain
    backend service, STRICT mTLS, and a client sidecar bound to its own 127.0.0.x."""

    def __init__(self, mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path, extra_args=()):
        self.tmp_path = tmp_path
        self.vm_ip = loopback_address()
        self.client_ip = loopback_address()
        self.service_port = free_port()
        self.app = start_upstream("vm", port=self.service_port)  # the VM's app on 127.0.0.1
        self.backend = start_upstream("backend")
        self.backend_port = free_port()
        mesh_dir.write(
            "mesh.yaml",
            mesh_service("vm-app", VM_HOST, [port(self.service_port)], workload_selector={"app": "vm-app"}),
            mesh_service("backend", BACKEND_HOST, [port(self.backend_port)],
                         endpoints=[{"address": "127.0.0.1", "ports": {"http": self.backend.port}}]),
            peer_authentication("default", "STRICT"),
            sidecar("client", workload_labels={"app": "client"}, egress=[{"bind": self.client_ip, "hosts": ["./*"]}]),
        )
        self.data_dir = tmp_path / "data"
        self.start_trellis = start_trellis
        self.mesh_dir = mesh_dir
        self.extra_args = tuple(extra_args)
        self.server = start_trellis(mesh_dir.path, data_dir=self.data_dir, extra_args=self.extra_args)
        token = mint_token(self.data_dir, "default", "client", tmp_path / "client.token")
        self.client = start_envoy(
            self.server.secure_xds_address, name="client", ip=self.client_ip,
            metadata={"SERVICE_ACCOUNT": "client"},
            bootstrap_args=secure_bootstrap_args(root_cert_path(self.data_dir), token))
        self.client.wait_ready()
        self.vm_cluster = f"outbound|{self.service_port}||{VM_HOST}"

    def register(self, directory, *extra, name="vm1", labels=None):
        return register(self.server, directory, name, self.vm_ip, "vm",
                        labels={"app": "vm-app"} if labels is None else labels,
                        ports={"http": self.service_port}, extra=extra)

    def call_vm(self):
        """GET through the client sidecar to the VM's service."""
        return http_get(f"http://{self.client_ip}:{self.service_port}/from-client", host_header=VM_HOST, timeout=5.0)

    def reaches_vm(self):
        response = self.call_vm()
        assert response.status == 200 and response.upstream == "vm", (response.status, response.text[:200])
        return response

    def workloads(self):
        listed = workload_cli(self.server, "list", "-o", "json")
        assert listed.returncode == 0, listed.stderr
        return {item["name"]: item for item in json.loads(listed.stdout)["items"]}


@pytest.fixture
def vm_mesh(mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path):
    return VMMesh(mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path,
                  extra_args=("--workload-cert-ttl", "3s"))


def test_a_registered_vm_serves_mtls_calls_the_mesh_survives_rotation_and_restart_and_deregisters(
        vm_mesh, start_trellis, tmp_path):
    directory = tmp_path / "vm1"
    registered = vm_mesh.register(directory)
    assert registered.returncode == 0, registered.stderr
    assert "workloadentry.networking.istio.io/vm1 created" in registered.stdout

    # Exactly what the host needs, the token readable by its owner only, no private key.
    assert sorted(p.name for p in directory.iterdir()) == [
        "cluster.env", "envoy.yaml", "root-cert.pem", "token", "trellis-envoy.service"]
    assert stat.S_IMODE((directory / "token").stat().st_mode) == 0o600
    assert stat.S_IMODE((directory / "envoy.yaml").stat().st_mode) == 0o600
    assert not any("PRIVATE KEY" in p.read_text() for p in directory.iterdir())
    assert (directory / "root-cert.pem").read_text() == root_cert_path(vm_mesh.data_dir).read_text()
    env = dict(line.split("=", 1) for line in (directory / "cluster.env").read_text().splitlines())
    assert env["SERVICE_ACCOUNT"] == "vm" and env["ISTIO_NAMESPACE"] == "default"
    assert env["INSTANCE_IP"] == vm_mesh.vm_ip
    unit = (directory / "trellis-envoy.service").read_text()
    assert f"-c {directory}/envoy.yaml" in unit and "[Install]" in unit
    assert vm_mesh.workloads()["vm1"]["connected"] is False

    vm = VMEnvoy(directory)
    vm.wait_ready()
    vm.wait_for(vm_mesh.reaches_vm, timeout=30, what="client -> VM over mTLS")
    assert vm_mesh.workloads()["vm1"]["connected"] is True
    assert vm.certificates(), "the VM got its certificate over SDS"

    # STRICT: a plaintext client gets nothing from the VM's Envoy.
    try:
        response = http_get(f"http://{vm_mesh.vm_ip}:{vm_mesh.service_port}/plaintext", host_header=VM_HOST, timeout=3)
    except OSError:
        pass
    else:
        raise AssertionError(f"plaintext reached the VM: {response.status}")

    # The VM calls a mesh service through its Envoy on 127.0.0.1:SERVICE_PORT.
    def vm_reaches_backend():
        response = http_get(f"http://127.0.0.1:{vm_mesh.backend_port}/from-vm", host_header=BACKEND_HOST, timeout=5)
        assert response.status == 200 and response.upstream == "backend", response.status

    vm.wait_for(vm_reaches_backend, what="VM -> backend")

    # Certificates rotate (3 s lifetime) and a kill -9 of the control plane passes by with no
    # human step: the VM reconnects with the token it has, traffic keeps flowing.
    serials = set()

    def rotated():
        serials.update(chain[0]["serial_number"] for chain in vm.certificates())
        assert len(serials) >= 3, serials

    vm.wait_for(rotated, timeout=30, what="two certificate renewals on the VM")
    vm_mesh.reaches_vm()
    vm_mesh.server.kill()
    vm_mesh.server.stopped = True  # killed on purpose: not a failed shutdown
    restarted = start_trellis(
        vm_mesh.mesh_dir.path, data_dir=vm_mesh.data_dir, port=vm_mesh.server.port,
        secure_port=vm_mesh.server.secure_port, extra_args=vm_mesh.extra_args)
    vm_mesh.server = restarted
    wait_until(lambda: vm_mesh.workloads()["vm1"]["connected"], timeout=30, what="the VM reconnected")
    vm.wait_for(vm_mesh.reaches_vm, what="client -> VM after the restart")

    # Deregister: the endpoint leaves the client, the VM's stream ends, the token is refused.
    token = (directory / "token").read_text().strip()
    deregistered = workload_cli(restarted, "deregister", "vm1", "-n", "default")
    assert deregistered.returncode == 0, deregistered.stderr
    vm_mesh.client.wait_for(lambda: assert_no_hosts(vm_mesh.client, vm_mesh.vm_cluster), timeout=5,
                            what="the VM's endpoint gone from the client")
    wait_until(lambda: vm_mesh.workloads().get("vm1") is None, what="vm1 gone from workload list")
    restarted.wait_for_log(r"token revoked: ended 1 stream")
    code, details = refused_stream(restarted, token, vm_mesh.data_dir)
    assert code == grpc.StatusCode.UNAUTHENTICATED, (code, details)
    assert run_trellis(["get", "sidecar", "vm1", "--server", restarted.http_url, "--token-file",
                        restarted.data_dir / "admin-token"]).returncode == 1, "the generated Sidecar went too"
    vm.stop(timeout=10, expect_code=None)


def test_rotating_the_token_ends_the_old_one_and_the_new_one_joins(vm_mesh, tmp_path):
    directory = tmp_path / "vm1"
    assert vm_mesh.register(directory).returncode == 0
    old = (directory / "token").read_text().strip()

    # Register again (new labels): the token the directory holds is kept.
    again = vm_mesh.register(directory, labels={"app": "vm-app", "version": "v2"})
    assert again.returncode == 0 and "configured" in again.stdout, again.stdout + again.stderr
    assert (directory / "token").read_text().strip() == old
    assert "version" in yaml.safe_load((directory / "envoy.yaml").read_text())["node"]["metadata"]["LABELS"]

    rotated = vm_mesh.register(directory, "--rotate-token")
    assert rotated.returncode == 0, rotated.stderr
    new = (directory / "token").read_text().strip()
    assert new != old
    code, _ = refused_stream(vm_mesh.server, old, vm_mesh.data_dir)
    assert code == grpc.StatusCode.UNAUTHENTICATED
    vm = VMEnvoy(directory)
    vm.wait_ready()
    vm.wait_for(vm_mesh.reaches_vm, timeout=30, what="client -> VM with the rotated token")
    vm.stop(timeout=10, expect_code=None)


def test_bad_registrations_are_clear_errors_that_change_nothing(vm_mesh, tmp_path):
    server = vm_mesh.server
    cases = [
        (["--group", "nope"], "workloadgroup default/nope not found"),
        (["--address", "vm.example.com"], "is not an IP address"),
        (["--port", "http=99999"], "--port 'http=99999' must be name=number"),
    ]
    for extra, message in cases:
        args = ["register", "--name", "bad", "--namespace", "default", "--service-account", "vm",
                "--output", tmp_path / "bad", "--admin-address", "127.0.0.1:15000"]
        if "--address" not in extra:
            args += ["--address", vm_mesh.vm_ip]
        result = workload_cli(server, *args, *extra)
        assert result.returncode != 0 and message in result.stderr, (extra, result.stderr)
    missing = workload_cli(server, "register", "--name", "bad", "--output", tmp_path / "bad")
    assert missing.returncode != 0 and "--address" in missing.stderr, missing.stderr

    # A name owned by another group: an entry auto-registered by "web" cannot be taken over.
    vm_mesh.mesh_dir.write("groups.yaml", workload_group("web", labels={"app": "web"}),
                           workload_group("other", labels={"app": "other"}))

    def owned():
        # Refused (changing nothing) until the server has read groups.yaml.
        result = register(server, tmp_path / "web-1", "web-1", vm_mesh.vm_ip, "vm", labels={"app": "web"},
                          extra=["--group", "web"])
        assert result.returncode == 0, result.stderr

    eventually(owned, what="registration into group web")
    taken = register(server, tmp_path / "web-1b", "web-1", vm_mesh.vm_ip, "vm", extra=["--group", "other"])
    assert taken.returncode == 1 and "owned by workloadgroup web" in taken.stderr, taken.stderr
    assert not (tmp_path / "bad").exists() and not (tmp_path / "web-1b").exists()
    assert set(vm_mesh.workloads()) == {"web-1"}


def test_auto_registration_follows_the_proxy_with_a_cleanup_grace(
        mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path):
    mesh = VMMesh(mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path,
                  extra_args=("--workload-cleanup-grace", "3s"))
    mesh.mesh_dir.write("group.yaml", workload_group("vm-app", labels={"app": "vm-app"}, service_account="vm"))
    token = mint_token(mesh.data_dir, "default", "vm", tmp_path / "vm.token")
    ip = loopback_address()
    entry = f"vm-app-{ip}"

    def join():
        return start_envoy(
            mesh.server.secure_xds_address, name="vm", ip=ip, labels={"role": "worker"},
            metadata={"SERVICE_ACCOUNT": "vm", "WORKLOAD_GROUP": "vm-app"},
            bootstrap_args=secure_bootstrap_args(root_cert_path(mesh.data_dir), token))

    proxy = join()
    proxy.wait_ready()

    def registered():
        item = mesh.workloads()[entry]
        assert item["autoRegistered"] and item["group"] == "vm-app" and item["connected"], item
        assert item["address"] == ip and item["labels"] == {"app": "vm-app", "role": "worker"}, item
        return item

    eventually(registered, what="the auto-registered entry")
    mesh.client.wait_for(lambda: assert_hosts(mesh.client, mesh.vm_cluster, {f"{ip}:{mesh.service_port}"}),
                         what="the auto-registered endpoint at the client")

    # A template change is written to the entry.
    mesh.mesh_dir.write("group.yaml", workload_group("vm-app", labels={"app": "vm-app", "tier": "2"}, service_account="vm"))
    wait_until(lambda: mesh.workloads()[entry]["labels"].get("tier") == "2", what="the template change on the entry")

    # A quick reconnect keeps the entry past the grace; a proxy gone for the grace loses it.
    proxy.stop(timeout=10, expect_code=None)
    proxy = join()
    proxy.wait_ready()
    consistently(lambda: mesh.workloads()[entry], duration=4.0, what="the entry kept across a quick reconnect")
    proxy.stop(timeout=10, expect_code=None)
    wait_until(lambda: entry not in mesh.workloads(), timeout=15, what="the entry removed after the grace")
    mesh.client.wait_for(lambda: assert_no_hosts(mesh.client, mesh.vm_cluster), what="endpoint gone at the client")

    # A group that does not exist refuses the stream.
    with AdsClient(mesh.server.secure_xds_address, root_certificates=root_cert_path(mesh.data_dir).read_bytes(),
                   metadata=[("authorization", f"Bearer {token.read_text().strip()}")]) as ads:
        ads.send(discovery_request(CLUSTER, node_id=f"sidecar~{ip}~vm.default~default.svc.cluster.local",
                                   metadata={"WORKLOAD_GROUP": "nope", "SERVICE_ACCOUNT": "vm"}))
        code, details = ads.wait_status()
        assert code == grpc.StatusCode.FAILED_PRECONDITION and "nope" in details, (code, details)


def assert_hosts(envoy, cluster, expected):
    assert envoy.cluster_hosts(cluster) == expected, envoy.cluster_hosts(cluster)


def assert_no_hosts(envoy, cluster):
    assert not envoy.cluster_hosts(cluster), envoy.cluster_hosts(cluster)


def refused_stream(server, token, data_dir):
    """(code, details) of an ADS stream opened with `token` on the secure port."""
    with AdsClient(server.secure_xds_address, root_certificates=root_cert_path(data_dir).read_bytes(),
                   metadata=[("authorization", f"Bearer {token}")]) as ads:
        ads.send(discovery_request(CLUSTER, node_id="sidecar~127.0.0.9~vm1.default~default.svc.cluster.local"))
        return ads.wait_status()
