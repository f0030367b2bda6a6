"""A real HTTP server on 127.0.0.1 for download tests (no other address is contacted).

``LocalHTTPServer(root)`` serves the files under ``root``; extra routes can
serve bytes from memory (``add(path, data, content_type)``), a deliberately
truncated body (``add_truncated``) or a given status (``add_status``).
"""

from __future__ import annotations

import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class LocalHTTPServer:
    def __init__(self, root: Path | None = None):
        self.root = Path(root) if root else None
        self.routes: dict[str, tuple[int, bytes, str, int | None]] = {}
        self.hits: list[str] = []
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
                    status, body, ctype, announced = server.routes[path]
                    self.send_response(status)
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(announced if announced is not None else len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    self.wfile.flush()
                    if announced is not None:
                        self.close_connection = True
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

    def add(self, path: str, data: bytes, content_type: str = "application/octet-stream", status: int = 200):
        self.routes[path] = (status, data, content_type, None)

    def add_truncated(self, path: str, data: bytes, announced: int):
        """Serve ``data`` but announce ``announced`` bytes (a connection cut mid-file)."""
        self.routes[path] = (200, data, "application/octet-stream", announced)

    def add_status(self, path: str, status: int):
        self.routes[path] = (status, b"", "text/plain", None)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
