#!/usr/bin/env python3
"""Renders istiod's xDS benchmark configs (Go templates, ../shared/istio-corpus/benchmarks) for a
number of services, and tells which ones Trellis can serve to a sidecar.

    Benchmarks/render.py TEMPLATE.yaml --services N [--instances M] [--output FILE]

The templates use a small part of Go's text/template: `{{- range $i := until .Services }}` ...
`{{- end }}`, `{{$i}}`, `{{mod $i 255 }}`, `{{div $i 255 }}`, `{{mod $j $.Services}}` and the
`{{-` / `-}}` whitespace trimming. That part is implemented here exactly; anything else is an
error, so a template Istio changes fails loudly instead of rendering wrong. Standard library only.
"""

import argparse
import re
import sys
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

# The kinds Trellis translates for a sidecar (apiVersion group -> kinds).
SIDECAR_KINDS = {
    "networking.istio.io": {"ServiceEntry", "WorkloadEntry", "WorkloadGroup", "VirtualService",
                            "DestinationRule", "Sidecar"},
    "security.istio.io": {"PeerAuthentication", "AuthorizationPolicy"},
}

# What a gateway proxy is served besides: Gateways, and Kubernetes Secrets (its credentials).
GATEWAY_KINDS = {
    **SIDECAR_KINDS,
    "networking.istio.io": SIDECAR_KINDS["networking.istio.io"] | {"Gateway"},
    "": {"Secret"},
}

# Istio's benchmark renders this many WorkloadEntries per service (100 services, 1000 instances).
INSTANCES_PER_SERVICE = 10

_ACTION = re.compile(r"\{\{(-[ \t\r\n])?(.*?)([ \t\r\n]-)?\}\}", re.S)


class TemplateError(Exception):
    pass


# A parsed template: text, an expression to print, or a range over `until N` with its body.
Node = Union[str, Tuple[str, str], Tuple[str, str, str, list]]


def _tokens(text: str) -> List[Union[str, Tuple[str]]]:
    """Text and actions in order, with Go's `{{-` / `-}}` trimming applied to the text."""
    parts: List[Union[str, Tuple[str]]] = []
    position = 0
    trim_next = False
    for match in _ACTION.finditer(text):
        chunk = text[position:match.start()]
        if trim_next:
            chunk = chunk.lstrip(" \t\r\n")
        if match.group(1):
            chunk = chunk.rstrip(" \t\r\n")
        parts.append(chunk)
        parts.append((match.group(2).strip(),))
        trim_next = bool(match.group(3))
        position = match.end()
    tail = text[position:]
    parts.append(tail.lstrip(" \t\r\n") if trim_next else tail)
    return parts


_RANGE = re.compile(r"range\s+(\$\w+)\s*:=\s*until\s+(\S+)$")


def parse(text: str) -> List[Node]:
    stack: List[List[Node]] = [[]]
    ranges: List[Tuple[str, str]] = []
    for token in _tokens(text):
        if isinstance(token, str):
            if token:
                stack[-1].append(token)
            continue
        action = token[0]
        loop = _RANGE.match(action)
        if loop:
            ranges.append((loop.group(1), loop.group(2)))
            stack.append([])
        elif action == "end":
            if not ranges:
                raise TemplateError("{{end}} without {{range}}")
            variable, count = ranges.pop()
            body = stack.pop()
            stack[-1].append(("range", variable, count, body))
        else:
            stack[-1].append(("expr", action))
    if ranges:
        raise TemplateError("{{range}} without {{end}}")
    return stack[0]


def _value(argument: str, scope: Dict[str, int]) -> int:
    if re.fullmatch(r"-?\d+", argument):
        return int(argument)
    name = argument[1:] if argument.startswith("$.") else argument  # `$.Services` is `.Services`
    if name not in scope:
        raise TemplateError(f"unknown value {argument!r}")
    return scope[name]


def _evaluate(expression: str, scope: Dict[str, int]) -> int:
    words = expression.split()
    if len(words) == 1:
        return _value(words[0], scope)
    if len(words) == 3 and words[0] in ("mod", "div"):
        left, right = _value(words[1], scope), _value(words[2], scope)
        if right == 0:
            raise TemplateError(f"{expression}: division by zero")
        return left % right if words[0] == "mod" else left // right
    raise TemplateError(f"unsupported template action {{{{{expression}}}}}")


def _execute(nodes: List[Node], scope: Dict[str, int], out: List[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif node[0] == "expr":
            out.append(str(_evaluate(node[1], scope)))
        else:
            _, variable, count, body = node
            for value in range(_value(count, scope)):
                _execute(body, {**scope, variable: value}, out)


def render(text: str, services: int, instances: Optional[int] = None) -> str:
    if instances is None:
        instances = services * INSTANCES_PER_SERVICE
    out: List[str] = []
    _execute(parse(text), {".Services": services, ".Instances": instances}, out)
    return "".join(out)


def uses_services(text: str) -> bool:
    """Whether the size changes the rendered config at all."""
    return ".Services" in "".join(t[0] for t in _tokens(text) if isinstance(t, tuple))


def kinds(text: str) -> List[Tuple[str, str]]:
    """(apiVersion, kind) of every top-level document in the template, in order."""
    found: List[Tuple[str, str]] = []
    api_version = ""
    for line in text.splitlines():
        if line.startswith("apiVersion:"):
            api_version = line.split(":", 1)[1].strip()
        elif line.startswith("kind:"):
            found.append((api_version, line.split(":", 1)[1].strip()))
    return found


def proxy_kind(text: str) -> str:
    """Which proxy the config is for, as in Istio's benchmark: `router` (a gateway) when it has
    Gateways, else `sidecar`."""
    return "router" if ("networking.istio.io", "Gateway") in ((v.split("/")[0], k) for v, k in kinds(text)) else "sidecar"


def skip_reason(text: str) -> Optional[str]:
    """Why Trellis cannot serve this config to its proxy (see `proxy_kind`), or None if it can."""
    allowed = GATEWAY_KINDS if proxy_kind(text) == "router" else SIDECAR_KINDS
    for api_version, kind in kinds(text):
        group = api_version.split("/")[0] if "/" in api_version else ""
        if kind not in allowed.get(group, set()):
            if kind in GATEWAY_KINDS.get(group, set()):
                return f"{kind} ({api_version or 'core/v1'}) is served to gateways only, and this config has no Gateway"
            return f"{kind} ({api_version or 'core/v1'}) is not an Istio kind Trellis serves"
    return None


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description="Render an istiod benchmark template.")
    parser.add_argument("template", type=Path)
    parser.add_argument("--services", type=int, required=True)
    parser.add_argument("--instances", type=int,
                        help=f"WorkloadEntries (default: {INSTANCES_PER_SERVICE} per service, as Istio's benchmark)")
    parser.add_argument("--output", type=Path, help="file to write (default: standard output)")
    args = parser.parse_args(argv)
    if args.services < 0 or (args.instances is not None and args.instances < 0):
        parser.error("--services and --instances must not be negative")
    try:
        text = render(args.template.read_text(), args.services, args.instances)
    except (OSError, TemplateError) as error:
        print(f"render: {args.template}: {error}", file=sys.stderr)
        return 1
    if args.output:
        args.output.write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
