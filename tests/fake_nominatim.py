"""A Nominatim stand-in on 127.0.0.1 for tests: an http.server thread answering /search the way
Nominatim does (a JSON list of places), or misbehaving as told: slow, silent (a network that
drops packets), trickling, malformed, erroring. Every wait is bounded; `close()` ends them all."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

OSM_LICENCE = "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright"
MAX_HOLD_S = 30.0  # no handler holds a connection longer than this, whatever it was told


def place(lon: float, lat: float, name: str, cls: str = "natural", kind: str = "peak",
          osm: tuple[str, int] = ("node", 1001), extent: float = 0.001) -> dict:
    """One search result shaped like Nominatim's (jsonv2-ish, as geopy asks for format=json)."""
    return {"place_id": 42, "licence": OSM_LICENCE, "osm_type": osm[0], "osm_id": osm[1],
            "lat": f"{lat}", "lon": f"{lon}", "class": cls, "type": kind, "place_rank": 30,
            "importance": 0.3, "addresstype": kind, "name": name, "display_name": name,
            "boundingbox": [f"{lat - extent}", f"{lat + extent}", f"{lon - extent}", f"{lon + extent}"]}


class FakeNominatim:
    """Routes: (substring of the query, behaviour); the first route whose substring is in the query
    answers, else `default`. Behaviours:

        ("json", value)        200, the value as JSON
        ("raw", bytes, status) that body and status, as application/json
        ("slow", seconds, value) wait, then answer the value as JSON
        ("drop",)              read the request, answer nothing until closed (packets dropped)
        ("trickle", seconds)   send the headers and then a byte every `seconds`, never finishing
    """

    def __init__(self, routes=(), default=("json", [])):
        self.routes, self.default = list(routes), default
        self.requests: list[dict] = []
        self._stop = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                url = urlsplit(self.path)
                query = parse_qs(url.query).get("q", [""])[0]
                fake.requests.append({"path": url.path, "q": query, "user_agent": self.headers.get("User-Agent"),
                                      "at": time.monotonic()})
                fake.answer(self, fake.behaviour(query))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def behaviour(self, query: str):
        return next((b for part, b in self.routes if part in query), self.default)

    def answer(self, handler: BaseHTTPRequestHandler, behaviour) -> None:
        kind = behaviour[0]
        try:
            if kind == "drop":
                self._stop.wait(MAX_HOLD_S)
                handler.close_connection = True
                return
            if kind == "trickle":
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", "100000")
                handler.end_headers()
                handler.wfile.write(b"[")
                ends = time.monotonic() + MAX_HOLD_S
                while not self._stop.wait(behaviour[1]) and time.monotonic() < ends:
                    handler.wfile.write(b" ")
                    handler.wfile.flush()
                handler.close_connection = True
                return
            if kind == "slow":
                if self._stop.wait(min(behaviour[1], MAX_HOLD_S)):
                    return
                body, status = json.dumps(behaviour[2]).encode(), 200
            elif kind == "json":
                body, status = json.dumps(behaviour[1], ensure_ascii=False).encode(), 200
            else:
                body, status = behaviour[1], behaviour[2]
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up: as it should
            pass

    def close(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Blackhole:
    """A port on 127.0.0.1 whose listen queue is full and never served: the kernel drops further
    connection attempts (SYNs), so a client hangs in connect() as on a network dropping packets."""

    def __init__(self):
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(0)
        self.fillers = []
        for _ in range(3):  # fill the (0-length, so 1-2 place) accept queue
            filler = socket.socket()
            filler.setblocking(False)
            try:
                filler.connect(self.listener.getsockname())
            except BlockingIOError:
                pass
            self.fillers.append(filler)
        time.sleep(0.1)

    @property
    def url(self) -> str:
        host, port = self.listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        for sock in (*self.fillers, self.listener):
            sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
