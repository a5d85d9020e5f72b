"""`invoke new` and `invoke import-legacy`, run as an editor runs them."""

from __future__ import annotations

import re
import shutil

import markdown
import pytest
import yaml
from bs4 import BeautifulSoup

from tests.conftest import ROOT, astrakhan_now, text_of

SEED = ROOT.parent / "shared" / "seed" / "old-site-news-2013-09-20.txt"
LEGACY = ROOT / "tests" / "legacy"
SEED_ITEM = "news/2013/2013-09-20-forum-v-eltse.md"
SEED_TITLE = "Сотрудники МФЦ приняли участие в международном форуме в Ельце"


def split(text: str) -> tuple[dict, str]:
    """Front matter (as YAML data) and body of a news file."""
    _, front, body = text.split("---\n", 2)
    return yaml.safe_load(front), body.strip()


def rendered(body: str) -> BeautifulSoup:
    html = markdown.markdown(body, extensions=["extra", "sane_lists"])
    return BeautifulSoup(html, "html.parser")


# --- invoke new -----------------------------------------------------------------------


def test_new_then_fill_in_then_check_passes(project):
    title = "Новый график работы: праздничные дни"
    try:
        created = project.invoke("new", title)
        assert created.returncode == 0, created.stderr
        today = astrakhan_now()
        slug = "novyi-grafik-raboty-prazdnichnye-dni"
        rel = f"content/news/{today:%Y}/{today:%Y-%m-%d}-{slug}.md"
        path = project.root / rel
        assert path.is_file(), created.stdout
        assert rel in created.stdout

        # Until the placeholders are filled in, the check refuses the file.
        before = project.invoke("check")
        assert before.returncode != 0
        assert f"{rel}:" in before.stderr
        assert "[E216]" in before.stderr
        front, _ = split(path.read_text(encoding="utf-8"))
        assert front["title"] == title
        assert str(front["date"]) == f"{today:%Y-%m-%d}"

        # The editor writes the title and the text, and the check passes.
        text = path.read_text(encoding="utf-8")
        text = re.sub(r"(?m)^title: .*$", "title: Праздничный график работы МФЦ", text)
        text = re.sub(
            r"\[\[ВПИШИТЕ[^\]]*\]\]",
            "4 ноября МФЦ не работает.\n\n5 ноября — по обычному графику.",
            text,
        )
        path.write_text(text, encoding="utf-8")
        after = project.invoke("check")
        assert after.returncode == 0, after.stderr
        assert "ошибок нет" in after.stdout

        # The item builds and shows its text.
        built = project.invoke("build")
        assert built.returncode == 0, built.stderr
        page = (
            project.output
            / f"news/{today:%Y}/novyi-grafik-raboty-prazdnichnye-dni/index.html"
        )
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        assert "4 ноября МФЦ не работает" in text_of(soup.select_one(".mfc-prose"))
    finally:
        project.restore()
        project.invoke("build")


def test_new_refuses_to_overwrite(project):
    try:
        first = project.invoke("new", "Приём документов", "--date", "2024-05-17")
        assert first.returncode == 0, first.stderr
        path = project.content / "news/2024/2024-05-17-priiom-dokumentov.md"
        path.write_text(path.read_text(encoding="utf-8") + "\nПравка.\n", "utf-8")
        edited = path.read_bytes()

        again = project.invoke("new", "Приём документов", "--date", "2024-05-17")
        assert again.returncode != 0
        assert "уже есть, он не перезаписан" in again.stderr
        assert path.read_bytes() == edited

        # The same address in the same year, on another day, is refused too.
        other_day = project.invoke("new", "Приём документов", "--date", "2024-06-01")
        assert other_day.returncode != 0
        assert "уже есть" in other_day.stderr
        assert not (
            project.content / "news/2024/2024-06-01-priiom-dokumentov.md"
        ).exists()
    finally:
        project.restore()


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["   "], "Укажите заголовок"),
        (["Новость", "--date", "20.09.2013"], "пишите год-месяц-день: 2013-09-20"),
        (["Новость", "--slug", "Новость"], "латинскими строчными"),
        (["!!!"], "--slug"),
    ],
)
def test_new_explains_what_is_wrong(project, args, says):
    result = project.invoke("new", *args)
    assert result.returncode != 0
    assert says in result.stderr
    assert "Traceback" not in result.stderr


# --- invoke import-legacy ---------------------------------------------------------


@pytest.fixture
def without_seed_item(project):
    """The project without the seed item, so the import can recreate it."""
    (project.content / SEED_ITEM).unlink()
    yield project
    project.restore()


def assert_equivalent_to_seed_item(path, title=SEED_TITLE):
    original_front, original_body = split(
        (ROOT / "content" / SEED_ITEM).read_text("utf-8")
    )
    front, body = split(path.read_text(encoding="utf-8"))
    assert str(front["date"]) == str(original_front["date"]) == "2013-09-20"
    assert front["title"] == title
    assert body == original_body  # same paragraphs, same list, same text
    soup = rendered(body)
    paragraphs = [p.get_text() for p in soup.find_all("p")]
    assert paragraphs == [p.get_text() for p in rendered(original_body).find_all("p")]
    assert len(paragraphs) == 8
    items = soup.select("ul > li")
    assert len(items) == 5
    assert items[0].get_text().startswith("актуальные проблемы развития")


def test_seed_page_imports_as_the_item_in_content(without_seed_item):
    project = without_seed_item
    result = project.invoke(
        "import-legacy", str(SEED), "--title", SEED_TITLE, "--slug", "forum-v-eltse"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    path = project.content / SEED_ITEM
    assert_equivalent_to_seed_item(path)
    front, _ = split(path.read_text(encoding="utf-8"))
    assert front["source"] == "old-site-news-2013-09-20.txt"
    assert "ошибок проверки: 0" in result.stdout
    check = project.invoke("check")
    assert check.returncode == 0, check.stderr


def test_html_page_from_the_old_site_imports_the_same(without_seed_item):
    """The same page saved as HTML (windows-1251, menus, scripts, footer)."""
    project = without_seed_item
    html = LEGACY / "old-site-news-2013-09-20.html"
    result = project.invoke("import-legacy", str(html), "--slug", "forum-v-eltse")
    assert result.returncode == 0, result.stdout + result.stderr
    path = project.content / SEED_ITEM
    assert_equivalent_to_seed_item(path)  # the title comes from <h1>
    front, _ = split(path.read_text(encoding="utf-8"))
    assert (
        front["source"] == "http://mfc.astrobl.ru/index.php/novosti/125-forum-v-eltse"
    )


def test_title_line_of_the_page_is_taken(without_seed_item):
    project = without_seed_item
    page = LEGACY / "old-site-news-with-title.txt"
    result = project.invoke("import-legacy", str(page), "--slug", "forum-v-eltse")
    assert result.returncode == 0, result.stdout + result.stderr
    assert_equivalent_to_seed_item(project.content / SEED_ITEM)


def test_page_without_title_gets_one_from_its_first_sentence(without_seed_item):
    project = without_seed_item
    result = project.invoke("import-legacy", str(SEED))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "заголовок взят из первого предложения — проверьте его" in result.stdout
    [path] = (project.content / "news/2013").glob("2013-09-20-*.md")
    front, _ = split(path.read_text(encoding="utf-8"))
    assert front["title"].startswith("18-19 сентября 2013 года в г. Ельце")
    assert len(front["title"]) <= 121
    assert path.name.isascii()
    assert project.invoke("check").returncode == 0


def test_a_folder_of_pages_imports_with_progress(project, tmp_path):
    """Hundreds of pages: one progress line each; a bad page does not stop the rest."""
    old = tmp_path / "old-site"
    old.mkdir()
    seed = SEED.read_text(encoding="utf-8")
    count = 150
    for n in range(count):
        day = 1 + n % 28
        month = 1 + n // 28
        page = seed.replace("20.09.2013", f"{day:02d}.{month:02d}.2012")
        page = page.replace(
            "Форум собрал делегатов", f"Страница {n}. Форум собрал делегатов"
        )
        (old / f"news-{n:03d}.txt").write_text(page, encoding="utf-8")
    shutil.copy(LEGACY / "old-site-page-without-date.txt", old / "zz-broken.txt")
    try:
        result = project.invoke("import-legacy", str(old))
        assert result.returncode != 0  # one page could not be imported
        progress = [line for line in result.stdout.splitlines() if line.startswith("[")]
        assert len(progress) == count
        assert progress[0].startswith(f"[  1/{count + 1}] ")
        assert (
            "zz-broken.txt: не импортирована — не найдена строка с датой"
            in result.stderr
        )
        assert f"Импортировано: {count}," in result.stdout
        assert "ошибок проверки: 0" in result.stdout
        imported = sorted((project.content / "news/2012").glob("*.md"))
        assert len(imported) == count
        # Same title and date on two pages: the second gets a "-2" address.
        assert project.invoke("check").returncode == 0

        # Importing again overwrites nothing: every page is skipped.
        before = {p: p.read_bytes() for p in imported}
        again = project.invoke("import-legacy", f"{old}/news-00*.txt")
        assert "пропущена — файл" in again.stdout
        assert "Импортировано: 0, пропущено (файл уже есть): 10" in again.stdout
        assert {p: p.read_bytes() for p in imported} == before
    finally:
        project.restore()


def test_import_explains_what_is_wrong(project):
    missing = project.invoke("import-legacy", "/nonexistent/old-page.txt")
    assert missing.returncode != 0
    assert "нет такого файла или папки" in missing.stderr
    several = project.invoke(
        "import-legacy", str(LEGACY / "*.txt"), "--title", "Заголовок"
    )
    assert several.returncode != 0
    assert "только для одной страницы" in several.stderr
