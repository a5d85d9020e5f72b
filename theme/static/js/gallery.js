/*
 * The photo viewer of a news item's gallery (partials/gallery.html).
 *
 * Progressive enhancement: without JavaScript (or without <dialog>) each
 * thumbnail is a plain link to the full photo. With it, a click or Enter on
 * a thumbnail opens the photo in a modal dialog: "Предыдущее" and
 * "Следующее" buttons (and the arrow keys), "Фото 2 из 5" announced as a
 * status, Escape or "Закрыть" closes it and focus returns to the thumbnail.
 * Loaded with defer, only on pages with a gallery; no inline styles (CSP).
 */
(function () {
  "use strict";

  if (typeof HTMLDialogElement !== "function") {
    return;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function setUp(gallery) {
    var links = Array.prototype.slice.call(
      gallery.querySelectorAll(".mfc-gallery__link")
    );
    if (!links.length) {
      return;
    }
    var current = 0;
    var opener = null;

    var dialog = element("dialog", "mfc-viewer");
    dialog.setAttribute("aria-label", "Просмотр фотографий");
    var bar = element("div", "mfc-viewer__bar");
    var status = element("p", "mfc-viewer__status");
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    var buttons = element("div", "mfc-viewer__buttons");
    var prev = element("button", "mfc-viewer__button mfc-viewer__button--prev", "Предыдущее фото");
    var next = element("button", "mfc-viewer__button mfc-viewer__button--next", "Следующее фото");
    var close = element("button", "mfc-viewer__button mfc-viewer__button--close", "Закрыть");
    [prev, next, close].forEach(function (button) {
      button.type = "button";
      buttons.appendChild(button);
    });
    bar.appendChild(status);
    bar.appendChild(buttons);
    var figure = element("figure", "mfc-viewer__figure");
    var image = element("img", "mfc-viewer__img");
    image.decoding = "async";
    var caption = element("figcaption", "mfc-viewer__caption");
    figure.appendChild(image);
    figure.appendChild(caption);
    dialog.appendChild(bar);
    dialog.appendChild(figure);
    document.body.appendChild(dialog);

    function show(index) {
      current = (index + links.length) % links.length;
      var link = links[current];
      var thumb = link.querySelector("img");
      var alt = thumb ? thumb.getAttribute("alt") : "";
      image.removeAttribute("srcset");
      image.src = link.getAttribute("href");
      if (link.getAttribute("data-mfc-srcset")) {
        image.srcset = link.getAttribute("data-mfc-srcset");
        image.sizes = "(min-width: 72rem) 70rem, 100vw";
      }
      image.width = Number(link.getAttribute("data-mfc-width")) || 0;
      image.height = Number(link.getAttribute("data-mfc-height")) || 0;
      image.alt = ""; // the caption below says what is on the photo
      caption.textContent = alt;
      status.textContent = "Фото " + (current + 1) + " из " + links.length;
    }

    links.forEach(function (link, index) {
      link.addEventListener("click", function (event) {
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
          return; // a new tab or window: the plain link does that
        }
        event.preventDefault();
        opener = link;
        show(index);
        dialog.showModal();
        close.focus();
      });
    });
    prev.addEventListener("click", function () {
      show(current - 1);
    });
    next.addEventListener("click", function () {
      show(current + 1);
    });
    close.addEventListener("click", function () {
      dialog.close();
    });
    dialog.addEventListener("keydown", function (event) {
      if (event.key === "ArrowLeft") {
        event.preventDefault();
        show(current - 1);
      } else if (event.key === "ArrowRight") {
        event.preventDefault();
        show(current + 1);
      }
    });
    // A click on the backdrop (outside the dialog's box) closes it too.
    dialog.addEventListener("click", function (event) {
      if (event.target === dialog) {
        var box = dialog.getBoundingClientRect();
        var inside = event.clientX >= box.left && event.clientX <= box.right &&
          event.clientY >= box.top && event.clientY <= box.bottom;
        if (!inside) {
          dialog.close();
        }
      }
    });
    // Escape (the dialog's own cancel) and every other way out end here.
    // The close event comes a moment after the dialog closed: focus goes
    // back to the thumbnail only if nothing has taken it since (the browser
    // may have put it there already; the visitor may have moved on).
    dialog.addEventListener("close", function () {
      image.removeAttribute("src");
      image.removeAttribute("srcset");
      var active = document.activeElement;
      if (opener && (!active || active === document.body || dialog.contains(active))) {
        opener.focus();
      }
    });
  }

  function init() {
    Array.prototype.forEach.call(
      document.querySelectorAll("[data-mfc-gallery]"),
      setUp
    );
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
