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
sys.path.insert(0, os.path.join(ROOT, "plugins"))  # the site's packages

from mfc_content.build import (  # noqa: E402
    load_settings,
    remove_stale_staging,
    run_check,
    staged_build,
)
from mfc_content.reuse import spare_of  # noqa: E402

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


def site_build(settings: str, full: bool = False) -> None:
    """Check the content, build into staging, replace output/ only on success."""
    env = {**os.environ, "MFC_FULL_BUILD": "1"} if full else None
    status = staged_build(settings, env=env)
    if status:
        raise Exit(code=status)


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
    """Remove the built site, its spare copy, staging folders left by killed
    builds, and caches."""
    output = Path(CONFIG["output_path"]).resolve()
    for path in (output, spare_of(output), "cache"):
        shutil.rmtree(path, ignore_errors=True)
    remove_stale_staging(output)


@task
def check(c):
    """Check every content file (no build); list all errors with file and line."""
    if not run_check(CONFIG["settings_base"]):
        raise Exit(code=1)


FULL_HELP = {"full": "build every page, even if only some items' text changed"}


@task(help=FULL_HELP)
def build(c, full=False):
    """Check, then build the preview (drafts shown, marked) into output/."""
    site_build(CONFIG["settings_base"], full)


@task(help=FULL_HELP)
def publish(c, full=False):
    """Check, then build the production site into output/ (no drafts, feeds on)."""
    site_build(CONFIG["settings_publish"], full)


@task(
    help={
        "title": "the news title, in quotes",
        "slug": "the address in Latin letters (default: from the title)",
        "date": "publication date YYYY-MM-DD [HH:MM] (default: today)",
    }
)
def new(c, title, slug="", date=""):
    """Create a news file from the template: invoke new "Заголовок новости"."""
    from mfc_content.newitem import NewsError, create_news  # noqa: PLC0415

    try:
        path = create_news(
            title, load_settings(CONFIG["settings_base"]), slug=slug, date=date
        )
    except NewsError as error:
        raise Exit(str(error), code=1) from None
    print(
        f"Создан файл {os.path.relpath(path)}.\n"
        "Откройте его, впишите текст вместо строки [[ВПИШИТЕ …]] и проверьте: "
        "invoke check"
    )


@task(
    name="import-legacy",
    help={
        "source": "an old page (.txt or .html), a folder of them, or a quoted glob",
        "title": "the title, when importing one page that has none",
        "slug": "the address in Latin letters, when importing one page",
    },
)
def import_legacy(c, source, title="", slug=""):
    """Import news pages saved from the old site into content/news/."""
    from mfc_content.legacy import import_legacy as run_import  # noqa: PLC0415

    def ask(default: str) -> str:
        if not sys.stdin.isatty():
            return ""
        answer = input(f"Заголовок новости (Enter — «{default}»): ").strip()
        return answer or default

    status = run_import(
        source, load_settings(CONFIG["settings_base"]), title=title, slug=slug, ask=ask
    )
    if status:
        raise Exit(code=status)


@task(help={"port": "port to listen on (default 8000)"})
def serve(c, port=CONFIG["port"]):
    """Build, then serve the site at http://127.0.0.1:8000/."""
    site_build(CONFIG["settings_base"])

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
    """Serve at http://127.0.0.1:8000/; on a save show that page, then rebuild."""
    from mfc_content.preview import serve  # noqa: PLC0415  (preview-only)

    serve(CONFIG["settings_base"], CONFIG["host"], int(port), Path(ROOT))


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
        except (Exit, UnexpectedExit) as error:
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
