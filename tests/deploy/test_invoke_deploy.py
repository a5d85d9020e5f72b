"""`invoke deploy` end to end, build included, in a copy of the project."""

from __future__ import annotations

import io
import os
import re
import time

from mfc_deploy import ssh_deploy
from tests.deploy.conftest import NEW_URL, OLD_URL, deploy_env, invoke, ssh_config
from tests.deploy.test_ssh_deploy import get


def test_invoke_deploy_builds_and_puts_the_site_live(web_hosts, project):
    (host,) = web_hosts(1)
    # The production build uses the address it will be served at.
    env = deploy_env([host], MFC_SITEURL=host.nginx.url)
    assert get(host, "/")[0] == 404  # nginx runs; nothing is live yet

    started = time.monotonic()
    result = invoke(project, "deploy", env=env)
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    print(f"invoke deploy (build + upload + switch): {seconds:.1f} s")
    assert "Done: Processed" in result.stdout  # the build ran first
    assert (project / "output" / "index.html.gz").is_file()  # precompressed
    assert (project / "output" / "index.html.br").is_file()
    release = host.live()
    assert release
    assert f"release {release} is live." in result.stdout
    assert "added, 0 changed, 0 removed" in result.stdout

    status, headers, body = get(host, "/news/2013/forum-v-eltse/")
    assert status == 200
    page = body.decode()
    assert "Сотрудники МФЦ приняли участие" in page
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)
    assert re.fullmatch(
        re.escape(host.nginx.url) + r"/static/css/site\.[0-9a-f]{10}\.css", stylesheet
    )
    assert get(host, stylesheet.removeprefix(host.nginx.url))[0] == 200
    status, headers, _ = get(host, "/", **{"Accept-Encoding": "br"})
    assert headers["Content-Encoding"] == "br"
    # The build's files are what is live.
    assert get(host, "/")[2] == (project / "output" / "index.html").read_bytes()


def test_failing_build_deploys_nothing(web_hosts, project):
    (host,) = web_hosts(1)
    env = deploy_env([host], MFC_SITEURL=host.nginx.url)
    assert invoke(project, "deploy", env=env).returncode == 0
    live, releases = host.live(), host.releases()
    before = get(host, "/")[2]

    # A broken template: the production build fails.
    base = project / "theme" / "templates" / "base.html"
    base.write_text(base.read_text() + "{% endblock nonsense %}\n")
    item = project / "content" / "news" / "2013" / "2013-09-20-forum-v-eltse.md"
    item.write_text(item.read_text().replace("Ельце", "Ельце (исправлено)"))
    result = invoke(project, "deploy", env=env)
    assert result.returncode != 0
    assert "The build failed: nothing was deployed." in result.stderr
    assert "uploading" not in result.stdout
    assert host.live() == live
    assert host.releases() == releases
    assert host.incoming() == []
    assert get(host, "/")[2] == before


def test_broken_content_deploys_nothing(web_hosts, project):
    (host,) = web_hosts(1)
    env = deploy_env([host], MFC_SITEURL=host.nginx.url)
    # The contact block names a directions page that does not exist: an
    # error of the content, which fails the build (and issue 3's check).
    contact = project / "content" / "blocks" / "contact.md"
    contact.write_text(contact.read_text().replace("kak-dobratsya", "net-takoi"))
    result = invoke(project, "deploy", env=env)
    assert result.returncode != 0
    assert "nothing was deployed" in result.stderr
    assert host.live() is None
    assert not host.path.exists() or host.releases() == []


def test_invoke_list_names_the_deploy_tasks():
    from tests.conftest import ROOT  # noqa: PLC0415

    result = invoke(ROOT, "--list", env=dict(os.environ))
    listing = " ".join(result.stdout.split())
    assert "deploy Build for production, then put the site live with zero" in listing
    assert "rollback Switch every host back to the previous release" in listing
    assert "releases List the releases on every host" in listing


def test_deploy_without_a_target_says_how_to_set_one(project):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MFC_")}
    result = invoke(project, "deploy", "--no-build", env=env)
    assert result.returncode != 0
    assert "MFC_DEPLOY_HOSTS" in result.stderr
    assert "deploy.local.toml" in result.stderr


def test_redirects_take_effect_on_deploy_when_reload_is_set(web_hosts, versions):
    """nginx starts before the first release (the map's glob matches nothing),
    and a deploy that changes the redirect map reloads it."""
    (host,) = web_hosts(1)
    config = ssh_config([host], reload=host.nginx.reload_command())
    assert get(host, OLD_URL)[0] == 404
    out = io.StringIO()
    ssh_deploy.deploy(config, versions.get("r1").output, out)
    assert "redirects changed, web server reloaded" in out.getvalue()
    deadline = time.monotonic() + 10
    while get(host, OLD_URL)[0] != 301 and time.monotonic() < deadline:
        time.sleep(0.1)  # the reload is graceful: new workers take over
    status, headers, _ = get(host, OLD_URL)
    assert status == 301
    assert headers["Location"] == NEW_URL
    # Unchanged map: no reload.
    out = io.StringIO()
    ssh_deploy.deploy(config, versions.get("r2").output, out)
    assert "reloaded" not in out.getvalue()
