"""News photos: responsive derivatives, galleries, no location data published.

Every JPEG and PNG under ``content/images/`` is turned into WebP and JPEG
files at a few widths (``IMAGE_WIDTHS``, never upscaled), upright (the EXIF
orientation applied) and without any metadata, so a phone's GPS position
never reaches the site. The original is not published: a ``{static}`` link
to it leads to its largest JPEG instead.

- Derivatives are cached outside the output (``IMAGE_CACHE_PATH``, or the
  environment variable ``MFC_IMAGE_CACHE``; by default ``cache/images``) by
  the SHA-256 of the photo and the settings, so an unchanged photo is never
  encoded again; the build hard-links them into the output under names that
  carry that hash (``foto-720.0123456789.jpg``: nginx caches them for a year).
  A successful build removes from the cache what no build used for
  ``IMAGE_CACHE_KEEP_DAYS`` days (30): replaced photos, old settings.
- News items and pages get ``item.photo`` (the lead image, front matter
  ``image``) and ``item.photos`` (the gallery: ``[(photo, alt), …]``; an
  item without one has no such attribute); the theme renders them with the
  ``picture`` filter::

      {{ article.photo|picture(article.image_alt, "lead", eager=True) }}

- Photos in the text (``![описание]({static}/images/…)`` or ``<img>``)
  become the same ``<picture>`` markup.
- The build logs one line (``mfc_images: N photos, E encoded, R from the
  cache``) and writes the figures to ``last-build.json`` in the cache, for
  the tests and the benchmark.

Why not pelican-image-process: it transforms the ``<img>`` tags of the
rendered HTML and decides whether to re-encode by the derivative's presence in
the output folder, which our staged build creates afresh every time; and it
leaves the lead image and the gallery (front matter) to the theme.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import re
import time
from pathlib import Path, PurePosixPath

from pelican import signals

# The fingerprint length every long-cached file name uses (nginx: immutable).
from mfc_assets import HASH_LENGTH

from .derivatives import KEEP_DAYS, Cache, PhotoError, Settings, place
from .markup import File, Photo, picture, rewrite_images

log = logging.getLogger(__name__)

# WebP and AVIF can carry a phone's EXIF (GPS) too: they are never copied
# as they are, but made into clean derivatives like JPEG and PNG.
PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".avif"}
DEFAULT_CACHE = "images"  # under Pelican's CACHE_PATH
STATS_FILE = "last-build.json"


def cache_folder(settings: dict) -> Path:
    explicit = os.environ.get("MFC_IMAGE_CACHE") or settings.get("IMAGE_CACHE_PATH")
    if explicit:
        return Path(explicit)
    return Path(settings.get("CACHE_PATH", "cache"), DEFAULT_CACHE)


def image_settings(settings: dict) -> Settings:
    return Settings(
        widths=tuple(settings.get("IMAGE_WIDTHS", Settings.widths)),
        jpeg_quality=settings.get("IMAGE_JPEG_QUALITY", Settings.jpeg_quality),
        webp_quality=settings.get("IMAGE_WEBP_QUALITY", Settings.webp_quality),
    )


def output_stem(relative: str) -> str:
    """An ASCII file stem for the derivatives of `relative`.

    >>> output_stem("images/2020/Фото 1.JPG")
    'images/2020/1'
    >>> output_stem("images/2020/IMG_2034.jpg")
    'images/2020/img-2034'
    """
    path = PurePosixPath(relative)
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "photo"
    return str(path.parent / stem)


class Photos:
    """The photos of one build."""

    def __init__(self, settings: dict, output: str):
        self.settings = settings
        self.content = Path(settings["PATH"])
        self.output = Path(output)
        self.siteurl = settings.get("SITEURL", "")
        self.cache = Cache(cache_folder(settings), image_settings(settings))
        self.photos: dict[str, Photo] = {}
        self.pending: list[tuple[Path, Path]] = []  # (cached file, output file)
        self.errors = 0

    def add(self, relative: str) -> Photo | None:
        """Process one photo (or take it from the cache); None on error."""
        if relative in self.photos:
            return self.photos[relative]
        try:
            found = self.cache.derivatives(self.content / relative)
        except PhotoError as error:
            log.error(
                "mfc_images: content/%s:1: картинка «%s»: %s [E308]",
                relative,
                relative,
                error,
            )
            self.errors += 1
            return None
        stem = output_stem(relative)
        files: dict[str, list[File]] = {"webp": [], "jpg": []}
        for fmt, listed in files.items():
            for v in found.of(fmt):
                name = f"{stem}-{v.width}.{found.key[:HASH_LENGTH]}.{fmt}"
                listed.append(File(name, v.width, v.height))
                self.pending.append((found.folder / v.name, self.output / name))
        photo = Photo(relative, tuple(files["webp"]), tuple(files["jpg"]), self.siteurl)
        self.photos[relative] = photo
        return photo

    def write(self) -> None:
        for cached, target in self.pending:
            place(cached, target)


_BUILD: dict[str, Photos] = {}


def start_build(pelican) -> None:
    photos = _BUILD["photos"] = Photos(pelican.settings, pelican.output_path)
    _BUILD["started"] = time.perf_counter()
    _BUILD["preparing"] = start_preparing(photos, pelican.settings)


def start_preparing(photos: Photos, settings: dict):
    """Encode the photos the cache lacks in a forked process, while Pelican
    reads the content; process() waits for it.

    Decoding and encoding a photo takes tens of MB for a moment. In the
    build's own process, that raised its peak memory for good: glibc then
    serves later allocations of up to the photo's size from a heap that
    does not shrink (~20 MB more at 10,000 news items). Forked now, the
    process is small. The photos are those under the static paths, as
    Pelican will list them; one that fails is left to process(), which
    reports it.
    """
    content = Path(settings["PATH"])
    sources = []
    for static in settings.get("STATIC_PATHS", []):
        for root, dirs, files in os.walk(content / static):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(root, name)
                if not name.startswith(".") and path.suffix.lower() in PHOTO_SUFFIXES:
                    sources.append(path)
    if not sources:
        return None
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=prepare, args=(photos.cache, sources, sender), daemon=True
    )
    child.start()
    sender.close()
    return child, receiver


def prepare(cache: Cache, sources: list[Path], sender) -> None:
    """In the forked process: encode what the cache lacks; send what was done."""
    for source in sources:
        try:
            cache.prepare(source)
        except Exception:  # process() reports it
            continue
    sender.send(cache.prepared())
    sender.close()


def finish_preparing() -> None:
    """Wait for start_preparing's process; take its figures."""
    preparing = _BUILD.pop("preparing", None)
    if preparing is None:
        return
    child, receiver = preparing
    try:
        done = receiver.recv()
    except EOFError:  # it died: process() encodes what is missing
        done = None
    child.join()
    receiver.close()
    if done is not None:
        _BUILD["photos"].cache.adopt(done)


def add_filter(generator) -> None:
    generator.env.filters["picture"] = picture


def process(generators) -> None:
    """Make the derivatives of every photo; attach them to the content."""
    finish_preparing()
    photos = _BUILD["photos"]
    items = []
    for generator in generators:
        for sc in getattr(generator, "staticfiles", None) or []:
            relative = PurePosixPath(sc.relative_source_path).as_posix()
            if PurePosixPath(relative).suffix.lower() not in PHOTO_SUFFIXES:
                continue
            photo = photos.add(relative)
            if photo is not None:
                # The original (with its metadata) is not published; links
                # to it lead to the largest clean JPEG.
                sc.override_url = photo.largest.url
                sc.override_save_as = photo.largest.url
        if hasattr(generator, "staticfiles"):
            # No original photo is ever copied, even one that failed above.
            generator.staticfiles[:] = [
                sc
                for sc in generator.staticfiles
                if PurePosixPath(sc.source_path).suffix.lower() not in PHOTO_SUFFIXES
            ]
        for name in ("articles", "drafts", "pages", "hidden_pages", "draft_pages"):
            items.extend(getattr(generator, name, None) or [])
    for item in items:
        attach(item, photos)
    photos.write()


def attach(item, photos: Photos) -> None:
    lead = getattr(item, "image", None)
    if lead:
        item.photo = photos.photos.get(str(lead))
    gallery = getattr(item, "gallery", None) or []
    found = [
        (photos.photos[entry["photo"]], entry["alt"])
        for entry in gallery
        if entry.get("photo") in photos.photos
    ]
    if found:  # none: no attribute (an item that gets one costs ~1.3 KB, speed.py)
        item.photos = found
    content = getattr(item, "_content", None)
    if content and "<img" in content.lower():
        here = PurePosixPath(item.relative_source_path).as_posix()
        item._content, _ = rewrite_images(content, here, photos.photos.get)


def report(pelican) -> None:
    """One line in the log, and the figures in the cache for tests and bench."""
    photos = _BUILD.pop("photos", None)
    if photos is None:
        return
    cache = photos.cache
    keep = pelican.settings.get("IMAGE_CACHE_KEEP_DAYS", KEEP_DAYS)
    stats = {
        "photos": len(photos.photos),
        "encoded": cache.encoded,
        "from_cache": cache.reused,
        "encode_seconds": round(cache.seconds, 3),
        "files": len(photos.pending),
        # The build succeeded: recipes no build used for `keep` days go.
        "pruned": _prune(cache, keep),
    }
    log.info(
        "mfc_images: %d photos, %d encoded (%.1f s), %d from the cache "
        "(%d unused for %s days removed from it)",
        stats["photos"],
        stats["encoded"],
        stats["encode_seconds"],
        stats["from_cache"],
        stats["pruned"],
        keep,
    )
    if photos.photos or cache.root.is_dir():
        cache.root.mkdir(parents=True, exist_ok=True)
        (cache.root / STATS_FILE).write_text(json.dumps(stats), encoding="utf-8")


def _prune(cache: Cache, keep: float) -> int:
    """Cache.prune, which never fails a build that succeeded."""
    try:
        return cache.prune(keep)
    except OSError as error:
        log.info("mfc_images: the cache was not pruned: %s", error)
        return 0


def register() -> None:
    # initialized: once per build (livereload rebuilds too), before any reading.
    signals.initialized.connect(start_build)
    # generator_init: the `picture` filter must exist before anything renders.
    signals.generator_init.connect(add_filter)
    # all_generators_finalized: content and static files are all known and
    # nothing is written yet, so links to originals can still be redirected
    # and the text rewritten before Pelican renders it.
    signals.all_generators_finalized.connect(process)
    # finalized: the build is over; say what the cache saved.
    signals.finalized.connect(report)
