"""Tests that OpenSSL stays out of a monitor that never speaks TLS, and that TLS still works,
in asyncio too, once something asks for it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.daemon_process import ROOT, DaemonProcess

OPENSSL = ("libssl.so", "libcrypto.so")


def run(code: str, *args: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.split()


def test_the_screen_loads_without_openssl() -> None:
    code = """
import sys
from engine.tls import defer_ssl
print(defer_ssl())
import asyncio, textual.app, tui.app
print("ssl" in sys.modules, "_ssl" in sys.modules)
"""
    assert run(code) == ["True", "False", "False"]


def test_asyncio_was_loaded_without_ssl_and_gets_it_when_something_imports_it() -> None:
    code = """
from engine.tls import defer_ssl
defer_ssl()
import asyncio.base_events, asyncio.selector_events, asyncio.sslproto
print(asyncio.base_events.ssl, asyncio.sslproto.ssl, hasattr(asyncio.sslproto, "SSLAgainErrors"))
import ssl
print(asyncio.base_events.ssl is ssl, asyncio.selector_events.ssl is ssl,
      asyncio.sslproto.ssl is ssl, hasattr(asyncio.sslproto, "SSLAgainErrors"),
      ssl.__loader__.__class__.__name__)
"""
    before = ["None", "None", "False"]
    assert run(code) == [*before, "True", "True", "True", "True", "SourceFileLoader"]


def test_defer_changes_nothing_once_asyncio_is_loaded() -> None:
    code = """
import asyncio, sys
from engine.tls import defer_ssl
print(defer_ssl(), "ssl" in sys.modules, len([f for f in sys.meta_path if "Ssl" in repr(f)]))
"""
    assert run(code) == ["False", "True", "0"]


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


# A TLS server and client on asyncio's own streams, in a process whose asyncio was loaded
# with ssl hidden: without the hand-over, asyncio's TLS protocol has no ``ssl`` to use.
ROUND_TRIP = """
import sys
from engine.tls import defer_ssl
assert defer_ssl()
import asyncio
import ssl

async def main(cert, key):
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    async def answer(reader, writer):
        writer.write(b"pong " + await reader.readline())
        await writer.drain()
        writer.close()
    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    client_ctx = ssl.create_default_context(cafile=cert)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=client_ctx, server_hostname="localhost")
    writer.write(b"ping\\n")
    print((await reader.read()).decode().strip().replace(" ", "-"))
    writer.close()
    server.close()

    # An https check as the remote collectors make it: httpx on this loop.
    import http.server, threading, httpx
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
        def log_message(self, *args):
            pass
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = server_ctx.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    async with httpx.AsyncClient(verify=client_ctx) as client:
        got = await client.get(f"https://localhost:{httpd.server_address[1]}/")
    print(got.status_code, got.text)
    httpd.shutdown()

asyncio.run(main(sys.argv[1], sys.argv[2]))
"""


def test_asyncio_speaks_tls_after_ssl_arrives_late(tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path)
    assert run(ROUND_TRIP, str(cert), str(key)) == ["pong-ping", "200", "ok"]


def test_https_clients_loaded_later_get_real_tls() -> None:
    code = """
from engine.tls import defer_ssl
defer_ssl()
import asyncio
import httpcore._models, anyio.streams.tls, paho.mqtt.client as paho, urllib.request
import ssl
print(httpcore._models.ssl is ssl, anyio.streams.tls.ssl is ssl, paho.ssl is ssl,
      hasattr(urllib.request, "HTTPSHandler"))
"""
    assert run(code) == ["True", "True", "True", "True"]


def openssl_mapped(pid: int) -> list[str]:
    with open(f"/proc/{pid}/maps") as f:
        return sorted({line.split()[-1] for line in f if any(lib in line for lib in OPENSSL)})


def test_the_daemon_on_local_sources_never_maps_openssl() -> None:
    # This machine's own readings (the synthetic source would load numpy.random, which loads
    # libcrypto for its seeds).
    config = "[collectors.sensors]\nenabled = false\n[collectors.smart]\nenabled = false\n"
    with DaemonProcess(config) as daemon:
        daemon.start()
        assert daemon.proc is not None
        time.sleep(1.0)  # a few polls and a history save
        assert openssl_mapped(daemon.proc.pid) == []
        assert daemon.stop() == 0
