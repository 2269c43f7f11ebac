"""A load generator that speaks just enough MQTT 5 to publish fast: PUBLISH packets (QoS 1)
are encoded ahead and written to the socket in large chunks, and PUBACKs are counted by a
reader thread. It stands in for a crowd of devices in `canyu bench telemetry`, so that the
benchmark measures the broker and the ingest, not a Python client's cost per message."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterable


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack("!H", len(raw)) + raw


def connect_packet(client_id: str, username: str, password: str) -> bytes:
    flags = 0x80 | 0x40 | 0x02  # username, password, clean start
    body = _string("MQTT") + bytes([5, flags]) + struct.pack("!H", 60) + b"\x00"
    body += _string(client_id) + _string(username) + _string(password)
    return b"\x10" + _varint(len(body)) + body


def publish_packet(topic: str, payload: bytes, packet_id: int) -> bytes:
    body = _string(topic) + struct.pack("!H", packet_id) + b"\x00" + payload
    return b"\x32" + _varint(len(body)) + body


class Publisher:
    """One connection publishing QoS 1 messages, at most ``window`` unacknowledged at a time."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        client_id: str,
        username: str,
        password: str,
        window: int = 20_000,
    ) -> None:
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(connect_packet(client_id, username, password))
        header = self._read_exact(2)
        if header[0] != 0x20:
            raise ConnectionError(f"expected CONNACK, got {header!r}")
        rest = self._read_exact(header[1])
        if rest[1] != 0:
            raise ConnectionError(f"the broker refused the load generator (reason {rest[1]})")
        self.window = window
        self.sent = 0
        self.acked = 0
        self._acked = threading.Condition()
        self._reader = threading.Thread(target=self._read_acks, daemon=True)
        self._reader.start()

    def _read_exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            data += chunk
        return data

    def _read_acks(self) -> None:
        buffer = b""
        try:
            while True:
                chunk = self.sock.recv(1 << 16)
                if not chunk:
                    return
                buffer += chunk
                acks, at = 0, 0
                while len(buffer) - at >= 2:
                    kind = buffer[at] >> 4
                    length, shift, i = 0, 0, at + 1
                    while i < len(buffer):
                        length |= (buffer[i] & 0x7F) << shift
                        shift += 7
                        i += 1
                        if not buffer[i - 1] & 0x80:
                            break
                    else:
                        break
                    if i + length > len(buffer):
                        break
                    acks += kind == 4
                    at = i + length
                buffer = buffer[at:]
                if acks:
                    with self._acked:
                        self.acked += acks
                        self._acked.notify_all()
        except OSError:
            return

    def publish(self, messages: Iterable[tuple[str, bytes]], chunk: int = 2000) -> None:
        pending: list[bytes] = []
        for topic, payload in messages:
            self.sent += 1
            pending.append(publish_packet(topic, payload, (self.sent - 1) % 65535 + 1))
            if len(pending) >= chunk:
                self._send(pending)
                pending = []
        if pending:
            self._send(pending)

    def _send(self, packets: list[bytes]) -> None:
        with self._acked:
            self._acked.wait_for(lambda: self.sent - self.acked <= self.window, timeout=60)
        self.sock.sendall(b"".join(packets))

    def wait_acked(self, timeout: float = 60) -> bool:
        deadline = time.monotonic() + timeout
        with self._acked:
            return self._acked.wait_for(
                lambda: self.acked >= self.sent, timeout=max(0.0, deadline - time.monotonic())
            )

    def close(self) -> None:
        try:
            self.sock.sendall(b"\xe0\x00")  # DISCONNECT
        finally:
            self.sock.close()
