"""Reference descriptors read from PyPI `envoy-data-plane`, for what xds-protos does not ship.

envoy-data-plane holds betterproto2-generated dataclasses for Envoy's data-plane-api (one
`__init__.py` per proto package). Its modules import betterproto2, pydantic and grpclib, which
we do not install (it is installed with `pip install --no-deps`), so nothing here imports it:
the source is parsed with `ast` and turned into descriptor_pb2 protos that the checker in
test_descriptors.py compares like xds-protos's. What the generated code expresses:

- `default_message_pool.register_message("PKG", "Outer.Inner", OuterInner)` gives a message
  class's full name; `# sources: a.proto, b.proto` the files the module was generated from;
- `name: "annotation" = betterproto2.field(N, betterproto2.TYPE_X, repeated=..., optional=...,
  group=..., unwrap=...)` gives the field's name, number, type, label and oneof (`group`); the
  message / enum type is the annotation's class (or `unwrap`'s, for well-known types), resolved
  through the module's `from ... import pkg as alias` imports; `optional=True` on a scalar
  outside a group is a proto3 `optional` field (a synthetic oneof `_name`, as protoc makes);
  a `TYPE_MAP` field with `map_meta(KEY_TYPE, VALUE_TYPE)` and annotation `dict[K, V]` becomes
  what protoc makes of a map: a repeated `NameEntry` message nested in the message;
- `class X(betterproto2.Enum)` with `NAME = number` (renamed values map back through
  `betterproto_value_to_renamed_proto_names`). Enums are not registered, and betterproto2
  flattens and re-cases nested names (Metric.Type and MetricType are both class MetricType),
  so an enum class reads as top level or nested in any message whose class name prefixes it;
  when our protos use one of those readings it is taken, so enum nesting is not verified;
- `self._channel.stream_unary("/pkg.Service/Method", In.SerializeToString, Out.FromString)`
  gives an rpc and its streaming flags.

Not expressed, so never compared: deprecated options, proto2 presence and `required`.
"""

from __future__ import annotations

import ast
import functools
import keyword
import pathlib

from google.protobuf import descriptor_pb2

from installed import package_path

NAME = "envoy-data-plane"
_ROOT = "envoy_data_plane"

FDP = descriptor_pb2.FieldDescriptorProto
_STREAMING = {  # (client_streaming, server_streaming)
    "unary_unary": (False, False),
    "unary_stream": (False, True),
    "stream_unary": (True, False),
    "stream_stream": (True, True),
}


@functools.cache
def _root() -> pathlib.Path:
    return package_path(NAME, _ROOT)


def _is_call(node: ast.AST, owner: str, attr: str) -> bool:
    """node is `owner.attr(...)`."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == attr
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == owner
    )


class _Module:
    """One generated module (= one proto package), parsed."""

    def __init__(self, package: str, source: str):
        self.package = package
        tree = ast.parse(source)
        self.sources = tuple(
            s.strip()
            for line in source.splitlines()
            if line.startswith("# sources:")
            for s in line.split(":", 1)[1].split(",")
        )
        self.classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
        self.registered: dict[str, str] = {}  # class name -> full proto name
        self.aliases: dict[str, str] = {}  # import alias -> proto package
        self.rpcs: dict[str, dict[str, ast.Call]] = {}  # service full name -> method -> call
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = (_ROOT + "." + package).split(".")[: len(package.split(".")) + 2 - node.level]
                for a in node.names:
                    target = ".".join(base + ([node.module] if node.module else []) + [a.name])
                    if target.startswith(_ROOT + "."):
                        self.aliases[a.asname or a.name] = target[len(_ROOT) + 1 :]
            elif _is_call(node, "default_message_pool", "register_message"):
                pkg, name, cls = node.args
                self.registered[cls.id] = f"{pkg.value}.{name.value}"
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in _STREAMING
                and isinstance(node.func.value, ast.Attribute)
                and node.func.value.attr == "_channel"
            ):
                service, method = node.args[0].value.strip("/").split("/")
                self.rpcs.setdefault(service, {})[method] = node

    def is_enum(self, cls: str) -> bool:
        bases = self.classes[cls].bases
        return any(isinstance(b, ast.Attribute) and b.attr == "Enum" for b in bases)

    def enum_names(self, cls: str) -> list[str]:
        """Possible full names of an enum class: top level, or nested in a message class
        whose name prefixes it (betterproto2 names Metric.Type and MetricType alike)."""
        parents = [c for c in self.registered if cls.startswith(c) and c != cls]
        return [f"{self.package}.{cls}"] + [f"{self.registered[p]}.{cls[len(p):]}" for p in parents]

    def class_for(self, kind: str, full_name: str) -> str | None:
        if kind == "message":
            return next((c for c, n in self.registered.items() if n == full_name), None)
        return next(
            (c for c in self.classes if self.is_enum(c) and _pick(self.enum_names(c), {full_name})),
            None,
        )

    def resolve(self, expr: ast.expr, prefer: frozenset[str]) -> str:
        """`Cls` or `alias.Cls` -> '.full.Name' (a descriptor's type_name)."""
        if isinstance(expr, ast.Name):
            module, cls = self, expr.id
        elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
            module, cls = _module(self.aliases[expr.value.id]), expr.attr
        else:
            raise ValueError(f"{self.package}: cannot resolve type {ast.unparse(expr)}")
        if module is None or cls not in module.classes:
            raise ValueError(f"{self.package}: {ast.unparse(expr)} is no generated class")
        if cls in module.registered:
            return "." + module.registered[cls]
        names = module.enum_names(cls)
        return "." + (_pick(names, {p.lstrip(".") for p in prefer}) or names[0])


def _pick(names: list[str], wanted: set[str]) -> str | None:
    """The wanted name that is one of names, ignoring case and underscores (betterproto2
    re-cases class names: an enum HTTPVersion is class HttpVersion)."""
    def norm(name: str) -> str:
        return name.replace("_", "").lower()

    readings = {norm(n) for n in names}
    return next((w for w in sorted(wanted) if norm(w) in readings), None)


@functools.cache
def _module(package: str) -> _Module | None:
    path = _root().joinpath(*package.split("."), "__init__.py")
    return _Module(package, path.read_text()) if path.is_file() else None


def _modules_for(full_name: str):
    """Modules whose package could hold full_name: every proper prefix, longest first."""
    parts = full_name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = _module(".".join(parts[:i]))
        if module is not None:
            yield module


def _type_expr(annotation: str, call: ast.Call) -> ast.expr:
    for kw in call.keywords:
        if kw.arg == "unwrap":  # lambda: ___google__protobuf__.Duration
            return kw.value.body
    node = ast.parse(annotation, mode="eval").body
    while True:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | None
            node = node.left
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "list":
            node = node.slice
        elif isinstance(node, ast.Subscript) and ast.unparse(node.value) == "dict":
            node = node.slice.elts[1]  # a map's value type
        else:
            return node


def _message(module: _Module, full_name: str, cls: str, prefer: frozenset[str]) -> descriptor_pb2.DescriptorProto:
    msg = descriptor_pb2.DescriptorProto(name=full_name.rsplit(".", 1)[1])
    oneofs: dict[str, int] = {}
    for stmt in module.classes[cls].body:
        if not (isinstance(stmt, ast.AnnAssign) and _is_call(stmt.value, "betterproto2", "field")):
            continue
        call = stmt.value
        kwargs = {kw.arg: kw.value for kw in call.keywords}
        flags = {k: v.value for k, v in kwargs.items() if isinstance(v, ast.Constant)}
        field_name = stmt.target.id
        if field_name.endswith("_") and keyword.iskeyword(field_name[:-1]):
            field_name = field_name[:-1]  # in_ -> in
        field = msg.field.add(name=field_name, number=call.args[0].value, label=FDP.LABEL_OPTIONAL)
        type_expr = _type_expr(stmt.annotation.value, call)
        if call.args[1].attr == "TYPE_MAP":
            camel = "".join(part[:1].upper() + part[1:] for part in field_name.split("_"))
            entry = msg.nested_type.add(name=camel + "Entry")  # protoc's name for it
            entry.options.map_entry = True
            key_type, value_type = (getattr(FDP, a.attr) for a in kwargs["map_meta"].args[:2])
            entry.field.add(name="key", number=1, label=FDP.LABEL_OPTIONAL, type=key_type)
            value = entry.field.add(name="value", number=2, label=FDP.LABEL_OPTIONAL, type=value_type)
            if value_type in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM):
                value.type_name = module.resolve(type_expr, prefer)
            field.type, field.label = FDP.TYPE_MESSAGE, FDP.LABEL_REPEATED
            field.type_name = f".{full_name}.{entry.name}"
            continue
        field.type = getattr(FDP, call.args[1].attr)
        if flags.get("repeated"):
            field.label = FDP.LABEL_REPEATED
        if field.type in (FDP.TYPE_MESSAGE, FDP.TYPE_ENUM):
            field.type_name = module.resolve(type_expr, prefer)
        oneof = flags.get("group")
        if oneof is None and flags.get("optional") and field.type != FDP.TYPE_MESSAGE:
            field.proto3_optional = True
            oneof = "_" + field_name
        if oneof is not None:
            if oneof not in oneofs:
                oneofs[oneof] = len(msg.oneof_decl)
                msg.oneof_decl.add(name=oneof)
            field.oneof_index = oneofs[oneof]
    return msg


def _enum(module: _Module, name: str, cls: str) -> descriptor_pb2.EnumDescriptorProto:
    enum = descriptor_pb2.EnumDescriptorProto(name=name)
    body = module.classes[cls].body
    renamed: dict[int, str] = {}  # betterproto2 strips prefixes; this maps numbers back
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef) and stmt.name == "betterproto_value_to_renamed_proto_names":
            renamed = ast.literal_eval(next(s for s in stmt.body if isinstance(s, ast.Return)).value)
    for stmt in body:
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
            number = stmt.value.value
            enum.value.add(name=renamed.get(number, stmt.targets[0].id), number=number)
    return enum


def _service(module: _Module, full_name: str) -> descriptor_pb2.ServiceDescriptorProto:
    service = descriptor_pb2.ServiceDescriptorProto(name=full_name.rsplit(".", 1)[1])
    for method, call in module.rpcs[full_name].items():
        client_streaming, server_streaming = _STREAMING[call.func.attr]
        service.method.add(
            name=method,
            input_type=module.resolve(call.args[1].value, frozenset()),  # In.SerializeToString
            output_type=module.resolve(call.args[2].value, frozenset()),  # Out.FromString
            client_streaming=client_streaming,
            server_streaming=server_streaming,
        )
    return service


@functools.cache
def find(kind: str, full_name: str, prefer: frozenset[str] = frozenset()):
    """(the module's source .proto files, descriptor proto) for a message / enum / service,
    or None. prefer: the type_names ours uses, to read an ambiguous enum class name by."""
    name = full_name.rsplit(".", 1)[1]
    for module in _modules_for(full_name):
        if kind == "service":
            if full_name in module.rpcs:
                return module.sources, _service(module, full_name)
            continue
        cls = module.class_for(kind, full_name)
        if cls is not None:
            build = _enum(module, name, cls) if kind == "enum" else _message(module, full_name, cls, prefer)
            return module.sources, build
    if kind == "message" and name.endswith("Entry"):  # a map entry lives in its parent's descriptor
        parent = find(kind, full_name.rsplit(".", 1)[0], prefer)
        entry = next((m for m in parent[1].nested_type if m.name == name), None) if parent else None
        if entry is not None:
            return parent[0], entry
    return None
