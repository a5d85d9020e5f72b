"""News photos (plugins/mfc_images): derivatives, privacy, markup, the cache.

The fixture site's rich item has a lead photo and a gallery of five made like
a phone makes them (tests/photos.py): 4000 px wide JPEGs with an EXIF
orientation and a GPS position, a PNG, one photo smaller than every width.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import warnings
from types import SimpleNamespace

import pytest
from bs4 import BeautifulSoup
from PIL import Image, ImageCms

import mfc_images
from mfc_deploy.kinds import IMMUTABLE, cache_control, content_type
from mfc_images import STATS_FILE, output_stem
from mfc_images.derivatives import (
    META_FILE,
    Cache,
    PhotoError,
    Settings,
    open_photo,
    target_widths,
)
from mfc_images.markup import image_attributes, source_path
from tests.conftest import (
    GALLERY,
    GALLERY_ALTS,
    LEAD_ALT,
    RICH_ITEM_URL,
    ROOT,
    build_site,
    text_of,
)
from tests.photos import GPS, is_mark, write_jpeg, write_photo_png

WIDTHS = (360, 720, 1200, 1600)
DERIVATIVE = re.compile(r"^/images/(?P<stem>.+)-(?P<w>\d+)\.[0-9a-f]{10}\.(jpg|webp)$")


def upright_size(name: str) -> tuple[int, int]:
    width, height, how = GALLERY[name]
    return (height, width) if how == "jpeg-rotated" else (width, height)


def derivative_files(site) -> list:
    return sorted(
        p for p in (site.output / "images").rglob("*") if p.suffix in (".jpg", ".webp")
    )


# --- Derivatives in the output ---------------------------------------------------


@pytest.mark.parametrize("name", list(GALLERY))
def test_every_photo_has_webp_and_jpeg_at_the_right_widths(site, name):
    width, height = upright_size(name)
    stem = output_stem(name)
    expected = target_widths(width, WIDTHS)
    for fmt, pil_format in (("webp", "WEBP"), ("jpg", "JPEG")):
        files = sorted(site.output.glob(f"{stem}-*.{fmt}"))
        widths = sorted(int(re.search(r"-(\d+)\.", p.name)[1]) for p in files)
        assert widths == expected, (name, fmt)
        for path in files:
            with Image.open(path) as im:
                assert im.format == pil_format
                assert im.width == int(re.search(r"-(\d+)\.", path.name)[1])
                # Never upscaled; the proportions kept to the pixel.
                assert im.width <= width
                assert abs(im.height - height * im.width / width) <= 1


def test_a_4000_px_photo_gets_four_widths_a_small_one_just_its_own(site):
    assert target_widths(4000, WIDTHS) == [360, 720, 1200, 1600]
    assert len(list(site.output.glob("images/2020/gallery/zal-*"))) == 8
    assert sorted(site.output.glob("images/2020/gallery/malenkoe-*.jpg"))
    assert [p.name.split(".")[0] for p in site.output.glob("images/**/malenkoe-*")] == [
        "malenkoe-300",
        "malenkoe-300",
    ]


def test_no_exif_gps_or_other_metadata_in_any_published_image(site):
    files = derivative_files(site)
    assert len(files) >= 2 * (4 + 4 + 3 + 3 + 1)
    for path in files:
        data = path.read_bytes()
        with Image.open(path) as im:
            assert not im.getexif(), path
            for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"):
                assert key not in im.info, (path, key)
        # Nothing the phone wrote survives, in any form.
        for marker in (b"Exif\0\0", b"TestPhone", b"Model X", b"taken at the MFC"):
            assert marker not in data, (path, marker)
    # And no original (with its GPS) is published under any name.
    originals = [
        p for p in (site.output / "images").rglob("*") if p.suffix in (".png", ".jpeg")
    ]
    assert originals == []
    assert not [p for p in files if not DERIVATIVE.match(site.url_of(p).rstrip("/"))]


def test_derivatives_are_served_for_a_year_with_their_type(site):
    """Their names carry the recipe's hash: the server (deploy/nginx, and the
    object storage target) lets browsers keep them for a year."""
    for path in derivative_files(site):
        rel = path.relative_to(site.output).as_posix()
        assert cache_control(rel) == IMMUTABLE, rel
        assert content_type(rel) == f"image/{'webp' if rel.endswith('p') else 'jpeg'}"


def test_the_sources_really_carry_gps_and_orientation(site):
    """The test above can fail: the fixture's photos do have the data."""
    with Image.open(site.content / "images/2020/gallery/lead.jpg") as im:
        exif = im.getexif()
        assert exif[0x0112] == 6
        gps = exif.get_ifd(0x8825)
        assert gps[1] == GPS[1]
        assert gps[2] == GPS[2]


def test_the_exif_orientation_is_applied(site):
    """The lead photo is stored 4000 × 3000 with Orientation 6 (turn 90°
    clockwise): every derivative is portrait, the red corner top right."""
    files = sorted(site.output.glob("images/2020/gallery/lead-*"))
    assert len(files) == 8
    for path in files:
        with Image.open(path) as im:
            rgb = im.convert("RGB")
            w, h = rgb.size
            assert h > w, path
            assert is_mark(rgb.getpixel((w - 3, 2))), path
            assert not is_mark(rgb.getpixel((2, 2))), path
            assert not is_mark(rgb.getpixel((2, h - 3))), path
    # An unrotated photo keeps its corner where it was.
    for path in site.output.glob("images/2020/gallery/zal-*"):
        with Image.open(path) as im:
            rgb = im.convert("RGB")
            assert rgb.width > rgb.height
            assert is_mark(rgb.getpixel((2, 2))), path


# --- Markup ------------------------------------------------------------------------


def pictures(soup):
    return soup.select("main picture")


def check_picture(site, picture) -> None:
    source = picture.find("source")
    img = picture.find("img")
    assert source["type"] == "image/webp"
    assert source["sizes"] == img["sizes"]
    for attr in ("width", "height", "srcset", "sizes", "alt", "src"):
        assert img.get(attr), attr
    assert img["decoding"] == "async"
    for srcset in (source["srcset"], img["srcset"]):
        for candidate in srcset.split(", "):
            url, width = candidate.split(" ")
            assert DERIVATIVE.match(url), url
            assert site.file(url).is_file(), url
            with Image.open(site.file(url)) as im:
                assert f"{im.width}w" == width
    # width/height give the photo's proportions (no layout shift).
    with Image.open(site.file(img["src"])) as im:
        ratio = im.width / im.height
    assert abs(int(img["width"]) / int(img["height"]) - ratio) < 0.01


def test_lead_image_on_the_news_item_loads_first(site):
    soup = site.page(RICH_ITEM_URL)
    lead = soup.select_one(".mfc-article__lead picture")
    check_picture(site, lead)
    img = lead.find("img")
    assert img["alt"] == LEAD_ALT
    assert (img["width"], img["height"]) == ("1600", "2133")  # portrait, upright
    assert "loading" not in img.attrs  # above the fold: not lazy
    assert img["fetchpriority"] == "high"


def test_gallery_thumbnails_link_to_the_full_photo(site):
    soup = site.page(RICH_ITEM_URL)
    gallery = soup.select_one("section.mfc-gallery")
    heading = gallery.find("h2")
    assert gallery["aria-labelledby"] == heading["id"]
    links = gallery.select("li > a.mfc-gallery__link")
    assert len(links) == 5
    for n, (link, name, alt) in enumerate(
        zip(links, GALLERY, GALLERY_ALTS, strict=True), 1
    ):
        picture = link.find("picture")
        check_picture(site, picture)
        img = picture.find("img")
        assert img["alt"] == alt
        assert img["loading"] == "lazy"
        # The link opens the largest clean JPEG of this very photo.
        assert re.fullmatch(
            rf"/{re.escape(output_stem(name))}-\d+\.[0-9a-f]{{10}}\.jpg",
            link["href"],
        )
        with Image.open(site.file(link["href"])) as im:
            assert im.width == min(1600, upright_size(name)[0])
        assert text_of(link).endswith(f"— фото {n} из 5, открыть полностью")
    # The viewer's script, only where there is a gallery.
    assert soup.select('script[src*="/js/gallery."][defer]')
    assert not site.page("/news/2013/forum-v-eltse/").select('script[src*="gallery"]')


def test_photos_in_the_text_become_responsive_pictures(site):
    soup = site.page(RICH_ITEM_URL)
    prose = soup.select_one(".mfc-prose")
    found = prose.select("picture")
    assert [p.find("img")["alt"] for p in found] == [
        "Сотрудники МФЦ принимают документы",
        "Здание МФЦ на улице Бабефа",
    ]
    for picture in found:
        check_picture(site, picture)
        assert picture.find("img")["loading"] == "lazy"
    assert picture.parent.name == "p"
    assert found[0].parent.name == "figure"  # the editor's <figure> is kept
    assert not prose.select("img:not(picture img)")


@pytest.mark.parametrize("url", ["/", "/news/"])
def test_lead_image_in_the_news_lists(site, url):
    soup = site.page(url)
    link = soup.find("a", href=RICH_ITEM_URL)
    card = link.find_parent("article")
    picture = card.select_one(".mfc-news-card__photo picture")
    check_picture(site, picture)
    assert picture.find("img")["alt"] == LEAD_ALT
    assert picture.find("img")["loading"] == "lazy"
    # Items without a photo have none.
    assert len(soup.select(".mfc-news-card__photo")) == 1


def test_open_graph_image_is_the_lead_photo(site):
    soup = site.page(RICH_ITEM_URL)
    image = soup.find("meta", property="og:image")["content"]
    assert DERIVATIVE.match(image), image
    assert image.startswith("/images/2020/gallery/lead-1600.")
    width = soup.find("meta", property="og:image:width")["content"]
    height = soup.find("meta", property="og:image:height")["content"]
    with Image.open(site.file(image)) as im:
        assert (str(im.width), str(im.height)) == (width, height)
    alt = soup.find("meta", property="og:image:alt")["content"]
    assert alt == LEAD_ALT


# --- The cache: a second build encodes nothing -----------------------------------


def stats(cache) -> dict:
    return json.loads((cache / STATS_FILE).read_text(encoding="utf-8"))


def test_a_second_build_encodes_nothing(site, tmp_path):
    """A real second build of the fixture site, into the same cache, which
    also loses a recipe no build used for 40 days."""
    first = stats(site.image_cache)
    assert first["encoded"] == first["photos"] == 7  # lead, 4 more, 2 in the text
    cached = {
        p: p.stat().st_mtime_ns for p in site.image_cache.rglob("*") if p.is_file()
    }
    unused = site.image_cache / "ab" / ("ab" + "0" * 62)  # no build's for 40 days
    unused.mkdir(parents=True)
    (unused / META_FILE).write_text("{}", encoding="utf-8")
    age(unused / META_FILE, 40)
    content = tmp_path / "content"
    shutil.copytree(site.content, content)
    output = tmp_path / "output"
    result = build_site(content, output, MFC_IMAGE_CACHE=str(site.image_cache))
    assert result.returncode == 0, result.stdout + result.stderr
    second = stats(site.image_cache)
    assert second["encoded"] == 0
    assert second["from_cache"] == 7
    assert second["encode_seconds"] == 0
    assert second["pruned"] == 1
    assert not unused.exists()
    for path, mtime in cached.items():
        if path.name != STATS_FILE:
            assert path.stat().st_mtime_ns == mtime, path  # not rewritten
    # The same files, byte for byte, under the same names.
    for path in derivative_files(site):
        twin = output / path.relative_to(site.output)
        assert twin.read_bytes() == path.read_bytes()


@pytest.mark.parametrize("fmt", ["WEBP", "AVIF"])
def test_a_webp_or_avif_photo_in_the_text_is_published_without_its_gps(
    site, tmp_path, fmt
):
    """WebP and AVIF carry EXIF as JPEG does: never copied as they are."""
    content = tmp_path / "content"
    shutil.copytree(site.content, content)
    suffix = "." + fmt.lower()
    photo = content / "images" / "2020" / f"s-telefona{suffix}"
    source = write_jpeg(tmp_path / "phone.jpg", 1400, 1000, seed=7)
    with Image.open(source) as im:
        im.save(photo, fmt, exif=im.getexif(), quality=90)
    with Image.open(photo) as im:
        assert im.getexif().get_ifd(0x8825), "the source must carry GPS"
    item = next(content.glob("news/2020/*-testovaia-novost-24.md"))
    item.write_text(
        item.read_text(encoding="utf-8")
        + f"\n![Очередь в зале]({{static}}/images/2020/s-telefona{suffix})\n",
        encoding="utf-8",
    )
    output = tmp_path / "output"
    result = build_site(content, output, MFC_IMAGE_CACHE=str(tmp_path / "cache"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (output / "images" / "2020" / f"s-telefona{suffix}").exists()
    made = sorted((output / "images" / "2020").glob("s-telefona-*"))
    assert {p.suffix for p in made} == {".jpg", ".webp"}
    for path in made:
        with Image.open(path) as im:
            assert not im.getexif(), path
        assert b"TestPhone" not in path.read_bytes()
    html = (output / RICH_ITEM_URL.strip("/") / "index.html").read_text("utf-8")
    img = BeautifulSoup(html, "html.parser").find("img", alt="Очередь в зале")
    assert img is not None
    assert "s-telefona-" in img["src"]
    assert "s-telefona-" in img["srcset"]


def test_a_changed_photo_alone_is_encoded_again(tmp_path):
    cache_dir = tmp_path / "cache"
    a = write_jpeg(tmp_path / "a.jpg", 1200, 800, seed=1)
    b = write_photo_png(tmp_path / "b.png", 700, 500, seed=2)
    cache = Cache(cache_dir, Settings())
    cache.derivatives(a)
    cache.derivatives(b)
    assert (cache.encoded, cache.reused) == (2, 0)
    write_jpeg(a, 1200, 800, seed=3)  # the editor replaces one photo
    again = Cache(cache_dir, Settings())
    assert again.derivatives(a).encoded
    assert not again.derivatives(b).encoded
    assert (again.encoded, again.reused) == (1, 1)
    # Other widths or qualities are another recipe: encoded anew.
    other = Cache(cache_dir, Settings(widths=(320, 640)))
    found = other.derivatives(b)
    assert found.encoded
    assert [v.width for v in found.of("webp")] == [320, 640]


def age(path, days: float) -> None:
    """Set a file's or folder's times `days` back."""
    then = time.time() - days * 86400
    os.utime(path, (then, then))


def test_recipes_no_build_used_for_a_month_leave_the_cache(tmp_path):
    root = tmp_path / "cache"
    photos = {
        name: write_jpeg(tmp_path / f"{name}.jpg", 800, 600, seed=seed)
        for seed, name in enumerate(("used", "replaced", "recent"), start=1)
    }
    first = Cache(root, Settings())
    folders = {name: first.derivatives(path).folder for name, path in photos.items()}
    age(folders["used"] / META_FILE, 40)
    age(folders["replaced"] / META_FILE, 40)
    age(folders["recent"] / META_FILE, 10)
    killed = root / ".0123456789ab-half-done"  # an encoding a killed build left
    killed.mkdir()
    age(killed, 2)
    # The next build uses one of the old recipes: that marks it used.
    build = Cache(root, Settings())
    assert not build.derivatives(photos["used"]).encoded
    assert build.prune(30) == 1
    assert not folders["replaced"].exists()
    assert folders["used"].is_dir()
    assert folders["recent"].is_dir()
    assert not killed.exists()
    assert sorted(p.name for p in root.iterdir() if p.name.startswith(".")) == []
    # What stays is whole: a new build takes it as it is.
    again = Cache(root, Settings())
    assert not again.derivatives(photos["recent"]).encoded
    assert again.derivatives(photos["replaced"]).encoded


def test_a_colour_profile_is_applied_then_dropped(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    with_profile = tmp_path / "p3.jpg"
    Image.new("RGB", (800, 600), (30, 140, 200)).save(
        with_profile, "JPEG", quality=95, icc_profile=srgb
    )
    broken = tmp_path / "broken-profile.jpg"
    Image.new("RGB", (800, 600), (30, 140, 200)).save(
        broken, "JPEG", quality=95, icc_profile=b"not a profile"
    )
    cache = Cache(tmp_path / "cache", Settings())
    for source in (with_profile, broken):
        found = cache.derivatives(source)
        for variant in found.variants:
            with Image.open(found.folder / variant.name) as im:
                assert "icc_profile" not in im.info
                r, g, b = im.convert("RGB").getpixel((im.width // 2, im.height // 2))
                assert abs(r - 30) + abs(g - 140) + abs(b - 200) < 12


# --- Bad photos ----------------------------------------------------------------------


def test_a_photo_that_is_not_a_jpeg_or_png_is_refused_in_russian(tmp_path):
    fake = tmp_path / "foto.jpg"
    fake.write_text("<html>Ошибка 404</html>", encoding="utf-8")
    with pytest.raises(PhotoError, match="не открывается как картинка"):
        open_photo(fake)
    gif = tmp_path / "anim.jpg"
    Image.new("P", (10, 10)).save(gif, "GIF")
    with pytest.raises(PhotoError, match="в формате GIF"):
        open_photo(gif)


@pytest.mark.parametrize(("width", "height"), [(12000, 9000), (20000, 10000)])
def test_a_huge_photo_is_refused_in_russian_without_pillows_warning(
    tmp_path, width, height
):
    """A 108-megapixel phone photo: Pillow warns in English above ~89
    million pixels and refuses twice that as a "decompression bomb"; the
    editor reads only that the photo is too big (the header says it: a
    one-bit PNG keeps the file small)."""
    big = tmp_path / "big.png"
    Image.new("1", (width, height)).save(big)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        with pytest.raises(PhotoError, match="слишком большая") as error:
            open_photo(big)
    assert "6000 точек" in str(error.value)
    assert "повреждён" not in str(error.value)
    if width * height < 2 * Image.MAX_IMAGE_PIXELS:
        assert f"{width} × {height}" in str(error.value)
    bombs = [
        w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)
    ]
    assert bombs == []


def test_a_cut_off_photo_fails_the_build_with_its_name(tmp_path):
    whole = write_jpeg(tmp_path / "whole.jpg", 1200, 800)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    cache = Cache(tmp_path / "cache", Settings())
    with pytest.raises(PhotoError, match="повреждён"):
        cache.derivatives(cut)
    assert not list((tmp_path / "cache").rglob("*.jpg"))  # nothing half-made kept


# --- Units ---------------------------------------------------------------------------


def test_img_attributes_and_paths():
    assert image_attributes('<img src="{static}/images/a.jpg" alt="x &amp; y">') == {
        "src": "{static}/images/a.jpg",
        "alt": "x & y",
    }
    assert source_path("{static}/images/a.jpg", "news/2020/x.md") == "images/a.jpg"
    assert source_path("/images/a.jpg", "news/2020/x.md") == "images/a.jpg"
    assert source_path("../../images/b.png", "news/2020/x.md") == "images/b.png"
    assert output_stem("images/2020/IMG_2034.JPG") == "images/2020/img-2034"


def test_docstring_examples_are_true():
    import doctest  # noqa: PLC0415

    import mfc_images  # noqa: PLC0415
    from mfc_images import derivatives, markup  # noqa: PLC0415

    for module in (mfc_images, derivatives, markup):
        assert doctest.testmod(module).failed == 0


def test_a_photo_broken_inside_stops_the_build_with_a_russian_error(tmp_path):
    """The check reads only a photo's header; a PNG whose pixel data is
    broken is found by the build, which names the file and keeps output/."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    photo = content / "images" / "2013" / "foto.png"
    photo.parent.mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "fixtures" / "broken-idat.png", photo)
    output = tmp_path / "output"
    result = build_site(content, output, MFC_IMAGE_CACHE=str(tmp_path / "cache"))
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert "content/images/2013/foto.png:1: картинка «images/2013/foto.png»" in log
    assert "повреждён" in log
    assert "[E308]" in log
    assert "Traceback" not in log
    assert not output.exists()


def preparing_build(tmp_path, monkeypatch) -> tuple:
    """Photos of a build whose photo-encoding process has been started."""
    monkeypatch.delenv("MFC_IMAGE_CACHE", raising=False)
    content = tmp_path / "content"
    for seed, name in enumerate(("a.jpg", "b.jpg")):
        write_jpeg(content / "images" / name, 800, 600, seed=seed)
    (content / "images" / ".skryt.jpg").write_bytes(b"not a photo")
    settings = {
        "PATH": str(content),
        "STATIC_PATHS": ["images"],
        "CACHE_PATH": str(tmp_path / "cache"),
    }
    mfc_images.start_build(
        SimpleNamespace(settings=settings, output_path=str(tmp_path / "output"))
    )
    return mfc_images._BUILD["photos"]


def test_photos_are_encoded_by_a_forked_process_while_pelican_reads(
    tmp_path, monkeypatch
):
    photos = preparing_build(tmp_path, monkeypatch)
    mfc_images.finish_preparing()
    # Encoded there, counted here; the build itself encodes nothing more.
    assert (photos.cache.encoded, photos.cache.reused) == (2, 0)
    for name in ("a.jpg", "b.jpg"):
        assert photos.add(f"images/{name}") is not None
    assert (photos.cache.encoded, photos.cache.reused) == (2, 0)


def test_photos_a_dead_forked_process_left_are_encoded_by_the_build(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(mfc_images, "prepare", lambda *args: os._exit(3))
    photos = preparing_build(tmp_path, monkeypatch)
    mfc_images.finish_preparing()
    assert photos.cache.encoded == 0
    assert photos.add("images/a.jpg") is not None
    assert (photos.cache.encoded, photos.cache.reused) == (1, 0)
