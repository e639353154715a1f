"""deploy/k8s/: every manifest valid against Kubernetes' own schemas, and wired together.

kubernetes-validate carries the API's JSON schemas per release (offline); strict mode
refuses unknown fields, so a misspelt key fails here rather than being dropped by the API
server. The rest checks what schemas cannot: selectors that match, a drain longer than the
server's graceful shutdown, secrets only as files, /metrics reachable from monitoring only.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from harness import ROOT
from kubernetes_validate.utils import ValidationError

from gateway.config import secret_file_settings

K8S = ROOT / "deploy" / "k8s"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")
# The oldest release still in wide use, and the newest the package knows.
VERSIONS = ("1.30.0", kubernetes_validate.latest_version())


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((K8S / name).read_text())
    return document


DEPLOYMENT = load("deployment.yaml")
POD = DEPLOYMENT["spec"]["template"]
CONTAINER = POD["spec"]["containers"][0]
CONFIG = load("configmap.yaml")["data"]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_the_manifest_is_valid_for_kubernetes(manifest: Path, version: str) -> None:
    for document in yaml.safe_load_all(manifest.read_text()):
        kubernetes_validate.validate(document, version, strict=True)


def test_the_validator_refuses_a_misspelt_field() -> None:
    """The control: the same check fails on a field the API does not have."""
    broken = load("deployment.yaml")
    broken["spec"]["replica"] = broken["spec"].pop("replicas")
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(broken, VERSIONS[0], strict=True)


def test_kustomize_applies_every_manifest_but_the_secret_example() -> None:
    listed = set(load("kustomization.yaml")["resources"])
    assert listed == {p.name for p in MANIFESTS} - {"secret.example.yaml"}


def test_service_pdb_and_hpa_find_the_gateway_pods() -> None:
    labels = POD["metadata"]["labels"]
    assert DEPLOYMENT["spec"]["selector"]["matchLabels"] == labels
    assert load("service.yaml")["spec"]["selector"].items() <= labels.items()
    assert load("pdb.yaml")["spec"]["selector"]["matchLabels"].items() <= labels.items()
    policy = load("networkpolicy.yaml")["spec"]["podSelector"]["matchLabels"]
    assert policy.items() <= labels.items()
    target = load("hpa.yaml")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", DEPLOYMENT["metadata"]["name"])


def test_probes_split_alive_from_ready() -> None:
    assert CONTAINER["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert CONTAINER["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert CONTAINER["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_a_terminating_pod_drains_before_it_is_killed() -> None:
    """preStop keeps serving while endpoints update; then uvicorn's graceful shutdown
    (gateway/cli.py) must end before the grace period does."""
    sleep = CONTAINER["lifecycle"]["preStop"]["exec"]["command"]
    assert sleep[0] == "sleep"
    cli = (ROOT / "gateway" / "cli.py").read_text()
    found = re.search(r'"timeout_graceful_shutdown":\s*(\d+)', cli)
    assert found, "gateway/cli.py no longer sets uvicorn's graceful timeout"
    graceful = int(found.group(1))
    grace = POD["spec"]["terminationGracePeriodSeconds"]
    assert grace > int(sleep[1]) + graceful
    assert DEPLOYMENT["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_every_secret_is_a_file_from_the_secret_and_none_is_configured_in_clear() -> None:
    env = {e["name"]: e["value"] for e in CONTAINER["env"]}
    mount = next(m for m in CONTAINER["volumeMounts"] if m["name"] == "secrets")
    volume = next(v for v in POD["spec"]["volumes"] if v["name"] == "secrets")
    example = load("secret.example.yaml")
    assert volume["secret"]["secretName"] == example["metadata"]["name"]
    files = set()
    for name in secret_file_settings():
        variable = f"ONESTOP_{name.upper()}"
        assert variable not in CONFIG and variable not in env
        path = Path(env[f"{variable}_FILE"])
        assert path.parent == Path(mount["mountPath"])
        files.add(path.name)
    assert set(example["stringData"]) == files
    assert mount["readOnly"] is True


def test_metrics_are_served_on_their_own_port_to_the_monitoring_namespace_only() -> None:
    ports = {p["name"]: p["containerPort"] for p in CONTAINER["ports"]}
    assert ports["metrics"] == int(CONFIG["ONESTOP_METRICS_PORT"]) == 9464
    annotations = POD["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(ports["metrics"])
    rules = load("networkpolicy.yaml")["spec"]["ingress"]
    allowed = {
        port["port"]: [peer["namespaceSelector"]["matchLabels"] for peer in rule["from"]]
        for rule in rules
        for port in rule["ports"]
    }
    assert allowed["metrics"] == [{"kubernetes.io/metadata.name": "monitoring"}]
    assert set(allowed) == {"http", "metrics"}


def test_the_pod_runs_as_the_image_user_without_privileges() -> None:
    security = POD["spec"]["securityContext"]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"USER {security['runAsUser']}:{security['runAsGroup']}" in dockerfile
    assert security["runAsNonRoot"] is True
    container = CONTAINER["securityContext"]
    assert container["readOnlyRootFilesystem"] is True
    assert container["allowPrivilegeEscalation"] is False
    assert container["capabilities"]["drop"] == ["ALL"]
