"""Real servers on 127.0.0.1 for the deploy tests: sshd, nginx, Swift (S3 API).

Every server runs as a child process in its own process group, on a port
chosen at run time, with all its files under one temporary directory, and is
stopped by killing that process group. Nothing here is a mock.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONFIG_DIR = ROOT / "deploy" / "nginx"
SHIPPED_DEPLOY_PATH = "/srv/mfc"  # the site path written in the shipped config
LETSENCRYPT = "/etc/letsencrypt/live/mfc.astrobl.ru/"  # in mfc-tls.conf
BROTLI_MODULE = "/usr/lib/nginx/modules/ngx_http_brotli_static_module.so"
START_TIMEOUT = 30.0


def free_port() -> int:
    """A port that was free a moment ago: bind port 0 on loopback, read it back."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def tool(name: str) -> str:
    """Absolute path of a required system tool; a missing tool fails the test."""
    for folder in (None, "/usr/sbin", "/sbin"):
        found = shutil.which(name, path=folder) if folder else shutil.which(name)
        if found:
            return found
    raise AssertionError(f"{name} is not installed: `bash .ci/run` installs it")


@dataclass
class Process:
    """A server started in its own process group, with its output in a log."""

    argv: list[str]
    log: Path
    env: dict | None = None
    popen: subprocess.Popen | None = field(default=None, repr=False)

    def start(self) -> Process:
        with self.log.open("ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        return self

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def stop(self) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def wait_for(check, what: str, process: Process | None = None) -> None:
    """Poll `check()` until it is true; fail with the server's log if it dies."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and not process.running():
            raise AssertionError(f"{what} exited:\n{process.output()}")
        if check():
            return
        time.sleep(0.05)
    log = process.output() if process else ""
    raise AssertionError(f"{what} did not start in {START_TIMEOUT:.0f} s\n{log}")


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


# --- sshd -------------------------------------------------------------------


SSHD_CONFIG = """\
# Test sshd: loopback only, key-only, no PAM, everything under {base}.
ListenAddress 127.0.0.1
Port {port}
HostKey {base}/ssh_host_ed25519_key
PidFile {base}/sshd.pid
AuthorizedKeysFile {base}/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
PrintMotd no
LogLevel ERROR
Subsystem sftp internal-sftp
"""


@dataclass
class Sshd:
    """OpenSSH's sshd with its own config, host key and authorised client key.

    The client side is in `ssh_key` (private key) and `known_hosts`, both
    under the same temporary folder, so the tests never touch ~/.ssh.
    """

    base: Path
    client_key: Path | None = None
    port: int = 0
    process: Process | None = None

    @property
    def ssh_key(self) -> Path:
        return self.client_key or self.base / "client_key"

    @property
    def known_hosts(self) -> Path:
        return self.base / "known_hosts"

    @property
    def user(self) -> str:
        import pwd  # noqa: PLC0415

        return pwd.getpwuid(os.getuid()).pw_name

    @property
    def host_spec(self) -> str:
        return f"{self.user}@127.0.0.1:{self.port}"

    def start(self) -> Sshd:
        self.base.mkdir(parents=True, exist_ok=True)
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege sep. dir
        keygen = tool("ssh-keygen")
        for key in (self.base / "ssh_host_ed25519_key", self.ssh_key):
            if not key.exists():
                subprocess.run(
                    [keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                    check=True,
                )
        shutil.copy(self.ssh_key.with_suffix(".pub"), self.base / "authorized_keys")
        for _attempt in range(3):
            self.port = free_port()
            config = self.base / "sshd_config"
            config.write_text(SSHD_CONFIG.format(base=self.base, port=self.port))
            self.process = Process(
                [tool("sshd"), "-D", "-e", "-f", str(config)], self.base / "sshd.log"
            ).start()
            try:
                wait_for(lambda: port_open(self.port), "sshd", self.process)
                break
            except AssertionError:
                self.process.stop()
                if "Address already in use" not in self.process.output():
                    raise
        scan = subprocess.run(
            [tool("ssh-keyscan"), "-p", str(self.port), "-T", "5", "127.0.0.1"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert scan.stdout.strip(), f"ssh-keyscan found no host key:\n{scan.stderr}"
        self.known_hosts.write_text(scan.stdout)
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()


# --- nginx ------------------------------------------------------------------


NGINX_WRAPPER = """\
# Test wrapper around the shipped site config: foreground, own paths, loopback.
load_module {brotli_module};
daemon off;
master_process on;
worker_processes 2;
pid {base}/nginx.pid;
error_log {base}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {base}/access.log;
    client_body_temp_path {base}/tmp/body;
    proxy_temp_path {base}/tmp/proxy;
    fastcgi_temp_path {base}/tmp/fastcgi;
    uwsgi_temp_path {base}/tmp/uwsgi;
    scgi_temp_path {base}/tmp/scgi;
    sendfile on;
    # Releases are switched by a symlink: follow it, and do not cache open
    # files, or a switched `current` keeps serving the old release.
    disable_symlinks off;
    open_file_cache off;
    include {site_config};
}}
"""


def render_shipped_config(
    source: Path, target_dir: Path, deploy_path: Path, port: int, tls_port: int = 0
):
    """Copy the shipped config with the site path and listen port replaced.

    These are exactly the edits an operator makes; everything else is served
    as shipped. Each replacement must match, so a renamed path fails loudly.
    """
    target_dir.mkdir(parents=True, exist_ok=True)
    for path in source.iterdir():
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            text = text.replace(SHIPPED_DEPLOY_PATH + "/", f"{deploy_path}/")
            text = text.replace("include mfc/", f"include {target_dir}/")
            text = re.sub(r"listen\s+\[::\]:\d+[^;]*;", "", text)
            text = re.sub(r"listen\s+80\s*;", f"listen 127.0.0.1:{port};", text)
            if tls_port:
                text = re.sub(
                    r"listen\s+443\s+ssl", f"listen 127.0.0.1:{tls_port} ssl", text
                )
                text = text.replace(LETSENCRYPT, f"{target_dir}/tls/")
            (target_dir / path.name).write_text(text, encoding="utf-8")


def self_signed_certificate(folder: Path) -> None:
    """fullchain.pem and privkey.pem for 127.0.0.1, as certbot would lay out."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            tool("openssl"),
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=127.0.0.1",
            "-keyout", str(folder / "privkey.pem"),
            "-out", str(folder / "fullchain.pem"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip


@dataclass
class Nginx:
    """nginx serving `deploy_path/current` with the shipped deploy/nginx config."""

    base: Path
    deploy_path: Path
    site_file: str = "mfc.conf"
    port: int = 0
    tls_port: int = 0
    process: Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config(self) -> Path:
        return self.base / "nginx.conf"

    def start(self) -> Nginx:
        (self.base / "tmp").mkdir(parents=True, exist_ok=True)
        for _attempt in range(3):
            self.port = free_port()
            self.tls_port = 0
            while self.site_file == "mfc-tls.conf" and self.tls_port in (0, self.port):
                # Two ports, never the same one twice (a duplicate listen).
                self.tls_port = free_port()
            conf_dir = self.base / "mfc"
            render_shipped_config(
                NGINX_CONFIG_DIR, conf_dir, self.deploy_path, self.port, self.tls_port
            )
            if self.tls_port:
                self_signed_certificate(conf_dir / "tls")
            self.config.write_text(
                NGINX_WRAPPER.format(
                    base=self.base,
                    brotli_module=BROTLI_MODULE,
                    site_config=conf_dir / self.site_file,
                )
            )
            self.process = Process(
                [tool("nginx"), "-p", str(self.base), "-c", str(self.config)],
                self.base / "nginx.log",
            ).start()
            try:
                wait_for(lambda: port_open(self.port), "nginx", self.process)
                return self
            except AssertionError as failed:
                self.process.stop()
                # nginx says why on its standard error (in `failed`) before
                # it opens its error log, and in the log after.
                why = f"{failed}\nerror.log:\n{self.error_log()}"
                if "Address already in use" not in why:
                    raise AssertionError(why) from None
        raise AssertionError("nginx found no free port")

    def reload_command(self) -> str:
        """The command that reloads this nginx (graceful, like systemctl reload)."""
        return f"{tool('nginx')} -p {self.base} -c {self.config} -s reload"

    def error_log(self) -> str:
        path = self.base / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process:
            self.process.stop()


# --- Swift with its S3 API --------------------------------------------------


SWIFT_CONF = """\
[swift-hash]
swift_hash_path_suffix = mfc-test-suffix
swift_hash_path_prefix = mfc-test-prefix

[storage-policy:0]
name = only
default = yes
"""

SWIFT_SERVER_CONF = """\
[DEFAULT]
swift_dir = {base}
devices = {base}/devices
mount_check = false
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
log_name = {name}
log_level = WARNING

[pipeline:main]
pipeline = {name}-server

[app:{name}-server]
use = egg:swift#{name}
"""

SWIFT_PROXY_CONF = """\
[DEFAULT]
swift_dir = {base}
bind_ip = 127.0.0.1
bind_port = {port}
workers = 0
log_name = proxy
log_level = WARNING

[pipeline:main]
pipeline = catch_errors proxy-logging cache s3api tempauth proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache
# No memcached runs: tempauth wants the middleware, and S3 signatures are
# checked against the key below without it.
memcache_servers = 127.0.0.1:{closed_port}

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_{account}_{user} = {secret} .admin
"""


@dataclass
class Swift:
    """OpenStack Swift on loopback, serving the S3 API (s3api + tempauth).

    The minimal all-in-one recipe:

    1. ``swift.conf`` with a hash prefix and suffix and one storage policy, in
       a folder given to every server as ``swift_dir`` (nothing in /etc/swift).
    2. One device folder ``devices/d1`` (``mount_check = false``; the file
       system needs user xattrs, which ext4 and tmpfs have).
    3. Account, container and object rings (``swift-ring-builder create 6 1
       1``, one device at 127.0.0.1 and that server's port, ``rebalance``).
    4. The three storage servers, each ``workers = 0`` (one process, no
       fork), and the proxy with the pipeline ``catch_errors proxy-logging
       cache s3api tempauth proxy-logging proxy-server``. ``tempauth`` needs
       the ``cache`` middleware in the pipeline but works without a memcached
       for S3 requests; ``account_autocreate`` creates the account on first use.
    5. S3 credentials: access key ``account:user``, secret key = tempauth's
       password; region ``us-east-1``; path-style addressing.
    """

    base: Path
    account: str = "mfc"
    user: str = "deployer"
    secret: str = "s3cr3t-test-key"
    port: int = 0
    processes: list[Process] = field(default_factory=list)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def access_key(self) -> str:
        return f"{self.account}:{self.user}"

    def _bin(self, name: str) -> str:
        path = Path(sys.executable).parent / name
        assert path.exists(), f"{name} missing: install the test extra (swift)"
        return str(path)

    def start(self) -> Swift:
        base = self.base
        (base / "devices" / "d1").mkdir(parents=True, exist_ok=True)
        (base / "swift.conf").write_text(SWIFT_CONF)
        ports = {name: free_port() for name in ("account", "container", "object")}
        builder = self._bin("swift-ring-builder")
        for name, port in ports.items():
            ring = str(base / f"{name}.builder")
            for args in (
                ["create", "6", "1", "1"],
                ["add", f"r1z1-127.0.0.1:{port}/d1", "100"],
                ["rebalance"],
            ):
                result = subprocess.run(
                    [builder, ring, *args], capture_output=True, text=True, check=False
                )
                # rebalance exits 1 for a "warning" on a one-device ring.
                assert result.returncode in (0, 1), result.stdout + result.stderr
            conf = base / f"{name}-server.conf"
            conf.write_text(SWIFT_SERVER_CONF.format(base=base, port=port, name=name))
            self.processes.append(
                Process(
                    [self._bin(f"swift-{name}-server"), str(conf), "-v"],
                    base / f"{name}.log",
                ).start()
            )
        self.port = free_port()
        conf = base / "proxy-server.conf"
        conf.write_text(
            SWIFT_PROXY_CONF.format(
                base=base,
                port=self.port,
                closed_port=free_port(),
                account=self.account,
                user=self.user,
                secret=self.secret,
            )
        )
        proxy = Process(
            [self._bin("swift-proxy-server"), str(conf), "-v"], base / "proxy.log"
        ).start()
        self.processes.append(proxy)
        for name, port in ports.items():
            wait_for(lambda p=port: port_open(p), f"swift {name}", self.processes[0])
        wait_for(self._healthy, "swift proxy", proxy)
        return self

    def _healthy(self) -> bool:
        if not port_open(self.port):
            return False
        try:
            with urllib.request.urlopen(f"{self.endpoint_url}/", timeout=2):
                return True
        except urllib.error.HTTPError:
            return True  # the S3 API answers (403 for an anonymous listing)
        except OSError:
            return False

    def client(self):
        import boto3  # noqa: PLC0415
        from botocore.config import Config  # noqa: PLC0415

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}),
        )

    def env(self) -> dict[str, str]:
        """Environment for a deploy to this server (credentials as in production)."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "MFC_S3_ENDPOINT_URL": self.endpoint_url,
            "MFC_S3_REGION": "us-east-1",
        }

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
