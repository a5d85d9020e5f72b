"""Deploys over SSH to real sshd + nginx pairs on 127.0.0.1.

Each test starts its own servers (fixture `web_hosts`) and deploys prebuilt
production site versions (fixture `versions`); `invoke` runs in a copy of
the project where the test is about the tasks themselves.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mfc_deploy import DeployError, ssh_deploy
from tests.conftest import ROOT
from tests.deploy.conftest import (
    DROPPED_ITEM,
    EDITED_ITEM,
    WebHost,
    deploy_env,
    invoke,
    ssh_config,
)


def get(host: WebHost, path: str, **headers: str):
    conn = http.client.HTTPConnection("127.0.0.1", host.nginx.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def url_of(path: str) -> str:
    return "/" + path.removesuffix("index.html")


def assert_serves(host: WebHost, output: Path) -> None:
    """nginx serves exactly this build: every page and file, byte for byte."""
    checked = 0
    for file in sorted(output.rglob("*")):
        rel = file.relative_to(output).as_posix()
        if not file.is_file() or rel.startswith(".") or rel.endswith((".gz", ".br")):
            continue
        status, _, body = get(host, url_of(rel))
        assert status == 200, f"{rel}: {status}"
        assert body == file.read_bytes(), f"{rel} is not the expected release's"
        checked += 1
    assert checked > 20


def site_files(output: Path) -> list[str]:
    return sorted(
        p.relative_to(output).as_posix() for p in output.rglob("*") if p.is_file()
    )


def test_deploy_redeploy_rollback_and_roll_forward(  # noqa: PLR0915
    web_hosts, versions, project
):
    (host,) = web_hosts(1)
    config = ssh_config([host])
    v1 = versions.get("r1")
    v2 = versions.get("r1", edit=True)
    assert (v1.output / EDITED_ITEM).read_bytes() != (
        v2.output / EDITED_ITEM
    ).read_bytes()

    out = io.StringIO()
    first = ssh_deploy.deploy(config, v1.output, out)
    assert host.live() == first
    assert_serves(host, v1.output)
    assert "0 changed, 0 removed" in out.getvalue()

    out = io.StringIO()
    started = time.monotonic()
    second = ssh_deploy.deploy(config, v2.output, out)
    seconds = time.monotonic() - started
    assert host.live() == second
    assert_serves(host, v2.output)
    report = out.getvalue()
    print(f"redeploy of one changed item took {seconds:.2f} s:\n{report}")

    # Unchanged files are hard links to the previous release's; changed ones not.
    old, new = host.path / "releases" / first, host.path / "releases" / second
    linked = changed = 0
    before, after = set(site_files(v1.output)), set(site_files(v2.output))
    # The edited page's search fragment is content-addressed: a new name.
    added, removed = sorted(after - before), sorted(before - after)
    assert all(rel.startswith("pagefind/") for rel in added + removed), added
    for rel in sorted(after & before):
        same = (v1.output / rel).read_bytes() == (v2.output / rel).read_bytes()
        if same:
            assert (old / rel).stat().st_ino == (new / rel).stat().st_ino, rel
            linked += 1
        else:
            assert (old / rel).stat().st_ino != (new / rel).stat().st_ino, rel
            changed += 1
    assert linked > 10 * changed, (linked, changed)
    # The report names the changed item and counts what was linked.
    assert f"~ {EDITED_ITEM}\n" in report
    assert (
        f"{len(added)} added, {changed} changed, {len(removed)} removed, "
        f"{linked} unchanged (hard-linked)"
    ) in report

    env = deploy_env([host])
    result = invoke(project, "releases", env=env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(second in line and "live" in line for line in lines), result.stdout
    assert any(first in line and "live" not in line for line in lines)

    result = invoke(project, "rollback", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert host.live() == first
    assert_serves(host, v1.output)
    assert f"release {first} is live (was {second})" in result.stdout

    result = invoke(project, "rollback", "--to", second, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert host.live() == second
    assert_serves(host, v2.output)

    # Rolling "back" from the oldest release has nowhere to go: a clear no.
    invoke(project, "rollback", "--to", first, env=env)
    result = invoke(project, "rollback", env=env)
    assert result.returncode != 0
    assert "no previous release" in result.stderr
    assert host.live() == first


def test_keeps_the_last_n_releases(web_hosts, versions):
    (host,) = web_hosts(1)
    config = ssh_config([host], keep=3)
    names = []
    for name in ("r1", "r2", "r3", "r4"):
        out = io.StringIO()
        names.append(ssh_deploy.deploy(config, versions.get(name).output, out))
    assert host.releases() == names[-3:]
    assert host.live() == names[-1]
    assert f"removed old releases {names[0]}" in out.getvalue()


def test_removed_files_disappear_and_are_reported(web_hosts, versions):
    (host,) = web_hosts(1)
    config = ssh_config([host])
    ssh_deploy.deploy(config, versions.get("r1").output, io.StringIO())
    assert get(host, url_of(DROPPED_ITEM))[0] == 200
    out = io.StringIO()
    ssh_deploy.deploy(config, versions.get("r1", drop=True).output, out)
    status, _, body = get(host, url_of(DROPPED_ITEM))
    assert status == 404
    assert "RELEASE-r1" in body.decode()  # the site's own 404 page
    assert f"- {DROPPED_ITEM}\n" in out.getvalue()


def test_old_pages_keep_their_fingerprinted_assets_after_the_switch(
    web_hosts, versions
):
    """A page fetched just before a switch still finds its own image after it,
    also across a rollback; the carried files are not part of the release."""
    (host,) = web_hosts(1)
    config = ssh_config([host])
    v1, v2 = versions.get("r1"), versions.get("r2")
    image_of = {
        v: next(p for p in site_files(v.output) if p.startswith("images/marker."))
        for v in (v1, v2)
    }
    assert image_of[v1] != image_of[v2]
    first = ssh_deploy.deploy(config, v1.output, io.StringIO())
    ssh_deploy.deploy(config, v2.output, io.StringIO())
    assert get(host, "/" + image_of[v1])[0] == 200  # carried one release
    assert get(host, "/" + image_of[v2])[0] == 200
    ssh_deploy.rollback(config, first, io.StringIO())
    assert get(host, "/" + image_of[v2])[0] == 200  # carried back too
    # Carried files are listed apart and never served as the release's own.
    carried = (host.current / ".nginx" / "carried").read_text().split()
    # The image, and the search fragment of the page that shows it.
    assert image_of[v2] in carried
    assert all(p == image_of[v2] or p.startswith("pagefind/") for p in carried)
    assert get(host, "/.nginx/carried")[0] == 404


def run_load(host: WebHost, tmp_path: Path, min_requests: int):
    """Start the load client in a second process; returns (process, config)."""
    config = {
        "base": host.nginx.url,
        "paths": [
            "/",
            "/news/",
            "/news/2020/testovaia-novost-1/",
            "/news/2013/forum-v-eltse/",
            "/kak-dobratsya/",
            "/archive/",
            "/tags/",
            "/static/css/site.css",
            "/net-takoi-stranicy/",
        ],
        "missing": ["/net-takoi-stranicy/"],
        "threads": 4,
        "min_requests": min_requests,
        "max_requests": 400_000,
        "max_seconds": 240,
        "stop_file": str(tmp_path / "stop"),
        "progress": str(tmp_path / "progress"),
        "result": str(tmp_path / "result.json"),
    }
    (tmp_path / "load.json").write_text(json.dumps(config))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.deploy.loadclient", str(tmp_path / "load.json")],
        cwd=ROOT,
        start_new_session=True,
    )
    return process, config


def requests_so_far(config: dict) -> int:
    try:
        return int(Path(config["progress"]).read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


def wait_for_requests(config: dict, count: int, process) -> None:
    deadline = time.monotonic() + 120
    while requests_so_far(config) < count:
        assert process.poll() is None, "the load client stopped early"
        assert time.monotonic() < deadline, "the load client is stuck"
        time.sleep(0.05)


def test_zero_failed_requests_under_load_during_deploys_and_a_rollback(
    web_hosts, versions, tmp_path
):
    (host,) = web_hosts(1)
    config = ssh_config([host])
    names = {"r1": ssh_deploy.deploy(config, versions.get("r1").output, io.StringIO())}
    process, load = run_load(host, tmp_path, min_requests=10_000)
    steps = []
    try:
        wait_for_requests(load, 1000, process)
        for step, name in enumerate(("r2", "r3", "rollback", "r4"), start=1):
            started = time.monotonic()
            if name == "rollback":
                target = ssh_deploy.rollback(config, None, io.StringIO())
                assert target == names["r2"]
            else:
                names[name] = ssh_deploy.deploy(
                    config, versions.get(name).output, io.StringIO()
                )
            steps.append(f"{name}: {time.monotonic() - started:.2f} s")
            # Serve each release a while before the next step.
            wait_for_requests(
                load, max(step * 2500, requests_so_far(load) + 1500), process
            )
        Path(load["stop_file"]).touch()
        assert process.wait(timeout=300) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    result = json.loads(Path(load["result"]).read_text())
    print(f"load: {json.dumps(result, indent=1)}\nsteps: {steps}")
    assert not result["timed_out"]
    assert result["failed"] == 0, result["failures"]
    assert result["requests"] >= 10_000
    # Every release that was live got served; nothing else was.
    assert set(result["markers"]) == {
        "RELEASE-r1",
        "RELEASE-r2",
        "RELEASE-r3",
        "RELEASE-r4",
    }
    assert host.live() == names["r4"]


def children_named(pid: int, name: str) -> list[int]:
    """Descendant processes of `pid` whose command is `name`."""
    found, parents = [], {pid}
    for _ in range(4):
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmd = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            if ppid in parents:
                parents.add(int(entry.name))
                if os.path.basename(cmd.decode()) == name:
                    found.append(int(entry.name))
    return sorted(set(found))


def start_slow_deploy(project: Path, output: Path, env: dict) -> subprocess.Popen:
    """`invoke deploy --no-build` of `output`, throttled so it can be caught."""
    target = project / "output"
    if target.exists():
        subprocess.run(["rm", "-rf", str(target)], check=True)
    subprocess.run(["cp", "-a", str(output), str(target)], check=True)
    return subprocess.Popen(
        [sys.executable, "-m", "invoke", "deploy", "--no-build", "--bwlimit", "40"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stop_group(process: subprocess.Popen) -> None:
    """Kill a deploy started by a test (if it still runs) and close its pipes."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)


def wait_for_upload(host: WebHost, process: subprocess.Popen) -> Path:
    """The partial upload of a running deploy, once it holds some files."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        for folder in (host.path / "incoming").glob("*"):
            if sum(1 for p in folder.rglob("*") if p.is_file()) >= 5:
                return folder
        time.sleep(0.05)
    raise AssertionError("the upload did not start")


def test_killed_deploy_leaves_the_live_site_and_the_next_one_cleans_up(
    web_hosts, versions, project
):
    (host,) = web_hosts(1)
    v1, v2 = versions.get("r1"), versions.get("r2")
    first = ssh_deploy.deploy(ssh_config([host]), v1.output, io.StringIO())
    env = deploy_env([host])
    process = start_slow_deploy(project, v2.output, env)
    try:
        partial = wait_for_upload(host, process)
        assert children_named(process.pid, "rsync"), "rsync is not running"
        os.killpg(process.pid, signal.SIGKILL)  # the deploy, its rsync and ssh
    finally:
        stop_group(process)
    assert partial.is_dir()  # the cut-off upload is still there...
    assert host.live() == first  # ...and not live: the old release is, whole
    assert_serves(host, v1.output)

    result = invoke(project, "deploy", "--no-build", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"removed the cut-off upload {partial.name}" in result.stdout
    assert host.incoming() == []
    assert host.live() not in (first, partial.name)
    assert_serves(host, v2.output)


def test_killed_rsync_fails_the_deploy_cleanly(web_hosts, versions, project):
    (host,) = web_hosts(1)
    v1, v2 = versions.get("r1"), versions.get("r2")
    first = ssh_deploy.deploy(ssh_config([host]), v1.output, io.StringIO())
    process = start_slow_deploy(project, v2.output, deploy_env([host]))
    try:
        wait_for_upload(host, process)
        for pid in children_named(process.pid, "rsync"):
            os.kill(pid, signal.SIGKILL)
        _, stderr = process.communicate(timeout=60)
    finally:
        stop_group(process)
    assert process.returncode != 0
    assert "upload failed" in stderr
    assert "every host still serves the release it served before" in stderr
    assert host.live() == first
    assert host.releases() == [first]
    assert host.incoming() == []
    assert_serves(host, v1.output)


def test_a_second_deploy_is_refused_while_one_runs(web_hosts, versions, project):
    (host,) = web_hosts(1)
    env = deploy_env([host])
    ssh_deploy.deploy(ssh_config([host]), versions.get("r1").output, io.StringIO())
    process = start_slow_deploy(project, versions.get("r2").output, env)
    try:
        wait_for_upload(host, process)
        second = subprocess.run(
            [sys.executable, "-m", "invoke", "deploy", "--no-build"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert process.poll() is None, "the first deploy should still be running"
        stdout, stderr = process.communicate(timeout=180)
    finally:
        stop_group(process)
    assert second.returncode != 0
    message = second.stderr
    assert "another deploy is running there: deploy " in message, message
    assert f"(pid {process.pid})" in message
    assert "Nothing was changed" in message
    # The first deploy was not disturbed.
    assert process.returncode == 0, stdout + stderr
    assert_serves(host, versions.get("r2").output)
    # The lock went away with the first deploy: a third one goes through.
    assert invoke(project, "deploy", "--no-build", env=env).returncode == 0


def test_rollback_is_refused_while_a_deploy_runs(web_hosts, versions, project):
    (host,) = web_hosts(1)
    env = deploy_env([host])
    config = ssh_config([host])
    ssh_deploy.deploy(config, versions.get("r1").output, io.StringIO())
    ssh_deploy.deploy(config, versions.get("r2").output, io.StringIO())
    process = start_slow_deploy(project, versions.get("r3").output, env)
    try:
        wait_for_upload(host, process)
        with pytest.raises(DeployError, match="another deploy is running"):
            ssh_deploy.rollback(config, None, io.StringIO())
    finally:
        stop_group(process)


def test_upload_failure_on_the_second_host_leaves_both_on_the_old_release(
    web_hosts, versions
):
    hosts = web_hosts(2)
    config = ssh_config(hosts)
    v1, v2 = versions.get("r1"), versions.get("r2")
    first = ssh_deploy.deploy(config, v1.output, io.StringIO())
    assert [h.live() for h in hosts] == [first, first]
    # The second host now refuses rsync (its sshd reads the key file anew on
    # every connection), but still takes the lock and answers queries.
    keys = hosts[1].sshd.base / "authorized_keys"
    forced = (
        'command="case $SSH_ORIGINAL_COMMAND in rsync*) echo disk full >&2; '
        'exit 12;; *) exec sh -c \\"$SSH_ORIGINAL_COMMAND\\";; esac" '
    )
    keys.write_text(forced + keys.read_text())
    with pytest.raises(DeployError) as failure:
        ssh_deploy.deploy(config, v2.output, io.StringIO())
    message = str(failure.value)
    assert str(config.hosts[1]) in message
    assert "upload failed" in message
    assert "Nothing was switched" in message
    for host in hosts:
        assert host.live() == first
        assert host.releases() == [first]  # the new one removed everywhere
        assert host.incoming() == []
        assert_serves(host, v1.output)
    # Once the host is healthy again the deploy goes through on both.
    keys.write_text(keys.read_text().replace(forced, ""))
    second = ssh_deploy.deploy(config, v2.output, io.StringIO())
    for host in hosts:
        assert host.live() == second
        assert_serves(host, v2.output)


def test_two_hosts_roll_back_together(web_hosts, versions):
    hosts = web_hosts(2)
    config = ssh_config(hosts)
    first = ssh_deploy.deploy(config, versions.get("r1").output, io.StringIO())
    ssh_deploy.deploy(config, versions.get("r2").output, io.StringIO())
    out = io.StringIO()
    assert ssh_deploy.rollback(config, None, out) == first
    for host in hosts:
        assert host.live() == first
        assert_serves(host, versions.get("r1").output)
    assert out.getvalue().count(f"release {first} is live") == 2


def test_unknown_host_key_is_refused(web_hosts, versions, tmp_path):
    (host,) = web_hosts(1)
    config = ssh_config([host])
    config.known_hosts = str(tmp_path / "empty_known_hosts")
    Path(config.known_hosts).write_text("")
    with pytest.raises(DeployError, match="Host key verification failed"):
        ssh_deploy.deploy(config, versions.get("r1").output, io.StringIO())
    assert host.live() is None
