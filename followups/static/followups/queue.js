// The queues refresh their list every 30 seconds (htmx polling, see partials/queue_list.html).
// Hold a refresh while someone is working in the list: a box ticked for the bulk form, or focus
// on a control (an owner being chosen), would be lost when the list is swapped.
document.addEventListener("htmx:beforeRequest", (event) => {
  const list = event.detail.elt;
  if (!(list instanceof HTMLElement) || list.id !== "queue-list") return;
  const busy = list.querySelector("input[type=checkbox]:checked") || list.contains(document.activeElement);
  if (busy) event.preventDefault();
});
