"""A stand-in Learning Record Store for the xAPI push: a tiny HTTP server on a free port that
takes statements as an LRS does (POST a batch, PUT one by id), checks the basic auth and the
`X-Experience-API-Version` header, parses each statement with ADL's `tincan`, and keeps them
by id. It can be in an outage: answering 503, or down altogether (its port closed), and back.

    lrs = StandInLrs(user="lrs", password="secret").start()
    lrs.answer_503(2)  # the next two batches get 503
    lrs.stop() / lrs.start()  # down, and up again on the same port
"""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import tincan

from tests.support.system import free_port


class StandInLrs:
    def __init__(self, user: str = "lrs", password: str = "secret"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/xapi"
        self.auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
        self.statements: dict[str, dict] = {}     # id -> the statement as first taken
        self.taken: list[str] = []                # every id taken, in order (a repeat twice)
        self.answers: list[int] = []              # every status answered, in order
        self.unavailable = 0                      # batches still to answer with 503
        self.lock = threading.Lock()
        self.server = None

    # -- control -------------------------------------------------------------------------

    def start(self) -> "StandInLrs":
        lrs = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                lrs._handle(self, "POST")

            def do_PUT(self):
                lrs._handle(self, "PUT")

            def log_message(self, *args):
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Down: the port closed, so a client's connection is refused."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def answer_503(self, batches: int) -> None:
        with self.lock:
            self.unavailable = batches

    # -- the LRS ---------------------------------------------------------------------------

    def _handle(self, request, method: str) -> None:
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        status, answer = self._take(request, method, body)
        with self.lock:
            self.answers.append(status)
        payload = json.dumps(answer).encode() if answer is not None else b""
        request.send_response(status)
        request.send_header("X-Experience-API-Version", "1.0.3")
        request.send_header("Content-Type", "application/json")
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        request.wfile.write(payload)

    def _take(self, request, method: str, body: bytes):
        if request.headers.get("Authorization") != self.auth:
            return 401, {"error": "unauthorised"}
        if request.headers.get("X-Experience-API-Version") != "1.0.3":
            return 400, {"error": "X-Experience-API-Version 1.0.3 expected"}
        url = urlparse(request.path)
        if url.path != "/xapi/statements":
            return 404, {"error": "no such resource"}
        with self.lock:
            if self.unavailable:
                self.unavailable -= 1
                return 503, {"error": "down for maintenance"}
        try:
            data = json.loads(body)
            batch = data if isinstance(data, list) else [data]
            for statement in batch:
                tincan.Statement.from_json(json.dumps(statement))
        except Exception as exc:  # noqa: BLE001 - a bad statement is the client's fault
            return 400, {"error": str(exc)}
        if method == "PUT":
            wanted = parse_qs(url.query).get("statementId", [None])[0]
            if wanted != batch[0].get("id"):
                return 400, {"error": "statementId does not match the statement's id"}
        with self.lock:
            conflicts = [s["id"] for s in batch
                         if s["id"] in self.statements and self.statements[s["id"]] != s]
            if conflicts:
                return 409, {"error": f"other statements hold ids {conflicts}"}
            for statement in batch:
                if statement["id"] not in self.statements:
                    self.statements[statement["id"]] = statement
                self.taken.append(statement["id"])
        return (204, None) if method == "PUT" else (200, [s["id"] for s in batch])
