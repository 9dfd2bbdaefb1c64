"""The character language model that rescores the recogniser's unsure characters."""

from __future__ import annotations

import math

import numpy as np
import pytest

from lantai.ocr import lm

CHARSET = ["", "中", "华", "人", "民", "共", "和", "国", "张", "飛", "機", "過", "通", "，", " "]


def _probs(rows: list[dict[str, float]]) -> object:
    """One timestep per dict (char -> probability); blanks in between, as CTC emits them."""
    steps = []
    for row in rows:
        step = np.full(len(CHARSET), 1e-6, np.float32)
        for ch, p in row.items():
            step[CHARSET.index(ch)] = p
        step[0] = max(0.0, 1 - step.sum())
        steps.append(step)
        blank = np.full(len(CHARSET), 1e-6, np.float32)
        blank[0] = 1.0
        steps.append(blank)
    return np.stack(steps)


@pytest.fixture(scope="module")
def model() -> lm.BigramModel:
    built = lm.jieba_model()
    # jieba is a core dependency: a model that cannot be built is a failure, not a skip
    assert built is not None, "jieba's dict.txt was not found beside the jieba package"
    return built


def test_conditional_probabilities_sum_to_one(model: lm.BigramModel) -> None:
    vocab = list(model.unigram)
    for prev in ("中", "人", "飞"):
        total = sum(math.exp(model.logp(prev, ch)) for ch in vocab)
        # the unseen-character floor carries the little that is left
        assert total == pytest.approx(1.0, abs=0.01)


def test_words_score_above_chance_pairs(model: lm.BigramModel) -> None:
    assert model.logp("中", "国") > model.logp("中", "飞") + 3
    assert model.logp("飞", "机") > model.logp("张", "机")
    assert model.logp("", "，") == lm.NEUTRAL_LOGP  # punctuation is not the model's business


def test_unsure_character_is_decided_by_its_neighbours(model: lm.BigramModel) -> None:
    # the recogniser prefers 张 (0.45) over 飛 (0.40) between 人民 … 機: the word 飛機 wins
    probs = _probs(
        [{"人": 0.97}, {"民": 0.97}, {"张": 0.45, "飛": 0.40}, {"機": 0.95}, {"過": 0.96}]
    )
    settings = lm.RescoreSettings(weight=0.6)
    text, confs = lm.rescore(probs, CHARSET, model, lm.Folder(), settings)
    assert text == "人民飛機過"
    assert confs[2] == pytest.approx(0.40, abs=1e-3)
    greedy, _ = lm.rescore(probs, CHARSET, model, lm.Folder(), lm.RescoreSettings(weight=0.0))
    assert greedy == "人民张機過"


def test_sure_characters_are_never_changed(model: lm.BigramModel) -> None:
    # 张 read at 0.95 stays, however well 飛 would fit
    probs = _probs([{"张": 0.95, "飛": 0.04}, {"機": 0.97}])
    text, _ = lm.rescore(probs, CHARSET, model, lm.Folder(), lm.RescoreSettings(weight=5.0))
    assert text == "张機"


def test_repeated_frames_are_one_character_and_empty_lines_stay_empty(
    model: lm.BigramModel,
) -> None:
    step = np.full(len(CHARSET), 1e-6, np.float32)
    step[CHARSET.index("国")] = 0.99
    probs = np.stack([step, step, step])
    assert lm.rescore(probs, CHARSET, model, lm.Folder(), lm.RescoreSettings())[0] == "国"
    blank = np.zeros((4, len(CHARSET)), np.float32)
    blank[:, 0] = 1.0
    assert lm.rescore(blank, CHARSET, model, lm.Folder(), lm.RescoreSettings()) == ("", [])


def test_built_model_is_cached_and_a_broken_cache_is_rebuilt(
    model: lm.BigramModel, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    cache = Path(str(tmp_path))
    monkeypatch.setattr(lm, "CACHE_DIR", cache)
    lm.jieba_model.cache_clear()
    try:
        built = lm.jieba_model()
        files = list(cache.glob("charlm-*.marshal"))
        assert len(files) == 1 and built == model
        lm.jieba_model.cache_clear()
        assert lm.jieba_model() == model  # loaded from the file
        files[0].write_bytes(b"not a model")
        lm.jieba_model.cache_clear()
        assert lm.jieba_model() == model
        assert files[0].stat().st_size > 1000  # rewritten
    finally:
        lm.jieba_model.cache_clear()
