"""Deploy the built site to S3-compatible object storage, to serve behind a CDN.

Only files whose content changed are uploaded: each local file's MD5 is
compared with the object's ETag (an object stored by a single PUT has its
MD5 as ETag; anything else, e.g. a multipart ETag, counts as changed and is
uploaded again, which is safe). Order matters for visitors and the CDN:

1. new and changed files other than HTML (styles, scripts, images, feeds);
2. HTML pages, so no page ever links to an asset that is not there yet;
3. only then, objects whose files were removed from the site.

Every object gets its Content-Type, Cache-Control by kind of file (see
kinds.py), and the precompressed copies ``page.html.gz`` and ``.br`` the
Content-Type of the original plus ``Content-Encoding: gzip`` or ``br``.
Hidden files (the nginx redirect map) are not uploaded.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from .config import S3Config
from .errors import DeployError
from .kinds import kind_of
from .rsync import Changes
from .site import site_files

WORKERS = 8
DELETE_BATCH = 1000  # the S3 API's limit per DeleteObjects request


@dataclass
class S3Plan:
    """What an upload will do, worked out before anything is sent."""

    upload_assets: list[str] = field(default_factory=list)
    upload_html: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes)


def md5_of(path: Path) -> bytes:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.digest()


def make_client(config: S3Config):
    import boto3  # noqa: PLC0415  (only the S3 target needs it)
    from botocore.config import Config  # noqa: PLC0415

    return boto3.client(
        "s3",
        endpoint_url=config.endpoint_url or None,
        region_name=config.region or None,
        config=Config(
            s3={"addressing_style": "path"} if config.endpoint_url else {},
            retries={"max_attempts": 5, "mode": "standard"},
        ),
    )


def remote_etags(client, config: S3Config) -> dict[str, str]:
    """Site path -> ETag (without quotes) of every object under the prefix."""
    prefix = f"{config.prefix}/" if config.prefix else ""
    found = {}
    paginator = client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=config.bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            found[obj["Key"][len(prefix) :]] = obj["ETag"].strip('"')
    return found


def plan(
    output: Path, files: list[str], existing: dict[str, str], full: bool = False
) -> tuple[S3Plan, dict[str, bytes]]:
    """Compare the site with the bucket: what to upload and delete, in order."""
    result, digests = S3Plan(), {}
    for path in files:
        digest = md5_of(output / path)
        digests[path] = digest
        etag = existing.get(path)
        if etag == digest.hex() and not full:
            result.changes.unchanged += 1
            continue
        (result.changes.changed if etag else result.changes.added).append(path)
        result.changes.bytes_new += (output / path).stat().st_size
        if kind_of(path).is_html:
            result.upload_html.append(path)
        else:
            result.upload_assets.append(path)
    local = set(files)
    result.delete = sorted(k for k in existing if k not in local)
    result.changes.removed = list(result.delete)
    return result, digests


def deploy(
    config: S3Config,
    output: Path,
    out: TextIO = sys.stdout,
    full: bool = False,
    client=None,
) -> Changes:
    """Upload the changed files of the site in `output` to the bucket."""
    config.check()
    files = [p for p in site_files(output) if not _hidden(p)]
    client = client or make_client(config)
    started = time.monotonic()
    try:
        existing = remote_etags(client, config)
    except Exception as error:
        raise DeployError(
            f"cannot list bucket {config.bucket!r} at "
            f"{config.endpoint_url or 'AWS'}: {error}"
        ) from error
    todo, digests = plan(output, files, existing, full)
    prefix = f"{config.prefix}/" if config.prefix else ""
    total = len(todo.upload_assets) + len(todo.upload_html)
    print(
        f"Uploading {total} of {len(files)} files to bucket {config.bucket}",
        file=out,
    )
    sent = [0]

    def put(path: str) -> None:
        kind = kind_of(path)
        body = (output / path).read_bytes()
        extra = (
            {"ContentEncoding": kind.content_encoding} if kind.content_encoding else {}
        )
        client.put_object(
            Bucket=config.bucket,
            Key=prefix + path,
            Body=body,
            ContentType=kind.content_type,
            CacheControl=kind.cache_control,
            ContentMD5=base64.b64encode(digests[path]).decode(),
            **extra,
        )
        sent[0] += len(body)

    done = 0
    for group, label in ((todo.upload_assets, "assets"), (todo.upload_html, "pages")):
        with ThreadPoolExecutor(WORKERS) as pool:
            for _ in pool.map(put, group):
                done += 1
                if done % 100 == 0:
                    print(f"  {done}/{total} files", file=sys.stderr)
        if group:
            print(f"  uploaded {len(group)} {label}", file=out)
    for start in range(0, len(todo.delete), DELETE_BATCH):
        batch = todo.delete[start : start + DELETE_BATCH]
        answer = client.delete_objects(
            Bucket=config.bucket,
            Delete={"Objects": [{"Key": prefix + k} for k in batch], "Quiet": True},
        )
        if answer.get("Errors"):
            first = answer["Errors"][0]
            raise DeployError(
                f"deleting removed files failed for {len(answer['Errors'])} "
                f"objects, e.g. {first.get('Key')}: {first.get('Message')}"
            )
    if todo.delete:
        print(f"  deleted {len(todo.delete)} removed files", file=out)
    todo.changes.bytes_sent = sent[0]
    print(f"Bucket {config.bucket} is up to date.", file=out)
    print(f"  {todo.changes.summary().replace(' (hard-linked)', '')}", file=out)
    for line in todo.changes.details():
        print(line, file=out)
    print(f"Deployed in {time.monotonic() - started:.1f} s.", file=out)
    return todo.changes


def _hidden(path: str) -> bool:
    return any(part.startswith(".") for part in path.split("/"))
