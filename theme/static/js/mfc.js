/*
 * The mode for the visually impaired («Версия для слабовидящих»).
 *
 * Loaded by a plain (blocking) <script> at the top of <head>, so the saved
 * choices are on <html> as data-mfc-* attributes before anything is painted:
 * no flash of the default look. Once the document is parsed it wires up the
 * panel (partials/a11y_panel.html). The choices persist in localStorage.
 *
 * Without JavaScript nothing here runs: <html> lacks data-mfc-js, the CSS
 * keeps the control hidden and the site shows its default look.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "mfc-a11y";
  // Each option's first value is the default, shown by having no attribute.
  var OPTIONS = {
    size: ["1", "2", "3"],
    scheme: ["default", "bw", "wb", "blue", "beige"],
    images: ["on", "off"],
    spacing: ["normal", "wide"],
    panel: ["closed", "open"]
  };
  var root = document.documentElement;

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORAGE_KEY));
      return saved && typeof saved === "object" ? saved : {};
    } catch (error) {
      return {};
    }
  }

  function save(state) {
    try {
      window.localStorage.setItem(STORAGE_KEY, JSON.stringify(state));
    } catch (error) {
      // Private mode or storage disabled: the choice holds for this page only.
    }
  }

  function apply(state) {
    Object.keys(OPTIONS).forEach(function (name) {
      var values = OPTIONS[name];
      if (values.indexOf(state[name]) > 0) {
        root.setAttribute("data-mfc-" + name, state[name]);
      } else {
        root.removeAttribute("data-mfc-" + name);
        delete state[name];
      }
    });
  }

  var state = load();
  root.setAttribute("data-mfc-js", "");
  apply(state);

  // With images off, an image's alt text stays on the page in its place.
  function addAltTexts() {
    var images = document.querySelectorAll("main img[alt]");
    Array.prototype.forEach.call(images, function (image) {
      var alt = image.getAttribute("alt").trim();
      var anchor = image.closest("picture") || image;
      var next = anchor.nextElementSibling;
      if (!alt || (next && next.classList.contains("mfc-img-alt"))) {
        return;
      }
      var text = document.createElement("span");
      text.className = "mfc-img-alt";
      text.textContent = "Изображение: " + alt;
      anchor.insertAdjacentElement("afterend", text);
    });
  }

  function init() {
    var toggle = document.getElementById("mfc-a11y-toggle");
    var panel = document.getElementById("mfc-a11y-panel");
    addAltTexts();
    if (!toggle || !panel) {
      return;
    }
    var reset = panel.querySelector("[data-mfc-reset]");

    function sync() {
      toggle.setAttribute("aria-expanded", String(state.panel === "open"));
      Array.prototype.forEach.call(panel.querySelectorAll("input"), function (input) {
        var name = input.name.replace(/^mfc-/, "");
        input.checked = input.value === (state[name] || OPTIONS[name][0]);
      });
    }

    function update() {
      apply(state);
      save(state);
      sync();
    }

    function close() {
      state.panel = "closed";
      update();
      toggle.focus();
    }

    toggle.addEventListener("click", function () {
      state.panel = state.panel === "open" ? "closed" : "open";
      update();
    });
    panel.addEventListener("change", function (event) {
      var name = event.target.name.replace(/^mfc-/, "");
      if (OPTIONS[name]) {
        state[name] = event.target.value;
        update();
      }
    });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") {
        close();
      }
    });
    if (reset) {
      reset.addEventListener("click", function () {
        state = {};
        close();
      });
    }
    // Choices made in another tab apply here too.
    window.addEventListener("storage", function (event) {
      if (event.key === STORAGE_KEY) {
        state = load();
        apply(state);
        sync();
      }
    });
    sync();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
