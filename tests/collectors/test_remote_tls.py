"""Tests that remote sources load their CA bundle at their first TLS connection, not before,
and still check certificates: a real https server on 127.0.0.1 with a certificate of its own."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import certifi
import pytest

import collectors.remote_loop as remote_loop
from collectors.http_check import HttpCheckCollector
from tests.engine.test_tls import make_certificate

ROOT = Path(__file__).resolve().parents[2]


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def https(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """An https server on 127.0.0.1 with a self-signed certificate for ``localhost``; yields
    its URL and the certificate."""
    cert, key = make_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://localhost:{server.server_address[1]}/", cert
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def fresh_context(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test builds the process's context anew (the shared clients keep theirs)."""
    monkeypatch.setattr(remote_loop, "_SSL", None)
    yield


def status(url: str) -> tuple[str, str]:
    """Check ``url`` once with a real HTTP check: its status and its error line."""
    check = HttpCheckCollector("tls", url, timeout=5.0)
    try:
        texts = {r.key.rsplit("/", 1)[1]: r.text or "" for r in check.poll().readings}
    finally:
        check.close()
    return texts["status"], texts.get("error", "")


def test_an_http_only_monitor_never_loads_the_ca_bundle() -> None:
    code = """
from collectors.remote_loop import new_client, ssl_context
client = new_client(1.0)
print(ssl_context().cert_store_stats()["x509_ca"])
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    assert out.stdout.split() == ["0"]


def test_the_bundle_loads_at_the_first_https_check_and_a_stranger_is_refused(
    https: tuple[str, Path], fresh_context: None
) -> None:
    url, _ = https
    assert remote_loop.ssl_context().cert_store_stats()["x509_ca"] == 0
    state, error = status(url)
    assert state == "down" and "CERTIFICATE_VERIFY_FAILED" in error
    assert remote_loop.ssl_context().cert_store_stats()["x509_ca"] > 100


def test_a_certificate_the_bundle_trusts_is_up(
    https: tuple[str, Path], fresh_context: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, cert = https
    monkeypatch.setattr(certifi, "where", lambda: str(cert))
    context = remote_loop.ssl_context()
    assert isinstance(context, remote_loop.CertificatesAtFirstUse)
    assert context.cert_store_stats()["x509_ca"] == 0
    assert status(url) == ("up", "")
    assert context.cert_store_stats()["x509_ca"] == 1  # certifi's bundle, as the test made it
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
