"""A stand-in SMS gateway for the compose stack: takes what gateway/sms.py sends.

``POST /v1/messages`` with ``{"phone", "code", "template"}`` and ``Authorization: Bearer
<key>`` (the sms_key secret): a wrong key is 401, a malformed message 422, a good one 202
and a line on this container's output with the code and the phone masked, so that sign-in
can be tried on a local stack (``docker compose logs sms-sink``). Point ONESTOP_SMS_URL at
a real SMS gateway (and put its key in the sms_key secret) to send real messages.

Standard library only: it runs on the plain Python base image.
"""

from __future__ import annotations

import hmac
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def load_key() -> str:
    return Path(os.environ.get("SMS_KEY_FILE", "/run/secrets/sms_key")).read_text().strip()


class SmsSink(BaseHTTPRequestHandler):
    key = ""

    def do_POST(self) -> None:
        if self.path != "/v1/messages":
            self._answer(404, {"error": "not found"})
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.key}".encode()):
            self._answer(401, {"error": "bad key"})
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            message = json.loads(self.rfile.read(min(length, 4096)))
            phone, code = str(message["phone"]), str(message["code"])
            template = str(message["template"])
        except (ValueError, KeyError, TypeError):
            self._answer(422, {"error": "expected {phone, code, template}"})
            return
        masked = phone[:3] + "****" + phone[-4:]
        print(f"SMS {template} to {masked}: {code}", flush=True)
        self._answer(202, {"accepted": True})

    def _answer(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        return None  # the request line is enough noise; messages are printed above


def main() -> None:
    SmsSink.key = load_key()
    host = os.environ.get("SMS_SINK_HOST", "0.0.0.0")  # noqa: S104 - a container's port
    port = int(os.environ.get("SMS_SINK_PORT", "8025"))
    server = ThreadingHTTPServer((host, port), SmsSink)
    print(f"SMS sink listening on {host}:{port}", file=sys.stderr, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
