// Small progressive enhancements; every page works without them.
// [data-copy=ID]: copy the text of element ID (the citation) to the clipboard.
// [data-print]: print the page (print styles hide navigation and forms).
document.addEventListener("click", (event) => {
  const copy = event.target.closest("[data-copy]");
  if (copy) {
    const source = document.getElementById(copy.dataset.copy);
    if (source && navigator.clipboard) {
      navigator.clipboard.writeText(source.textContent.trim()).then(() => {
        copy.dataset.done = "1";
        copy.setAttribute("aria-live", "polite");
        copy.textContent = copy.textContent.replace(/ ✓$/, "") + " ✓";
      });
    }
    return;
  }
  if (event.target.closest("[data-print]")) {
    window.print();
  }
});
