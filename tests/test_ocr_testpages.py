"""The test-page generator (fast: small pages; skips when no CJK font is installed)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PIL")
pytest.importorskip("cv2")

from lantai.errors import ConfigError, MissingDependency
from testkit import ocr_pages as testpages


@pytest.fixture(scope="module")
def font() -> Path:
    try:
        return testpages.find_cjk_font()
    except MissingDependency as exc:
        pytest.skip(str(exc))


def test_source_text_comes_from_the_demo_archive() -> None:
    sentences = testpages.source_sentences()
    assert len(sentences) > 50
    assert all("{" not in s for s in sentences)


@pytest.mark.parametrize("direction", testpages.DIRECTIONS)
def test_render_small_page_matches_its_truth(font: Path, direction: str) -> None:
    spec = testpages.PageSpec(direction, "traditional", "clean", seed=3, dpi=60, max_lines=4)
    page = testpages.render(spec, font)
    assert page.image.dtype.name == "uint8" and page.image.ndim == 2
    assert len(page.lines) == 4
    # traditional script: no simplified-only forms of common characters
    text = page.text
    assert not any(ch in text for ch in "们这时为会")
    assert (page.image < 128).any()
    h, w = page.image.shape
    assert (h > w) if direction == "vertical" else (w > h)


def test_conditions_change_the_image_deterministically(font: Path) -> None:
    base = testpages.PageSpec("horizontal", "simplified", "clean", seed=1, dpi=60, max_lines=3)
    clean = testpages.render(base, font)
    again = testpages.render(base, font)
    assert (clean.image == again.image).all()
    for condition in ("blur", "noise", "rotation", "jpeg", "low-contrast", "degraded", "worn"):
        spec = testpages.PageSpec(
            "horizontal", "simplified", condition, seed=1, dpi=60, max_lines=3
        )
        degraded = testpages.render(spec, font)
        assert degraded.text == clean.text
        assert not (degraded.image == clean.image).all(), condition


def test_render_draws_on_the_texts_it_is_given(font: Path) -> None:
    spec = testpages.PageSpec("horizontal", "traditional", "clean", seed=1, dpi=60, max_lines=3)
    texts = ["中华人民共和国档案法第十九条规定", "国家档案馆保管的档案一般应当自形成之日起满"]
    page = testpages.render(spec, font, texts)
    converted = "".join(testpages._convert(t, "traditional") for t in texts)
    allowed = set("".join(texts)) | set(converted)
    assert page.text.replace("\n", "") and set(page.text.replace("\n", "")) <= allowed
    assert "檔案" in page.text  # converted to the spec's script


def test_write_and_bad_spec(font: Path, tmp_path: Path) -> None:
    spec = testpages.PageSpec("vertical", "simplified", "jpeg", seed=2, dpi=60, max_lines=2)
    path = testpages.write(testpages.render(spec, font), tmp_path, "p")
    assert path.suffix == ".jpg" and (tmp_path / "p.gt.txt").read_text("utf-8").strip()
    with pytest.raises(ConfigError, match="direction"):
        testpages.PageSpec(direction="diagonal")


def test_newspaper_page_has_articles_in_reading_order() -> None:
    import pytest

    from lantai.errors import MissingDependency
    from testkit.ocr_newspaper import NewspaperSpec, render_newspaper

    try:
        page = render_newspaper(NewspaperSpec(seed=2))
    except MissingDependency as exc:
        pytest.skip(str(exc))
    assert page.articles[0].kind == "masthead"
    articles = [a for a in page.articles if a.kind == "article"]
    assert len(articles) >= 3 and all(a.heading and a.columns for a in articles)
    assert page.image.shape == (round(8.5 * 150), 11 * 150)
    assert page.image.min() == 0 and page.image.max() == 255
