"""Page images: the level-0 IIIF image store (``lantai images build``), Presentation 3
manifests, and what the record page's viewer shows (a page and the hits drawn on it).

Data flow: scans → :mod:`lantai.ocr` (text and line boxes) → indexed text; the same scans and
boxes → :mod:`lantai.iiif.build` → ``<data_dir>/images`` → the web app's ``/iiif`` routes,
which serve them only for records the public gate lets through."""
