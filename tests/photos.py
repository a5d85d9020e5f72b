"""Real photos for the tests, made with Pillow the way phones make them.

A phone stores the sensor's pixels as they came and says in EXIF how to turn
them (Orientation), with the place (a GPS IFD), the camera and the time.
Each photo here has a red block in the top-left corner *of its stored
pixels*, so a test can tell whether the orientation was applied: with
Orientation 6 (turn 90° clockwise) the block must end up top right.
"""

from __future__ import annotations

from pathlib import Path
from random import Random

from PIL import Image, ImageDraw, ImageFilter

ORIENTATION = 0x0112
GPS_IFD = 0x8825
MAKE, MODEL, DATETIME = 0x010F, 0x0110, 0x0132
MARK = (220, 20, 20)  # the red corner block
MARK_FRACTION = 8  # the block is 1/8 of the stored width and height
SOFT = ImageFilter.GaussianBlur(0.5)  # uniform noise is harsher than a sensor's
# Astrakhan, the MFC on Babefa street: what must never be published.
GPS = {1: "N", 2: (46.0, 20.0, 51.6), 3: "E", 4: (48.0, 2.0, 24.1)}


def noise(size: tuple[int, int], seed: int) -> Image.Image:
    """Grey noise, the same for the same seed (deploy tests compare builds)."""
    width, height = max(1, size[0]), max(1, size[1])
    return Image.frombytes("L", (width, height), Random(seed).randbytes(width * height))


def photo_pixels(width: int, height: int, seed: int = 0) -> Image.Image:
    """A photo-like picture: detail at every scale, as a real photo has, so
    the derivatives weigh what a phone photo's do (WebP at 360 px ≈ 25 KB,
    at 720 px ≈ 70 KB). The same seed gives the same pixels."""
    channels = []
    for channel in range(3):
        base = seed * 10 + channel * 3
        coarse = noise((width // 64, height // 64), base).filter(SOFT)
        mid = noise((width // 10, height // 10), base + 1).filter(SOFT)
        layer = Image.blend(
            coarse.resize((width, height), Image.Resampling.BICUBIC),
            mid.resize((width, height), Image.Resampling.BICUBIC),
            0.45,
        )
        channels.append(Image.blend(layer, noise((width, height), base + 2), 0.08))
    im = Image.merge("RGB", channels)
    draw = ImageDraw.Draw(im)
    draw.rectangle((0, 0, width // MARK_FRACTION, height // MARK_FRACTION), fill=MARK)
    return im


def phone_exif(orientation: int = 1, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "TestPhone"
    exif[MODEL] = "Model X"
    exif[DATETIME] = "2024:05:17 10:30:00"
    if gps:
        exif[GPS_IFD] = GPS
    return exif


def write_jpeg(
    path: Path,
    width: int,
    height: int,
    *,
    orientation: int = 1,
    gps: bool = True,
    seed: int = 0,
    quality: int = 90,
) -> Path:
    """A JPEG of `width` × `height` stored pixels, with phone EXIF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    photo_pixels(width, height, seed).save(
        path,
        "JPEG",
        quality=quality,
        exif=phone_exif(orientation, gps),
        comment=b"taken at the MFC",
    )
    return path


def write_photo_png(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """A PNG screenshot-like photo, with an EXIF chunk carrying GPS too."""
    path.parent.mkdir(parents=True, exist_ok=True)
    photo_pixels(width, height, seed).save(path, "PNG", exif=phone_exif(1, True))
    return path


def is_mark(pixel) -> bool:
    r, g, b = pixel[:3]
    return r > 170 and g < 80 and b < 80
