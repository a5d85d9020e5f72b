"""Tasks for editors and operators: `invoke --list` is the manual."""

import os
import shlex
import shutil
import sys
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from invoke import Exit, UnexpectedExit, task
from pelican.settings import DEFAULT_CONFIG, get_settings_from_file

ROOT = os.path.dirname(os.path.abspath(__file__))
os.chdir(ROOT)
sys.path.insert(0, os.path.join(ROOT, "plugins"))  # the deploy package

SETTINGS = {**DEFAULT_CONFIG, **get_settings_from_file("pelicanconf.py")}

CONFIG = {
    "settings_base": "pelicanconf.py",
    "settings_publish": "publishconf.py",
    "content_path": SETTINGS["PATH"],
    "output_path": SETTINGS["OUTPUT_PATH"],
    "theme_path": SETTINGS["THEME"],
    # Preview server: loopback only.
    "host": "127.0.0.1",
    "port": 8000,
}


def pelican_run(c, *args: str) -> None:
    """Run Pelican; any warning fails the build."""
    argv = [sys.executable, "-m", "pelican", *args, "--fatal", "warnings"]
    c.run(shlex.join(argv), echo=True)


class PreviewHandler(SimpleHTTPRequestHandler):
    """Serve output/ like the production server: 404.html for a missing page."""

    def send_error(self, code, message=None, explain=None):
        page = os.path.join(self.directory, "404.html")
        if code != HTTPStatus.NOT_FOUND or not os.path.isfile(page):
            return super().send_error(code, message, explain)
        with open(page, "rb") as f:
            body = f.read()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        return None


@task
def clean(c):
    """Remove the built site and Pelican's caches."""
    for path in (CONFIG["output_path"], "cache"):
        shutil.rmtree(path, ignore_errors=True)


@task
def build(c):
    """Build the site for preview into output/."""
    pelican_run(c, "-s", CONFIG["settings_base"])


@task
def publish(c):
    """Build the production site into output/ (real site URL, feeds on)."""
    pelican_run(c, "-s", CONFIG["settings_publish"])


@task(help={"port": "port to listen on (default 8000)"})
def serve(c, port=CONFIG["port"]):
    """Build, then serve the site at http://127.0.0.1:8000/."""
    build(c)

    handler = partial(PreviewHandler, directory=CONFIG["output_path"])
    server = ThreadingHTTPServer((CONFIG["host"], int(port)), handler)
    print(
        f"Serving on http://{CONFIG['host']}:{port}/ (Ctrl+C to stop)", file=sys.stderr
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@task(help={"port": "port to listen on (default 8000)"})
def livereload(c, port=CONFIG["port"]):
    """Serve at http://127.0.0.1:8000/, rebuild and reload on every change."""
    from livereload import Server  # noqa: PLC0415  (preview-only dependency)

    def rebuild():
        try:
            build(c)
        except Exception as error:  # keep serving the last good site
            print(
                f"Build failed ({error}); fix the file and save again.", file=sys.stderr
            )

    rebuild()
    server = Server()
    for pattern in (
        "pelicanconf.py",
        f"{CONFIG['content_path']}/**/*",
        f"{CONFIG['theme_path']}/**/*",
        "plugins/**/*.py",
    ):
        server.watch(pattern, rebuild)
    server.serve(host=CONFIG["host"], port=int(port), root=CONFIG["output_path"])


def deploy_config():
    """The deploy target from deploy.local.toml and MFC_DEPLOY_* / MFC_S3_*."""
    from mfc_deploy import DeployError, load_config  # noqa: PLC0415

    try:
        return load_config(ROOT)
    except DeployError as error:
        raise Exit(f"Deploy settings: {error}", 1) from error


@task(
    help={
        "target": "ssh (the hosts of deploy.local.toml, default) or s3",
        "build": "run the production build first (default); --no-build deploys "
        "output/ as it is",
        "bwlimit": "ssh: upload speed limit in KiB/s",
        "full": "s3: upload every file, not only the changed ones",
    }
)
def deploy(c, target="ssh", build=True, bwlimit=0, full=False):
    """Build for production, then put the site live with zero downtime."""
    from mfc_deploy import DeployError, s3, ssh_deploy  # noqa: PLC0415

    config = deploy_config()
    try:
        if target == "ssh":
            config.ssh.bwlimit = int(bwlimit) or config.ssh.bwlimit
            config.ssh.check()
        elif target == "s3":
            config.s3.check()
        else:
            raise DeployError(f"unknown target {target!r}: use ssh or s3")
    except DeployError as error:
        raise Exit(f"Deploy settings: {error}", 1) from error
    if build:
        try:
            publish(c)
        except UnexpectedExit as error:
            raise Exit("The build failed: nothing was deployed.", 1) from error
    output = os.path.join(ROOT, CONFIG["output_path"])
    try:
        if target == "ssh":
            ssh_deploy.deploy(config.ssh, Path(output))
        else:
            s3.deploy(config.s3, Path(output), full=full)
    except DeployError as error:
        raise Exit(f"Deploy failed: {error}", 1) from error


@task(help={"to": "the release to switch to (default: the one before the live one)"})
def rollback(c, to=""):
    """Switch every host back to the previous release (or --to a named one)."""
    from mfc_deploy import DeployError, ssh_deploy  # noqa: PLC0415

    try:
        ssh_deploy.rollback(deploy_config().ssh, to or None)
    except DeployError as error:
        raise Exit(f"Rollback failed: {error}", 1) from error


@task
def releases(c):
    """List the releases on every host, newest first, marking the live one."""
    from mfc_deploy import DeployError, ssh_deploy  # noqa: PLC0415

    try:
        ssh_deploy.list_releases(deploy_config().ssh)
    except DeployError as error:
        raise Exit(f"Releases: {error}", 1) from error


@task(help={"args": "extra pytest arguments, e.g. -k contact"})
def test(c, args=""):
    """Run the whole test suite (pytest, ruff included)."""
    c.run(f"{shlex.quote(sys.executable)} -m pytest {args}", pty=False)
