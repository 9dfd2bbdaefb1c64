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

// The record page's page image (#viewer): the server draws it as an SVG with the hits'
// polygons; with OpenSeadragon installed it becomes a zoomable tiled view with the same
// polygons laid over it. Arrow keys turn pages in the book's direction (←/→ follow the
// links drawn on that side, so a right-to-left book turns forward with ←).
document.addEventListener("DOMContentLoaded", () => {
  const viewer = document.getElementById("viewer");
  if (!viewer) return;
  viewer.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select")) return;
    const side = { ArrowLeft: "left", ArrowRight: "right" }[event.key];
    const link = side && viewer.querySelector(`.pager a[data-side="${side}"]`);
    if (link) link.click();
  });
  const OSD = window.OpenSeadragon;
  if (!OSD) return;
  const figure = viewer.querySelector(".page-figure");
  const still = figure.querySelector("svg");
  const width = Number(viewer.dataset.width);
  const height = Number(viewer.dataset.height);
  const box = document.createElement("div");
  box.className = "osd";
  box.tabIndex = 0;
  box.setAttribute("role", "img");
  box.setAttribute("aria-labelledby", still.getAttribute("aria-labelledby"));
  figure.insertBefore(box, still);
  const overlay = still.cloneNode(true);
  overlay.removeAttribute("class");
  still.classList.add("replaced");
  overlay.querySelector("image").remove();
  overlay.removeAttribute("role");
  overlay.removeAttribute("aria-labelledby");
  overlay.setAttribute("aria-hidden", "true");
  overlay.setAttribute("preserveAspectRatio", "none");
  overlay.classList.add("hit-overlay");
  const osd = OSD({
    element: box,
    tileSources: viewer.dataset.info,
    showNavigationControl: false,
    gestureSettingsMouse: { clickToZoom: false },
    maxZoomPixelRatio: 3,
    drawer: "canvas",
    visibilityRatio: 0.5,
  });
  const hits = () => {
    const shapes = overlay.querySelectorAll("polygon");
    if (!shapes.length) return null;
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    shapes.forEach((shape) => {
      shape.getAttribute("points").trim().split(/\s+/).forEach((pair) => {
        const [x, y] = pair.split(",").map(Number);
        x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
      });
    });
    const pad = Math.max(x1 - x0, y1 - y0, width / 4) * 0.6;
    return osd.viewport.imageToViewportRectangle(x0 - pad, y0 - pad, x1 - x0 + 2 * pad,
                                                  y1 - y0 + 2 * pad);
  };
  osd.addHandler("open", () => {
    osd.addOverlay({ element: overlay, location: new OSD.Rect(0, 0, 1, height / width) });
    viewer.dataset.ready = "1";
  });
  const zoom = viewer.querySelector(".zoom");
  zoom.hidden = false;
  zoom.addEventListener("click", (event) => {
    const button = event.target.closest("[data-zoom]");
    if (!button) return;
    const action = button.dataset.zoom;
    if (action === "in") osd.viewport.zoomBy(1.5);
    else if (action === "out") osd.viewport.zoomBy(1 / 1.5);
    else if (action === "home") osd.viewport.goHome();
    else if (action === "hits" && hits()) osd.viewport.fitBounds(hits());
    osd.viewport.applyConstraints();
  });
  window.lantaiViewer = osd;  // for the browser tests and the curious
});
