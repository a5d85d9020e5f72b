"""Fixtures for the deploy tests: built site versions and real servers.

Site versions are production builds (publishconf.py: precompressed copies,
redirect map) of the real content plus generated news. Each version carries
a marker (``RELEASE-<name>``) in the contact block, so every page says which
release it came from, and a fingerprinted image of its own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, build_site, write_generated_news
from tests.deploy.servers import Nginx, Sshd, Swift

SITE_URL = "https://mfc.example.test"
GENERATED = 12
EDITED_ITEM = "news/2020/testovaia-novost-3/index.html"
DROPPED_ITEM = "news/2020/testovaia-novost-4/index.html"
OLD_URL = "/news/detail.php?ID=2013"  # the seed item's address on the old site
NEW_URL = "/news/2013/forum-v-eltse/"


def marker_of(name: str) -> str:
    return f"RELEASE-{name}"


def make_content(
    target: Path, name: str, *, edit: bool = False, drop: bool = False
) -> Path:
    """A content folder for site version `name` (see the module docstring)."""
    content = target / "content"
    shutil.copytree(ROOT / "content", content)
    write_generated_news(content, GENERATED)
    contact = content / "blocks" / "contact.md"
    text = contact.read_text(encoding="utf-8")
    text = text.replace("д. 8\n", f"д. 8 ({marker_of(name)})\n")
    text = text.replace("услуг»\n", f"услуг» ({marker_of(name)})\n")
    contact.write_text(text, encoding="utf-8")
    # The seed item came from the old site: it gets a redirect.
    seed = content / "news" / "2013" / "2013-09-20-forum-v-eltse.md"
    seed.write_text(
        seed.read_text(encoding="utf-8").replace(
            "tags:", f"source: http://mfc.astrobl.ru{OLD_URL}\ntags:", 1
        ),
        encoding="utf-8",
    )
    # A fingerprinted image of this version, shown in the first news item.
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4">'
        f"<title>{marker_of(name)}</title></svg>\n"
    ).encode()
    digest = hashlib.md5(svg, usedforsecurity=False).hexdigest()[:10]
    (content / "images").mkdir(exist_ok=True)
    (content / "images" / f"marker.{digest}.svg").write_bytes(svg)
    first = next((content / "news" / "2020").glob("*-testovaia-novost-1.md"))
    first.write_text(
        first.read_text(encoding="utf-8")
        + f"\n![Метка выпуска]({{static}}/images/marker.{digest}.svg)\n",
        encoding="utf-8",
    )
    if edit:
        item = next((content / "news" / "2020").glob("*-testovaia-novost-3.md"))
        item.write_text(
            item.read_text(encoding="utf-8") + "\nДобавлен новый абзац.\n",
            encoding="utf-8",
        )
    if drop:
        next((content / "news" / "2020").glob("*-testovaia-novost-4.md")).unlink()
    return content


@dataclass(frozen=True)
class Version:
    name: str
    output: Path

    @property
    def marker(self) -> str:
        return marker_of(self.name)


class Versions:
    """Production builds of site versions, each built once per session."""

    def __init__(self, base: Path):
        self.base = base
        self.built: dict[str, Version] = {}

    def get(self, name: str, *, edit: bool = False, drop: bool = False) -> Version:
        key = f"{name}{'-edit' if edit else ''}{'-drop' if drop else ''}"
        if key not in self.built:
            folder = self.base / key
            content = make_content(folder, name, edit=edit, drop=drop)
            output = folder / "output"
            result = build_site(content, output, "publishconf.py", MFC_SITEURL=SITE_URL)
            assert result.returncode == 0, result.stdout + result.stderr
            self.built[key] = Version(name, output)
        return self.built[key]


@pytest.fixture(scope="session")
def versions(tmp_path_factory) -> Versions:
    return Versions(tmp_path_factory.mktemp("versions"))


@dataclass
class WebHost:
    """One web server: sshd for deploys, nginx serving what they put live."""

    sshd: Sshd
    nginx: Nginx
    path: Path

    @property
    def current(self) -> Path:
        return self.path / "current"

    def live(self) -> str | None:
        return (
            os.readlink(self.current).rsplit("/", 1)[-1]
            if self.current.is_symlink()
            else None
        )

    def releases(self) -> list[str]:
        folder = self.path / "releases"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def incoming(self) -> list[str]:
        folder = self.path / "incoming"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def web_hosts(tmp_path):
    """Factory: start n sshd+nginx pairs; all are stopped after the test.

    The deploy paths are in a world-readable temporary folder (pytest's own
    is private), because nginx's workers read the site as an unprivileged
    user, as in production: the test proves the deployed permissions work.
    """
    started: list[WebHost] = []
    public = Path(tempfile.mkdtemp(prefix="mfc-deploy-test-"))
    public.chmod(0o755)

    def start(count: int = 1) -> list[WebHost]:
        hosts = []
        for _ in range(count):
            base = tmp_path / f"host{len(started)}"
            path = public / f"host{len(started)}" / "srv"
            # Every host uses the same client key, like one operator would.
            sshd = Sshd(base / "sshd", client_key=tmp_path / "client_key")
            nginx = Nginx(base / "nginx", path)
            host = WebHost(sshd, nginx, path)
            started.append(host)
            sshd.start()
            nginx.start()
            hosts.append(host)
        return hosts

    yield start
    for host in started:
        host.nginx.stop()
        host.sshd.stop()
    shutil.rmtree(public, ignore_errors=True)


def host_spec(host: WebHost) -> str:
    """The host as the deploy config names it. The test hosts share this
    machine, so each has a deploy path of its own (ssh://user@host:port/path)."""
    return f"ssh://{host.sshd.host_spec}{host.path}"


def deploy_env(hosts: list[WebHost], keep: int = 5, **extra: str) -> dict[str, str]:
    """Environment that points `invoke deploy` at these hosts (no config file)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MFC_")}
    return {
        **env,
        "MFC_DEPLOY_HOSTS": ",".join(host_spec(h) for h in hosts),
        "MFC_DEPLOY_KEEP": str(keep),
        "MFC_DEPLOY_SSH_KEY": str(hosts[0].sshd.ssh_key),
        "MFC_DEPLOY_KNOWN_HOSTS": str(known_hosts(hosts)),
        **extra,
    }


def known_hosts(hosts: list[WebHost]) -> Path:
    path = hosts[0].sshd.base.parent.parent / "known_hosts"
    path.write_text("".join(h.sshd.known_hosts.read_text() for h in hosts))
    return path


def ssh_config(hosts: list[WebHost], keep: int = 5, **options):
    """An SSHConfig for these hosts (what deploy.local.toml would give)."""
    from mfc_deploy import SSHConfig, parse_host  # noqa: PLC0415

    return SSHConfig(
        hosts=[parse_host(host_spec(h)) for h in hosts],
        keep=keep,
        key=str(hosts[0].sshd.ssh_key),
        known_hosts=str(known_hosts(hosts)),
        **options,
    )


PROJECT_FILES = ["tasks.py", "pelicanconf.py", "publishconf.py", "pyproject.toml"]
PROJECT_DIRS = ["content", "theme", "plugins"]


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the project to run `invoke` in, without touching the real one."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in PROJECT_FILES:
        shutil.copy(ROOT / name, copy / name)
    for name in PROJECT_DIRS:
        shutil.copytree(
            ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__")
        )
    return copy


def invoke(project: Path, *args: str, env: dict, timeout: float = 300):
    """Run `invoke ARGS` in a project copy, as an operator would."""
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=project,
        env={**env, "LC_ALL": "C.UTF-8", "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def swift(tmp_path_factory):
    """Swift's S3 API on loopback, for the tests of one module."""
    server = Swift(tmp_path_factory.mktemp("swift"))
    try:
        server.start()
        yield server
    finally:
        server.stop()
