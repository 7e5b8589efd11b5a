"""nginx as the cluster's front end: find the operating system's binary and write its configuration.

The configuration keeps every file nginx touches (pid, logs, temporary bodies) under
the cluster's directory, so nginx runs as an ordinary user and as root alike, and it
runs in the foreground (``daemon off``) as a child the supervisor can stop.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from devtools.scaleout.certificates import CertificateFiles

# Debian installs nginx in /usr/sbin, which an ordinary user's PATH often lacks.
SEARCH_PATHS = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")


class NginxNotInstalled(RuntimeError):
    """No nginx binary was found."""

    def __init__(self) -> None:
        super().__init__(
            "nginx is not installed, and runcluster needs it as the TLS-terminating proxy. "
            "Install it from the operating system's packages (on Debian or Ubuntu: "
            "sudo apt-get install nginx; on macOS: brew install nginx) and run the command again."
        )


def nginx_binary() -> str:
    """The path of the operating system's nginx, or NginxNotInstalled."""
    found = shutil.which("nginx")
    if found:
        return found
    for candidate in SEARCH_PATHS:
        if Path(candidate).is_file():
            return candidate
    raise NginxNotInstalled()


@dataclass(frozen=True)
class ProxyLayout:
    """What nginx needs to know: where it listens, whom it forwards to, where its files go."""

    directory: Path
    https_port: int
    upstream_ports: tuple[int, ...]
    certificate: CertificateFiles
    # A refused connection fails over at once; an instance that hangs gets this long.
    connect_timeout_seconds: float = 1.0
    read_timeout_seconds: float = 30.0

    @property
    def config_file(self) -> Path:
        return self.directory / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.directory / "nginx.pid"

    @property
    def error_log(self) -> Path:
        return self.directory / "logs" / "nginx-error.log"

    @property
    def access_log(self) -> Path:
        return self.directory / "logs" / "nginx-access.log"

    @property
    def temp_directory(self) -> Path:
        return self.directory / "nginx-temp"


def render_config(layout: ProxyLayout) -> str:
    """The text of nginx.conf for ``layout``."""
    servers = "\n".join(
        # max_fails/fail_timeout: after a refused connection the instance is skipped for a
        # couple of seconds, instead of costing every request a failed connect.
        f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;"
        for port in layout.upstream_ports
    )
    temp = layout.temp_directory
    return f"""# Written by sessiondemo's runcluster; rewritten at every start.
daemon off;
worker_processes 1;
pid {layout.pid_file};
error_log {layout.error_log} warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log {layout.access_log};
    client_body_temp_path {temp / "client_body"};
    proxy_temp_path {temp / "proxy"};
    fastcgi_temp_path {temp / "fastcgi"};
    uwsgi_temp_path {temp / "uwsgi"};
    scgi_temp_path {temp / "scgi"};
    server_tokens off;
    # Bodies and responses stay in memory: run as root, nginx's workers are "nobody"
    # and could not write to the temporary directories created under var/.
    client_max_body_size 1m;
    client_body_buffer_size 1m;
    proxy_max_temp_file_size 0;

    # Round robin, no stickiness: any instance may serve any request. No upstream
    # keepalive either, so a killed instance shows up as a refused connection (retried
    # on the next instance, even for a POST, since nothing was sent) and never as a
    # dead pooled connection (which nginx may not retry for a POST).
    upstream sessiondemo_instances {{
{servers}
    }}

    server {{
        listen 127.0.0.1:{layout.https_port} ssl;
        server_name localhost 127.0.0.1;

        ssl_certificate {layout.certificate.certificate};
        ssl_certificate_key {layout.certificate.private_key};
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache shared:sessiondemo_tls:1m;

        location / {{
            proxy_pass http://sessiondemo_instances;
            # What App Service's front end tells the app about the original request. The
            # port stays in Host, so the URLs Django builds point back at this proxy.
            proxy_set_header Host $host:$server_port;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_connect_timeout {layout.connect_timeout_seconds:g}s;
            proxy_read_timeout {layout.read_timeout_seconds:g}s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries {len(layout.upstream_ports)};
            proxy_next_upstream_timeout 10s;
        }}
    }}
}}
"""


def write_config(layout: ProxyLayout) -> Path:
    """Write nginx.conf and create the directories it names; return the file's path."""
    layout.directory.mkdir(parents=True, exist_ok=True)
    layout.error_log.parent.mkdir(parents=True, exist_ok=True)
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (layout.temp_directory / name).mkdir(parents=True, exist_ok=True)
    layout.config_file.write_text(render_config(layout))
    return layout.config_file


def command(binary: str, layout: ProxyLayout) -> list[str]:
    """The command line that runs nginx in the foreground on ``layout``'s configuration."""
    # -e: nginx opens its error log before it reads the configuration; the default
    # (/var/log/nginx/error.log) is not writable by an ordinary user.
    return [binary, "-p", str(layout.directory), "-c", str(layout.config_file), "-e", str(layout.error_log)]


def check_command(binary: str, layout: ProxyLayout) -> list[str]:
    return [*command(binary, layout), "-t", "-q"]
