"""`canyu device wifi connect` asks a captive hotspot's RFC 8908 Captive Portal API, served
over HTTPS by a real server on this machine (a certificate made for the test)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from typer.testing import CliRunner

from canyu.cli import app
from canyu.client.wifi import regions_around
from canyu.hotspots import pack

runner = CliRunner()
LAT, LON = 31.2304, 121.4737


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (its own issuer) and its key, as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "portal.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


class Portal(BaseHTTPRequestHandler):
    """``/api/<state>``: the RFC 8908 answer for that state; records the Accept header."""

    answers: ClassVar[dict[str, tuple[str, bytes]]] = {
        "held": (
            "application/captive+json",
            json.dumps(
                {"captive": True, "user-portal-url": "https://portal.example/login"}
            ).encode(),
        ),
        "through": (
            "application/captive+json",
            json.dumps(
                {
                    "captive": False,
                    "user-portal-url": "https://portal.example/login",
                    "seconds-remaining": 1830,
                    "can-extend-session": True,
                }
            ).encode(),
        ),
        "html": ("text/html", b"<html>login</html>"),
    }
    accepts: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.accepts.append(self.headers.get("Accept", ""))
        kind, body = self.answers[self.path.rsplit("/", 1)[-1]]
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def portal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    cert_file, key_file = self_signed(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), Portal)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # the phone trusts the test's portal
    Portal.accepts.clear()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def packed(home: Path, portal_apis: dict[int, str]) -> list[str]:
    records = [
        pack.Record(
            hotspot_id,
            LAT + hotspot_id / 10_000,
            LON,
            f"Mall {hotspot_id}",
            kind=pack.Kind.CAPTIVE,
            extras={pack.Extra.PORTAL_URL: "https://portal.example/", pack.Extra.PORTAL_API: api},
        )
        for hotspot_id, api in portal_apis.items()
    ]
    region = regions_around(LAT, LON)[0]
    target = home / "hotspots" / region / "pack.cyw"
    target.parent.mkdir(parents=True)
    target.write_bytes(pack.encode(region, 1, 0, records))
    return ["--home", str(home)]


def test_connect_asks_the_captive_portal_api_and_says_what_to_do(
    portal: str, tmp_path: Path
) -> None:
    home = packed(
        tmp_path / "phone",
        {
            1: f"{portal}/api/held",
            2: f"{portal}/api/through",
            3: f"{portal}/api/html",
            4: "http://127.0.0.1:9/api/held",
        },
    )
    held = runner.invoke(app, ["device", "wifi", "connect", "1", *home])
    assert held.exit_code == 0, held.output
    assert f'"portal_api": "{portal}/api/held"' in held.stdout
    assert "sign in at https://portal.example/login" in held.stdout
    assert Portal.accepts == ["application/captive+json"]

    through = runner.invoke(app, ["device", "wifi", "connect", "2", *home])
    assert through.exit_code == 0, through.output
    assert "Online: the portal lets this phone through (30 min left" in through.stdout
    assert "extend at https://portal.example/login" in through.stdout

    # A login page instead of the API's JSON, or an API over plain HTTP: the artefact still
    # prints, with the reason and the portal page to open.
    for hotspot, reason in (("3", "not application/captive+json"), ("4", "must be HTTPS")):
        answer = runner.invoke(app, ["device", "wifi", "connect", hotspot, *home])
        assert answer.exit_code == 0, answer.output
        assert reason in answer.output
        assert "open https://portal.example/ to sign in" in answer.output
