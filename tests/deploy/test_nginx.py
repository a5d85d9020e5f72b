"""The shipped nginx config (deploy/nginx/), run by a real nginx on 127.0.0.1.

The server serves a deploy folder laid out as `invoke deploy` leaves it (a
release of the production build, `current` pointing at it), with a few
extra files standing for the theme's fingerprinted assets and Pagefind.
"""

from __future__ import annotations

import gzip
import http.client
import shutil
import ssl
import subprocess
import tempfile
from pathlib import Path

import brotli
import pytest

from mfc_deploy.kinds import DAY, IMMUTABLE, SHORT, cache_control
from tests.deploy.conftest import NEW_URL, OLD_URL
from tests.deploy.servers import (
    BROTLI_MODULE,
    NGINX_CONFIG_DIR,
    NGINX_WRAPPER,
    Nginx,
    render_shipped_config,
    self_signed_certificate,
    tool,
)

EXTRA_FILES = {
    "static/css/site.0123abcd.css": b"body{color:#000}",
    "static/js/mode.89abcdef01.js": b"document.documentElement.dataset.js=1;",
    "pagefind/pagefind.js": b"export const x = 1;",
    "pagefind/pagefind-entry.json": b"{}",
    "pagefind/fragment/ru_0a1b2c3d.pf_fragment": b"\x1f\x8b fragment",
    "pagefind/index/ru_4e5f6a7b.pf_index": b"\x1f\x8b index",
    "images/photo.jpg": b"\xff\xd8\xff jpeg",
}
SECURITY_HEADERS = [
    "Content-Security-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Permissions-Policy",
    "Cache-Control",
]


@pytest.fixture(scope="module")
def deployed(versions):
    """A deploy folder with one release live (world-readable, like /srv)."""
    public = Path(tempfile.mkdtemp(prefix="mfc-nginx-test-"))
    public.chmod(0o755)
    release = public / "srv" / "releases" / "20260101T000000.000Z"
    shutil.copytree(versions.get("r1").output, release)
    for rel, data in EXTRA_FILES.items():
        (release / rel).parent.mkdir(parents=True, exist_ok=True)
        (release / rel).write_bytes(data)
    for path in [release, *release.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    (public / "srv" / "current").symlink_to("releases/" + release.name)
    yield public / "srv"
    shutil.rmtree(public, ignore_errors=True)


@pytest.fixture(scope="module")
def nginx(deployed, tmp_path_factory):
    server = Nginx(tmp_path_factory.mktemp("nginx"), deployed)
    try:
        yield server.start()
    finally:
        server.stop()


def request(server: Nginx, path: str, method: str = "GET", **headers: str):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, headers=headers)
        response = conn.getresponse()
        return response.status, response.headers, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("site_file", ["mfc.conf", "mfc-tls.conf"])
def test_shipped_server_files_pass_nginx_t(site_file, deployed, tmp_path):
    # Ports 8 and 9 are never bound: -t only reads and checks the files.
    render_shipped_config(NGINX_CONFIG_DIR, tmp_path / "mfc", deployed, 8, 9)
    self_signed_certificate(tmp_path / "mfc" / "tls")
    (tmp_path / "tmp").mkdir()
    config = tmp_path / "nginx.conf"
    config.write_text(
        NGINX_WRAPPER.format(
            base=tmp_path,
            brotli_module=BROTLI_MODULE,
            site_config=tmp_path / "mfc" / site_file,
        )
    )
    result = subprocess.run(
        [tool("nginx"), "-t", "-p", str(tmp_path), "-c", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


DECODERS = {"gzip": (".gz", gzip.decompress), "br": (".br", brotli.decompress)}


@pytest.mark.parametrize("encoding", ["gzip", "br"])
@pytest.mark.parametrize(
    "path", ["index.html", "news/2013/forum-v-eltse/index.html", "static/css/site.css"]
)
def test_serves_the_precompressed_copies(nginx, deployed, path, encoding):
    suffix, decode = DECODERS[encoding]
    url = "/" + path.removesuffix("index.html")
    status, headers, body = request(
        nginx, url, **{"Accept-Encoding": f"{encoding}, identity"}
    )
    assert status == 200
    assert headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in headers["Vary"]
    # Exactly the file the build wrote: served as is, not compressed anew.
    assert body == (deployed / "current" / (path + suffix)).read_bytes()
    assert decode(body) == (deployed / "current" / path).read_bytes()
    plain = request(nginx, url)
    assert "Content-Encoding" not in plain[1]
    assert plain[2] == (deployed / "current" / path).read_bytes()


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/", SHORT),
        ("/news/2013/forum-v-eltse/", SHORT),
        ("/feeds/all.atom.xml", SHORT),
        ("/static/css/site.css", SHORT),  # not fingerprinted: may change
        ("/static/css/site.0123abcd.css", IMMUTABLE),
        ("/static/js/mode.89abcdef01.js", IMMUTABLE),
        ("/pagefind/fragment/ru_0a1b2c3d.pf_fragment", IMMUTABLE),
        ("/pagefind/index/ru_4e5f6a7b.pf_index", IMMUTABLE),
        ("/pagefind/pagefind.js", SHORT),  # names the current index files
        ("/pagefind/pagefind-entry.json", SHORT),
        ("/images/photo.jpg", DAY),
        ("/net-takoi-stranicy/", SHORT),  # the 404 page
    ],
)
def test_cache_control_by_kind_of_file(nginx, path, expected):
    status, headers, _ = request(nginx, path, **{"Accept-Encoding": "gzip"})
    assert status in (200, 404)
    assert headers["Cache-Control"] == expected
    # The object storage target sends the same header for the same file.
    file = path.lstrip("/") + ("index.html" if path.endswith("/") else "")
    if status == 200:
        assert cache_control(file) == expected


def test_missing_page_gets_the_sites_404_page(nginx, deployed):
    status, headers, body = request(nginx, "/news/2099/net-takoi-novosti/")
    assert status == 404
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert body == (deployed / "current" / "404.html").read_bytes()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/", 200),
        ("/static/css/site.0123abcd.css", 200),
        ("/pagefind/fragment/ru_0a1b2c3d.pf_fragment", 200),
        ("/net-takoi-stranicy/", 404),
        ("/news", 301),  # directory without its slash
        (OLD_URL, 301),  # the old site's address
        ("/.nginx/redirects.map", 404),
    ],
)
def test_security_headers_on_every_kind_of_response(nginx, path, status):
    """nginx drops inherited add_header directives in any block that has its
    own: every kind of response must still carry all of them."""
    got, headers, _ = request(nginx, path, **{"Accept-Encoding": "gzip, br"})
    assert got == status
    for name in SECURITY_HEADERS:
        assert headers[name], f"{path}: no {name}"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["Permissions-Policy"]
    assert "Strict-Transport-Security" not in headers  # plain HTTP: never


def test_content_security_policy_allows_no_inline_script(nginx):
    _, headers, _ = request(nginx, "/")
    directives = {
        part.split()[0]: part.split()[1:]
        for part in headers["Content-Security-Policy"].split(";")
        if part.strip()
    }
    assert directives["default-src"] == ["'self'"]
    # Pagefind compiles its WebAssembly; nothing inline, nothing third-party.
    assert directives["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]


def test_old_site_urls_redirect_to_the_new_ones(nginx, deployed):
    status, headers, _ = request(nginx, OLD_URL)
    assert status == 301
    assert headers["Location"].endswith(NEW_URL)
    assert request(nginx, NEW_URL)[0] == 200
    # Same path, another query: not an old URL we know.
    assert request(nginx, OLD_URL.replace("2013", "1"))[0] == 404
    map_file = (deployed / "current" / ".nginx" / "redirects.map").read_text()
    assert f'"{OLD_URL}" "{NEW_URL}";' in map_file


def test_directories_redirect_to_their_slash_keeping_host_and_port(nginx):
    status, headers, _ = request(nginx, "/news")
    assert status == 301
    assert headers["Location"] == "/news/"


def test_only_get_and_head(nginx):
    assert request(nginx, "/", method="HEAD")[0] == 200
    assert request(nginx, "/", method="POST")[0] in (403, 405)


def test_tls_example_sends_hsts_and_redirects_plain_http(deployed, tmp_path):
    server = Nginx(tmp_path, deployed, site_file="mfc-tls.conf")
    try:
        server.start()
        status, headers, _ = request(server, "/news/?page=2")
        assert status == 301
        assert headers["Location"] == "https://127.0.0.1/news/?page=2"
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        for path, expected in (("/", 200), ("/net-takoi-stranicy/", 404)):
            conn = http.client.HTTPSConnection(
                "127.0.0.1", server.tls_port, timeout=10, context=context
            )
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            conn.close()
            assert response.status == expected
            hsts = response.headers["Strict-Transport-Security"]
            assert hsts == "max-age=63072000; includeSubDomains"
            for name in SECURITY_HEADERS:
                assert response.headers[name], f"{path}: no {name}"
    finally:
        server.stop()
