"""The object storage target against OpenStack Swift's S3 API on 127.0.0.1."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import uuid

import brotli
import pytest

from mfc_deploy import S3Config, s3
from mfc_deploy.kinds import IMMUTABLE, SHORT
from tests.deploy.conftest import DROPPED_ITEM, EDITED_ITEM, invoke


class Recording:
    """The real boto3 client, noting the order of uploads and deletions."""

    def __init__(self, client):
        self.client = client
        self.calls: list[tuple[str, str]] = []

    def put_object(self, **kwargs):
        self.calls.append(("put", kwargs["Key"]))
        return self.client.put_object(**kwargs)

    def delete_objects(self, **kwargs):
        for obj in kwargs["Delete"]["Objects"]:
            self.calls.append(("delete", obj["Key"]))
        return self.client.delete_objects(**kwargs)

    def __getattr__(self, name):
        return getattr(self.client, name)

    def puts(self) -> list[str]:
        return [key for call, key in self.calls if call == "put"]


@pytest.fixture(scope="module")
def s3_env(swift, tmp_path_factory):
    """Credentials in the environment, as in production; nothing else leaks in."""
    empty = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as patch:
        for key, value in swift.env().items():
            patch.setenv(key, value)
        patch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
        yield


def new_bucket(swift) -> S3Config:
    name = f"mfc-test-{uuid.uuid4().hex[:16]}"
    swift.client().create_bucket(Bucket=name)
    return S3Config(bucket=name, endpoint_url=swift.endpoint_url, region="us-east-1")


@pytest.fixture
def bucket(swift, s3_env) -> S3Config:
    """An empty bucket."""
    return new_bucket(swift)


@pytest.fixture(scope="module")
def deployed_r1(swift, s3_env, versions) -> S3Config:
    """A bucket with site version r1 deployed."""
    config = new_bucket(swift)
    s3.deploy(config, versions.get("r1").output, io.StringIO())
    return config


def site_files(output) -> list[str]:
    return sorted(
        p.relative_to(output).as_posix()
        for p in output.rglob("*")
        if p.is_file() and not p.relative_to(output).as_posix().startswith(".")
    )


def objects(swift, bucket: S3Config) -> dict[str, str]:
    return s3.remote_etags(swift.client(), bucket)


def deploy(bucket: S3Config, output) -> tuple[s3.Changes, Recording, str]:
    client = Recording(s3.make_client(bucket))
    out = io.StringIO()
    changes = s3.deploy(bucket, output, out, client=client)
    return changes, client, out.getvalue()


def assert_html_last_and_deletions_after(calls: list[tuple[str, str]]) -> None:
    kinds = [
        "delete" if call == "delete" else "html" if ".html" in key else "asset"
        for call, key in calls
    ]
    order = {"asset": 0, "html": 1, "delete": 2}
    assert kinds == sorted(kinds, key=order.get), kinds


def test_upload_then_only_changed_files_then_deletions(swift, bucket, versions):
    v1 = versions.get("r1")
    v2 = versions.get("r1", edit=True)
    v3 = versions.get("r1", edit=True, drop=True)

    changes, client, report = deploy(bucket, v1.output)
    files = site_files(v1.output)
    assert sorted(client.puts()) == files
    assert sorted(objects(swift, bucket)) == files
    assert changes.added == files
    assert_html_last_and_deletions_after(client.calls)
    assert f"{len(files)} added, 0 changed, 0 removed" in report
    assert ".nginx/redirects.map" not in objects(swift, bucket)

    # One changed news item: exactly the files whose bytes differ are sent.
    changes, client, report = deploy(bucket, v2.output)
    before = set(files)
    differ = [
        f
        for f in site_files(v2.output)
        if f in before and (v1.output / f).read_bytes() != (v2.output / f).read_bytes()
    ]
    # The edited page's search fragment is content-addressed: a new name.
    new = sorted(set(site_files(v2.output)) - before)
    assert all(f.startswith("pagefind/") for f in new), new
    assert EDITED_ITEM in differ
    assert len(differ) < len(files) // 5
    assert sorted(client.puts()) == sorted(differ + new)
    assert changes.changed == differ
    assert changes.added == new
    assert changes.unchanged == len(files) - len(differ) - len(changes.removed)
    assert_html_last_and_deletions_after(client.calls)
    stored = swift.client().get_object(Bucket=bucket.bucket, Key=EDITED_ITEM)
    assert stored["Body"].read() == (v2.output / EDITED_ITEM).read_bytes()

    # An item deleted from the site disappears from the bucket, after the
    # new files are in place.
    changes, client, report = deploy(bucket, v3.output)
    gone = [DROPPED_ITEM, DROPPED_ITEM + ".br", DROPPED_ITEM + ".gz"]
    assert set(gone) <= set(changes.removed)
    assert all(("delete", key) in client.calls for key in gone)
    assert client.puts()  # the lists linking to it changed too
    assert_html_last_and_deletions_after(client.calls)
    remaining = objects(swift, bucket)
    assert not set(gone) & set(remaining)
    assert sorted(remaining) == site_files(v3.output)
    with pytest.raises(swift.client().exceptions.NoSuchKey):
        swift.client().get_object(Bucket=bucket.bucket, Key=DROPPED_ITEM)

    # Nothing changed: nothing sent.
    changes, client, report = deploy(bucket, v3.output)
    assert client.puts() == []
    assert changes.bytes_sent == 0


HEADERS = {  # key: Content-Type, Content-Encoding, Cache-Control
    "index.html": ("text/html; charset=utf-8", None, SHORT),
    "index.html.gz": ("text/html; charset=utf-8", "gzip", SHORT),
    "index.html.br": ("text/html; charset=utf-8", "br", SHORT),
    "static/css/site.css": ("text/css; charset=utf-8", None, SHORT),
    "static/css/site.css.gz": ("text/css; charset=utf-8", "gzip", SHORT),
    "feeds/all.atom.xml": ("application/atom+xml", None, SHORT),
    "feeds/all.rss.xml.gz": ("application/rss+xml", "gzip", SHORT),
    "MARKER": ("image/svg+xml", None, IMMUTABLE),  # the fingerprinted image
}


@pytest.mark.parametrize("key", list(HEADERS))
def test_objects_have_type_encoding_and_caching(swift, deployed_r1, versions, key):
    content_type, encoding, cache = HEADERS[key]
    output = versions.get("r1").output
    if key == "MARKER":
        key = next(f for f in site_files(output) if f.startswith("images/marker."))
    stored = swift.client().get_object(Bucket=deployed_r1.bucket, Key=key)
    assert stored["ContentType"] == content_type
    assert stored.get("ContentEncoding") == encoding
    assert stored["CacheControl"] == cache
    body = stored["Body"].read()
    assert body == (output / key).read_bytes()
    if encoding:
        decode = gzip.decompress if encoding == "gzip" else brotli.decompress
        assert decode(body) == (output / key.rsplit(".", 1)[0]).read_bytes()


def test_multipart_etags_count_as_changed(tmp_path):
    (tmp_path / "index.html").write_text("<html></html>")
    todo, _ = s3.plan(tmp_path, ["index.html"], {"index.html": "abc-2"})
    assert todo.upload_html == ["index.html"]
    assert todo.changes.changed == ["index.html"]


def test_invoke_deploy_target_s3(swift, bucket, versions, project):
    shutil.copytree(versions.get("r2").output, project / "output")
    env = {**os.environ, "MFC_S3_BUCKET": bucket.bucket}
    result = invoke(project, "deploy", "--target", "s3", "--no-build", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Bucket {bucket.bucket} is up to date." in result.stdout
    assert sorted(objects(swift, bucket)) == site_files(project / "output")


def test_missing_bucket_is_a_clear_error(swift, bucket, versions):
    bucket.bucket = "no-such-bucket"
    with pytest.raises(s3.DeployError, match="cannot list bucket 'no-such-bucket'"):
        s3.deploy(bucket, versions.get("r1").output, io.StringIO())
