"""docker-compose.yml and the Dockerfile agree with the code: ports, settings, wiring and health.

There is no Docker engine in the test environment, so the compose file is checked as data: the
service names, ports and environment variables are compared with the settings classes the
services really read, which makes a renamed setting or a changed default port fail here.
"""

import re
import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from pydantic_settings import BaseSettings

from services.dispatch.settings import DispatchSettings
from services.intake.settings import IntakeSettings
from services.ledger.settings import LedgerSettings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

SETTINGS: dict[str, type[BaseSettings]] = {
    "intake": IntakeSettings,
    "dispatch": DispatchSettings,
    "ledger": LedgerSettings,
}
APP_SERVICES = tuple(SETTINGS)
INFRA_SERVICES = ("kafka", "postgres", "redis")
INFRA_VARIABLES = ("KAFKA_BOOTSTRAP_SERVERS", "REDIS_URL", "DATABASE_URL")

Service = dict[str, Any]

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}
VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")
LISTENER = re.compile(r"(?P<name>[A-Za-z0-9_]+)://(?P<host>[^:,/]*):(?P<port>\d+)")


# ----------------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    assert COMPOSE_FILE.is_file(), f"{COMPOSE_FILE} is missing"
    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    assert isinstance(document.get("services"), dict), "docker-compose.yml has no services"
    return document


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Service]:
    return compose["services"]


def service(services: dict[str, Service], name: str) -> Service:
    assert name in services, f"docker-compose.yml has no service {name!r}"
    return services[name]


def environment(definition: Service) -> dict[str, str | None]:
    """The service's environment as a mapping, from either the mapping or the list syntax."""
    raw = definition.get("environment") or {}
    if isinstance(raw, Mapping):
        return {str(k): None if v is None else str(v) for k, v in raw.items()}
    pairs = (str(item).partition("=") for item in raw)
    return {name: value if sep else None for name, sep, value in pairs}


def with_defaults(value: str) -> str:
    """Compose interpolation as on a machine where none of the referenced variables is set."""

    def substitute(match: re.Match[str]) -> str:
        operator = match["op"] or ""
        return match["arg"] if operator.endswith("-") else ""

    return VARIABLE.sub(substitute, value).replace("$$", "$")


def words(value: str | list[Any]) -> list[str]:
    """A command or healthcheck test as a list of words, from either the string or list form."""
    return shlex.split(value) if isinstance(value, str) else [str(word) for word in value]


def module_run_by(definition: Service) -> str | None:
    """The module in `python -m <module>` of the service's command, if it has one."""
    command = words(definition.get("command") or [])
    if "-m" in command[:-1]:
        return command[command.index("-m") + 1]
    return None


def published_ports(definition: Service) -> set[tuple[int, int]]:
    """(host port, container port) pairs from the short and the long `ports` syntax."""
    pairs = set()
    for entry in definition.get("ports") or []:
        if isinstance(entry, Mapping):
            if "published" in entry:
                pairs.add((int(entry["published"]), int(entry["target"])))
            continue
        parts = str(entry).split("/")[0].rsplit(":", 2)
        if len(parts) >= 2 and parts[-2].isdigit() and parts[-1].isdigit():
            pairs.add((int(parts[-2]), int(parts[-1])))
    return pairs


def depends_on(definition: Service) -> dict[str, str]:
    """Dependency name -> condition, from either the list or the mapping syntax."""
    raw = definition.get("depends_on") or {}
    if not isinstance(raw, Mapping):
        return {str(name): "service_started" for name in raw}
    return {
        str(name): (spec or {}).get("condition", "service_started") for name, spec in raw.items()
    }


def env_prefix(settings: type[BaseSettings]) -> str:
    return str(settings.model_config.get("env_prefix") or "")


def variables_read_by(settings: type[BaseSettings]) -> set[str]:
    """Environment variables a settings class reads, nested settings (infra) included.

    A nested settings field (InfraSettings) is built by its default factory from its own,
    unprefixed variables; every other field is read as <env_prefix><FIELD NAME>.
    """
    names = set()
    for field_name, field in settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseSettings):
            names |= variables_read_by(annotation)
        else:
            names.add(f"{env_prefix(settings)}{field_name}".upper())
    return names


def default_port(name: str) -> int:
    port = SETTINGS[name].model_fields["port"].default
    assert isinstance(port, int), f"{SETTINGS[name].__name__}.port has no integer default"
    return port


def listeners(value: str) -> dict[str, tuple[str, int]]:
    """Kafka listener list 'NAME://host:port,...' as {NAME: (host, port)}."""
    return {m["name"]: (m["host"], int(m["port"])) for m in LISTENER.finditer(value)}


def dockerfile_instructions() -> list[str]:
    """The Dockerfile's instructions, continuation lines joined, comments dropped."""
    assert DOCKERFILE.is_file(), f"{DOCKERFILE} is missing"
    joined = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    return [line.strip() for line in joined.splitlines() if line.strip() and line[0] != "#"]


# ------------------------------------------------------------------------------------- tests


def test_the_stack_has_the_three_services_and_their_infrastructure(
    services: dict[str, Service],
) -> None:
    missing = [name for name in (*APP_SERVICES, *INFRA_SERVICES) if name not in services]
    assert not missing, f"docker-compose.yml lacks the services {missing}"


def test_the_app_services_build_the_repository_dockerfile_from_one_context(
    services: dict[str, Service],
) -> None:
    contexts, images = set(), set()
    for name in APP_SERVICES:
        build = service(services, name).get("build")
        assert build, f"{name} is not built from this repository (no `build:`)"
        if isinstance(build, str):
            build = {"context": build}
        context = (COMPOSE_FILE.parent / build.get("context", ".")).resolve()
        dockerfile = (context / build.get("dockerfile", "Dockerfile")).resolve()
        assert dockerfile == DOCKERFILE.resolve(), (
            f"{name} builds {dockerfile}, not the repository's {DOCKERFILE}"
        )
        assert dockerfile.is_file(), f"{name} builds from {dockerfile}, which does not exist"
        contexts.add(context)
        images.add(services[name].get("image"))
    assert len(contexts) == 1, f"the app services use different build contexts: {contexts}"
    assert len(images) == 1, f"the app services name different images: {images}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_app_service_publishes_the_port_its_settings_default_to(
    services: dict[str, Service], name: str
) -> None:
    port = default_port(name)
    definition = service(services, name)
    assert (port, port) in published_ports(definition), (
        f"{name} should publish {port}:{port} ({SETTINGS[name].__name__}.port), "
        f"publishes {definition.get('ports')}"
    )
    env = environment(definition)
    prefix = env_prefix(SETTINGS[name])
    assert env.get(f"{prefix}PORT") == str(port), (
        f"{name} should set {prefix}PORT={port}, sets {env.get(f'{prefix}PORT')!r}"
    )
    assert env.get(f"{prefix}HOST") == "0.0.0.0", (
        f"{name} should set {prefix}HOST=0.0.0.0 to be reachable from outside its container"
    )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_app_service_runs_its_own_package(services: dict[str, Service], name: str) -> None:
    definition = service(services, name)
    module = module_run_by(definition)
    assert module == f"services.{name}", (
        f"{name} should run `python -m services.{name}`, its command is "
        f"{definition.get('command')!r}"
    )
    assert "serve" in words(definition["command"]), f"{name} should run the `serve` command"


def test_every_variable_set_on_an_image_service_is_one_its_settings_read(
    services: dict[str, Service],
) -> None:
    built_here = [name for name, definition in services.items() if definition.get("build")]
    assert set(APP_SERVICES) <= set(built_here), "an app service is not built here"
    for name in built_here:
        module = module_run_by(services[name]) or ""
        if module == "services.common.keys":
            assert not environment(services[name]), "the key maker reads no settings"
            continue
        package = module.removeprefix("services.")
        assert package in SETTINGS, f"{name} runs {module!r}, which is not one of {list(SETTINGS)}"
        allowed = variables_read_by(SETTINGS[package])
        unknown = sorted(set(environment(services[name])) - allowed)
        assert not unknown, (
            f"{name} sets {unknown}, which {SETTINGS[package].__name__} does not read; "
            f"it reads {sorted(allowed)}"
        )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_app_service_reaches_the_infrastructure_by_compose_service_name(
    services: dict[str, Service], name: str
) -> None:
    env = environment(service(services, name))
    missing = [variable for variable in INFRA_VARIABLES if not env.get(variable)]
    assert not missing, f"{name} does not set {missing}"
    bootstrap = with_defaults(env["KAFKA_BOOTSTRAP_SERVERS"] or "").split(",")
    assert bootstrap == ["kafka:9092"], f"{name}: KAFKA_BOOTSTRAP_SERVERS is {bootstrap}"
    for variable, scheme, host, port in (
        ("REDIS_URL", "redis", "redis", 6379),
        ("DATABASE_URL", "postgresql", "postgres", 5432),
    ):
        url = urlsplit(with_defaults(env[variable] or ""))
        assert (url.scheme, url.hostname, url.port) == (scheme, host, port), (
            f"{name}: {variable} should point at {scheme}://…{host}:{port}, is {env[variable]!r}"
        )
        assert host in services, f"{name}: {variable} names {host!r}, not a compose service"


def test_the_database_url_carries_the_postgres_service_credentials(
    services: dict[str, Service],
) -> None:
    postgres = environment(service(services, "postgres"))
    expected = (
        with_defaults(postgres.get("POSTGRES_USER") or "postgres"),
        with_defaults(postgres.get("POSTGRES_PASSWORD") or ""),
        "/" + with_defaults(postgres.get("POSTGRES_DB") or postgres.get("POSTGRES_USER") or ""),
    )
    assert expected[2] == "/gridloop", f"postgres should create the gridloop database: {expected}"
    for name in APP_SERVICES:
        url = urlsplit(with_defaults(environment(services[name])["DATABASE_URL"] or ""))
        assert (url.username, url.password, url.path) == expected, (
            f"{name}: DATABASE_URL user/password/database {(url.username, url.path)} do not "
            f"match the postgres service's POSTGRES_USER/POSTGRES_PASSWORD/POSTGRES_DB"
        )


def test_kafka_bootstrap_servers_match_the_advertised_listener(
    services: dict[str, Service],
) -> None:
    kafka = environment(service(services, "kafka"))
    advertised = listeners(kafka.get("KAFKA_ADVERTISED_LISTENERS") or "")
    bound = listeners(kafka.get("KAFKA_LISTENERS") or "")
    assert advertised, "kafka sets no KAFKA_ADVERTISED_LISTENERS"
    for listener, (host, port) in advertised.items():
        assert host in services, f"kafka advertises {listener} on {host!r}, not a service name"
        assert bound.get(listener, ("", None))[1] == port, (
            f"kafka advertises {listener} on port {port} but listens on {bound.get(listener)}"
        )
    endpoints = {f"{host}:{port}" for host, port in advertised.values()}
    for name in APP_SERVICES:
        bootstrap = environment(services[name]).get("KAFKA_BOOTSTRAP_SERVERS") or ""
        servers = set(with_defaults(bootstrap).split(","))
        assert servers <= endpoints, (
            f"{name}: KAFKA_BOOTSTRAP_SERVERS {sorted(servers)} is not among the advertised "
            f"listeners {sorted(endpoints)}"
        )


def test_kafka_is_a_single_kraft_node_that_never_creates_topics_on_its_own(
    services: dict[str, Service],
) -> None:
    kafka = service(services, "kafka")
    assert re.fullmatch(r"apache/kafka:4\.1\.\d+", str(kafka.get("image"))), (
        f"kafka should run the official apache/kafka image pinned to 4.1.x: {kafka.get('image')}"
    )
    env = environment(kafka)
    expected = {
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_NODE_ID": "1",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
    }
    wrong = {key: env.get(key) for key, value in expected.items() if env.get(key) != value}
    assert not wrong, f"kafka settings differ from {expected}: {wrong}"
    assert "CONTROLLER" in listeners(env.get("KAFKA_LISTENERS") or ""), "no CONTROLLER listener"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_app_service_waits_for_healthy_kafka_postgres_and_redis(
    services: dict[str, Service], name: str
) -> None:
    conditions = depends_on(service(services, name))
    not_awaited = {
        dependency: conditions.get(dependency)
        for dependency in INFRA_SERVICES
        if conditions.get(dependency) != "service_healthy"
    }
    assert not not_awaited, (
        f"{name} should depend on {list(INFRA_SERVICES)} with condition service_healthy; "
        f"has {not_awaited}"
    )


def test_every_service_awaited_as_healthy_has_a_healthcheck(
    services: dict[str, Service],
) -> None:
    for name, definition in services.items():
        for dependency, condition in depends_on(definition).items():
            assert dependency in services, f"{name} depends on {dependency!r}, not a service"
            if condition == "service_healthy":
                assert (services[dependency].get("healthcheck") or {}).get("test"), (
                    f"{name} waits for {dependency} to be healthy, which has no healthcheck"
                )


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_app_service_reports_readiness_on_its_own_port_and_restarts(
    services: dict[str, Service], name: str
) -> None:
    definition = service(services, name)
    probe = " ".join(words((definition.get("healthcheck") or {}).get("test") or []))
    assert "/readyz" in probe, f"{name}'s healthcheck does not ask /readyz: {probe!r}"
    assert re.search(rf"\b{default_port(name)}\b", probe), (
        f"{name}'s healthcheck does not probe port {default_port(name)}: {probe!r}"
    )
    assert definition.get("restart") == "unless-stopped", f"{name} should restart unless-stopped"


def test_the_demo_roster_is_loaded_once_postgres_is_healthy(
    services: dict[str, Service],
) -> None:
    loader = service(services, "demo-roster")
    command = words(loader.get("command") or [])
    assert module_run_by(loader) == "services.dispatch" and "load-demo" in command, (
        f"demo-roster should run `python -m services.dispatch load-demo`: {command}"
    )
    assert depends_on(loader).get("postgres") == "service_healthy", (
        "demo-roster should wait for a healthy postgres"
    )
    assert str(loader.get("restart", "no")) == "no", "a one-shot loader must not be restarted"


def test_the_dockerfile_installs_the_hash_pinned_lock() -> None:
    installs = [
        line
        for line in dockerfile_instructions()
        if line.upper().startswith("RUN") and "pip install" in line and "requirements.lock" in line
    ]
    assert installs, "the Dockerfile never runs `pip install -r requirements.lock`"
    for line in installs:
        assert "--require-hashes" in line, f"the lock is installed without --require-hashes: {line}"


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [
        line.split()[1] for line in dockerfile_instructions() if line.upper().startswith("USER")
    ]
    assert users, "the Dockerfile has no USER instruction, so the services would run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}, f"the image runs as {users[-1]}"


@pytest.mark.parametrize("path", [COMPOSE_FILE, DOCKERFILE, DOCKERIGNORE], ids=lambda p: p.name)
def test_no_container_file_names_a_download_address(
    path: Path, services: dict[str, Service]
) -> None:
    """Web addresses may only name the stack's own containers (intake calling the ledger)."""
    hosts = re.findall(r"https?://([^/:\s]+)", path.read_text())
    outside = [host for host in hosts if host not in services]
    assert not outside, f"{path.name} names hosts {outside}; name images and packages only"


# ------------------------------------------------------------- consumers and observability

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"
GRAFANA_DIR = ROOT / "deploy" / "grafana"
CONSUMERS = {"dispatch-consumer": "dispatch", "ledger-consumer": "ledger"}


def bind_mounts(definition: Service) -> dict[str, Path]:
    """Container path → host path of the service's bind mounts (short syntax)."""
    mounts = {}
    for entry in definition.get("volumes") or []:
        source, _, rest = str(entry).partition(":")
        if source.startswith((".", "/")):
            mounts[rest.split(":")[0]] = (COMPOSE_FILE.parent / source).resolve()
    return mounts


def scrape_targets() -> dict[str, set[str]]:
    """job → the host:port targets of deploy/prometheus/prometheus.yml."""
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    return {
        job["job_name"]: {
            target for static in job.get("static_configs", []) for target in static["targets"]
        }
        for job in config["scrape_configs"]
    }


@pytest.mark.parametrize(("name", "package"), sorted(CONSUMERS.items()))
def test_dispatch_and_ledger_each_have_an_api_and_a_consumer_container(
    services: dict[str, Service], name: str, package: str
) -> None:
    consumer, api = service(services, name), service(services, package)
    prefix = env_prefix(SETTINGS[package])
    assert module_run_by(consumer) == f"services.{package}", f"{name} runs another service"
    assert with_defaults(environment(consumer).get(f"{prefix}RUN_CONSUMER") or "") == "true"
    assert with_defaults(environment(api).get(f"{prefix}RUN_CONSUMER") or "") == "false", (
        f"{package} (the API) should leave consuming to {name}"
    )
    assert not consumer.get("ports"), f"{name} should not publish a port"
    probe = " ".join(words((consumer.get("healthcheck") or {}).get("test") or []))
    assert "/readyz" in probe and str(default_port(package)) in probe, probe
    assert consumer.get("restart") == "unless-stopped"
    assert module_run_by(consumer) and "serve" in words(consumer["command"]), (
        f"{name} runs `serve` (consumer on), so it has /metrics and /readyz"
    )


def test_only_the_dispatch_consumer_runs_the_deadline_timers(services: dict[str, Service]) -> None:
    timers = {
        name: with_defaults(environment(services[name]).get("DISPATCH_RUN_TIMERS") or "true")
        for name in ("dispatch", "dispatch-consumer")
    }
    assert timers == {"dispatch": "false", "dispatch-consumer": "true"}, timers


def test_prometheus_scrapes_every_gridloop_process_on_its_port(
    services: dict[str, Service],
) -> None:
    targets = scrape_targets()
    scraped = set().union(*targets.values())
    for name, definition in services.items():
        package = (module_run_by(definition) or "").removeprefix("services.")
        if package not in SETTINGS or "serve" not in words(definition.get("command") or []):
            continue
        target = f"{name}:{default_port(package)}"
        assert target in targets.get(package, set()), (
            f"prometheus job {package!r} does not scrape {target}: {targets.get(package)}"
        )
    for target in scraped:
        host, _, port = target.partition(":")
        assert host in services or host == "localhost", f"{target} is not a compose service"
        assert port.isdigit(), target


def test_prometheus_runs_v3_with_the_repository_config_and_rules(
    services: dict[str, Service],
) -> None:
    prometheus = service(services, "prometheus")
    assert re.fullmatch(r"prom/prometheus:v3\.\d+\.\d+", str(prometheus.get("image"))), (
        f"prometheus should be a pinned prom/prometheus v3 image: {prometheus.get('image')}"
    )
    mounts = bind_mounts(prometheus)
    assert mounts.get("/etc/prometheus/prometheus.yml") == PROMETHEUS_DIR / "prometheus.yml"
    config = yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())
    for pattern in config["rule_files"]:
        folder = pattern.rsplit("/", 1)[0]
        assert mounts.get(f"/etc/prometheus/{folder}") == PROMETHEUS_DIR / folder, (
            f"the rule files {pattern} are not mounted from deploy/prometheus/{folder}"
        )
        assert list(PROMETHEUS_DIR.glob(pattern)), f"{pattern} matches no rule file"
    flags = words(prometheus.get("command") or [])
    assert "--config.file=/etc/prometheus/prometheus.yml" in flags
    assert (prometheus.get("healthcheck") or {}).get("test"), "prometheus has no healthcheck"
    assert prometheus.get("restart") == "unless-stopped"


def test_grafana_is_provisioned_from_the_repository_and_waits_for_prometheus(
    services: dict[str, Service],
) -> None:
    grafana = service(services, "grafana")
    assert re.fullmatch(r"grafana/grafana:11\.\d+\.\d+", str(grafana.get("image"))), (
        f"grafana should be a pinned grafana/grafana 11 image: {grafana.get('image')}"
    )
    mounts = bind_mounts(grafana)
    assert mounts.get("/etc/grafana/provisioning") == GRAFANA_DIR / "provisioning"
    (provider,) = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "dashboards" / "gridloop.yml").read_text()
    )["providers"]
    assert mounts.get(provider["options"]["path"]) == GRAFANA_DIR / "dashboards", (
        "the dashboards folder is not mounted where the provider reads it"
    )
    (source,) = yaml.safe_load(
        (GRAFANA_DIR / "provisioning" / "datasources" / "prometheus.yml").read_text()
    )["datasources"]
    url = urlsplit(source["url"])
    assert url.hostname == "prometheus" and url.hostname in services
    listening = {target for _, target in published_ports(services["prometheus"])}
    assert url.port in listening, f"the data source uses port {url.port}, prometheus {listening}"
    assert depends_on(grafana).get("prometheus") == "service_healthy"
    assert grafana.get("restart") == "unless-stopped"
    home = environment(grafana).get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH") or ""
    assert home.startswith(provider["options"]["path"] + "/"), home
    assert (GRAFANA_DIR / "dashboards" / home.rsplit("/", 1)[-1]).is_file(), home


@pytest.mark.parametrize("name", ["prometheus", "grafana"])
def test_observability_ports_are_published_on_loopback_only(
    services: dict[str, Service], name: str
) -> None:
    for entry in service(services, name).get("ports") or []:
        assert str(entry).startswith("127.0.0.1:"), f"{name} publishes {entry} on every interface"


def test_every_long_running_service_has_a_healthcheck_and_a_restart_policy(
    services: dict[str, Service],
) -> None:
    for name, definition in services.items():
        if str(definition.get("restart", "no")) == "no":
            assert name in ("demo-roster", "keys"), f"{name} is never restarted"
            continue
        assert definition.get("restart") == "unless-stopped", name
        assert (definition.get("healthcheck") or {}).get("test"), f"{name} has no healthcheck"


def test_dispatch_signs_with_the_key_made_once_by_the_keys_service(
    services: dict[str, Service],
) -> None:
    maker = service(services, "keys")
    assert module_run_by(maker) == "services.common.keys"
    for name in ("dispatch", "dispatch-consumer"):
        definition = service(services, name)
        assert environment(definition)["AUTH_SIGNING_KEY_FILE"] == "/keys/current.pem"
        assert definition["depends_on"]["keys"]["condition"] == "service_completed_successfully"
    for name in APP_SERVICES:
        assert environment(service(services, name))["AUTH_JWKS_FILE"] == "/keys/jwks.json"
        assert "auth-keys:/keys" in service(services, name)["volumes"]
