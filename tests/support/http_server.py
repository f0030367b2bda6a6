"""A real HTTP server on 127.0.0.1 for download tests (no other address is contacted).

``LocalHTTPServer(root)`` serves the files under ``root``; extra routes can
serve bytes from memory (``add(path, data, content_type, headers=...)``), a
deliberately truncated body (``add_truncated``), a given status
(``add_status``), a gzip-encoded body (``add_gzip``), a redirect
(``add_redirect``), a body dripped slowly (``add_drip``, also in the
headers) or an endless stream without Content-Length (``add_endless``).
"""

from __future__ import annotations

import gzip
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class LocalHTTPServer:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else None
        self.routes: dict[str, object] = {}
        self.hits: list[str] = []
        self.stopped = threading.Event()
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, directory=str(server.root or "."), **kwargs)

            def log_message(self, *args):  # keep test output quiet
                pass

            def do_GET(self):  # noqa: N802 - http.server API
                path = self.path.split("?", 1)[0]
                server.hits.append(self.path)
                if path in server.routes:
                    try:
                        server.routes[path](self)
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = (
                            True  # the client hung up (refused or cut the transfer)
                        )
                    return
                if server.root is None:
                    self.send_error(404)
                    return
                super().do_GET()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(
        self,
        path: str,
        data: bytes,
        content_type: str = "application/octet-stream",
        status: int = 200,
        headers: dict[str, str] | None = None,
        announced: int | None = None,
    ):
        """Serve ``data``; ``announced`` replaces the true Content-Length (then the connection is closed)."""

        def route(handler):
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header(
                "Content-Length", str(announced if announced is not None else len(data))
            )
            for name, value in (headers or {}).items():
                handler.send_header(name, value)
            handler.end_headers()
            handler.wfile.write(data)
            handler.wfile.flush()
            if announced is not None:
                handler.close_connection = True

        self.routes[path] = route

    def add_truncated(self, path: str, data: bytes, announced: int):
        """Serve ``data`` but announce ``announced`` bytes (a connection cut mid-file)."""
        self.add(path, data, announced=announced)

    def add_status(self, path: str, status: int):
        self.add(path, b"", "text/plain", status=status)

    def add_gzip(self, path: str, data: bytes, content_type: str = "application/octet-stream"):
        """Serve ``data`` gzip-compressed with ``Content-Encoding: gzip`` (Content-Length is the compressed size)."""
        self.add(path, gzip.compress(data), content_type, headers={"Content-Encoding": "gzip"})

    def add_redirect(self, path: str, location: str, status: int = 302, endless_body: bool = False):
        """Redirect to ``location``; ``endless_body``: the redirect itself streams zeros until the client hangs up."""

        def route(handler):
            handler.send_response(status)
            handler.send_header("Location", location)
            if not endless_body:
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.end_headers()
            handler.close_connection = True
            while not self.stopped.is_set():
                handler.wfile.write(b"\0" * 65536)

        self.routes[path] = route

    def add_drip(self, path: str, data: bytes, interval: float = 1.0, in_headers: bool = False):
        """Send ``data`` one byte every ``interval`` seconds (Content-Length announced), or drip a header line."""

        def route(handler):
            handler.send_response(200)
            if in_headers:
                handler.flush_headers()
                for byte in b"X-Slow: " + data + b"\r\n":
                    if self.stopped.wait(interval):
                        return
                    handler.wfile.write(bytes([byte]))
                    handler.wfile.flush()
                handler.send_header("Content-Length", "0")
                handler.end_headers()
                return
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.flush()
            for byte in data:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                if self.stopped.wait(interval):
                    return

        self.routes[path] = route

    def add_endless(self, path: str, chunk: bytes = b"0" * 65536, limit: int = 1 << 30):
        """Stream ``chunk`` again and again without Content-Length, up to ``limit`` bytes or a client hang-up."""

        def route(handler):
            handler.send_response(200)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.end_headers()
            handler.close_connection = True
            sent = 0
            while sent < limit and not self.stopped.is_set():
                handler.wfile.write(chunk)
                sent += len(chunk)

        self.routes[path] = route

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.httpd.shutdown()
        self.httpd.server_close()
