// The review page from the keyboard: j/k or the arrows move between comments, a or Enter
// accepts the top suggestion, 1-9 the nth, s skips. The buttons are plain forms, so the page
// works without this file; with htmx each action swaps the comment in place and the next one
// becomes current.
(function () {
  "use strict";

  var CURRENT = "review-item--current";

  function items() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-review-item]"));
  }

  function current() {
    return document.querySelector("." + CURRENT);
  }

  function select(item) {
    if (!item) {
      return;
    }
    var before = current();
    if (before) {
      before.classList.remove(CURRENT);
    }
    item.classList.add(CURRENT);
    item.focus({ preventScroll: true });
    item.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = items();
    var index = all.indexOf(current());
    select(all[Math.min(Math.max(index + step, 0), all.length - 1)]);
  }

  function press(selector, nth) {
    var item = current();
    if (!item) {
      return false;
    }
    var buttons = item.querySelectorAll(selector);
    var button = buttons[nth || 0];
    if (!button) {
      return false;
    }
    button.click();
    return true;
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || (target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (!document.querySelector("[data-review-list]") || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    if (typing(event.target)) {
      return;
    }
    // Enter on a focused button or link keeps its own meaning.
    if (event.key === "Enter" && event.target.closest && event.target.closest("button, a")) {
      return;
    }
    var handled = true;
    if (event.key === "j" || event.key === "ArrowDown") {
      move(1);
    } else if (event.key === "k" || event.key === "ArrowUp") {
      move(-1);
    } else if (event.key === "a" || event.key === "Enter") {
      handled = press("[data-accept]", 0);
    } else if (/^[1-9]$/.test(event.key)) {
      handled = press("[data-accept]", Number(event.key) - 1);
    } else if (event.key === "s") {
      handled = press("[data-skip]", 0);
    } else {
      handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
  });

  // After htmx swaps a comment in, keep it marked and move on to the next one.
  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.detail && event.detail.target;
    var item = swapped && swapped.id ? document.getElementById(swapped.id) : null;
    if (!item) {
      return;
    }
    var all = items();
    var next = all[all.indexOf(item) + 1];
    select(next || item);
  });

  document.addEventListener("click", function (event) {
    var item = event.target.closest && event.target.closest("[data-review-item]");
    if (item && !item.classList.contains(CURRENT)) {
      item.classList.add(CURRENT);
      var others = items();
      for (var i = 0; i < others.length; i += 1) {
        if (others[i] !== item) {
          others[i].classList.remove(CURRENT);
        }
      }
    }
  });

  document.addEventListener("DOMContentLoaded", function () {
    var first = items()[0];
    if (first) {
      first.classList.add(CURRENT);
    }
  });
})();
