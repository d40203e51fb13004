"""Mesh identity for the tests: tokens minted with `trellis token create`, the mesh root a
server keeps in its data dir, Istio security resources, and an Istio-style plug-in CA made
with the openssl command line."""

import subprocess
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from .process import run_trellis
from .tls_upstream import openssl

SECURITY_API = "security.istio.io/v1"


def mint_token(data_dir: Path, namespace: str, service_account: str, path: Path,
               ttl: Optional[str] = None, binary: Optional[Path] = None) -> Path:
    """`trellis token create` into `path` (0600); returns the path."""
    args = ["token", "create", "--data-dir", data_dir, "--namespace", namespace,
            "--service-account", service_account]
    if ttl:
        args += ["--ttl", ttl]
    result = run_trellis(args, binary=binary)
    assert result.returncode == 0, f"trellis token create: {result.returncode} {result.stderr}"
    token = result.stdout.strip()
    assert token and "\n" not in token, f"token create printed {result.stdout!r}"
    path.touch(mode=0o600)
    path.write_text(token + "\n")
    return path


def root_cert_path(data_dir: Path) -> Path:
    """The self-managed mesh root `trellis serve` keeps in its data dir."""
    return Path(data_dir) / "ca" / "root-cert.pem"


def secure_bootstrap_args(root_cert: Path, token: Path) -> List[str]:
    return ["--root-cert", str(root_cert), "--token", str(token)]


def spiffe_id(namespace: str, service_account: str, trust_domain: str = "cluster.local") -> str:
    return f"spiffe://{trust_domain}/ns/{namespace}/sa/{service_account}"


def peer_authentication(name: str, mode: Optional[str] = None, namespace: str = "default",
                        selector: Optional[Dict[str, str]] = None,
                        port_modes: Optional[Dict[int, str]] = None) -> dict:
    spec: dict = {}
    if selector:
        spec["selector"] = {"matchLabels": dict(selector)}
    if mode:
        spec["mtls"] = {"mode": mode}
    if port_modes:
        spec["portLevelMtls"] = {port: {"mode": m} for port, m in port_modes.items()}
    return {"apiVersion": SECURITY_API, "kind": "PeerAuthentication",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def authorization_policy(name: str, action: str = "ALLOW", rules: Optional[Sequence[dict]] = None,
                         namespace: str = "default", selector: Optional[Dict[str, str]] = None) -> dict:
    spec: dict = {"action": action}
    if selector:
        spec["selector"] = {"matchLabels": dict(selector)}
    if rules is not None:
        spec["rules"] = list(rules)
    return {"apiVersion": SECURITY_API, "kind": "AuthorizationPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def certificate_serial(pem: Path) -> str:
    """The serial number of a PEM certificate, lower-case hex as Envoy's admin /certs shows it."""
    result = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", str(pem)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().split("=", 1)[1].lower()


def make_plugin_ca(directory: Path) -> Path:
    """An existing root and an intermediate it signed, laid out like Istio's `cacerts`:
    ca-cert.pem / ca-key.pem (the intermediate), cert-chain.pem (intermediate + root),
    root-cert.pem. Keys are ECDSA P-256."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "root.ext").write_text(
        "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
    (directory / "intermediate.ext").write_text(
        "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "root-key.pem", cwd=directory)
    openssl("req", "-x509", "-new", "-key", "root-key.pem", "-subj", "/O=Example Corp/CN=Example Root CA",
             "-days", "30", "-sha256", "-extensions", "v3_ca", "-out", "root-cert.pem", cwd=directory)
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca-key.pem", cwd=directory)
    openssl("req", "-new", "-key", "ca-key.pem", "-subj", "/O=Example Corp/CN=Trellis intermediate CA",
             "-out", "ca.csr", cwd=directory)
    openssl("x509", "-req", "-in", "ca.csr", "-CA", "root-cert.pem", "-CAkey", "root-key.pem",
             "-CAcreateserial", "-days", "30", "-sha256", "-extfile", "intermediate.ext", "-out", "ca-cert.pem",
             cwd=directory)
    (directory / "cert-chain.pem").write_text(
        (directory / "ca-cert.pem").read_text() + (directory / "root-cert.pem").read_text())
    (directory / "ca-key.pem").chmod(0o600)
    return directory
