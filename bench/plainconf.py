"""The reference build: plain Pelican 4.12, its `simple` theme, no plugins.

bench/run.py builds the ``plain`` flavour of the generated corpus with these
settings (Pelican's own ``Key: value`` Markdown metadata, the same items,
text and URLs as ours), so Pelican does its own work and nothing more.
"""

SITENAME = "МФЦ «Мои документы» Астраханской области"
AUTHOR = "МФЦ Астраханской области"
TIMEZONE = "Europe/Astrakhan"
DEFAULT_LANG = "ru"
THEME = "simple"
PLUGINS = []  # Pelican 4.12 would otherwise load every installed plugin
TYPOGRIFY = False
ARTICLE_URL = "news/{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "news/{date:%Y}/{slug}/index.html"
DEFAULT_PAGINATION = 10
LOAD_CONTENT_CACHE = False
