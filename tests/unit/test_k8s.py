"""deploy/k8s: the Kustomize manifests validate against the Kubernetes schemas and fit the code.

There is no cluster and no kustomize binary here, so the kustomization is rendered by a small
renderer that knows exactly the fields the file uses (and fails on any other), and every
rendered resource is validated, strictly, with kubernetes-validate (the Kubernetes OpenAPI
schemas shipped inside that PyPI package; no network). Then the manifests are checked against
the settings classes: ports, variables, probes, and consumer replicas within the partitions.
"""

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings

from services.common.settings import InfraSettings
from tests.unit.test_compose import SETTINGS, default_port, env_prefix, variables_read_by

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSIONS = ("1.30.0", kubernetes_validate.latest_version())
RENDERED_FIELDS = {"apiVersion", "kind", "namespace", "labels", "images", "resources"}
CLUSTER_SCOPED = {"Namespace"}
Resource = dict[str, Any]


# ----------------------------------------------------------------------------- rendering


def kustomization() -> dict[str, Any]:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def render() -> list[Resource]:
    """What `kustomize build deploy/k8s` gives for the fields this kustomization uses."""
    spec = kustomization()
    unknown = set(spec) - RENDERED_FIELDS
    assert not unknown, f"teach this test's renderer the kustomization fields {unknown}"
    rendered = []
    for name in spec["resources"]:
        for document in yaml.safe_load_all((K8S / name).read_text()):
            if document:
                rendered.append(transform(copy.deepcopy(document), spec))
    return rendered


def transform(resource: Resource, spec: dict[str, Any]) -> Resource:
    metadata = resource.setdefault("metadata", {})
    if resource["kind"] not in CLUSTER_SCOPED and spec.get("namespace"):
        metadata["namespace"] = spec["namespace"]
    for label_set in spec.get("labels", []):
        assert not label_set.get("includeSelectors"), "the renderer does not move selectors"
        metadata.setdefault("labels", {}).update(label_set["pairs"])
    for container in containers(resource):
        for image in spec.get("images", []):
            name, _, _ = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image['newTag']}"
    return resource


def containers(resource: Resource) -> list[dict[str, Any]]:
    if resource["kind"] != "Deployment":
        return []
    return list(resource["spec"]["template"]["spec"]["containers"])


@pytest.fixture(scope="module")
def resources() -> list[Resource]:
    return render()


def of_kind(resources: list[Resource], kind: str) -> list[Resource]:
    return [resource for resource in resources if resource["kind"] == kind]


def named(resources: list[Resource], kind: str, name: str) -> Resource:
    found = [r for r in of_kind(resources, kind) if r["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


# ---------------------------------------------------------------------- per-deployment facts


def service_of(deployment: Resource) -> str:
    """The gridloop service a Deployment runs, from its `python -m services.X serve` command."""
    (container,) = containers(deployment)
    command = [*container.get("command", []), *container.get("args", [])]
    module = command[command.index("-m") + 1]
    package = module.removeprefix("services.")
    assert package in SETTINGS, f"{deployment['metadata']['name']} runs {module}"
    assert "serve" in command, f"{deployment['metadata']['name']} must serve /metrics and probes"
    return package


def environment(deployment: Resource, resources: list[Resource]) -> dict[str, str]:
    """The container's environment: config maps and secrets it loads, then its own env."""
    (container,) = containers(deployment)
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(named(resources, "ConfigMap", source["configMapRef"]["name"])["data"])
        if "secretRef" in source:
            env.update(named(resources, "Secret", source["secretRef"]["name"])["stringData"])
    for item in container.get("env", []):
        if "valueFrom" in item:
            reference = item["valueFrom"]["secretKeyRef"]
            secret = named(resources, "Secret", reference["name"])["stringData"]
            env[item["name"]] = secret[reference["key"]]
        else:
            env[item["name"]] = item["value"]
    return env


def runs_a_consumer(settings: type[BaseSettings], env: dict[str, str]) -> bool:
    """Whether the process consumes: its RUN_CONSUMER setting, or that setting's default."""
    field = settings.model_fields.get("run_consumer")
    if field is None:
        return False
    raw = env.get(f"{env_prefix(settings)}RUN_CONSUMER")
    return bool(field.default) if raw is None else raw.lower() in {"1", "true", "yes", "on"}


def deployments(resources: list[Resource]) -> Iterator[tuple[Resource, str, dict[str, Any]]]:
    for deployment in of_kind(resources, "Deployment"):
        (container,) = containers(deployment)
        yield deployment, service_of(deployment), container


# ------------------------------------------------------------------------------------ tests


def test_the_kustomization_lists_every_manifest_and_only_existing_ones() -> None:
    listed = set(kustomization()["resources"])
    present = {path.name for path in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present, f"not listed: {present - listed}; missing: {listed - present}"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_resource_validates_strictly_against_the_kubernetes_schemas(
    resources: list[Resource], version: str
) -> None:
    for resource in resources:
        where = f"{resource['kind']}/{resource['metadata']['name']}"
        try:
            kubernetes_validate.validate(resource, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{where} is invalid for Kubernetes {version}: {error.message}")


def test_the_validator_rejects_a_misspelt_field(resources: list[Resource]) -> None:
    deployment = copy.deepcopy(of_kind(resources, "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[-1], strict=True)


def test_each_service_has_a_deployment_and_dispatch_and_ledger_have_a_consumer(
    resources: list[Resource],
) -> None:
    roles = {
        (service, runs_a_consumer(SETTINGS[service], environment(d, resources)))
        for d, service, _ in deployments(resources)
    }
    expected = {
        ("intake", False),
        ("dispatch", False),
        ("dispatch", True),
        ("ledger", False),
        ("ledger", True),
    }
    assert expected <= roles, f"missing (service, consumes): {expected - roles}"


def test_every_container_probes_liveness_and_readiness_on_its_settings_port(
    resources: list[Resource],
) -> None:
    for deployment, service, container in deployments(resources):
        where = deployment["metadata"]["name"]
        ports = {port["name"]: port["containerPort"] for port in container["ports"]}
        env = environment(deployment, resources)
        prefix = env_prefix(SETTINGS[service])
        port = int(env.get(f"{prefix}PORT", default_port(service)))
        assert ports.get("http") == port == default_port(service), f"{where}: ports {ports}"
        assert env.get(f"{prefix}HOST") == "0.0.0.0", f"{where} must listen beyond loopback"
        for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
            get = container.get(probe, {}).get("httpGet", {})
            assert get.get("path") == path and get.get("port") in ("http", port), (
                f"{where}: {probe} should GET {path} on the http port, is {get}"
            )
        annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
        assert annotations.get("prometheus.io/port") == str(port), f"{where}: scrape port"


def test_every_container_requests_cpu_and_memory_and_limits_memory(
    resources: list[Resource],
) -> None:
    for deployment, _, container in deployments(resources):
        resources_of = container.get("resources", {})
        requests, limits = resources_of.get("requests", {}), resources_of.get("limits", {})
        where = deployment["metadata"]["name"]
        assert {"cpu", "memory"} <= set(requests), f"{where} requests {requests}"
        assert "memory" in limits, f"{where} sets no memory limit"


def test_every_container_runs_the_one_image_as_non_root_read_only(
    resources: list[Resource],
) -> None:
    images = set()
    for deployment, _, container in deployments(resources):
        where = deployment["metadata"]["name"]
        images.add(container["image"])
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"].get("runAsNonRoot") is True, where
        context = container.get("securityContext", {})
        assert context.get("allowPrivilegeEscalation") is False, where
        assert context.get("readOnlyRootFilesystem") is True, where
        assert context.get("capabilities", {}).get("drop") == ["ALL"], where
    assert len(images) == 1 and next(iter(images)).startswith("gridloop:"), images


def test_every_variable_set_is_one_the_settings_read(resources: list[Resource]) -> None:
    infra = variables_read_by(InfraSettings)
    for deployment, service, _ in deployments(resources):
        allowed = variables_read_by(SETTINGS[service])
        unknown = set(environment(deployment, resources)) - allowed
        assert not unknown, f"{deployment['metadata']['name']} sets {unknown}, unread"
    # mounted as files, or read one key at a time by the one container that needs it
    by_key = {"gridloop-jwks", "gridloop-signing-key", "gridloop-intake-client"}
    for config in (*of_kind(resources, "ConfigMap"), *of_kind(resources, "Secret")):
        if config["metadata"]["name"] in by_key:
            continue
        values = config.get("data") or config.get("stringData") or {}
        assert set(values) <= infra, f"{config['metadata']['name']}: {set(values) - infra}"


def test_consumers_never_outnumber_the_partitions(resources: list[Resource]) -> None:
    """Per consumer group: replicas (or the autoscaler's maximum) plus a rollout's surge."""
    autoscaled = {
        hpa["spec"]["scaleTargetRef"]["name"]: hpa["spec"]["maxReplicas"]
        for hpa in of_kind(resources, "HorizontalPodAutoscaler")
    }
    groups: dict[str, list[tuple[str, int, int]]] = {}
    for deployment, service, _ in deployments(resources):
        env = environment(deployment, resources)
        settings = SETTINGS[service]
        if not runs_a_consumer(settings, env):
            continue
        name = deployment["metadata"]["name"]
        group = env.get(
            f"{env_prefix(settings)}CONSUMER_GROUP", settings.model_fields["consumer_group"].default
        )
        surge = deployment["spec"]["strategy"].get("rollingUpdate", {}).get("maxSurge", 1)
        most = max(deployment["spec"]["replicas"], autoscaled.get(name, 0)) + int(surge)
        groups.setdefault(group, []).append((name, most, int(env["TOPIC_PARTITIONS"])))
    assert groups, "no Deployment consumes"
    for group, members in groups.items():
        total, partitions = sum(most for _, most, _ in members), min(p for *_, p in members)
        assert total <= partitions, (
            f"group {group} may run {total} consumers ({members}) for {partitions} partitions"
        )


def test_intake_scales_horizontally_on_cpu(resources: list[Resource]) -> None:
    hpa = named(resources, "HorizontalPodAutoscaler", "intake")
    target = hpa["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", "intake")
    named(resources, "Deployment", "intake")
    assert 2 <= hpa["spec"]["minReplicas"] < hpa["spec"]["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["name"] == "cpu"


def test_every_deployment_has_exactly_one_disruption_budget(resources: list[Resource]) -> None:
    budgets = of_kind(resources, "PodDisruptionBudget")
    for deployment in of_kind(resources, "Deployment"):
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        covering = [
            b for b in budgets if b["spec"]["selector"]["matchLabels"].items() <= labels.items()
        ]
        assert len(covering) == 1, f"{deployment['metadata']['name']}: {len(covering)} budgets"
        budget = covering[0]["spec"]
        allowed = budget.get(
            "maxUnavailable", deployment["spec"]["replicas"] - budget.get("minAvailable", 0)
        )
        assert 0 < allowed < deployment["spec"]["replicas"] + 1, "the budget must allow drains"


def test_services_route_only_to_api_pods_on_their_http_port(resources: list[Resource]) -> None:
    for service in of_kind(resources, "Service"):
        selector = service["spec"]["selector"]
        matched = [
            d
            for d in of_kind(resources, "Deployment")
            if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        ]
        assert len(matched) == 1, f"service {service['metadata']['name']} selects {len(matched)}"
        assert (
            matched[0]["spec"]["template"]["metadata"]["labels"].get("app.kubernetes.io/component")
            == "api"
        )
        for port in service["spec"]["ports"]:
            assert port["targetPort"] == "http"


def test_the_committed_secret_holds_placeholders_only(resources: list[Resource]) -> None:
    for secret in of_kind(resources, "Secret"):
        for key, value in (secret.get("stringData") or {}).items():
            assert "CHANGE-ME" in value, f"{key} in a committed secret looks like a real value"
        assert not secret.get("data"), "base64 data in a committed secret"


def test_everything_lives_in_the_gridloop_namespace(resources: list[Resource]) -> None:
    for resource in resources:
        if resource["kind"] not in CLUSTER_SCOPED:
            assert resource["metadata"]["namespace"] == "gridloop"
        assert resource["metadata"]["labels"]["app.kubernetes.io/part-of"] == "gridloop"
