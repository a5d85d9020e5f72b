"""A bounded load on the test nginx, run as a second process during deploys.

    python -m tests.deploy.loadclient CONFIG.json

CONFIG gives the base URL, the paths to fetch, the number of threads, the
minimum number of requests, a stop file and the result file. Each thread
keeps one HTTP/1.1 connection alive and fetches the paths round-robin,
asking in turn for identity, gzip and brotli, and checks every response:

- the status is the expected one (200; 404 for the missing page);
- an HTML page is complete (ends with </html>) and carries exactly one
  release marker (RELEASE-...), however often it appears;
- every image and stylesheet the page references resolves (200), and the
  release image it shows carries the page's own marker: an old page still
  finds its own assets after the switch.

It stops once the stop file exists and at least the minimum number of
requests were made, or after `max_seconds` or `max_requests` in any case,
and writes counts and the first failures to the result file. Progress (the
request count) is written to `progress` as it goes.
"""

from __future__ import annotations

import gzip
import http.client
import json
import re
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import brotli

MARKER_RE = re.compile(r"RELEASE-[A-Za-z0-9]+")
# What a page loads: images, scripts, stylesheets and icons (not canonical or
# alternate links, which name pages).
ASSET_RE = re.compile(
    r"<(?:img\b[^>]*?\bsrc|script\b[^>]*?\bsrc"
    r'|link\b(?=[^>]*\brel="(?:stylesheet|icon)")[^>]*?\bhref)="([^"]+)"',
    re.I,
)
ENCODINGS = ["identity", "gzip", "br"]


class Load:
    def __init__(self, config: dict):
        self.config = config
        parts = urlsplit(config["base"])
        self.host, self.port = parts.hostname, parts.port
        self.lock = threading.Lock()
        self.requests = 0
        self.failures: list[str] = []
        self.failed = 0
        self.markers: Counter = Counter()
        self.statuses: Counter = Counter()
        self.deadline = time.monotonic() + config["max_seconds"]
        self.stop_file = Path(config["stop_file"])

    def done(self) -> bool:
        if time.monotonic() > self.deadline:
            return True
        if self.requests >= self.config["max_requests"]:
            return True
        return self.stop_file.exists() and self.requests >= self.config["min_requests"]

    def fail(self, message: str) -> None:
        with self.lock:
            self.failed += 1
            if len(self.failures) < 20:
                self.failures.append(message)

    def fetch(self, conn, path: str, encoding: str):
        conn.request("GET", path, headers={"Accept-Encoding": encoding})
        response = conn.getresponse()
        body = response.read()
        with self.lock:
            self.requests += 1
            self.statuses[response.status] += 1
        coding = response.getheader("Content-Encoding")
        if coding == "gzip":
            body = gzip.decompress(body)
        elif coding == "br":
            body = brotli.decompress(body)
        elif coding:
            raise AssertionError(f"{path}: unexpected Content-Encoding {coding}")
        return response.status, body

    def check_page(self, conn, path: str, status: int, body: bytes, n: int) -> None:
        want = 404 if path in self.config["missing"] else 200
        if status != want:
            self.fail(f"{path}: status {status}, expected {want}")
            return
        if not path.endswith("/"):
            return
        text = body.decode("utf-8")
        if not text.rstrip().endswith("</html>"):
            self.fail(f"{path}: incomplete page ({len(body)} bytes)")
            return
        markers = set(MARKER_RE.findall(text))
        if len(markers) != 1:
            self.fail(f"{path}: release markers {sorted(markers)} in one page")
            return
        marker = markers.pop()
        with self.lock:
            self.markers[marker] += 1
        for url in ASSET_RE.findall(text):
            asset = urlsplit(url).path
            if not asset.startswith("/") or asset.startswith("//"):
                continue
            status, data = self.fetch(conn, asset, ENCODINGS[n % 3])
            if status != 200 or not data:
                self.fail(f"{path} ({marker}): asset {asset} gave {status}")
            elif b"RELEASE-" in data and marker.encode() not in data:
                self.fail(f"{path} ({marker}): {asset} is another release's")

    def worker(self, offset: int) -> None:
        paths = self.config["paths"]
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        n = offset
        while not self.done():
            path = paths[n % len(paths)]
            try:
                status, body = self.fetch(conn, path, ENCODINGS[n % 3])
                self.check_page(conn, path, status, body, n)
            except Exception as error:
                self.fail(f"{path}: {type(error).__name__}: {error}")
                conn.close()
                conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
            n += 1
        conn.close()

    def run(self) -> dict:
        started = time.monotonic()
        threads = [
            threading.Thread(target=self.worker, args=(i * 7,))
            for i in range(self.config["threads"])
        ]
        for thread in threads:
            thread.start()
        progress = Path(self.config["progress"])
        while any(t.is_alive() for t in threads):
            progress.write_text(str(self.requests))
            time.sleep(0.1)
        seconds = time.monotonic() - started
        return {
            "requests": self.requests,
            "failed": self.failed,
            "failures": self.failures,
            "markers": dict(self.markers),
            "statuses": {str(k): v for k, v in self.statuses.items()},
            "seconds": round(seconds, 2),
            "timed_out": time.monotonic() > self.deadline,
        }


def main(argv: list[str]) -> int:
    config = json.loads(Path(argv[1]).read_text())
    result = Load(config).run()
    Path(config["result"]).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
