"""A misbehaving node for the hub's tests: `python fake_node.py MODE PORT`.

MODE: garbage (200 with HTML), wrong_shape (200 with JSON that is not the node protocol),
slow (answers after 30 s), hangup (closes the connection without answering), error (500).
GET /health answers 200 in every mode, so the test knows the process is up.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    mode = "garbage"

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._send(200, b'{"status": "ok"}')

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.mode == "garbage":
            self._send(200, b"<html>Service Unavailable</html>", "text/html")
        elif self.mode == "wrong_shape":
            self._send(200, json.dumps({"count": "many", "status": "answered"}).encode())
        elif self.mode == "slow":
            time.sleep(30)
            self._send(200, b"{}")
        elif self.mode == "hangup":
            self.connection.close()
        else:
            self._send(500, b"Internal Server Error", "text/plain")


if __name__ == "__main__":
    Handler.mode = sys.argv[1]
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
