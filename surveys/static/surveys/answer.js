// The "why?" question follows the score as it is chosen; without this script the page asks a
// general question, and the server asks the one for the chosen score when it came from a link.
(() => {
  const label = document.getElementById("comment-label");
  if (!label) return;
  const category = (score) => (score <= 6 ? "detractor" : score <= 8 ? "passive" : "promoter");
  for (const input of document.querySelectorAll('input[name="score"]')) {
    input.addEventListener("change", () => {
      label.textContent = label.dataset[category(Number(input.value))];
    });
  }
})();
