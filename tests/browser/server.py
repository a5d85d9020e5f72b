"""A static HTTP server for browser tests: serves a built site like production.

Like the nginx config will: `index.html` for directory URLs, `404.html` with
status 404 for anything missing, gzip for text types when the browser asks
for it, and a year of caching for fingerprinted theme files. Listens on
127.0.0.1 on a port the OS picks; `serve()` is a context manager that stops
the server on exit.
"""

from __future__ import annotations

import contextlib
import gzip
import mimetypes
import re
import threading
from collections.abc import Iterator
from functools import partial
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMPRESSIBLE = {".html", ".css", ".js", ".svg", ".xml", ".json", ".txt"}
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
FINGERPRINTED = re.compile(r"\.[0-9a-f]{10}\.\w+$")
GZIP_LEVEL = 6  # nginx's gzip_comp_level is 1 by default; 6 is what most sites use


class StaticHandler(BaseHTTPRequestHandler):
    """GET and HEAD of files under `root`."""

    def __init__(self, *args, root: Path, **kwargs):
        self.root = root
        super().__init__(*args, **kwargs)

    def log_message(self, format, *args):  # quiet: tests print what matters
        pass

    def resolve(self) -> Path | None:
        path = unquote(urlsplit(self.path).path)
        target = (self.root / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.root):
            return None
        if target.is_dir():
            if not path.endswith("/"):
                return target  # redirect below
            target = target / "index.html"
        return target if target.is_file() else None

    def do_HEAD(self):
        self.do_GET(body=False)

    def do_GET(self, body: bool = True):
        target = self.resolve()
        status = HTTPStatus.OK
        if target is not None and target.is_dir():
            self.send_response(HTTPStatus.MOVED_PERMANENTLY)
            self.send_header("Location", urlsplit(self.path).path + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if target is None:
            status, target = HTTPStatus.NOT_FOUND, self.root / "404.html"
        data = target.read_bytes()
        suffix = target.suffix
        content_type = TYPES.get(suffix) or mimetypes.guess_type(target.name)[0]
        self.send_response(status)
        self.send_header("Content-Type", content_type or "application/octet-stream")
        if suffix in COMPRESSIBLE:
            self.send_header("Vary", "Accept-Encoding")
            if "gzip" in self.headers.get("Accept-Encoding", ""):
                data = gzip.compress(data, GZIP_LEVEL, mtime=0)
                self.send_header("Content-Encoding", "gzip")
        if FINGERPRINTED.search(target.name):
            self.send_header("Cache-Control", "public, max-age=31536000, immutable")
        else:
            self.send_header("Cache-Control", "no-cache")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve `root` on 127.0.0.1 at a free port; yield the base URL."""
    handler = partial(StaticHandler, root=Path(root).resolve())
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
