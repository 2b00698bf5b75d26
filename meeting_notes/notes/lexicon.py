"""Word lists the notes' rules read, built from maintained dictionaries rather than written by
hand (``data/README.md`` says where each comes from and how to rebuild it)."""

from __future__ import annotations

import gzip
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


@lru_cache(maxsize=1)
def common_katakana() -> frozenset[str]:
    """The katakana words a Japanese dictionary (naist-jdic) knows as common nouns: ``エリア``,
    ``ポンプ``, ``キャンペーン``; not ``ジョブカン`` or ``スマレジ``, which it does not know."""
    path = DATA / "katakana_common.txt.gz"
    try:
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
    except FileNotFoundError as exc:  # a broken install, not a user's mistake
        raise RuntimeError(f"{path} is missing: reinstall meeting-notes (or run scripts/build_katakana_lexicon.py)") from exc
    return frozenset(text.split())


def is_common_katakana(word: str) -> bool:
    """Whether ``word`` (all katakana, as said) is a common noun, not a product or company name."""
    return word in common_katakana()
