"""Reference descriptors for etcd's v3 API, read from PyPI `aetcd`.

aetcd (an etcd client) ships protoc-generated `aetcd/rpc/{rpc,kv,auth}_pb2.py` for etcd's
etcdserverpb, mvccpb and authpb packages. Each module holds its file's serialized
FileDescriptorProto as the bytes literal passed to `AddSerializedFile(b'...')`. Nothing here
imports aetcd (it is installed with `pip install --no-deps`, without grpcio, and importing a
_pb2 module would register its files in the default descriptor pool, where xds-protos lives):
the literal is read with `ast` and parsed with `FileDescriptorProto.FromString`, so what the
checker compares is exactly what protoc made of etcd's .proto files.

aetcd flattens etcd's layout into bare file names (`rpc.proto` importing `kv.proto`) while
etcd keeps each package's files in `etcd/api/PACKAGE/` (`etcd/api/etcdserverpb/rpc.proto`
imports `etcd/api/mvccpb/kv.proto`); `find` reports the file as etcd lays it out, so Protos/
mirrors etcd and the check of file paths still means something. Package, message, field and
enum names are etcd's own in both.
"""

from __future__ import annotations

import ast
import functools
import pathlib

from google.protobuf import descriptor_pb2

from installed import package_path

NAME = "aetcd"
_MODULES = "aetcd/rpc"
# Packages this reference answers for (and the only place their names are looked up).
PACKAGES = ("etcdserverpb", "mvccpb", "authpb")


def covers(full_name: str) -> bool:
    return full_name.split(".", 1)[0] in PACKAGES


@functools.cache
def _files() -> tuple[descriptor_pb2.FileDescriptorProto, ...]:
    root = package_path(NAME, _MODULES)
    files = tuple(_serialized_file(path) for path in sorted(root.glob("*_pb2.py")))
    if not files:
        raise RuntimeError(f"{NAME}: no *_pb2.py modules under {root}")
    return files


def _serialized_file(path: pathlib.Path) -> descriptor_pb2.FileDescriptorProto:
    """The FileDescriptorProto of one generated module, from its AddSerializedFile literal."""
    for node in ast.walk(ast.parse(path.read_text())):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "AddSerializedFile"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, bytes)
        ):
            return descriptor_pb2.FileDescriptorProto.FromString(node.args[0].value)
    raise RuntimeError(f"{NAME}: {path.name} has no AddSerializedFile(b'...') literal")


def etcd_path(file: descriptor_pb2.FileDescriptorProto) -> str:
    """Where etcd keeps the file aetcd names `rpc.proto`: etcd/api/etcdserverpb/rpc.proto."""
    return f"etcd/api/{file.package}/{pathlib.PurePosixPath(file.name).name}"


@functools.cache
def _index() -> dict[str, dict[str, tuple[str, object]]]:
    """kind -> full name -> (etcd's file path, descriptor proto)."""
    index: dict[str, dict[str, tuple[str, object]]] = {"message": {}, "enum": {}, "service": {}}
    for file in _files():
        path = etcd_path(file)

        def walk(messages, enums, scope):
            for enum in enums:
                index["enum"][scope + enum.name] = (path, enum)
            for message in messages:
                index["message"][scope + message.name] = (path, message)
                walk(message.nested_type, message.enum_type, scope + message.name + ".")

        walk(file.message_type, file.enum_type, file.package + ".")
        for service in file.service:
            index["service"][f"{file.package}.{service.name}"] = (path, service)
    return index


def find(kind: str, full_name: str):
    """((etcd's file path,), descriptor proto) for a message / enum / service, or None."""
    found = _index()[kind].get(full_name)
    if found is None:
        return None
    path, proto = found
    return (path,), proto
