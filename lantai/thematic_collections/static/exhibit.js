// Search inside a static exhibit, from disk, with no server: the query and every item's text
// are folded to simplified characters through window.EXHIBIT.fold (made from the exhibit's own
// characters), so a simplified query finds traditional text and the reverse. Every word of the
// query must occur; matches are marked in the results.
(function () {
  "use strict";
  const data = window.EXHIBIT;
  const fold = (text) => Array.from(text, (ch) => data.fold[ch] || ch).join("");
  const folded = data.items.map((item) => fold(item.title + "\n" + item.note + "\n" + item.text));

  function mark(text, words) {
    // text and its folded form have the same characters, one for one
    const f = fold(text);
    const hits = new Array(text.length).fill(false);
    for (const w of words) {
      let at = f.indexOf(w);
      while (at >= 0) {
        for (let i = at; i < at + w.length; i++) hits[i] = true;
        at = f.indexOf(w, at + w.length);
      }
    }
    const out = document.createDocumentFragment();
    let run = "";
    let inHit = false;
    const flush = () => {
      if (!run) return;
      if (inHit) {
        const m = document.createElement("mark");
        m.textContent = run;
        out.appendChild(m);
      } else {
        out.appendChild(document.createTextNode(run));
      }
      run = "";
    };
    Array.from(text).forEach((ch, i) => {
      if (hits[i] !== inHit) { flush(); inHit = hits[i]; }
      run += ch;
    });
    flush();
    return out;
  }

  function excerpt(text, word) {
    const at = Math.max(0, fold(text).indexOf(word) - 30);
    return (at > 0 ? "…" : "") + text.slice(at, at + 90) + (text.length > at + 90 ? "…" : "");
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = document.getElementById("search");
    const box = document.getElementById("q");
    const results = document.getElementById("results");
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      results.textContent = "";
      const words = fold(box.value).split(/\s+/).filter(Boolean);
      if (!words.length) return;
      const found = data.items.filter((_, i) => words.every((w) => folded[i].includes(w)));
      const head = document.createElement("p");
      head.textContent = `共 ${found.length} 件`;
      results.appendChild(head);
      const list = document.createElement("ol");
      for (const item of found) {
        const li = document.createElement("li");
        const link = document.createElement("a");
        link.href = "#item-" + (data.items.indexOf(item) + 1);
        link.appendChild(mark(item.title, words));
        li.appendChild(link);
        const p = document.createElement("p");
        p.appendChild(mark(excerpt(item.text, words[0]), words));
        li.appendChild(p);
        list.appendChild(li);
      }
      results.appendChild(list);
    });
  });
})();
