"""The cluster's parts on their own: the certificate, nginx's configuration, the load test's figures."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import subprocess

import pytest
from cryptography import x509

from devtools.scaleout import nginx
from devtools.scaleout.certificates import ensure_certificate
from devtools.scaleout.cluster import Cluster, ClusterError, ClusterSettings
from devtools.scaleout.loadtest import read_locust_stats


def test_the_certificate_names_localhost_and_127_0_0_1_and_chains_to_the_local_ca(tmp_path):
    files = ensure_certificate(tmp_path)
    server = x509.load_pem_x509_certificates(files.certificate.read_bytes())[0]
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    context = ssl.create_default_context(cafile=str(files.authority))
    context.load_cert_chain(files.certificate, files.private_key)  # the key matches the certificate
    assert files.private_key.stat().st_mode & 0o077 == 0


def test_a_valid_certificate_is_kept_across_starts(tmp_path):
    first = ensure_certificate(tmp_path).certificate.read_bytes()
    assert ensure_certificate(tmp_path).certificate.read_bytes() == first


def layout(tmp_path, ports=(8001, 8002, 8003)):
    return nginx.ProxyLayout(
        directory=tmp_path, https_port=8443, upstream_ports=ports, certificate=ensure_certificate(tmp_path / "tls")
    )


def test_nginx_balances_round_robin_over_every_instance_and_fails_over_on_refused_connections(tmp_path):
    config = nginx.render_config(layout(tmp_path))
    for port in (8001, 8002, 8003):
        assert f"server 127.0.0.1:{port} " in config
    assert "ip_hash" not in config and "hash " not in config and "sticky" not in config
    assert "listen 127.0.0.1:8443 ssl;" in config
    assert "proxy_next_upstream error timeout;" in config
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in config
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in config
    assert "daemon off;" in config


def test_nginx_accepts_the_configuration_it_is_given(tmp_path):
    try:
        binary = nginx.nginx_binary()
    except nginx.NginxNotInstalled:
        pytest.skip("nginx is not installed; apt-get install nginx")
    proxy = layout(tmp_path)
    nginx.write_config(proxy)
    result = subprocess.run(nginx.check_command(binary, proxy), capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


def test_a_cluster_refuses_an_https_port_among_its_instances_ports(tmp_path):
    with pytest.raises(ClusterError, match="falls among the instances' ports"):
        ClusterSettings(
            directory=tmp_path,
            redis_url="redis://127.0.0.1:1/0",
            secret_key="x",
            environment={},
            instances=3,
            https_port=8002,
            base_port=8001,
        )


def test_the_load_test_reads_locusts_aggregated_row(tmp_path):
    stats = tmp_path / "run_stats.csv"
    stats.write_text(
        "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,"
        "Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%\n"
        "GET,/,10,0,5,5,1,9,100,2.0,0,5,6,6,7,8,9,9,9,9,9,9\n"
        ",Aggregated,40,2,12,30,1,900,100,8.5,0.4,12,14,15,16,20,250,600,700,900,900,900\n"
    )
    result = read_locust_stats(stats, instances=3, users=20, run_time="30s")
    assert (result.requests, result.failures, result.p50_ms, result.p95_ms, result.p99_ms) == (40, 2, 12, 250, 700)
    assert result.error_rate == 0.05
    assert result.markdown_row() == "| 3 | 20 | 30s | 40 | 8.5 | 12 | 250 | 700 | 5.00% |"


def test_a_cluster_whose_port_is_taken_says_which_and_starts_nothing(tmp_path):
    try:
        nginx.nginx_binary()
    except nginx.NginxNotInstalled:
        pytest.skip("nginx is not installed; apt-get install nginx")
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        cluster = Cluster(
            ClusterSettings(
                directory=tmp_path,
                redis_url="redis://127.0.0.1:1/0",
                secret_key="x",
                environment={},
                instances=1,
                https_port=taken,
                base_port=taken + 1,
            )
        )
        with pytest.raises(ClusterError, match=f"Port\\(s\\) {taken}"):
            cluster.start(announce=lambda message: None)
    assert not any(tmp_path.iterdir())
