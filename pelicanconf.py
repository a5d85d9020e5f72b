"""Pelican settings for the site: grouped constants, no logic.

Production overrides live in publishconf.py. Paths are relative to this file.
"""

# --- Site ---------------------------------------------------------------
SITENAME = "МФЦ «Мои документы» Астраханской области"
SITE_SHORTNAME = "МФЦ «Мои документы»"
SITE_DESCRIPTION = (
    "Многофункциональный центр предоставления государственных и муниципальных "
    "услуг Астраханской области: новости, адрес и телефон."
)
SITEURL = ""  # relative URLs in preview; publishconf.py sets the real one
AUTHOR = "МФЦ Астраханской области"
TIMEZONE = "Europe/Astrakhan"
DEFAULT_LANG = "ru"
# One language: no item is a translation of another. Pelican's default
# ("slug") takes two news items with one slug in different years (a yearly
# event: news/2014/den-otkrytyh-dverej/, news/2019/den-otkrytyh-dverej/)
# for translations, and fails the build with an English warning.
ARTICLE_TRANSLATION_ID = None
PAGE_TRANSLATION_ID = None
DEFAULT_DATE_FORMAT = "%Y-%m-%d"  # unused by the theme: dates go through Babel
DEFAULT_DATE = None

# --- Content ------------------------------------------------------------
PATH = "content"
ARTICLE_PATHS = ["news"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]
IGNORE_FILES = [".*", "_*", "*~", "*.bak"]
CONTACT_BLOCK = "blocks/contact.md"  # relative to PATH; shown on every page
# News file names carry the publication date and the stable slug.
FILENAME_METADATA = r"(?P<date>\d{4}-\d{2}-\d{2})-(?P<slug>.+)"
USE_FOLDER_AS_CATEGORY = False
DEFAULT_CATEGORY = "Новости"
# Every item gets the category even without category pages: Pelican only
# applies DEFAULT_CATEGORY when CATEGORY_SAVE_AS is set, and a draft without
# a category crashes its generate_drafts.
DEFAULT_METADATA = {"category": "Новости"}
SLUGIFY_SOURCE = "basename"
SLUG_REGEX_SUBSTITUTIONS = [
    (r"[^\w\s-]", ""),  # remove non-alphabetical/whitespace/'-' chars
    (r"(?u)\A\s*", ""),  # strip leading whitespace
    (r"(?u)\s*\Z", ""),  # strip trailing whitespace
    (r"[-\s]+", "-"),  # reduce multiple whitespace or '-' to single '-'
]

# --- Markdown and typography ---------------------------------------------
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.sane_lists": {},
        # Python-Markdown's HTML, sooner: block processors and inline
        # patterns that cannot apply to a text are not tried on it
        # (plugins/mfc_content/quickmarkdown.py).
        "mfc_content.quickmarkdown": {},
    },
    "output_format": "html5",
}
TYPOGRIFY = True
# Keep typogrify's widont only: its other filters are English typography.
TYPOGRIFY_OMIT_FILTERS = ["amp", "smartypants", "caps", "initial_quotes"]
TYPOGRIFY_IGNORE_TAGS = ["pre", "code", "kbd", "script", "style"]
# Jinja's auto_reload off (Pelican adds its own defaults to this): each
# build is a process of its own, so a template never changes while one
# runs, and Jinja otherwise checks the file of every template a page uses
# (6-7) on every page.
JINJA_ENVIRONMENT = {"auto_reload": False}

# --- URLs (all ASCII, directory-style) -----------------------------------
ARTICLE_URL = "news/{date:%Y}/{slug}/"
ARTICLE_SAVE_AS = "news/{date:%Y}/{slug}/index.html"
DRAFT_URL = "drafts/{slug}/"
DRAFT_SAVE_AS = "drafts/{slug}/index.html"
PAGE_URL = "{slug}/"
PAGE_SAVE_AS = "{slug}/index.html"
DRAFT_PAGE_URL = "drafts/pages/{slug}/"
DRAFT_PAGE_SAVE_AS = "drafts/pages/{slug}/index.html"
TAG_URL = "tags/{slug}/"
TAG_SAVE_AS = "tags/{slug}/index.html"
TAGS_URL = "tags/"
TAGS_SAVE_AS = "tags/index.html"
YEAR_ARCHIVE_URL = "news/{date:%Y}/"
YEAR_ARCHIVE_SAVE_AS = "news/{date:%Y}/index.html"
MONTH_ARCHIVE_URL = "news/{date:%Y}/{date:%m}/"
MONTH_ARCHIVE_SAVE_AS = "news/{date:%Y}/{date:%m}/index.html"
ARCHIVES_URL = "archive/"
ARCHIVES_SAVE_AS = "archive/index.html"
# Home page ("home" template) and the paginated news list ("index").
HOME_URL = ""
HOME_SAVE_AS = "index.html"
INDEX_URL = "news/"
INDEX_SAVE_AS = "news/index.html"
# One category ("Новости") and one author: no pages for either.
CATEGORY_SAVE_AS = ""
CATEGORIES_SAVE_AS = ""
AUTHOR_SAVE_AS = ""
AUTHORS_SAVE_AS = ""
SEARCH_URL = "search/"
SEARCH_SAVE_AS = "search/index.html"
# "404" is written to 404.html (Pelican's default for a direct template).
DIRECT_TEMPLATES = ["home", "index", "tags", "archives", "search", "404"]
PAGINATED_TEMPLATES = {"index": 10, "tag": 10}
DEFAULT_PAGINATION = 10
PAGINATION_PATTERNS = [
    (1, "{url}", "{save_as}"),
    (2, "{base_name}/page/{number}/", "{base_name}/page/{number}/index.html"),
]
RELATIVE_URLS = False  # the theme builds every URL from SITEURL

# --- Theme --------------------------------------------------------------
THEME = "theme"
THEME_STATIC_DIR = "static"
THEME_STATIC_PATHS = ["static"]
# Templates may also be XML or text files (sitemap.xml, robots.txt).
TEMPLATE_EXTENSIONS = [".html", ".xml", ".txt"]
HOME_NEWS_COUNT = 5  # latest news on the home page
MENUITEMS = [
    ("Новости", "news/"),
    ("Архив", "archive/"),
    ("Темы", "tags/"),
    ("Поиск", "search/"),
]
DISPLAY_PAGES_ON_MENU = True
DISPLAY_CATEGORIES_ON_MENU = False

# --- Photos (plugins/mfc_images): WebP and JPEG at these widths ---------
IMAGE_WIDTHS = [360, 720, 1200, 1600]  # pixels; a photo is never upscaled
IMAGE_JPEG_QUALITY = 78
IMAGE_WEBP_QUALITY = 75
# The derivatives cache: CACHE_PATH/images unless MFC_IMAGE_CACHE is set. A
# successful build removes what no build used for this many days.
IMAGE_CACHE_KEEP_DAYS = 30

# --- Plugins ------------------------------------------------------------
PLUGIN_PATHS = ["plugins"]
PLUGINS = [
    "pelican.plugins.yaml_metadata",
    "mfc_content",  # after yaml_metadata: its validating reader replaces that one
    "pelican.plugins.neighbors",
    "mfc_dates",
    "mfc_blocks",
    "mfc_typography",  # Russian typography for titles, summaries and text
    "mfc_assets",  # fingerprinted theme files: {{ 'css/site.css'|asset }}
    "mfc_images",  # photo derivatives; before mfc_meta, which links the lead image
    "mfc_meta",
    "mfc_feeds",
    "mfc_search",
]
# Only Markdown is content: an HTML or reST file dropped into news/ is
# reported by `invoke check`, never published unchecked.
READERS = {"html": None, "htm": None, "rst": None}

# --- Drafts and scheduled news --------------------------------------------
# The preview shows drafts (status: draft) and news dated in the future, in
# their final place and marked; publishconf.py turns this off.
SHOW_UNPUBLISHED = True

# --- Search (plugins/mfc_search): a Pagefind index of news and pages ------
SEARCH_INDEX = True
SEARCH_INDEX_DIR = "pagefind"  # the search bundle, under the output folder
# Pages per Pagefind run (the index is merged in the browser): ~110 KB of
# Pagefind's memory each. 0: one index of the whole site, at any size.
SEARCH_PART_PAGES = 1600

# --- Feeds: off in preview, on in production (publishconf.py) -----------
FEED_ALL_ATOM = None
FEED_ALL_RSS = None
CATEGORY_FEED_ATOM = None
CATEGORY_FEED_RSS = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None
TRANSLATION_FEED_ATOM = None
TRANSLATION_FEED_RSS = None

# --- Build --------------------------------------------------------------
OUTPUT_PATH = "output"
DELETE_OUTPUT_DIRECTORY = False
LOAD_CONTENT_CACHE = False  # mfc_content keeps its own cache (memo.py)
RENDER_PROCESSES = 2  # news pages are written by two processes (both cores)
