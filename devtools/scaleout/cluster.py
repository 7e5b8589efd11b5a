"""A local scale-out: N gunicorn instances of the site on one Redis and one database, nginx in front.

Every instance gets the same environment except ``WEBSITE_INSTANCE_ID`` (as App Service
gives each worker its own), so ``X-Served-By`` names the instance that answered.
"""

from __future__ import annotations

import http.client
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from devtools.scaleout import nginx
from devtools.scaleout.certificates import CertificateFiles, ensure_certificate
from devtools.scaleout.processes import ChildProcess

PROJECT_DIRECTORY = Path(__file__).resolve().parent.parent.parent
READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0


class ClusterError(RuntimeError):
    """The cluster could not be started, or a part of it stopped answering."""


@dataclass(frozen=True)
class ClusterSettings:
    """Everything a cluster needs, resolved by its caller (the command, the tests, the load test).

    ``environment`` is what every child starts from (usually the caller's own); the
    production-like values below are laid over it.
    """

    directory: Path
    redis_url: str
    secret_key: str
    environment: Mapping[str, str]
    instances: int = 3
    https_port: int = 8443
    base_port: int = 8001
    workers: int = 2
    database_url: str | None = None
    var_directory: Path | None = None
    python: str = sys.executable
    project_directory: Path = PROJECT_DIRECTORY

    def __post_init__(self) -> None:
        if self.instances < 1:
            raise ClusterError(f"A cluster needs at least one instance, not {self.instances}.")
        if not 1 <= self.workers <= 16:
            raise ClusterError(f"Each instance runs 1 to 16 gunicorn workers, not {self.workers}.")
        ports = [self.https_port, *self.instance_ports]
        if min(ports) < 1 or max(ports) > 65535:
            raise ClusterError(f"Ports must lie between 1 and 65535; these do not all: {ports}.")
        if self.https_port in self.instance_ports:
            raise ClusterError(
                f"The https port {self.https_port} falls among the instances' ports "
                f"{self.instance_ports[0]}-{self.instance_ports[-1]}; choose another --port or --base-port."
            )

    @property
    def instance_ports(self) -> tuple[int, ...]:
        return tuple(range(self.base_port, self.base_port + self.instances))

    @property
    def origins(self) -> list[str]:
        return [f"https://127.0.0.1:{self.https_port}", f"https://localhost:{self.https_port}"]


def instance_name(index: int) -> str:
    """What an instance reports in X-Served-By: App Service's WEBSITE_INSTANCE_ID, locally."""
    return f"instance-{index}"


def local_secret_key(directory: Path) -> str:
    """A SECRET_KEY for a local cluster, generated once and kept (mode 600) under ``directory``."""
    path = Path(directory) / "secret-key"
    if path.exists():
        key = path.read_text().strip()
        if key:
            return key
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    path.touch(mode=0o600)
    path.write_text(key + "\n")
    return key


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves bind: connections in TIME_WAIT do not count.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@dataclass
class Cluster:
    """Start, stop, kill and restart the instances and the proxy described by ``settings``."""

    settings: ClusterSettings
    instances: list[ChildProcess] = field(default_factory=list, init=False)
    proxy: ChildProcess | None = field(default=None, init=False)
    certificate: CertificateFiles | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.instances = [self._instance_process(index) for index in range(1, self.settings.instances + 1)]

    # --- what callers read -------------------------------------------------------
    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.settings.https_port}"

    @property
    def directory(self) -> Path:
        return self.settings.directory

    @property
    def instance_names(self) -> list[str]:
        return [instance_name(index) for index in range(1, self.settings.instances + 1)]

    @property
    def logs(self) -> Path:
        return self.directory / "logs"

    def environment(self) -> dict[str, str]:
        """What every instance runs with: production-like, but for 127.0.0.1 and localhost only."""
        environment = dict(self.settings.environment)
        environment.update(
            DEBUG="0",
            SECRET_KEY=self.settings.secret_key,
            REDIS_URL=self.settings.redis_url,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            CSRF_TRUSTED_ORIGINS=",".join(self.settings.origins),
            SECURE_SSL_REDIRECT="1",
            # HSTS on "localhost" would make a real browser insist on https for every
            # local port it ever visits again; the proxy still redirects and sets Secure cookies.
            SECURE_HSTS_SECONDS="0",
            PYTHONUNBUFFERED="1",
        )
        if self.settings.database_url:
            environment["DATABASE_URL"] = self.settings.database_url
        if self.settings.var_directory:
            environment["SESSIONDEMO_VAR_DIR"] = str(self.settings.var_directory)
        environment.pop("WEBSITE_INSTANCE_ID", None)
        return environment

    # --- the whole cluster -------------------------------------------------------
    def start(self, announce=print) -> Cluster:
        """Check the ports, write the proxy's files, migrate, start everything, wait until it answers."""
        binary = nginx.nginx_binary()  # first: without nginx nothing else is worth doing
        self._check_ports_free()
        layout = self._prepare_proxy(binary)
        try:
            announce("Migrating the database ...")
            self.migrate()
            announce(
                f"Starting {len(self.instances)} gunicorn instance(s) on ports "
                f"{self.settings.instance_ports[0]}-{self.settings.instance_ports[-1]} ..."
            )
            for instance in self.instances:
                instance.start()
            for index in range(1, len(self.instances) + 1):
                self.wait_until_instance_ready(index)
            announce(f"Starting nginx on port {self.settings.https_port} ...")
            self.proxy = ChildProcess(
                name="nginx",
                command=nginx.command(binary, layout),
                environment=self.environment(),
                log_file=self.logs / "nginx.out",
                working_directory=self.directory,
                # nginx: SIGQUIT finishes requests in flight, SIGTERM drops them.
                stop_signal=signal.SIGQUIT,
            )
            self.proxy.start()
            self.wait_until_proxy_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def plan(self) -> str:
        """What start() would run and write, as text; nothing is started or written."""
        layout = self._proxy_layout(CertificateFiles(self.directory / "tls"))
        lines = [f"manage.py migrate --noinput  (DATABASE_URL={self.environment().get('DATABASE_URL', 'the default')})"]
        lines += [f"{instance.name}: {' '.join(instance.command)}" for instance in self.instances]
        lines += [
            f"nginx: {' '.join(nginx.command(nginx.nginx_binary(), layout))}",
            "",
            f"{layout.config_file}:",
            nginx.render_config(layout),
        ]
        return "\n".join(lines)

    def stop(self) -> None:
        """Stop the proxy, then every instance; kill whatever outlives the grace period."""
        if self.proxy is not None:
            self.proxy.stop(timeout=STOP_TIMEOUT_SECONDS)
        for instance in self.instances:
            instance.request_stop()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for instance in self.instances:
            instance.wait_stopped(deadline)

    def __enter__(self) -> Cluster:
        return self.start(announce=lambda message: None)

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def migrate(self) -> None:
        """Run ``manage.py migrate`` once, with the instances' environment, before any instance starts."""
        result = subprocess.run(
            [self.settings.python, "manage.py", "migrate", "--noinput", "--verbosity", "0"],
            cwd=self.settings.project_directory,
            env=self.environment(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise ClusterError(f"manage.py migrate failed, so no instance was started:\n{result.stderr[-3000:]}")

    def serve_until_stopped(self, on_exit=print, poll_seconds: float = 0.5) -> None:
        """Block until SIGINT, SIGTERM or SIGHUP (or the proxy dies); the caller then calls stop()."""
        stop_requested = threading.Event()

        def request_stop(signum: int, frame: FrameType | None) -> None:
            stop_requested.set()

        previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
        reported: set[str] = set()
        try:
            while not stop_requested.wait(poll_seconds):
                if self.proxy is not None and not self.proxy.running:
                    raise ClusterError(f"nginx exited (code {self.proxy.exit_code}):\n{self.proxy.log_tail()}")
                for instance in self.instances:
                    if not instance.running and instance.name not in reported:
                        reported.add(instance.name)
                        on_exit(
                            f"{instance.name} exited (code {instance.exit_code}); the others keep serving. "
                            f"Its log: {instance.log_file}"
                        )
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    # --- one instance ------------------------------------------------------------
    def kill_instance(self, index: int) -> None:
        """SIGKILL instance ``index`` (1-based) and its workers: a crash, not a shutdown."""
        self._instance(index).kill()

    def stop_instance(self, index: int) -> None:
        self._instance(index).stop(timeout=STOP_TIMEOUT_SECONDS)

    def restart_instance(self, index: int) -> None:
        instance = self._instance(index)
        instance.stop(timeout=STOP_TIMEOUT_SECONDS)
        instance.start()
        self.wait_until_instance_ready(index)

    def instance_running(self, index: int) -> bool:
        return self._instance(index).running

    def wait_until_instance_ready(self, index: int, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        instance = self._instance(index)
        port = self.settings.instance_ports[index - 1]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not instance.running:
                raise ClusterError(
                    f"{instance.name} exited with code {instance.exit_code} while starting; "
                    f"the end of {instance.log_file}:\n{instance.log_tail()}"
                )
            if _answers(http.client.HTTPConnection("127.0.0.1", port, timeout=2)):
                return
            time.sleep(0.1)
        raise ClusterError(
            f"{instance.name} did not answer /healthz on 127.0.0.1:{port} within {timeout:g} s; "
            f"the end of {instance.log_file}:\n{instance.log_tail()}"
        )

    def wait_until_proxy_ready(self, timeout: float = 15.0) -> None:
        context = ssl.create_default_context(cafile=str(self.certificate.authority))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proxy is None or not self.proxy.running:
                code = self.proxy.exit_code if self.proxy else None
                raise ClusterError(
                    f"nginx exited with code {code} while starting:\n{self.proxy.log_tail() if self.proxy else ''}"
                )
            connection = http.client.HTTPSConnection("127.0.0.1", self.settings.https_port, timeout=2, context=context)
            if _answers(connection):
                return
            time.sleep(0.1)
        raise ClusterError(f"nginx did not answer on {self.url} within {timeout:g} s; see {self.logs}.")

    # --- helpers -----------------------------------------------------------------
    def _instance(self, index: int) -> ChildProcess:
        if not 1 <= index <= len(self.instances):
            raise ClusterError(f"There is no instance {index}; this cluster has instances 1 to {len(self.instances)}.")
        return self.instances[index - 1]

    def _instance_process(self, index: int) -> ChildProcess:
        port = self.settings.instance_ports[index - 1]
        command = [
            self.settings.python,
            "-m",
            "gunicorn",
            "sessiondemo.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(self.settings.workers),
            # App Service's startup command names the same configuration file and timeout.
            "--config",
            str(self.settings.project_directory / "gunicorn.conf.py"),
            "--timeout",
            "60",
            "--graceful-timeout",
            "5",
            "--forwarded-allow-ips",
            "127.0.0.1",
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
        ]
        return ChildProcess(
            name=instance_name(index),
            command=command,
            environment={**self.environment(), "WEBSITE_INSTANCE_ID": instance_name(index)},
            log_file=self.logs / f"{instance_name(index)}.log",
            working_directory=self.settings.project_directory,
        )

    def _check_ports_free(self) -> None:
        taken = [port for port in (self.settings.https_port, *self.settings.instance_ports) if not port_is_free(port)]
        if taken:
            raise ClusterError(
                f"Port(s) {', '.join(map(str, taken))} on 127.0.0.1 are in use (another runcluster?). "
                "Stop whatever holds them, or choose others with --port and --base-port."
            )

    def _proxy_layout(self, certificate: CertificateFiles) -> nginx.ProxyLayout:
        return nginx.ProxyLayout(
            directory=self.directory,
            https_port=self.settings.https_port,
            upstream_ports=self.settings.instance_ports,
            certificate=certificate,
        )

    def _prepare_proxy(self, binary: str) -> nginx.ProxyLayout:
        self.certificate = ensure_certificate(self.directory / "tls")
        layout = self._proxy_layout(self.certificate)
        nginx.write_config(layout)
        result = subprocess.run(nginx.check_command(binary, layout), capture_output=True, text=True, timeout=30)
        if result.returncode != 0:
            raise ClusterError(f"nginx rejected the configuration in {layout.config_file}:\n{result.stderr}")
        return layout


def _answers(connection: http.client.HTTPConnection) -> bool:
    """True when GET /healthz answers 200 on ``connection``."""
    try:
        connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        return connection.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        connection.close()
