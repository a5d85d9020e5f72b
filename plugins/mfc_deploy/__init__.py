"""Deploy the built site: releases over SSH with rsync, or object storage.

NOT a Pelican plugin (it has no ``register()``): it lives in plugins/ so that
it is imported and unit-tested like the site's other code, and tasks.py's
``deploy``, ``rollback`` and ``releases`` tasks are thin wrappers around it.

- ``ssh_deploy``: upload into ``releases/<id>/`` on every host, hard-linking
  unchanged files, then switch the ``current`` symlink atomically on all of
  them; roll back; list releases. ``remote`` holds the per-host steps and
  the lock, ``rsync`` the upload command and its report.
- ``s3``: upload only changed files to an S3 bucket, HTML last, deletions
  after.
- ``kinds``: Content-Type, Content-Encoding and Cache-Control by kind of
  file, shared with deploy/nginx/.
- ``config``: where to deploy, from deploy.local.toml and the environment.
"""

from .config import DeployConfig, Host, S3Config, SSHConfig, load_config, parse_host
from .errors import DeployError, DeployLocked

__all__ = [
    "DeployConfig",
    "DeployError",
    "DeployLocked",
    "Host",
    "S3Config",
    "SSHConfig",
    "load_config",
    "parse_host",
]
