"""deploy/ cannot be run here (no container engine, no systemd): its files are parsed and held against the code.

Every check reads the files as an operator would use them and fails on the mistakes that would only show on the
day of installation: a service missing, a queue nobody consumes, a variable the app does not read, an upload
limit nginx cuts shorter than the app, a proxy that gives up before the app does, a deploy check that warns.
"""
import configparser
import datetime as dt
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings

from banli.ops.smoke import ROOT

DEPLOY = ROOT / "deploy"
APP_SERVICES = ("migrate", "web", "worker", "beat")
# Read by the settings of another layer or by the compose file itself, not by banli/ (yet): named with the reason.
OUTSIDE_CODE = {
    "POSTGRES_PASSWORD": "interpolated by docker compose into DATABASE_URL and the postgres container",
}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def code_env_names() -> set[str]:
    names = set()
    for path in (ROOT / "banli").rglob("*.py"):
        names |= set(re.findall(r"(?:env_(?:str|bool|int|list)|_keys)\(\s*\"([A-Z0-9_]+)\"", path.read_text()))
    return names


def example_env() -> dict[str, str]:
    pairs = (line.split("=", 1) for line in (DEPLOY / "banli.env.example").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


def unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(DEPLOY / "systemd" / name)
    return parser


def nginx_directive(text: str, name: str) -> list[str]:
    return re.findall(rf"^\s*{name}\s+([^;]+);", text, flags=re.M)


def test_compose_has_every_service_of_the_stack(compose):
    assert set(compose["services"]) == {"postgres", "redis", "migrate", "web", "worker", "beat", "nginx"}
    for name in APP_SERVICES:
        service = compose["services"][name]
        assert service["image"] == "banli:latest" and service["build"]["dockerfile"] == "deploy/Dockerfile"
        assert ((DEPLOY / service["build"]["context"]).resolve() / service["build"]["dockerfile"]).exists()


def test_compose_starts_the_app_only_after_migrations_and_the_proxy_after_a_healthy_web(compose):
    services = compose["services"]
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["command"][-2:] == ["migrate", "--noinput"]
    assert services["nginx"]["depends_on"]["web"]["condition"] == "service_healthy"
    assert "/healthz" in " ".join(services["web"]["healthcheck"]["test"])


def test_compose_web_runs_the_production_server_config_that_exists(compose):
    command = compose["services"]["web"]["command"]
    assert command[:3] == ["gunicorn", "-c", "python:banli.ops.gunicorn_conf"] and command[-1] == "banli.wsgi"
    assert (ROOT / "banli" / "ops" / "gunicorn_conf.py").exists()
    bind = compose["services"]["web"]["environment"]["BANLI_BIND"]
    assert re.search(r"server web:(\d+)", (DEPLOY / "nginx" / "banli-compose.conf").read_text()).group(1) == \
        bind.rsplit(":", 1)[1]


def test_every_celery_queue_has_a_worker_in_compose_and_systemd(compose):
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} | {settings.CELERY_TASK_DEFAULT_QUEUE}
    assert routed <= set(settings.BANLI_CELERY_QUEUES)
    command = compose["services"]["worker"]["command"]
    assert set(command[command.index("-Q") + 1].split(",")) == set(settings.BANLI_CELERY_QUEUES)
    exec_start = unit("banli-worker.service")["Service"]["ExecStart"]
    assert set(re.search(r"-Q (\S+)", exec_start).group(1).split(",")) == set(settings.BANLI_CELERY_QUEUES)


def test_trusted_proxy_in_compose_is_the_nginx_address(compose):
    proxy = compose["services"]["nginx"]["networks"]["banli"]["ipv4_address"]
    for name in APP_SERVICES:
        assert compose["services"][name]["environment"]["BANLI_TRUSTED_PROXIES"] == proxy


def test_every_variable_in_the_deploy_files_is_one_the_app_reads(compose):
    known = code_env_names() | set(OUTSIDE_CODE)
    used = set(example_env()) | set(compose["x-app"]["environment"])
    unknown = used - known
    assert not unknown, f"deploy/ sets variables nothing reads (typo?): {sorted(unknown)}"
    assert {"SECRET_KEY", "BANLI_FIELD_KEYS", "BANLI_EVENT_KEY", "DATABASE_URL", "CELERY_BROKER_URL",
            "BANLI_CACHE_URL", "BANLI_TRUSTED_PROXIES", "BANLI_HTTPS"} <= set(example_env())


def test_systemd_units_run_web_worker_and_one_beat_from_the_same_environment():
    web, worker, beat = (unit(f"banli-{name}.service") for name in ("web", "worker", "beat"))
    for parsed in (web, worker, beat):
        assert parsed["Service"]["EnvironmentFile"] == "/etc/banli/banli.env"
        assert parsed["Service"]["Restart"] == "on-failure"
        assert parsed["Install"]["WantedBy"] == "multi-user.target"
    assert "gunicorn -c python:banli.ops.gunicorn_conf banli.wsgi" in web["Service"]["ExecStart"]
    assert "HUP" in web["Service"]["ExecReload"]
    assert " worker " in worker["Service"]["ExecStart"] and " beat " in beat["Service"]["ExecStart"]
    assert "ONE beat" in (DEPLOY / "systemd" / "banli-beat.service").read_text()


def test_nginx_lets_an_upload_at_the_app_limit_through_and_waits_longer_than_the_app():
    proxy = (DEPLOY / "nginx" / "banli-proxy.conf").read_text()
    (body,) = nginx_directive(proxy, "client_max_body_size")
    limit_mb = int(example_env()["BANLI_UPLOAD_MAX_BYTES"]) / 1024 / 1024
    assert int(body.rstrip("m")) == int(limit_mb) + 1, "nginx must pass the app's upload limit plus the form around it"
    assert int(example_env()["BANLI_UPLOAD_MAX_BYTES"]) == settings.BANLI_UPLOAD_MAX_BYTES
    (read_timeout,) = nginx_directive(proxy, "proxy_read_timeout")
    with mock.patch.dict(os.environ):  # the config sets the server's defaults in the environment: not in ours
        from banli.ops import gunicorn_conf  # noqa: PLC0415 - importing it sets os.environ defaults
    assert int(read_timeout.rstrip("s")) > gunicorn_conf.timeout


def test_nginx_serves_https_forwards_client_and_scheme_and_never_serves_uploads():
    proxy = (DEPLOY / "nginx" / "banli-proxy.conf").read_text()
    headers = dict(line.split(None, 1) for line in nginx_directive(proxy, "proxy_set_header"))
    assert headers["X-Forwarded-For"] == "$remote_addr"  # the first hop overwrites what a client sent
    assert headers["X-Forwarded-Proto"] == "$scheme"
    assert nginx_directive(proxy, "ssl_certificate") and "location /media/ { return 404; }" in proxy
    for site in ("banli.conf", "banli-compose.conf"):
        text = (DEPLOY / "nginx" / site).read_text()
        assert "listen 443 ssl http2;" in text and "return 301 https://" in text
        assert "include /etc/nginx/snippets/banli-proxy.conf;" in text


def production_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "BANLI_TEST", "DATABASE_"))}
    env.update(example_env())
    env.update(SECRET_KEY=secrets.token_urlsafe(50), BANLI_FIELD_KEYS=secrets.token_urlsafe(24),
               BANLI_EVENT_KEY=secrets.token_urlsafe(32), BANLI_VAR_DIR=str(tmp_path), STATIC_ROOT=str(tmp_path / "s"),
               MEDIA_ROOT=str(tmp_path / "m"), DJANGO_SETTINGS_MODULE="banli.settings")
    env.pop("DATABASE_URL", None)  # the checks need no database; the rest is the production file as shipped
    env.pop("BANLI_TESTING", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set in-process by the browser tests; never in a deployment
    return env


@pytest.mark.slow
def test_manage_check_deploy_is_clean_under_the_production_settings(tmp_path):
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=production_env(tmp_path), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


@pytest.mark.slow
def test_manage_check_deploy_fails_without_https(tmp_path):
    env = production_env(tmp_path)
    env["BANLI_HTTPS"] = "0"
    done = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode != 0 and "security.W004" in done.stdout + done.stderr  # HSTS missing: the test can fail


@pytest.mark.skipif(not Path("/usr/sbin/nginx").exists(), reason="nginx is not installed on this machine")
def test_nginx_accepts_the_site_file(tmp_path):
    """`nginx -t` on the systemd site file as shipped (Debian's nginx), with a throw-away certificate."""

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "banli.example.gov.cn")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    (tmp_path / "banli.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "banli.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
    snippet = (DEPLOY / "nginx" / "banli-proxy.conf").read_text().replace("/etc/nginx/certs/", f"{tmp_path}/")
    (tmp_path / "banli-proxy.conf").write_text(snippet)
    site = (DEPLOY / "nginx" / "banli.conf").read_text().replace("/etc/nginx/snippets/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  access_log off;\n  client_body_temp_path {tmp_path}/body;\n  proxy_temp_path {tmp_path}/proxy;\n"
        f"  include {tmp_path}/site.conf;\n}}\n")
    done = subprocess.run(["/usr/sbin/nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr
