"""Build ``meeting_notes/notes/data/katakana_common.txt.gz``: the katakana words a Japanese
dictionary knows as common nouns (``エリア``, ``ポンプ``, ``キャンペーン``), so that the notes'
competitor finder does not offer them as product names.

The source is the MeCab system dictionary inside the ``pyopenjtalk-plus`` wheel (naist-jdic with
additions from UniDic-CSJ; BSD-3-Clause, its COPYING is copied next to the list). The dictionary's
feature strings are NUL-terminated CSV rows (``名詞,一般,*,*,*,*,エリア,エリア,エリア,1/3,C1``);
a word is kept when it is all katakana and at least one of its entries is a noun that is not a
proper noun or pronoun. Product and company names the dictionary does not know (``ジョブカン``,
``スマレジ``, ``テルネクスト``) are not in it, nor are those it knows as proper nouns (``サイボウズ``,
``ミツワ``).

Run with the benchmark requirements installed (``pip install --no-deps pyopenjtalk-plus==0.4.1.post10``,
see ``benchmarks/requirements-tts-nodeps.txt``)::

    python scripts/build_katakana_lexicon.py
"""

from __future__ import annotations

import gzip
import importlib.util
import re
import shutil
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "meeting_notes" / "notes" / "data"
_KATAKANA = re.compile(r"[ァ-ヺー・]+")


def common_katakana(sys_dic: bytes) -> list[str]:
    """The all-katakana words with a common-noun entry in a MeCab ``sys.dic``."""
    kinds: dict[str, set[str]] = {}
    for raw in sys_dic.split(b"\0"):
        if b"," not in raw:
            continue
        try:
            fields = raw.decode("utf-8").split(",")
        except UnicodeDecodeError:
            continue
        if len(fields) < 8 or fields[0] != "名詞" or not _KATAKANA.fullmatch(fields[6]):
            continue
        kinds.setdefault(fields[6], set()).add(fields[1])
    return sorted(w for w, k in kinds.items() if k - {"固有名詞", "代名詞"})


def main() -> int:
    spec = importlib.util.find_spec("pyopenjtalk")
    if spec is None or not spec.submodule_search_locations:
        print("pyopenjtalk-plus is not installed (pip install --no-deps pyopenjtalk-plus==0.4.1.post10)", file=sys.stderr)
        return 1
    folder = Path(next(iter(spec.submodule_search_locations))) / "dictionary"
    words = common_katakana((folder / "sys.dic").read_bytes())
    OUT.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same dictionary gives the same bytes.
    with gzip.GzipFile(OUT / "katakana_common.txt.gz", "wb", compresslevel=9, mtime=0) as f:
        f.write(("\n".join(words) + "\n").encode("utf-8"))
    shutil.copyfile(folder / "COPYING", OUT / "NAIST-JDIC-COPYING")
    print(f"{len(words)} words -> {OUT / 'katakana_common.txt.gz'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
