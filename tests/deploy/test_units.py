"""Unit tests of the deploy package and the redirect map, without servers."""

from __future__ import annotations

import gzip
import logging
from datetime import UTC, datetime
from types import SimpleNamespace

import brotli
import pytest

from mfc_deploy import DeployError, Host, load_config, parse_host
from mfc_deploy.kinds import DAY, IMMUTABLE, SHORT, kind_of
from mfc_deploy.releases import (
    is_release_id,
    new_release_id,
    release_time,
    rollback_target,
    to_prune,
)
from mfc_deploy.rsync import classify, parse_item, rsync_argv
from mfc_redirects import RedirectMap, map_lines, old_path


@pytest.mark.parametrize(
    "module",
    ["config", "kinds", "releases", "rsync"],
)
def test_docstring_examples(module):
    import doctest  # noqa: PLC0415
    import importlib  # noqa: PLC0415

    result = doctest.testmod(importlib.import_module(f"mfc_deploy.{module}"))
    assert result.attempted > 0
    assert result.failed == 0


def test_redirects_docstring_examples():
    import doctest  # noqa: PLC0415

    import mfc_redirects  # noqa: PLC0415

    assert doctest.testmod(mfc_redirects).failed == 0


# --- config -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "host"),
    [
        ("web1.example.ru", Host("web1.example.ru")),
        ("deploy@web1.example.ru", Host("web1.example.ru", 22, "deploy")),
        ("deploy@10.0.0.5:2222", Host("10.0.0.5", 2222, "deploy")),
        ("deploy@[2001:db8::1]:22", Host("2001:db8::1", 22, "deploy")),
        (
            "ssh://deploy@web2:2200/var/www/mfc/",
            Host("web2", 2200, "deploy", "/var/www/mfc"),
        ),
    ],
)
def test_host_specs(spec, host):
    assert parse_host(spec) == host


@pytest.mark.parametrize(
    "spec", ["deploy@", "deploy@web1:0", "deploy@web1:99999", "web1/srv/mfc", "a b"]
)
def test_bad_host_specs_are_refused(spec):
    with pytest.raises(DeployError, match="deploy host"):
        parse_host(spec)


def test_ipv6_host_in_rsync_destination():
    assert Host("2001:db8::1", 22, "deploy").remote_path("/srv") == (
        "deploy@[2001:db8::1]:/srv"
    )


def test_config_file_then_environment(tmp_path):
    (tmp_path / "deploy.local.toml").write_text(
        '[ssh]\nhosts = ["deploy@web1", "deploy@web2:2222"]\npath = "/srv/mfc/"\n'
        'keep = 7\nreload = "sudo -n systemctl reload nginx"\n'
        '[s3]\nbucket = "mfc-site"\nprefix = "/www/"\n'
    )
    config = load_config(tmp_path, {})
    assert [str(h) for h in config.ssh.hosts] == ["deploy@web1", "deploy@web2:2222"]
    assert config.ssh.path == "/srv/mfc"
    assert config.ssh.keep == 7
    assert config.ssh.reload == "sudo -n systemctl reload nginx"
    assert (config.s3.bucket, config.s3.prefix) == ("mfc-site", "www")
    config.ssh.check()

    env = {"MFC_DEPLOY_HOSTS": "ops@web3, ops@web4", "MFC_DEPLOY_KEEP": "3"}
    config = load_config(tmp_path, env)
    assert [str(h) for h in config.ssh.hosts] == ["ops@web3", "ops@web4"]
    assert config.ssh.keep == 3
    assert config.ssh.path == "/srv/mfc"  # still from the file


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "no deploy host: set MFC_DEPLOY_HOSTS"),
        ({"MFC_DEPLOY_HOSTS": "web1"}, "must be an absolute folder"),
        ({"MFC_DEPLOY_HOSTS": "web1", "MFC_DEPLOY_PATH": "srv"}, "absolute folder"),
        (
            {
                "MFC_DEPLOY_HOSTS": "web1",
                "MFC_DEPLOY_PATH": "/srv",
                "MFC_DEPLOY_KEEP": "1",
            },
            "keep at least 2",
        ),
        (
            {
                "MFC_DEPLOY_HOSTS": "web1",
                "MFC_DEPLOY_PATH": "/srv",
                "MFC_DEPLOY_SSH_KEY": "/nope",
            },
            "SSH key file /nope does not exist",
        ),
    ],
)
def test_incomplete_config_says_what_to_set(tmp_path, env, message):
    with pytest.raises(DeployError, match=message):
        load_config(tmp_path, env).ssh.check()


def test_broken_config_file_names_the_file(tmp_path):
    (tmp_path / "deploy.local.toml").write_text("[ssh\nhosts = 1\n")
    with pytest.raises(DeployError, match=r"deploy\.local\.toml"):
        load_config(tmp_path, {})


def test_ssh_key_inside_the_project_is_refused(tmp_path):
    (tmp_path / "id_ed25519").write_text("not a real key")
    env = {"MFC_DEPLOY_SSH_KEY": str(tmp_path / "id_ed25519")}
    with pytest.raises(DeployError, match="keep keys out of the repository"):
        load_config(tmp_path, env)


def test_named_config_file_must_exist(tmp_path):
    with pytest.raises(DeployError, match="MFC_DEPLOY_CONFIG names"):
        load_config(tmp_path, {"MFC_DEPLOY_CONFIG": str(tmp_path / "nope.toml")})


def test_example_config_is_valid():
    from tests.conftest import ROOT  # noqa: PLC0415

    config = load_config(ROOT, {"MFC_DEPLOY_CONFIG": str(ROOT / "deploy.example.toml")})
    config.ssh.key = None  # the example's key path is the operator's
    config.ssh.check()
    config.s3.check()


# --- releases -----------------------------------------------------------


def test_release_names_sort_in_time_order():
    earlier = new_release_id(datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=UTC))
    later = new_release_id(datetime(2026, 1, 2, 3, 4, 5, 7000, tzinfo=UTC))
    assert earlier == "20260102T030405.006Z"
    assert earlier < later
    assert is_release_id(earlier)
    assert release_time(earlier) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert not is_release_id("../../etc")


@pytest.mark.parametrize(
    ("releases", "live", "keep", "pruned"),
    [
        (["a", "b", "c"], "c", 5, []),
        (["a", "b", "c", "d"], "d", 2, ["a", "b"]),
        (["a", "b", "c", "d"], "a", 2, ["b"]),  # rolled back: live stays
        (["a", "b"], None, 1, ["a"]),
    ],
)
def test_pruning_keeps_the_newest_and_the_live_one(releases, live, keep, pruned):
    assert to_prune(releases, live, keep) == pruned


R1, R2, R3 = "20260101T000000.000Z", "20260102T000000.000Z", "20260103T000000.000Z"


def test_rollback_targets():
    assert rollback_target([R1, R2, R3], R3, None) == R2
    assert rollback_target([R1, R2, R3], R2, None) == R1
    assert rollback_target([R1, R2, R3], R1, R3) == R3  # roll forward by name
    with pytest.raises(DeployError, match="no previous release"):
        rollback_target([R1, R2], R1, None)
    with pytest.raises(DeployError, match="already live"):
        rollback_target([R1, R2], R2, R2)
    with pytest.raises(DeployError, match="does not exist"):
        rollback_target([R1, R2], R2, R3)
    with pytest.raises(DeployError, match="not a release name"):
        rollback_target([R1, R2], R2, "latest; rm -rf /")
    with pytest.raises(DeployError, match="nothing is live yet"):
        rollback_target([], None, None)


# --- rsync --------------------------------------------------------------


def test_rsync_command_links_against_earlier_releases():
    argv = rsync_argv(
        "out", "u@h:/srv/incoming/x", ["ssh", "-p", "2222"], ["/srv/releases/a"], 100
    )
    assert argv[:4] == ["rsync", "-rlpD", "--checksum", "--chmod=D755,F644"]
    assert "--link-dest=/srv/releases/a" in argv
    assert "--bwlimit=100" in argv
    assert argv[argv.index("-e") + 1] == "ssh -p 2222"
    assert argv[-2:] == ["out/", "u@h:/srv/incoming/x/"]
    assert "-a" not in argv
    assert "--times" not in argv


def test_rsync_report_is_classified_against_the_live_release():
    lines = [
        "cd+++++++++ 4096 news/",
        "<f+++++++++ 120 news/new/index.html",
        "<fcs....... 300 index.html",
        "hf          50 static/css/site.css",
        ".f          60 404.html",
        "some other line",
    ]
    items = [item for item in map(parse_item, lines) if item]
    assert len(items) == 4
    previous = {"index.html", "static/css/site.css", "404.html", "old/index.html"}
    stats = "Number of files: 5\nTotal bytes sent: 12345\n"
    changes = classify(items, previous, stats)
    assert changes.added == ["news/new/index.html"]
    assert changes.changed == ["index.html"]
    assert changes.removed == ["old/index.html"]
    assert changes.unchanged == 2
    assert changes.bytes_sent == 12345
    assert changes.summary() == (
        "1 added, 1 changed, 1 removed, 2 unchanged (hard-linked); 12.1 KiB sent"
    )
    assert changes.details() == [
        "  + news/new/index.html",
        "  ~ index.html",
        "  - old/index.html",
    ]


def test_report_details_are_bounded():
    changes = classify([("<f+++++++++", 1, f"f{i}") for i in range(20)], set(), "")
    lines = changes.details(limit=5)
    assert len(lines) == 6
    assert lines[-1] == "  + … and 15 more"


# --- kinds of files -----------------------------------------------------


@pytest.mark.parametrize(
    ("path", "content_type", "encoding", "cache"),
    [
        ("index.html", "text/html; charset=utf-8", None, SHORT),
        ("news/index.html.gz", "text/html; charset=utf-8", "gzip", SHORT),
        ("news/index.html.br", "text/html; charset=utf-8", "br", SHORT),
        ("css/site.0123abcd.css", "text/css; charset=utf-8", None, IMMUTABLE),
        ("css/site.0123abcd.css.br", "text/css; charset=utf-8", "br", IMMUTABLE),
        ("js/mode.0123abcd.js", "text/javascript; charset=utf-8", None, IMMUTABLE),
        ("pagefind/index/ru_1a.pf_index", "application/octet-stream", None, IMMUTABLE),
        ("pagefind/pagefind-entry.json", "application/json", None, SHORT),
        ("feeds/all.atom.xml", "application/atom+xml", None, SHORT),
        ("feeds/all.rss.xml", "application/rss+xml", None, SHORT),
        ("sitemap.xml", "application/xml", None, SHORT),
        ("images/foto.JPG", "image/jpeg", None, DAY),
        ("images/logo.svg", "image/svg+xml", None, DAY),
        ("robots.txt", "text/plain; charset=utf-8", None, SHORT),
    ],
)  # fmt: skip
def test_kinds_of_files(path, content_type, encoding, cache):
    kind = kind_of(path)
    assert (kind.content_type, kind.content_encoding, kind.cache_control) == (
        content_type,
        encoding,
        cache,
    )


# --- redirects from the old site ----------------------------------------


@pytest.mark.parametrize(
    ("source", "uri"),
    [
        ("http://mfc.astrobl.ru/news/detail.php?ID=123", "/news/detail.php?ID=123"),
        ("https://mfc.astrobl.ru/about/", "/about/"),
        ("https://mfc.astrobl.ru", "/"),
        ("/index.php?newsid=7", "/index.php?newsid=7"),
        ("old-site-news-2013-09-20.txt", None),  # a saved file's name
        ("//evil.example/x", None),
        (None, None),
        (42, None),
    ],
)
def test_old_urls_from_source(source, uri):
    assert old_path(source) == uri


def item(source, url, path):
    return SimpleNamespace(
        metadata={"source": source}, url=url, relative_source_path=path
    )


def test_redirect_map_is_sorted_and_refuses_conflicts(caplog):
    collected = RedirectMap()
    collected.add(item("http://old/b?ID=2", "news/2013/b/", "news/b.md"))
    collected.add(item("http://old/a?ID=1", "news/2013/a/", "news/a.md"))
    collected.add(item("saved-page.txt", "news/2013/c/", "news/c.md"))
    with caplog.at_level(logging.ERROR):
        collected.add(item("http://old/a?ID=1", "news/2013/d/", "news/d.md"))
        collected.add(item('http://old/x y"', "news/2013/e/", "news/e.md"))
    assert map_lines(collected.redirects) == [
        '"/a?ID=1" "/news/2013/a/";',
        '"/b?ID=2" "/news/2013/b/";',
    ]
    messages = [r.getMessage() for r in caplog.records]
    assert any("news/d.md" in m and "news/a.md" in m for m in messages)
    assert any("news/e.md" in m and "percent-encode" in m for m in messages)


# --- precompressed copies in the production build -----------------------


def test_production_build_has_precompressed_copies(published_site):
    output = published_site.output
    texts = [
        p
        for p in output.rglob("*")
        if p.suffix in {".html", ".css", ".xml"} and p.stat().st_size >= 256
    ]
    assert len(texts) > 5
    for path in texts:
        data = path.read_bytes()
        gz = path.with_name(path.name + ".gz").read_bytes()
        br = path.with_name(path.name + ".br").read_bytes()
        assert gzip.decompress(gz) == data
        assert brotli.decompress(br) == data
        assert len(br) < len(data)
        assert len(gz) < len(data)


def test_precompressed_copies_are_reproducible(published_site, tmp_path):
    """The same input gives the same .gz bytes (no timestamp in the header),
    so an unchanged page's copies are hard-linked by the next deploy."""
    from tests.conftest import PUBLISHED_URL, build_site  # noqa: PLC0415

    result = build_site(
        published_site.content,
        tmp_path / "again",
        "publishconf.py",
        MFC_SITEURL=PUBLISHED_URL,
    )
    assert result.returncode == 0, result.stderr
    for name in ("index.html.gz", "index.html.br", "404.html.gz"):
        assert (tmp_path / "again" / name).read_bytes() == (
            published_site.output / name
        ).read_bytes()
