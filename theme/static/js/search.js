/*
 * Site search on /search/: a small interface over Pagefind's JavaScript API.
 *
 * Progressive enhancement: the page itself says that search needs JavaScript
 * and links to the archive. This script shows the form only once the index
 * has loaded, reads and keeps the query in the address (?q=…), and announces
 * the number of results through the page's status region (role="status").
 * Everything it loads comes from this site; nothing goes to another host.
 */

const PAGE_SIZE = 10;
const UNAVAILABLE = "Поиск сейчас не работает. Попробуйте обновить страницу позже.";
const DEBOUNCE_MS = 300;
const plural = new Intl.PluralRules("ru");
const FOUND = {
  one: (n) => `Найден ${n} результат`,
  few: (n) => `Найдено ${n} результата`,
  many: (n) => `Найдено ${n} результатов`,
  other: (n) => `Найдено ${n} результата`,
};

/** «Найдено 3 результата по запросу «форум»» and the like. */
export function foundMessage(count, query) {
  if (count === 0) return `По запросу «${query}» ничего не найдено.`;
  return `${FOUND[plural.select(count)](count)} по запросу «${query}».`;
}

const WORD = /[\p{L}\p{N}]+/gu;
const normalise = (text) => text.toLocaleLowerCase("ru").replaceAll("ё", "е");

function sharedPrefix(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  return i;
}

/** The words Pagefind highlighted in a result's excerpt. */
function markedWords(data) {
  const marks = data.excerpt.match(/<mark>[^<]*<\/mark>/g) || [];
  return marks.flatMap((mark) => normalise(mark).match(WORD) || []);
}

/**
 * Whether the results really match the query. When a word is in no page,
 * Pagefind falls back to the longest indexed prefix of it, which in Russian
 * is often a one-letter preposition: «выписка» would find every page with
 * «в». A query counts as found when some highlighted word shares its first
 * three letters (or all of a shorter word) with some word of the query.
 */
export function matchesQuery(results, query) {
  const terms = normalise(query).match(WORD) || [];
  const marked = results.flatMap(markedWords);
  return terms.some((term) =>
    marked.some((word) => sharedPrefix(word, term) >= Math.min(term.length, 3)),
  );
}

/** Copy Pagefind's excerpt (text with <mark>) without trusting it as HTML. */
function excerptNodes(excerpt) {
  const parsed = new DOMParser().parseFromString(excerpt, "text/html");
  const fragment = document.createDocumentFragment();
  for (const node of parsed.body.childNodes) {
    if (node.nodeType === Node.ELEMENT_NODE && node.localName === "mark") {
      const mark = document.createElement("mark");
      mark.textContent = node.textContent;
      fragment.append(mark);
    } else {
      fragment.append(document.createTextNode(node.textContent));
    }
  }
  return fragment;
}

function resultItem(data) {
  const item = document.createElement("li");
  item.className = "mfc-search-result";
  const heading = document.createElement("h2");
  heading.className = "mfc-search-result__title";
  const link = document.createElement("a");
  link.href = data.url;
  link.textContent = data.meta.title || data.url;
  heading.append(link);
  item.append(heading);
  if (data.meta.date) {
    const date = document.createElement("p");
    date.className = "mfc-search-result__date";
    date.textContent = data.meta.date;
    item.append(date);
  }
  const excerpt = document.createElement("p");
  excerpt.className = "mfc-search-result__excerpt";
  excerpt.append(excerptNodes(data.excerpt));
  item.append(excerpt);
  return item;
}

const PART = "mfc_part"; // the synthetic filter naming each part of the index

/**
 * Open the index; return its search function. A large site's index comes in
 * parts (plugins/mfc_search): pagefind.js loads the main one, whose folder
 * lists the others in mfc-parts.json. They are merged into it (they use its
 * WebAssembly) while the visitor types, each page tagged with its part.
 */
async function openIndex(script, options) {
  const pagefind = await import(script);
  await pagefind.options(options);
  await pagefind.init();
  const bundle = new URL(".", new URL(script, window.location.href));
  const merged = (async () => {
    const response = await fetch(new URL("mfc-parts.json", bundle), {
      cache: "no-cache",
    });
    if (!response.ok) throw new Error(`mfc-parts.json: HTTP ${response.status}`);
    const { parts } = await response.json();
    if (!parts.length) return [];
    await pagefind.options({ mergeFilter: { [PART]: "main" } });
    await Promise.all(
      parts.map((part) =>
        pagefind.mergeIndex(new URL(part, bundle).href, {
          ...options,
          mergeFilter: { [PART]: part },
        }),
      ),
    );
    return ["main", ...parts];
  })();
  merged.catch(() => {}); // reported by the search that awaits it
  return async (query) => {
    const parts = await merged;
    const words = query.split(/\s+/);
    if (parts.length < 2 || words.length < 2 || /^".+"$/.test(query)) {
      return pagefind.search(query);
    }
    // Pagefind leaves out a word that is in no page of the index: one
    // index of the whole site leaves it out everywhere, or nowhere. So a
    // word found in some part must be in every page found: the parts
    // without it (where Pagefind would leave it out) find nothing.
    const holding = await Promise.all(
      words.map(async (word) => {
        const counts = (await pagefind.search(word)).filters[PART] || {};
        return parts.filter((part) => counts[part] > 0);
      }),
    );
    const found = holding.filter((holders) => holders.length);
    const eligible = parts.filter((part) => found.every((h) => h.includes(part)));
    if (eligible.length === parts.length) return pagefind.search(query);
    if (!eligible.length) return { results: [] };
    return pagefind.search(query, { filters: { [PART]: { any: eligible } } });
  };
}

async function start(root) {
  const form = root.querySelector(".mfc-search__form");
  const input = form.querySelector("input[type=search]");
  const fallback = root.querySelector("[data-search-fallback]");
  const reason = root.querySelector("[data-search-fallback-reason]");
  const status = root.querySelector("[role=status]");
  const list = root.querySelector(".mfc-search__results");
  const more = root.querySelector(".mfc-search__more");

  /** Search cannot work here: say so, and leave the way to the archive. */
  function unavailable(error) {
    console.error("search:", error);
    reason.textContent = UNAVAILABLE;
    form.hidden = list.hidden = more.hidden = true;
    fallback.hidden = false;
    status.textContent = UNAVAILABLE;
  }

  let searchIndex;
  try {
    searchIndex = await openIndex(root.dataset.pagefind, {
      baseUrl: new URL(root.dataset.baseUrl, window.location.href).pathname,
      excerptLength: 30,
    });
  } catch (error) {
    unavailable(error);
    return;
  }
  fallback.hidden = true;
  form.hidden = false;

  let current = 0; // number of the latest search; older answers are dropped
  let results = [];
  let shown = 0;
  let timer;

  const nextBatch = () =>
    Promise.all(results.slice(shown, shown + PAGE_SIZE).map((r) => r.data()));

  function show(batch) {
    const items = batch.map(resultItem);
    list.append(...items);
    shown += batch.length;
    more.hidden = shown >= results.length;
    return items;
  }

  async function run(query) {
    const mine = ++current;
    query = query.trim();
    const url = new URL(window.location.href);
    if (query) url.searchParams.set("q", query);
    else url.searchParams.delete("q");
    window.history.replaceState(null, "", url);
    if (!query) {
      list.replaceChildren();
      list.hidden = more.hidden = true;
      status.textContent = "";
      return;
    }
    let batch;
    try {
      const search = await searchIndex(query);
      if (mine !== current) return;
      results = search.results;
      shown = 0;
      batch = await nextBatch();
    } catch (error) {
      unavailable(error);
      return;
    }
    if (mine !== current) return;
    if (!matchesQuery(batch, query)) results = batch = [];
    list.replaceChildren();
    show(batch);
    list.hidden = results.length === 0;
    status.textContent = foundMessage(results.length, query);
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    run(input.value);
  });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => run(input.value), DEBOUNCE_MS);
  });
  more.addEventListener("click", async () => {
    const mine = current;
    const batch = await nextBatch();
    if (mine !== current) return;
    const items = show(batch);
    // Move to the first new result, so keyboard and screen reader users
    // continue where the list grew.
    items[0]?.querySelector("a")?.focus();
  });

  const initial = new URL(window.location.href).searchParams.get("q");
  if (initial) {
    input.value = initial;
    await run(initial);
  }
}

const root = document.querySelector("[data-mfc-search]");
if (root) start(root);
