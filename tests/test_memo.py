"""mfc_content.memo: the build cache of pure text functions."""

from mfc_content.memo import Memo, build_key


def settings_for(tmp_path, **extra):
    theme = tmp_path / "theme"
    plugins = tmp_path / "plugins"
    for folder in (theme / "templates", plugins / "mfc_x"):
        folder.mkdir(parents=True, exist_ok=True)
    (theme / "templates" / "base.html").write_text("<html>", encoding="utf-8")
    (plugins / "mfc_x" / "__init__.py").write_text("X = 1\n", encoding="utf-8")
    return {
        "THEME": str(theme),
        "PLUGIN_PATHS": [str(plugins)],
        "MARKDOWN": {"output_format": "html5"},
        "JINJA_FILTERS": {"f": len},
        "OUTPUT_PATH": str(tmp_path / "output.staging-1"),
        "CACHE_PATH": str(tmp_path / "cache"),
        **extra,
    }


def test_the_key_follows_settings_theme_and_plugins_not_paths(tmp_path):
    settings = settings_for(tmp_path)
    key = build_key(settings)
    assert build_key(settings) == key
    moved = {**settings, "OUTPUT_PATH": str(tmp_path / "output.staging-2")}
    assert build_key(moved) == key  # where it writes is not what it makes
    assert build_key({**settings, "MARKDOWN": {"output_format": "xhtml"}}) != key
    (tmp_path / "theme" / "templates" / "base.html").write_text("<html lang=ru>")
    assert build_key(settings) != key
    theme_key = build_key(settings)
    (tmp_path / "plugins" / "mfc_x" / "__init__.py").write_text("X = 2\n")
    assert build_key(settings) != theme_key


def test_entries_are_reused_and_unused_ones_dropped(tmp_path):
    calls = []

    def upper(text):
        calls.append(text)
        return text.upper()

    first = Memo(tmp_path, "k")
    assert first.get("t", "а", upper) == "А"
    assert first.get("t", "б", upper) == "Б"
    first.save()
    second = Memo(tmp_path, "k")
    assert second.get("t", "а", upper) == "А"
    assert second.hits == 1
    assert calls == ["а", "б"]
    second.save()  # "б" was not used by this build: dropped
    third = Memo(tmp_path, "k")
    assert third.get("t", "б", upper) == "Б"
    assert calls == ["а", "б", "б"]
    # Another key (other settings or code) never sees these entries.
    other = Memo(tmp_path, "other")
    assert other.get("t", "а", upper) == "А"
    assert calls[-1] == "а"


def test_a_build_that_fails_saves_nothing(tmp_path):
    memo = Memo(tmp_path, "k")
    memo.get("t", "а", str.upper)
    assert not list(tmp_path.glob("*.sqlite"))  # written only by save()
