// Keyboard shortcuts of the case page. Each target carries data-shortcut="<key>": a link is
// followed, a folded action (<summary>) is opened and its first field focused, a button pressed.
// "?" lists them. Keys typed into a field are left alone. After htmx swaps in the working area,
// the newest timeline entry (the action's result) is scrolled into view if it is off-screen.
// The page works without this script.
(() => {
  const dialog = () => document.getElementById("shortcuts");
  const typing = (target) => target.closest("input, textarea, select, [contenteditable]");

  const run = (element) => {
    if (element.tagName === "SUMMARY") {
      const details = element.parentElement;
      details.open = true;
      const field = details.querySelector("input:not([type=hidden]), select, textarea, button");
      (field || element).focus();
    } else {
      element.click();
    }
  };

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return;
    const overlay = dialog();
    if (event.key === "?") {
      if (overlay && !overlay.open) overlay.showModal();
      event.preventDefault();
      return;
    }
    if (overlay && overlay.open) return;
    const target = document.querySelector(`[data-shortcut="${CSS.escape(event.key)}"]`);
    if (target) {
      event.preventDefault();
      run(target);
    }
  });

  // With an outerHTML swap the event's target is the old, detached area: look up the new one.
  document.addEventListener("htmx:afterSettle", () => {
    const newest = document.querySelector("#case-timeline .event");
    if (!newest) return;
    const box = newest.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) newest.scrollIntoView({ block: "center" });
  });

  document.addEventListener("DOMContentLoaded", () => {
    const opener = document.getElementById("shortcuts-open");
    if (!opener) return;
    opener.hidden = false; // only useful with this script
    opener.addEventListener("click", () => dialog().showModal());
  });
})();
