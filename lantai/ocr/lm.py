"""A character language model for the recogniser's uncertain characters.

The CTC recogniser reads each character on its own; on worn, faint letterpress it often hesitates
between a few shapes (飛/张, 過/通/递), and the right one is frequently its second or third guess.
The language decides: :func:`rescore` keeps the greedy reading's segmentation (where characters
are, how many) and, at the positions where the recogniser was unsure, picks among its top guesses
the sequence that maximises ``log p_ocr + weight · log p_lm`` (Viterbi over a character bigram
model). Confident characters are never touched, so clean pages come out exactly as before.

The model is built from jieba's dictionary (installed with the indexer; nothing downloaded): each
word adds its frequency to the counts of the character pairs inside it. Candidates are folded to
simplified script before scoring, so traditional pages use the same statistics. Pairs across word
boundaries are unseen and fall back to the characters' own frequencies (interpolated smoothing).
"""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import marshal
import math
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from lantai.ocr.metrics import is_han

#: log-probability given to characters the model cannot score (punctuation, digits, Latin):
#: about that of a common Han character, so the model neither favours nor shuns them
NEUTRAL_LOGP = math.log(1e-4)


@dataclass(frozen=True)
class BigramModel:
    """Character unigram and bigram log-probabilities over simplified script."""

    unigram: dict[str, float]
    bigram: dict[str, float]  # "ab" -> log P(b | a), only for seen pairs
    backoff: dict[str, float]  # a -> log of the mass P(· | a) leaves to the unigram
    floor: float  # log P of a Han character never seen

    def logp(self, prev: str, ch: str) -> float:
        """log P(ch | prev) for simplified ``prev`` and ``ch``; ``prev`` may be ""."""
        if not is_han(ch):
            return NEUTRAL_LOGP
        uni = self.unigram.get(ch, self.floor)
        if not prev or not is_han(prev):
            return uni
        seen = self.bigram.get(prev + ch)
        return seen if seen is not None else self.backoff.get(prev, 0.0) + uni


#: jieba entries below this frequency are mostly noise (names, rare compounds)
MIN_WORD_FREQ = 3
#: Dirichlet prior (pseudo-count) for the bigram model's fall back to the unigram
PRIOR = 2000.0


#: bump when the model's construction changes, so cached copies are rebuilt
MODEL_VERSION = 1
CACHE_DIR = Path("~/.cache/lantai")


@lru_cache(maxsize=1)
def jieba_model() -> BigramModel | None:
    """The bigram model of jieba's dictionary, or ``None`` when jieba is not installed.

    Building it takes ~1.7 s, which every OCR worker process would pay; the built model is
    kept in ``~/.cache/lantai`` (keyed by the dictionary file's size and time, and by this
    module's settings) and loads in a fraction of that. A cache that cannot be read or
    written is simply rebuilt or skipped.
    """
    path = jieba_dictionary()
    if path is None:
        return None
    stat = path.stat()
    key = f"{MODEL_VERSION}|{path}|{stat.st_size}|{stat.st_mtime_ns}|{MIN_WORD_FREQ}|{PRIOR}"
    digest = hashlib.blake2b(key.encode(), digest_size=8).hexdigest()
    cached = CACHE_DIR.expanduser() / f"charlm-{digest}.marshal"
    try:
        unigram, bigram, backoff, floor = marshal.loads(cached.read_bytes())
        return BigramModel(unigram=unigram, bigram=bigram, backoff=backoff, floor=floor)
    except (OSError, ValueError, EOFError, TypeError):
        pass
    model = _build(path)
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(marshal.dumps((model.unigram, model.bigram, model.backoff, model.floor)))
        os.replace(tmp, cached)  # atomic: a concurrent reader sees the old file or the new
    except OSError:
        pass
    return model


def jieba_dictionary() -> Path | None:
    """jieba's ``dict.txt`` (word, frequency, part of speech per row), if jieba is installed."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "dict.txt"
    return path if path.is_file() else None


def dictionary_words(path: Path) -> Iterator[tuple[str, int]]:
    """(word, frequency) for every well-formed row of a jieba dictionary file."""
    with path.open(encoding="utf-8") as handle:
        for row in handle:
            parts = row.split(" ")
            if len(parts) >= 2 and parts[1].isdigit():
                yield parts[0], int(parts[1])


def _build(path: Path) -> BigramModel:
    uni: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    final: Counter[str] = Counter()
    for word, freq in dictionary_words(path):
        if freq < MIN_WORD_FREQ or not all(is_han(ch) for ch in word):
            continue
        for ch in word:
            uni[ch] += freq
        for a, b in itertools.pairwise(word):
            pairs[a + b] += freq
        final[word[-1]] += freq
    total = sum(uni.values())
    vocab = len(uni) + 1
    unigram = {ch: math.log((n + 1) / (total + vocab)) for ch, n in uni.items()}
    floor = math.log(1 / (total + vocab))
    # P(b|a) = (pairs[ab] + (final[a] + PRIOR) * P(b)) / (uni[a] + PRIOR): sums to one over b
    backoff = {a: math.log((final[a] + PRIOR) / (n + PRIOR)) for a, n in uni.items()}
    bigram = {}
    for ab, n in pairs.items():
        a, b = ab[0], ab[1]
        pb = math.exp(unigram[b])
        bigram[ab] = math.log((n + (final[a] + PRIOR) * pb) / (uni[a] + PRIOR))
    return BigramModel(unigram=unigram, bigram=bigram, backoff=backoff, floor=floor)


@lru_cache(maxsize=1)
def t2s() -> Any:
    """OpenCC's traditional → simplified converter, loaded once per process."""
    import opencc

    return opencc.OpenCC("t2s")


class Folder:
    """Single characters to simplified script, memoised (OpenCC works on strings)."""

    def __init__(self) -> None:
        self._cache: dict[str, str] = {}

    def __call__(self, ch: str) -> str:
        out = self._cache.get(ch)
        if out is None:
            folded = str(t2s().convert(ch)) if is_han(ch) else ch
            out = folded if len(folded) == 1 else ch
            self._cache[ch] = out
        return out


@dataclass(frozen=True)
class RescoreSettings:
    """How far the language model may overrule the recogniser."""

    weight: float = 0.6  # LM weight against the recogniser's log-probability (run_lm.py)
    sure: float = 0.9  # a character read with at least this probability is kept as is
    top: int = 5  # guesses considered at an unsure position
    min_prob: float = 0.02  # guesses below this probability are not considered


def rescore(
    probs: Any,
    charset: list[str],
    model: BigramModel,
    fold: Folder,
    settings: RescoreSettings,
) -> tuple[str, list[float]]:
    """Decode one line's CTC output (T × classes, softmax; class 0 blank).

    Returns the text and, per character, the recogniser's probability of the character chosen.
    """
    import numpy as np

    best = probs.argmax(axis=1)
    # runs of the same non-blank class are one character (greedy CTC segmentation)
    spans: list[tuple[int, int, int]] = []
    prev = -1
    for t, k in enumerate(best.tolist()):
        if k != prev and k != 0:
            spans.append((k, t, t + 1))
        elif k == prev and k != 0:
            k0, t0, _ = spans[-1]
            spans[-1] = (k0, t0, t + 1)
        prev = k
    size = len(charset)
    # candidates per position: (character, log p_ocr, p_ocr)
    positions: list[list[tuple[str, float, float]]] = []
    for k, t0, t1 in spans:
        window = probs[t0:t1].max(axis=0)
        top_p = float(window[k])
        char = charset[k] if k < size else ""
        if top_p >= settings.sure:
            positions.append([(char, math.log(max(top_p, 1e-9)), top_p)])
            continue
        order = np.argsort(-window)[: settings.top + 1]
        cands = []
        for j in order.tolist():
            p = float(window[j])
            if j == 0 or j >= size or p < settings.min_prob:
                continue
            cands.append((charset[j], math.log(p), p))
        if not any(c == char for c, _, _ in cands):
            cands.insert(0, (char, math.log(max(top_p, 1e-9)), top_p))
        positions.append(cands)
    if not positions:
        return "", []
    if all(len(c) == 1 for c in positions):
        return "".join(c[0][0] for c in positions), [c[0][2] for c in positions]
    w = settings.weight
    # Viterbi over positions; state = candidate index
    prev_scores = [lp + w * model.logp("", fold(c)) for c, lp, _ in positions[0]]
    back: list[list[int]] = []
    for i in range(1, len(positions)):
        cur = positions[i]
        last = positions[i - 1]
        scores = []
        pointers = []
        for c, lp, _ in cur:
            fc = fold(c)
            best_j, best_s = 0, -math.inf
            for j, (pc, _, _) in enumerate(last):
                s = prev_scores[j] + w * model.logp(fold(pc), fc)
                if s > best_s:
                    best_j, best_s = j, s
            scores.append(best_s + lp)
            pointers.append(best_j)
        back.append(pointers)
        prev_scores = scores
    j = max(range(len(prev_scores)), key=prev_scores.__getitem__)
    chosen = [j]
    for pointers in reversed(back):
        j = pointers[j]
        chosen.append(j)
    chosen.reverse()
    picked = [positions[i][j] for i, j in enumerate(chosen)]
    return "".join(c for c, _, _ in picked), [p for _, _, p in picked]
