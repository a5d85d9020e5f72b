"""Where to deploy: hosts, path and options, from a TOML file and the environment.

The file is ``deploy.local.toml`` in the project (git-ignored; copy
``deploy.example.toml``), or the one named by ``MFC_DEPLOY_CONFIG``.
Environment variables override it, key by key:

==========================  ===============================================
``MFC_DEPLOY_HOSTS``        ``user@host[:port]`` (or ``ssh://user@host:port/path``
                            for a host with a path of its own), several
                            separated by commas
``MFC_DEPLOY_PATH``         folder on the hosts holding releases/ and current
``MFC_DEPLOY_KEEP``         how many releases to keep on each host
``MFC_DEPLOY_SSH_KEY``      private key file (else the SSH agent / ssh config)
``MFC_DEPLOY_KNOWN_HOSTS``  known_hosts file (else ssh's own)
``MFC_DEPLOY_RELOAD``       command run on each host when the redirects change
``MFC_DEPLOY_BWLIMIT``      upload speed limit in KiB/s (rsync --bwlimit)
``MFC_S3_BUCKET``           bucket of the object storage target
``MFC_S3_PREFIX``           key prefix inside the bucket
``MFC_S3_ENDPOINT_URL``     S3 endpoint for non-AWS storage
``MFC_S3_REGION``           region name
==========================  ===============================================

No secrets live here: SSH authenticates with the agent or a key file, and
object storage with boto3's usual credentials (``AWS_ACCESS_KEY_ID`` and
``AWS_SECRET_ACCESS_KEY``, or a profile).
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DeployError

DEFAULT_FILE = "deploy.local.toml"
DEFAULT_KEEP = 5
DEFAULT_SSH_PORT = 22

HOST_RE = re.compile(
    r"^(?:ssh://)?(?:(?P<user>[A-Za-z0-9._-]+)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)"
    r"(?::(?P<port>\d{1,5}))?"
    r"(?P<path>/[^\s]*)?$"
)


@dataclass(frozen=True)
class Host:
    """One web server reached over SSH."""

    host: str
    port: int = DEFAULT_SSH_PORT
    user: str | None = None
    path: str | None = None  # this host's deploy path, if not the common one

    @property
    def destination(self) -> str:
        """``user@host`` as ssh and rsync take it (IPv6 without brackets)."""
        return f"{self.user}@{self.host}" if self.user else self.host

    def remote_path(self, path: str) -> str:
        """``user@host:path`` as rsync takes it (IPv6 in brackets)."""
        host = self.host if ":" not in self.host else f"[{self.host}]"
        return f"{self.user}@{host}:{path}" if self.user else f"{host}:{path}"

    def __str__(self) -> str:
        port = "" if self.port == DEFAULT_SSH_PORT else f":{self.port}"
        return f"{self.destination}{port}"

    def path_or(self, default: str) -> str:
        return self.path or default


def parse_host(spec: str) -> Host:
    """``user@host[:port]`` or ``ssh://user@host[:port][/path]`` to a Host.

    >>> parse_host("deploy@web1.example.ru:2222")
    Host(host='web1.example.ru', port=2222, user='deploy', path=None)
    >>> parse_host("ssh://deploy@web2.example.ru/var/www/mfc").path
    '/var/www/mfc'
    """
    match = HOST_RE.match(spec.strip())
    if not match or (match["path"] and not spec.strip().startswith("ssh://")):
        raise DeployError(
            f"deploy host {spec!r} is not of the form user@host, user@host:port "
            "or ssh://user@host:port/path"
        )
    port = int(match["port"] or DEFAULT_SSH_PORT)
    if not 0 < port < 65536:
        raise DeployError(f"deploy host {spec!r}: port {port} is out of range")
    path = match["path"].rstrip("/") if match["path"] else None
    return Host(match["host"].strip("[]"), port, match["user"], path or None)


@dataclass
class SSHConfig:
    hosts: list[Host] = field(default_factory=list)
    path: str = ""
    keep: int = DEFAULT_KEEP
    key: str | None = None
    known_hosts: str | None = None
    reload: str | None = None
    bwlimit: int | None = None  # KiB/s, to spare a slow link (rsync --bwlimit)

    def check(self) -> None:
        if not self.hosts:
            raise DeployError(
                "no deploy host: set MFC_DEPLOY_HOSTS=user@host[:port] or "
                f"hosts = [...] under [ssh] in {DEFAULT_FILE}"
            )
        if any(h.path is None for h in self.hosts) and (
            not self.path.startswith("/") or self.path.rstrip("/") == ""
        ):
            raise DeployError(
                f"deploy path {self.path!r} must be an absolute folder such as "
                "/srv/mfc (MFC_DEPLOY_PATH, or path under [ssh])"
            )
        if self.keep < 2:
            raise DeployError(
                f"keep = {self.keep}: keep at least 2 releases, or there is "
                "nothing to roll back to"
            )
        if self.key and not Path(self.key).expanduser().is_file():
            raise DeployError(f"SSH key file {self.key} does not exist")


@dataclass
class S3Config:
    bucket: str = ""
    prefix: str = ""
    endpoint_url: str | None = None
    region: str | None = None

    def check(self) -> None:
        if not self.bucket:
            raise DeployError(
                f"no bucket: set MFC_S3_BUCKET or bucket under [s3] in {DEFAULT_FILE}"
            )


@dataclass
class DeployConfig:
    ssh: SSHConfig
    s3: S3Config
    source: str  # where the settings came from, for messages


def _read_file(path: Path) -> dict:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise DeployError(f"{path}: {error}") from error


def load_config(
    project_dir: str | os.PathLike, environ: dict | None = None
) -> DeployConfig:
    """Read the config file (if any), then apply the environment over it."""
    env = os.environ if environ is None else environ
    named = env.get("MFC_DEPLOY_CONFIG")
    path = Path(named) if named else Path(project_dir) / DEFAULT_FILE
    if named and not path.is_file():
        raise DeployError(f"MFC_DEPLOY_CONFIG names {path}, which does not exist")
    data = _read_file(path) if path.is_file() else {}
    unknown = set(data) - {"ssh", "s3"}
    if unknown:
        raise DeployError(f"{path}: unknown section(s) {sorted(unknown)}")
    ssh_data, s3_data = data.get("ssh", {}), data.get("s3", {})

    hosts = ssh_data.get("hosts", [])
    if isinstance(hosts, str):
        hosts = [hosts]
    if env.get("MFC_DEPLOY_HOSTS"):
        hosts = [h for h in re.split(r"[,\s]+", env["MFC_DEPLOY_HOSTS"]) if h]
    keep = env.get("MFC_DEPLOY_KEEP") or ssh_data.get("keep", DEFAULT_KEEP)
    try:
        keep = int(keep)
    except ValueError as error:
        raise DeployError(f"keep must be a whole number, not {keep!r}") from error
    ssh = SSHConfig(
        hosts=[parse_host(h) for h in hosts],
        path=(env.get("MFC_DEPLOY_PATH") or ssh_data.get("path", "")).rstrip("/"),
        keep=keep,
        key=env.get("MFC_DEPLOY_SSH_KEY") or ssh_data.get("key") or None,
        known_hosts=env.get("MFC_DEPLOY_KNOWN_HOSTS")
        or ssh_data.get("known_hosts")
        or None,
        reload=env.get("MFC_DEPLOY_RELOAD") or ssh_data.get("reload") or None,
        bwlimit=int(env.get("MFC_DEPLOY_BWLIMIT") or ssh_data.get("bwlimit") or 0)
        or None,
    )
    s3 = S3Config(
        bucket=env.get("MFC_S3_BUCKET") or s3_data.get("bucket", ""),
        prefix=(env.get("MFC_S3_PREFIX") or s3_data.get("prefix", "")).strip("/"),
        endpoint_url=env.get("MFC_S3_ENDPOINT_URL") or s3_data.get("endpoint_url"),
        region=env.get("MFC_S3_REGION") or s3_data.get("region"),
    )
    if ssh.key:
        key = Path(ssh.key).expanduser().resolve()
        if key.is_relative_to(Path(project_dir).resolve()):
            raise DeployError(
                f"the SSH key {ssh.key} is inside the project: keep keys out of "
                "the repository (use the SSH agent, or a key under ~/.ssh)"
            )
    return DeployConfig(ssh, s3, str(path) if path.is_file() else "environment")
