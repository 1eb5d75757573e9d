// Header menus are <details> elements, which open and close without this script; it closes an
// open one when the pointer or focus goes elsewhere, or on Escape, as menus do.
(() => {
  const openMenus = () => document.querySelectorAll(".site-nav__more details[open]");
  const closeOutside = (target) => {
    for (const menu of openMenus()) {
      if (!menu.contains(target)) menu.removeAttribute("open");
    }
  };
  document.addEventListener("click", (event) => closeOutside(event.target));
  document.addEventListener("focusin", (event) => closeOutside(event.target));
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    for (const menu of openMenus()) {
      menu.removeAttribute("open");
      menu.querySelector("summary").focus();
    }
  });
})();
