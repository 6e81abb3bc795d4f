"""A push service on 127.0.0.1 for the tests: it checks each request as a real one would (the
VAPID JWT's ES256 signature, `aud`, `exp` at most 24 hours ahead; TTL; aes128gcm) and decrypts
the body with the subscription's private key (RFC 8291), so tests read what a phone would."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Phone:
    """A browser's push subscription: its own key pair and auth secret."""

    endpoint: str
    private: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def public(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)

    def subscription(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64(self.public), "auth": b64(self.auth)}}

    def decrypt(self, body: bytes) -> bytes:
        salt, record_size, id_length = body[:16], int.from_bytes(body[16:20], "big"), body[20]
        server_public = body[21:21 + id_length]
        ciphertext = body[21 + id_length:]
        assert record_size >= len(ciphertext) and id_length == 65
        secret = self.private.exchange(ec.ECDH(), ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), server_public))
        ikm = HKDF(hashes.SHA256(), 32, self.auth, b"WebPush: info\x00" + self.public + server_public).derive(secret)
        key = HKDF(hashes.SHA256(), 16, salt, b"Content-Encoding: aes128gcm\x00").derive(ikm)
        nonce = HKDF(hashes.SHA256(), 12, salt, b"Content-Encoding: nonce\x00").derive(ikm)
        padded = AESGCM(key).decrypt(nonce, ciphertext, None).rstrip(b"\x00")
        assert padded.endswith(b"\x02"), "the last record ends with the delimiter 0x02"
        return padded[:-1]


@dataclass
class Delivery:
    path: str
    headers: dict
    payload: dict
    claims: dict


class FakePushService:
    def __init__(self, check: bool = True):
        self.check_requests = check  # False: a benchmark's service that only answers 201
        self.phones: dict[str, Phone] = {}
        self.answers: dict[str, list[tuple[int, dict]]] = {}  # path -> scripted answers, then 201
        self.deliveries: list[Delivery] = []
        self.errors: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if not service.check_requests:
                    service.deliveries.append(None)
                    self.send_response(201)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                try:
                    delivery = service.check(self.path, dict(self.headers.items()), body)
                except Exception as error:  # a bad request is a test failure, answered 400
                    service.errors.append(f"{self.path}: {error!r}")
                    self.send_response(400)
                    self.end_headers()
                    return
                scripted = service.answers.get(self.path) or []
                status, headers = scripted.pop(0) if scripted else (201, {})
                if status == 201:
                    service.deliveries.append(delivery)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_GET(self):  # noqa: N802 - how many pushes it took, for a benchmark in another process
                count = str(len(service.deliveries)).encode()
                self.send_response(200)
                self.send_header("content-length", str(len(count)))
                self.end_headers()
                self.wfile.write(count)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # many pushes at once must queue, not be refused

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def phone(self, name: str) -> Phone:
        self.phones[f"/push/{name}"] = phone = Phone(f"{self.base}/push/{name}")
        return phone

    def check(self, path: str, headers: dict, body: bytes) -> Delivery:
        headers = {k.lower(): v for k, v in headers.items()}
        scheme, _, params = headers["authorization"].partition(" ")
        assert scheme == "vapid"
        values = dict(part.strip().split("=", 1) for part in params.split(","))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(values["k"]))
        claims = jwt.decode(values["t"], public, algorithms=["ES256"], audience=self.base)
        assert claims["exp"] <= time.time() + 24 * 3600, "exp more than 24 hours ahead"
        assert claims["sub"].startswith(("mailto:", "https:"))
        assert headers["content-encoding"] == "aes128gcm" and int(headers["ttl"]) >= 0
        assert len(headers.get("topic", "")) <= 32
        payload = json.loads(self.phones[path].decrypt(body))
        return Delivery(path=path, headers=headers, payload=payload, claims=claims)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


if __name__ == "__main__":  # a service in a process of its own, answering 201 to everything
    fake = FakePushService(check=False)
    print(fake.base, flush=True)
    fake.thread.join()
