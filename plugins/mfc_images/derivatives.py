"""Responsive derivatives of one photo, made with Pillow and cached.

A photo (JPEG, PNG, WebP or AVIF under ``content/images/``) becomes a WebP and a JPEG
at each configured width the photo is wide enough for (never upscaled). The
EXIF orientation is applied to the pixels first and the colours converted to
sRGB, then everything else is dropped: no EXIF (so no GPS position, camera
serial or time), no XMP, no ICC profile, no comments.

The cache is a folder outside the build's output, one sub-folder per
*recipe*: the SHA-256 of the photo's bytes together with everything that
changes the result (widths, qualities, this module's version, Pillow's
version). A photo whose recipe is in the cache is never decoded or encoded
again; its files are hard-linked (or copied) into the output.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import PIL
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

RECIPE_VERSION = 2  # bump when the processing below changes its output
FORMATS = ("webp", "jpg")
SOURCE_FORMATS = {"JPEG", "MPO", "PNG", "WEBP", "AVIF"}  # MPO: some phones' JPEG
MAX_PIXELS = 80_000_000  # a 10,000 × 8,000 photo; anything bigger is an error
TOO_BIG = "уменьшите её до 6000 точек по длинной стороне"
META_FILE = "meta.json"
DAY = 86400  # seconds
# A recipe no build used for this many days is removed from the cache
# (Cache.prune): replaced photos and old settings do not pile up forever.
KEEP_DAYS = 30
SRGB = ImageCms.createProfile("sRGB")


class PhotoError(Exception):
    """A photo that cannot be used; the message is for editors (Russian)."""


@dataclass(frozen=True)
class Settings:
    widths: tuple[int, ...] = (360, 720, 1200, 1600)
    jpeg_quality: int = 78
    webp_quality: int = 75

    def fingerprint(self) -> str:
        return json.dumps(
            {
                "widths": list(self.widths),
                "jpeg": self.jpeg_quality,
                "webp": self.webp_quality,
                "recipe": RECIPE_VERSION,
                "pillow": PIL.__version__,
            },
            sort_keys=True,
        )


@dataclass(frozen=True)
class Variant:
    """One derivative file in the cache."""

    width: int
    height: int
    format: str  # "webp" or "jpg"
    name: str  # file name inside the recipe's cache folder


@dataclass
class Derivatives:
    """All derivatives of one photo, and where they are."""

    key: str  # the recipe's SHA-256 (hex)
    folder: Path  # the recipe's cache folder
    width: int  # the photo's width and height, upright
    height: int
    variants: list[Variant] = field(default_factory=list)
    encoded: bool = False  # made by this build (not taken from the cache)

    def of(self, fmt: str) -> list[Variant]:
        return sorted(
            (v for v in self.variants if v.format == fmt), key=lambda v: v.width
        )


def target_widths(width: int, widths: tuple[int, ...]) -> list[int]:
    """The widths to make for a photo `width` pixels wide: never upscaled.

    >>> target_widths(4000, (360, 720, 1200, 1600))
    [360, 720, 1200, 1600]
    >>> target_widths(1000, (360, 720, 1200, 1600))
    [360, 720, 1000]
    >>> target_widths(300, (360, 720, 1200, 1600))
    [300]
    """
    result = [w for w in sorted(widths) if w < width]
    if len(result) < len(widths) or not result:
        result.append(min(width, max(widths)))
    return sorted(set(result))


def recipe_key(data: bytes, settings: Settings) -> str:
    digest = hashlib.sha256(data)
    digest.update(b"\0" + settings.fingerprint().encode())
    return digest.hexdigest()


def upright(im: Image.Image) -> Image.Image:
    """The photo as it was meant to be seen, in sRGB (RGB or RGBA), with no
    metadata left."""
    icc = im.info.get("icc_profile")
    im = ImageOps.exif_transpose(im) or im
    if im.mode not in ("RGB", "RGBA"):
        has_alpha = im.mode in ("LA", "PA") or (
            im.mode == "P" and "transparency" in im.info
        )
        im = im.convert("RGBA" if has_alpha else "RGB")
    if icc:
        im = to_srgb(im, icc)
    clean = im.copy() if im.info else im
    clean.info = {}
    return clean


def to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """Convert from the photo's colour profile (an iPhone's is Display P3) to
    sRGB, so colours stay right once the profile is dropped. A broken profile
    is ignored: the pixels are then taken as sRGB, as a browser would."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(im, source, SRGB, outputMode=im.mode) or im
    except (ImageCms.PyCMSError, OSError, ValueError):
        return im


def flattened(im: Image.Image) -> Image.Image:
    """RGB for JPEG: transparency over white."""
    if im.mode != "RGBA":
        return im
    background = Image.new("RGB", im.size, (255, 255, 255))
    background.paste(im, mask=im.getchannel("A"))
    return background


def open_photo(path: Path) -> Image.Image:
    """Open a JPEG or PNG, or raise PhotoError saying what is wrong."""
    try:
        # Pillow warns (in English, on the editor's screen) when it opens a
        # photo of more than ~89 million pixels, and refuses one of twice
        # that; the size is said in Russian instead, below.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except Image.DecompressionBombError as error:
        raise PhotoError(f"картинка слишком большая — {TOO_BIG}") from error
    except (UnidentifiedImageError, OSError) as error:
        raise PhotoError(
            "файл не открывается как картинка: он повреждён или это не JPEG и "
            "не PNG — откройте его на компьютере и сохраните заново как JPEG"
        ) from error
    if im.format not in SOURCE_FORMATS:
        im.close()
        raise PhotoError(
            f"это картинка в формате {im.format}, а не JPEG или PNG, хотя имя "
            "файла говорит другое — сохраните её как JPEG (.jpg)"
        )
    if im.width * im.height > MAX_PIXELS:
        im.close()
        raise PhotoError(
            f"картинка слишком большая ({im.width} × {im.height} точек) — {TOO_BIG}"
        )
    return im


def encode(source: Path, folder: Path, settings: Settings) -> tuple[int, int, list]:
    """Make every derivative of `source` into `folder`; return size and list."""
    with open_photo(source) as im:
        try:
            photo = decoded(im, settings)
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise PhotoError(
                "файл картинки повреждён (не читается до конца) — "
                "сохраните фотографию заново как JPEG"
            ) from error
    width, height = photo.size
    variants = []
    current = photo
    for w in reversed(target_widths(width, settings.widths)):
        h = max(1, round(height * w / width))
        if current.size != (w, h):
            current = current.resize((w, h), Image.Resampling.LANCZOS)
        current.info = {}
        for fmt in FORMATS:
            name = f"{w}.{fmt}"
            target = folder / name
            if fmt == "webp":
                current.save(target, "WEBP", quality=settings.webp_quality, method=4)
            else:
                flattened(current).save(
                    target,
                    "JPEG",
                    quality=settings.jpeg_quality,
                    optimize=True,
                    progressive=True,
                )
            variants.append(Variant(w, h, fmt, name))
    return width, height, variants


def decoded(im: Image.Image, settings: Settings) -> Image.Image:
    """The pixels of an opened photo, upright, at least as large as needed."""
    orientation = im.getexif().get(0x0112, 1)
    final_width = im.height if orientation in (5, 6, 7, 8) else im.width
    largest = target_widths(final_width, settings.widths)[-1]
    if im.format in ("JPEG", "MPO"):
        # Let libjpeg decode at a fraction of the size: much faster, and
        # still at least as large as the largest derivative.
        scale = largest / final_width
        im.draft("RGB", (math.ceil(im.width * scale), math.ceil(im.height * scale)))
    photo = upright(im)
    photo.load()
    return photo


class Cache:
    """The derivatives cache: one folder per recipe, written atomically."""

    def __init__(self, root: Path, settings: Settings):
        self.root = Path(root)
        self.settings = settings
        self.encoded = 0  # photos encoded by this process
        self.reused = 0  # photos taken from the cache
        self.seconds = 0.0  # spent encoding
        self._fresh: dict[str, Derivatives] = {}  # encoded by this process
        self._keys: dict[tuple, str] = {}  # (path, size, mtime) → recipe key

    def prepare(self, source: Path) -> None:
        """Encode a photo the cache lacks, now; derivatives() then finds it."""
        key = self._key(source)
        if key not in self._fresh and self._load(key, self._folder(key)) is None:
            self.derivatives(source)

    def prepared(self) -> tuple[dict, dict, float]:
        """What prepare() did in another process, for adopt() here."""
        return self._keys, self._fresh, self.seconds

    def adopt(self, prepared: tuple[dict, dict, float]) -> None:
        """Take the keys read and photos encoded by another process's prepare()."""
        keys, fresh, seconds = prepared
        self._keys.update(keys)
        self._fresh.update(fresh)
        self.encoded += len(fresh)
        self.seconds += seconds

    def _key(self, source: Path) -> str:
        """The photo's recipe key, its bytes read once per build."""
        stat = source.stat()
        seen = (str(source), stat.st_size, stat.st_mtime_ns)
        key = self._keys.get(seen)
        if key is None:
            key = self._keys[seen] = recipe_key(source.read_bytes(), self.settings)
        return key

    def _folder(self, key: str) -> Path:
        return self.root / key[:2] / key

    def derivatives(self, source: Path) -> Derivatives:
        key = self._key(source)
        if key in self._fresh:
            return self._fresh[key]
        folder = self._folder(key)
        found = self._load(key, folder)
        if found is not None:
            self.reused += 1
            return found
        start = time.perf_counter()
        self.root.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{key[:12]}-", dir=self.root))
        try:
            width, height, variants = encode(source, work, self.settings)
            meta = {
                "width": width,
                "height": height,
                "variants": [v.__dict__ for v in variants],
            }
            (work / META_FILE).write_text(json.dumps(meta), encoding="utf-8")
            folder.parent.mkdir(parents=True, exist_ok=True)
            try:
                work.rename(folder)
            except OSError:  # another build made it first: theirs is the same
                shutil.rmtree(work, ignore_errors=True)
        finally:
            if work.exists():
                shutil.rmtree(work, ignore_errors=True)
        self.encoded += 1
        self.seconds += time.perf_counter() - start
        result = self._fresh[key] = self._load(key, folder)
        result.encoded = True
        return result

    def _load(self, key: str, folder: Path) -> Derivatives | None:
        try:
            meta = json.loads((folder / META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        variants = [Variant(**v) for v in meta["variants"]]
        if not all((folder / v.name).is_file() for v in variants):
            return None
        _mark_used(folder / META_FILE)
        return Derivatives(key, folder, meta["width"], meta["height"], variants)

    def prune(self, keep_days: float = KEEP_DAYS) -> int:
        """Remove the recipes no build used in `keep_days` days (a recipe's
        meta file's modification time is when a build last used it), and
        encodings a killed build left half done; how many recipes went."""
        if not self.root.is_dir():
            return 0
        now = time.time()
        removed = 0
        # Another build (the preview and a publish share the cache) may be
        # pruning too: whatever vanishes meanwhile is simply skipped.
        for shard in self.root.iterdir():
            with contextlib.suppress(OSError):
                if shard.name.startswith(".") and shard.is_dir():
                    # A killed build's encoding, or a recipe being removed.
                    if now - shard.stat().st_mtime > DAY:
                        shutil.rmtree(shard, ignore_errors=True)
                elif len(shard.name) == 2 and shard.is_dir():
                    removed += self._prune_shard(shard, now - keep_days * DAY)
        return removed

    def _prune_shard(self, shard: Path, cutoff: float) -> int:
        removed = 0
        for folder in shard.iterdir():
            with contextlib.suppress(OSError):
                try:
                    used = (folder / META_FILE).stat().st_mtime
                except FileNotFoundError:  # cut short: the folder's own time
                    used = folder.stat().st_mtime
                if used < cutoff:
                    # Renamed first: a build reading it at this moment finds
                    # it whole or not at all (then encodes the photo again).
                    gone = Path(tempfile.mkdtemp(prefix=".pruned-", dir=self.root))
                    folder.rename(gone / folder.name)
                    shutil.rmtree(gone, ignore_errors=True)
                    removed += 1
        with contextlib.suppress(OSError):
            shard.rmdir()  # only if empty
        return removed


def _mark_used(meta: Path) -> None:
    """Note that a build used a recipe (at most once a day: the cache's
    files are otherwise left untouched)."""
    with contextlib.suppress(OSError):
        if time.time() - meta.stat().st_mtime > DAY:
            os.utime(meta)


def place(source: Path, target: Path) -> None:
    """Put a cached file into the output: a hard link when possible."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
