"""Guards Protos/ against drifting from Envoy's and etcd's wire formats.

Every .proto under Protos/ is written by hand and declares a subset of Envoy's
v3 / xDS API (plus the Prometheus data model Envoy's metrics service sends) or
of etcd's v3 API (Protos/etcd/, for the etcd config store). This test compiles
them with protoc (from grpcio-tools, which ships the google/protobuf
well-known includes) and compares every message, enum and service with a
reference: the descriptors shipped in PyPI `xds-protos`, or, for names
xds-protos lacks (envoy.service.metrics.v3, io.prometheus.client), the
betterproto2 dataclasses of PyPI `envoy-data-plane`, read without importing
them (data_plane_reference.py); etcd's packages (etcdserverpb, mvccpb) are
compared with the serialized descriptors of PyPI `aetcd` only, also read
without importing them (etcd_reference.py):

- each message / enum / service must exist in the reference under the same
  full name, in a file with the same path (so Protos/ mirrors Envoy's and
  etcd's layouts);
- each declared field must exist in the reference with the same name, number,
  type, label, type_name, proto3-optional flag and oneof name;
- no declared field may be deprecated upstream (except ALLOWED_DEPRECATED;
  xds-protos and aetcd record deprecation, envoy-data-plane does not);
- each declared enum value must exist with the same number;
- each rpc must exist with the same input/output types and streaming flags;
- each file's first line names the reference its declarations were found in.

Errors name the reference they compare against.

Run: python -m pytest Tests/protos -q   (requirements: Tests/requirements.txt,
and Tests/requirements-reference.txt installed with pip --no-deps)
"""

from __future__ import annotations

import functools
import importlib
import importlib.resources
import os
import pathlib
import pkgutil
import re
import shutil
import subprocess
import sys
import tempfile

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import data_plane_reference  # noqa: E402
import etcd_reference  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
PROTOS = REPO / "Protos"

FDP = descriptor_pb2.FieldDescriptorProto
_TYPE_NAMES = {v: k for k, v in FDP.Type.items()}
_LABEL_NAMES = {v: k for k, v in FDP.Label.items()}


# --------------------------------------------------------------------------
# Compiling our protos
# --------------------------------------------------------------------------


class ProtocError(Exception):
    pass


def proto_files(root: pathlib.Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*.proto"))


def well_known_include() -> str:
    return str(importlib.resources.files("grpc_tools") / "_proto")


def compile_protos(root: pathlib.Path) -> tuple[descriptor_pb2.FileDescriptorSet, str]:
    """Compiles every .proto under root; returns (descriptor set, protoc stderr)."""
    files = proto_files(root)
    if not files:
        raise ProtocError(f"no .proto files under {root}")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "set.pb")
        cmd = [
            sys.executable, "-m", "grpc_tools.protoc",
            f"-I{root}", f"-I{well_known_include()}",
            "--include_imports", f"--descriptor_set_out={out}",
            *files,
        ]
        proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ProtocError(f"protoc failed ({proc.returncode}):\n{proc.stderr}")
        with open(out, "rb") as f:
            fds = descriptor_pb2.FileDescriptorSet.FromString(f.read())
    return fds, proc.stderr


# --------------------------------------------------------------------------
# Reference descriptors: aetcd for etcd's packages; else xds-protos first, then envoy-data-plane
# --------------------------------------------------------------------------


def _module_for(proto_path: str) -> str:
    return proto_path[: -len(".proto")].replace("/", ".") + "_pb2"


@functools.cache
def _import_everything() -> None:
    """Fallback when a name is not where our file path says: load all of xds-protos."""
    import envoy  # noqa: F401  (xds-protos)

    for pkg_name in ("envoy", "xds", "udpa", "validate", "google.rpc"):
        try:
            pkg = importlib.import_module(pkg_name)
        except ImportError:
            continue
        for info in pkgutil.walk_packages(pkg.__path__, pkg_name + "."):
            if info.name.endswith("_pb2"):
                try:
                    importlib.import_module(info.name)
                except Exception:  # a module with a missing optional dep
                    pass


def _try_import(module: str) -> None:
    try:
        importlib.import_module(module)
    except ImportError:
        pass


@functools.cache
def _reference_file_proto(file_name: str) -> descriptor_pb2.FileDescriptorProto:
    fd = descriptor_pool.Default().FindFileByName(file_name)
    proto = descriptor_pb2.FileDescriptorProto()
    fd.CopyToProto(proto)
    return proto


XDS_PROTOS = "xds-protos"
ENVOY_REFERENCES = f"{XDS_PROTOS} or {data_plane_reference.NAME}"


def _references_for(full_name: str) -> str:
    return etcd_reference.NAME if etcd_reference.covers(full_name) else ENVOY_REFERENCES


def _find_reference(kind: str, full_name: str, our_file: str, ours):
    """(reference name, its file names for full_name, its DescriptorProto-like) or None."""
    if etcd_reference.covers(full_name):
        found = etcd_reference.find(kind, full_name)
        return (etcd_reference.NAME, *found) if found is not None else None
    found = _find_in_xds_protos(kind, full_name, our_file)
    if found is not None:
        return XDS_PROTOS, *found
    prefer = frozenset(f.type_name for f in ours.field) if kind == "message" else frozenset()
    found = data_plane_reference.find(kind, full_name, prefer)
    if found is not None:
        return data_plane_reference.NAME, *found
    return None


def _find_in_xds_protos(kind: str, full_name: str, our_file: str):
    pool = descriptor_pool.Default()
    finder = {
        "message": pool.FindMessageTypeByName,
        "enum": pool.FindEnumTypeByName,
        "service": pool.FindServiceByName,
    }[kind]
    _try_import(_module_for(our_file))
    try:
        desc = finder(full_name)
    except KeyError:
        _import_everything()
        try:
            desc = finder(full_name)
        except KeyError:
            return None
    ref_file = desc.file.name
    found = _index_file(_reference_file_proto(ref_file))[kind].get(full_name)
    return ((ref_file,), found) if found is not None else None


def _index_file(fp: descriptor_pb2.FileDescriptorProto) -> dict[str, dict[str, object]]:
    """full name -> DescriptorProto / EnumDescriptorProto / ServiceDescriptorProto."""
    index: dict[str, dict[str, object]] = {"message": {}, "enum": {}, "service": {}}
    prefix = fp.package + "." if fp.package else ""

    def walk(msgs, enums, scope):
        for e in enums:
            index["enum"][scope + e.name] = e
        for m in msgs:
            name = scope + m.name
            index["message"][name] = m
            walk(m.nested_type, m.enum_type, name + ".")

    walk(fp.message_type, fp.enum_type, prefix)
    for s in fp.service:
        index["service"][prefix + s.name] = s
    return index


# --------------------------------------------------------------------------
# The checker
# --------------------------------------------------------------------------


def _oneof_name(msg: descriptor_pb2.DescriptorProto, field: FDP) -> str | None:
    if field.HasField("oneof_index"):
        return msg.oneof_decl[field.oneof_index].name
    return None


def _check_file(full_name: str, our_file: str, ref_name: str, ref_files: tuple[str, ...]) -> list[str]:
    # An envoy-data-plane module holds a whole package, so it names all the package's files.
    if our_file in ref_files:
        return []
    where = ref_files[0] if len(ref_files) == 1 else "one of " + ", ".join(ref_files)
    return [f"{full_name}: declared in {our_file} but {ref_name} declares it in {where}"]


def check_message(full_name: str, ours: descriptor_pb2.DescriptorProto, our_file: str) -> list[str]:
    found = _find_reference("message", full_name, our_file, ours)
    if found is None:
        return [f"{full_name}: message does not exist in {_references_for(full_name)}"]
    ref_name, ref_files, ref = found
    errors = _check_file(full_name, our_file, ref_name, ref_files)
    ref_fields = {f.name: f for f in ref.field}
    for f in ours.field:
        where = f"{full_name}.{f.name}"
        r = ref_fields.get(f.name)
        if r is None:
            by_number = [x.name for x in ref.field if x.number == f.number]
            hint = f" (its field {f.number} is {by_number[0]!r})" if by_number else ""
            errors.append(f"{where}: no such field in {ref_name}{hint}")
            continue
        if f.number != r.number:
            errors.append(f"{where}: number {f.number} != {ref_name} {r.number}")
        if f.type != r.type:
            errors.append(f"{where}: type {_TYPE_NAMES[f.type]} != {ref_name} {_TYPE_NAMES[r.type]}")
        if f.label != r.label:
            errors.append(f"{where}: label {_LABEL_NAMES[f.label]} != {ref_name} {_LABEL_NAMES[r.label]}")
        if f.type_name != r.type_name:
            errors.append(f"{where}: type_name {f.type_name or '-'} != {ref_name} {r.type_name or '-'}")
        if f.proto3_optional != r.proto3_optional:
            errors.append(f"{where}: proto3_optional {f.proto3_optional} != {ref_name} {r.proto3_optional}")
        if r.options.deprecated and where not in ALLOWED_DEPRECATED:
            errors.append(f"{where}: deprecated in {ref_name}; do not declare it (or add it to ALLOWED_DEPRECATED)")
        ours_oneof, ref_oneof = _oneof_name(ours, f), _oneof_name(ref, r)
        if ours_oneof != ref_oneof:
            errors.append(f"{where}: oneof {ours_oneof or '-'} != {ref_name} {ref_oneof or '-'}")
    if ours.options.map_entry != ref.options.map_entry:
        errors.append(f"{full_name}: map_entry {ours.options.map_entry} != {ref_name} {ref.options.map_entry}")
    return errors


def check_enum(full_name: str, ours: descriptor_pb2.EnumDescriptorProto, our_file: str) -> list[str]:
    found = _find_reference("enum", full_name, our_file, ours)
    if found is None:
        return [f"{full_name}: enum does not exist in {_references_for(full_name)}"]
    ref_name, ref_files, ref = found
    errors = _check_file(full_name, our_file, ref_name, ref_files)
    ref_values = {v.name: v.number for v in ref.value}
    for v in ours.value:
        if v.name not in ref_values:
            errors.append(f"{full_name}.{v.name}: no such enum value in {ref_name}")
        elif v.number != ref_values[v.name]:
            errors.append(f"{full_name}.{v.name}: number {v.number} != {ref_name} {ref_values[v.name]}")
    return errors


def check_service(full_name: str, ours: descriptor_pb2.ServiceDescriptorProto, our_file: str) -> list[str]:
    found = _find_reference("service", full_name, our_file, ours)
    if found is None:
        return [f"{full_name}: service does not exist in {_references_for(full_name)}"]
    ref_name, ref_files, ref = found
    errors = _check_file(full_name, our_file, ref_name, ref_files)
    ref_methods = {m.name: m for m in ref.method}
    for m in ours.method:
        where = f"{full_name}.{m.name}"
        r = ref_methods.get(m.name)
        if r is None:
            errors.append(f"{where}: no such rpc in {ref_name}")
            continue
        for attr in ("input_type", "output_type", "client_streaming", "server_streaming"):
            if getattr(m, attr) != getattr(r, attr):
                errors.append(f"{where}: {attr} {getattr(m, attr)} != {ref_name} {getattr(r, attr)}")
    return errors


# Deprecated in Envoy but declared on purpose (the brief for Protos/ asked for them).
ALLOWED_DEPRECATED = {
    "envoy.config.cluster.v3.Cluster.dns_refresh_rate",
    "envoy.config.cluster.v3.Cluster.respect_dns_ttl",
    # Istio still sets it on every sidecar route (equal to the route timeout).
    "envoy.config.route.v3.RouteAction.max_grpc_timeout",
}

CHECKERS = {"message": check_message, "enum": check_enum, "service": check_service}


def collect(fds: descriptor_pb2.FileDescriptorSet, our_files: list[str]) -> list[tuple[str, str, object, str]]:
    """(kind, full name, our descriptor proto, our file) for everything declared in our files."""
    cases = []
    wanted = set(our_files)
    for fp in fds.file:
        if fp.name not in wanted:
            continue
        for kind, items in _index_file(fp).items():
            for full_name, proto in items.items():
                cases.append((kind, full_name, proto, fp.name))
    return sorted(cases, key=lambda c: (c[3], c[1]))


def check_tree(root: pathlib.Path) -> list[str]:
    """All mismatches for the protos under root (used by the self-check)."""
    fds, _ = compile_protos(root)
    errors = []
    for kind, full_name, proto, file_name in collect(fds, proto_files(root)):
        errors.extend(CHECKERS[kind](full_name, proto, file_name))
    return errors


# --------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------

# e.g. "// Subset of Envoy's envoy.config.core.v3 used by Trellis; field numbers verified against
# xds-protos by Tests/protos/test_descriptors.py." (on one line); the package may be followed
# by a parenthesised note, and the owner is Prometheus for io.prometheus.client, etcd for
# etcd's packages.
HEADER = re.compile(
    r"^// Subset of (Envoy|Prometheus|etcd)'s (?P<package>[a-z0-9_.]+)(?: \([^()]+\))? used by Trellis; "
    r"field numbers verified against (?P<reference>[a-z-]+) by Tests/protos/test_descriptors\.py\.$"
)


def _compile_ours():
    try:
        return compile_protos(PROTOS), None
    except ProtocError as e:
        return (None, None), str(e)


(_FDS, _PROTOC_STDERR), _COMPILE_ERROR = _compile_ours()
_CASES = collect(_FDS, proto_files(PROTOS)) if _FDS is not None else []


def test_protos_compile_cleanly():
    assert _COMPILE_ERROR is None, _COMPILE_ERROR
    assert not _PROTOC_STDERR.strip(), f"protoc warnings:\n{_PROTOC_STDERR}"
    assert _CASES, "no messages found under Protos/"


@pytest.mark.parametrize("file_name", proto_files(PROTOS))
def test_file_header_and_package(file_name):
    text = (PROTOS / file_name).read_text()
    first = text.splitlines()[0] if text else ""
    header = HEADER.match(first)
    assert header, f"{file_name}: first line must be the 'Subset of Envoy's …' (or etcd's …) comment, got {first!r}"
    assert not re.search(r"^\s*option\s|\[\s*\(|validate\.|udpa\.", text, re.M), (
        f"{file_name}: no options or validate/udpa annotations in Protos/"
    )
    pkg = re.search(r"^package ([\w.]+);", text, re.M)
    assert pkg, f"{file_name}: no package"
    assert header["package"] == pkg.group(1), f"{file_name}: header names the wrong package"
    used = {found[0] for kind, name, proto, f in _CASES if f == file_name
            if (found := _find_reference(kind, name, f, proto))}
    assert used <= {header["reference"]}, f"{file_name}: header names {header['reference']}, checked against {used}"


@pytest.mark.parametrize(
    "kind,full_name,proto,file_name",
    [pytest.param(*c, id=c[1]) for c in _CASES],
)
def test_matches_reference(kind, full_name, proto, file_name):
    errors = CHECKERS[kind](full_name, proto, file_name)
    assert not errors, "\n".join(errors)


# Each mutation: (file, exact text to replace, replacement, error the checker must report).
MUTATIONS = [
    (
        "envoy/config/cluster/v3/cluster.proto",
        "google.protobuf.Duration connect_timeout = 4;",
        "google.protobuf.Duration connect_timeout = 44;",
        "envoy.config.cluster.v3.Cluster.connect_timeout: number 44 != xds-protos 4",
    ),
    (
        "envoy/config/route/v3/route_components.proto",
        "oneof host_rewrite_specifier {\n    string host_rewrite_literal = 6;",
        "oneof host_rewrite {\n    string host_rewrite_literal = 6;",
        "envoy.config.route.v3.RouteAction.host_rewrite_literal: oneof host_rewrite != xds-protos host_rewrite_specifier",
    ),
    (
        "envoy/config/core/v3/health_check.proto",
        "DEGRADED = 5;",
        "DEGRADED = 6;",
        "envoy.config.core.v3.HealthStatus.DEGRADED: number 6 != xds-protos 5",
    ),
    (
        "envoy/service/discovery/v3/discovery.proto",
        "string type_url = 2;",
        "bytes type_url = 2;",
        "envoy.service.discovery.v3.DeltaDiscoveryRequest.type_url: type TYPE_BYTES != xds-protos TYPE_STRING",
    ),
    (
        "envoy/config/cluster/v3/cluster.proto",
        "bool respect_dns_ttl = 39;",
        "bool respect_dns_ttl = 39;\n  bool use_tcp_for_dns_lookups = 45;",
        "envoy.config.cluster.v3.Cluster.use_tcp_for_dns_lookups: deprecated in xds-protos; "
        "do not declare it (or add it to ALLOWED_DEPRECATED)",
    ),
    # Checked against envoy-data-plane (xds-protos does not ship io.prometheus.client).
    (
        "io/prometheus/client/metrics.proto",
        "double upper_bound = 2;",
        "double upper_bound = 3;",
        "io.prometheus.client.Bucket.upper_bound: number 3 != envoy-data-plane 2",
    ),
    (
        "io/prometheus/client/metrics.proto",
        "HISTOGRAM = 4;",
        "HISTOGRAM = 5;",
        "io.prometheus.client.MetricType.HISTOGRAM: number 5 != envoy-data-plane 4",
    ),
    (
        "envoy/service/metrics/v3/metrics_service.proto",
        "repeated io.prometheus.client.MetricFamily envoy_metrics = 2;",
        "repeated io.prometheus.client.Metric envoy_metrics = 2;",
        "envoy.service.metrics.v3.StreamMetricsMessage.envoy_metrics: type_name .io.prometheus.client.Metric "
        "!= envoy-data-plane .io.prometheus.client.MetricFamily",
    ),
    (
        "envoy/service/metrics/v3/metrics_service.proto",
        "rpc StreamMetrics(stream StreamMetricsMessage)",
        "rpc StreamMetrics(StreamMetricsMessage)",
        "envoy.service.metrics.v3.MetricsService.StreamMetrics: client_streaming False != envoy-data-plane True",
    ),
    # Checked against aetcd (etcd's packages are looked up there only).
    (
        "etcd/api/mvccpb/kv.proto",
        "int64 mod_revision = 3;",
        "int64 mod_revision = 7;",
        "mvccpb.KeyValue.mod_revision: number 7 != aetcd 3",
    ),
    (
        "etcd/api/etcdserverpb/rpc.proto",
        "int64 compact_revision = 5;",
        "uint64 compact_revision = 5;",
        "etcdserverpb.WatchResponse.compact_revision: type TYPE_UINT64 != aetcd TYPE_INT64",
    ),
    (
        "etcd/api/etcdserverpb/rpc.proto",
        "    int64 mod_revision = 6;\n  }",
        "  }\n  int64 mod_revision = 6;",
        "etcdserverpb.Compare.mod_revision: oneof - != aetcd target_union",
    ),
    (
        "etcd/api/etcdserverpb/rpc.proto",
        "LEASE = 4;",
        "LEASE = 5;",
        "etcdserverpb.Compare.CompareTarget.LEASE: number 5 != aetcd 4",
    ),
    (
        "etcd/api/etcdserverpb/rpc.proto",
        "rpc Watch(stream WatchRequest) returns (stream WatchResponse);",
        "rpc Watch(WatchRequest) returns (stream WatchResponse);",
        "etcdserverpb.Watch.Watch: client_streaming False != aetcd True",
    ),
    (
        "etcd/api/etcdserverpb/rpc.proto",
        "repeated mvccpb.Event events = 11;",
        "repeated mvccpb.KeyValue events = 11;",
        "etcdserverpb.WatchResponse.events: type_name .mvccpb.KeyValue != aetcd .mvccpb.Event",
    ),
]


@pytest.mark.parametrize("file_name,old,new,expected", MUTATIONS, ids=[m[3].split(":")[0] for m in MUTATIONS])
def test_checker_catches_mutation(tmp_path, file_name, old, new, expected):
    """The guard itself must not rot: a broken copy of Protos/ has to fail."""
    root = tmp_path / "Protos"
    shutil.copytree(PROTOS, root)
    target = root / file_name
    text = target.read_text()
    assert text.count(old) == 1, f"mutation anchor {old!r} not found exactly once in {file_name}"
    target.write_text(text.replace(old, new))
    errors = check_tree(root)
    assert expected in errors, "checker missed the mutation; it reported:\n" + "\n".join(errors)
    assert len(errors) == 1, "unexpected extra errors:\n" + "\n".join(errors)


def test_checker_rejects_unknown_message(tmp_path):
    root = tmp_path / "Protos"
    shutil.copytree(PROTOS, root)
    target = root / "envoy/config/core/v3/base.proto"
    target.write_text(target.read_text() + "\nmessage NotInEnvoy {\n  string x = 1;\n}\n")
    errors = check_tree(root)
    assert errors == [
        "envoy.config.core.v3.NotInEnvoy: message does not exist in xds-protos or envoy-data-plane"
    ], errors


def test_checker_rejects_unknown_etcd_message(tmp_path):
    root = tmp_path / "Protos"
    shutil.copytree(PROTOS, root)
    target = root / "etcd/api/mvccpb/kv.proto"
    target.write_text(target.read_text() + "\nmessage NotInEtcd {\n  string x = 1;\n}\n")
    errors = check_tree(root)
    assert errors == ["mvccpb.NotInEtcd: message does not exist in aetcd"], errors


def test_checker_wants_etcds_file_layout(tmp_path):
    """etcd keeps mvccpb in etcd/api/mvccpb/kv.proto; aetcd's bare kv.proto is mapped there."""
    root = tmp_path / "Protos"
    shutil.copytree(PROTOS, root)
    (root / "etcd/api/mvccpb/kv.proto").rename(root / "etcd/api/mvccpb/keys.proto")
    rpc = root / "etcd/api/etcdserverpb/rpc.proto"
    rpc.write_text(rpc.read_text().replace('"etcd/api/mvccpb/kv.proto"', '"etcd/api/mvccpb/keys.proto"'))
    errors = check_tree(root)
    assert "mvccpb.KeyValue: declared in etcd/api/mvccpb/keys.proto but aetcd declares it in " \
        "etcd/api/mvccpb/kv.proto" in errors, errors


def test_etcd_reference_is_read_not_imported():
    """aetcd's modules would register rpc.proto / kv.proto in the default pool (and need grpcio)."""
    assert any(etcd_reference.covers(c[1]) for c in _CASES), "no etcd declarations checked"
    assert not [m for m in sys.modules if m == "aetcd" or m.startswith("aetcd.")]


def test_data_plane_reference_agrees_with_xds_protos(monkeypatch):
    """The second reference is read from source, so check the reading: taken alone it must
    accept everything xds-protos accepts (maps, oneofs, nested enums, services, ...). A failure
    here that names a field envoy-data-plane is too old to have means a version bump, not a bug."""
    monkeypatch.setitem(globals(), "_find_in_xds_protos", lambda *args: None)
    errors = [e for kind, name, proto, f in _CASES for e in CHECKERS[kind](name, proto, f)]
    assert not errors, "\n".join(errors)
