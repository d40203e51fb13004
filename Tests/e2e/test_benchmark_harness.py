"""Keeps `Benchmarks/` from rotting without running the benchmarks: Istio's benchmark templates
render (at 10 services) into config `trellis validate` accepts, or are skipped for a stated reason."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import repo_root, run_trellis

RENDER = repo_root() / "Benchmarks" / "render.py"
CORPUS = Path(os.environ.get("TRELLIS_ISTIO_CORPUS") or repo_root().parent / "shared" / "istio-corpus")
TEMPLATES = CORPUS / "benchmarks"

# Istio's corpus is never copied into the repository. Without it these tests cannot run: they
# say so (once, as the module's skip reason) unless CI=true, where its absence is a failure.
if not TEMPLATES.is_dir():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"Istio's corpus not found at {CORPUS} (set TRELLIS_ISTIO_CORPUS)")
    pytest.skip(f"Istio's corpus not found at {CORPUS} (set TRELLIS_ISTIO_CORPUS to its path): "
                "benchmark harness tests not run", allow_module_level=True)

sys.path.insert(0, str(RENDER.parent))
import render  # noqa: E402


def run_render(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(RENDER), *map(str, args)],
                          capture_output=True, text=True, timeout=60)


def test_virtualservice_template_renders_ten_services_that_validate(trellis_bin, tmp_path):
    output = tmp_path / "virtualservice.yaml"
    rendered = run_render(TEMPLATES / "virtualservice.yaml", "--services", 10, "--output", output)
    assert rendered.returncode == 0, rendered.stderr
    text = output.read_text()
    assert re.findall(r"name: (vs-\d+)", text) == [f"vs-{i}" for i in range(10)]
    assert text.count("kind: ServiceEntry") == 11  # the proxy's own service + one per VirtualService
    assert "{{" not in text

    result = run_trellis(["validate", output], binary=trellis_bin)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("template", sorted(TEMPLATES.glob("*.yaml")), ids=lambda path: path.stem)
def test_every_template_renders_and_validates_or_is_skipped_with_a_reason(trellis_bin, tmp_path, template):
    text = template.read_text()
    reason = render.skip_reason(text)
    if reason:
        assert template.stem in {"externalname", "secrets", "telemetry-api", "waypoint"}, reason
        return
    output = tmp_path / template.name
    rendered = run_render(template, "--services", 10, "--output", output)
    assert rendered.returncode == 0, rendered.stderr
    result = run_trellis(["validate", output], binary=trellis_bin)
    if template.stem == "knative-gateway":
        # Istio's template ends its range without `---`, so every iteration after the first is
        # glued to the one before it: one document with each key twice, rejected as such (the
        # benchmark table notes it and translates the valid rest).
        errors = [line for line in result.stdout.splitlines() if line and ": warning: " not in line]
        assert errors and all('invalid YAML: duplicate key "apiVersion"' in line for line in errors), result.stdout
        return
    assert result.returncode == 0, result.stdout


def test_go_template_arithmetic_and_trimming():
    template = "a:\n{{- range $i := until .Services }}\n- {{div $i 255 }}.{{mod $i 255 }}/{{$i}}\n{{- end }}\n"
    assert render.render(template, 3) == "a:\n- 0.0/0\n- 0.1/1\n- 0.2/2\n"
    assert render.render(template, 257).splitlines()[-1] == "- 1.1/256"
    instances = "{{- range $j := until .Instances }}{{mod $j $.Services}} {{- end }}"
    assert render.render(instances, 3, 7) == "0120120"


def test_unknown_template_constructs_fail_loudly(tmp_path):
    template = tmp_path / "new.yaml"
    template.write_text("name: {{ .Name | quote }}\n")
    rendered = run_render(template, "--services", 1)
    assert rendered.returncode == 1
    assert "unsupported template action" in rendered.stderr, rendered.stderr
