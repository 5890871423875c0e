"""Keyword retrieval: BM25 (``bm25s``) over jieba tokens, derived from the manifest.

Tokenization uses a private ``jieba.Tokenizer`` with the project's 党建 user
dictionary (两个覆盖, 三会一课, 党建指导员 … stay whole) in search mode, drops
punctuation and a short list of function words. The index is rebuilt from the
manifest's stored tokens when the manifest's generation moved on, saved under
the data folder, and reloaded from there by later processes.

The stored tokens of a chunk are its article's title and its own text (made at
ingest). The index adds the place the article is about (the one its title names, else
its only region: ``place_tokens``), so a chunk that says "安商办受理企业问题诉求共204个" in an
article about 上饶 whose title names no place is found by a question about
上饶经开区. Inverse document frequencies (``idf``) count the stored tokens only.

Deliberately not here: dense search or score fusion.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import threading
from collections import Counter
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from rag.manifest import Manifest
from rag.regions import article_place

_WORD = re.compile(r"[\w\u4e00-\u9fff]", re.UNICODE)
_STOPWORDS = frozenset(
    "的 了 和 与 及 是 在 对 把 被 让 将 也 都 又 就 而 并 等 着 过 之 其 这 那 有 为 以 于 从 到 由 向 "
    "一个 我们 他们 你们 什么 怎么 怎样 如何 哪些 哪里 多少 是否 吗 呢 啊 吧 中 上 下".split()
)


_LATIN_DIGIT = re.compile(r"[A-Za-z][-\s]?\d|\d[A-Za-z]")
_JOINED = re.compile(r"([a-z]+)(\d+)")  # one jieba token: "gpt4", "c919", "nba2021"
_APART = re.compile(r"(?<![A-Za-z])([A-Za-z]+)[-\s](\d+)(?![\d.])")  # "GPT-4", "iPhone 14"


@lru_cache(maxsize=1)
def _tokenizer() -> Any:
    import jieba

    logging.getLogger("jieba").setLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    dictionary = resources.files("rag") / "data" / "dangjian_userdict.txt"
    with resources.as_file(dictionary) as path, path.open("rb") as fh:
        tokenizer.load_userdict(fh)  # given a path, jieba leaves the file open
    return tokenizer


def words(text: str) -> list[str]:
    """The words of ``text`` in jieba's precise mode (no overlapping sub-words), with the 党建 dictionary."""
    return [w for w in _tokenizer().cut(text) if w.strip()]


def tokenize(text: str) -> list[str]:
    """Search-mode jieba tokens of ``text``, lowercased, without punctuation or stopwords; a name of
    Latin letters and digits also in its other spellings (``latin_number_variants``)."""
    tokens = [t.lower() for t in _tokenizer().cut_for_search(text)
              if _WORD.search(t) and t not in _STOPWORDS and not t.isspace()]
    return tokens + latin_number_variants(text, tokens) if _LATIN_DIGIT.search(text) else tokens


def latin_number_variants(text: str, tokens: list[str]) -> list[str]:
    """"GPT4" is also "gpt" + "4", and "GPT-4" or "iPhone 14" also "gpt4" / "iphone14": the other
    spelling of a name finds the same chunks (search mode gives a long word's parts the same way)."""
    pieces = [p for t in tokens if (m := _JOINED.fullmatch(t)) for p in m.groups()]
    joined = [(m.group(1) + m.group(2)).lower() for m in _APART.finditer(text)]
    return pieces + joined


_FORMAT = 2  # 2: stored tokens + the article's place, document frequencies of the stored tokens


def place_tokens(title: str, regions: tuple[str, ...]) -> frozenset[str]:
    """Words every chunk of an article is also found by: its place's (``rag.regions.article_place``)."""
    place = article_place(title, regions)
    return frozenset(tokenize(place)) if place else frozenset()


class KeywordIndex:
    """A BM25 index over every chunk in a manifest, kept in step with it."""

    def __init__(self, manifest: Manifest, folder: Path) -> None:
        self.manifest = manifest
        self.folder = folder
        self._lock = threading.Lock()
        self._generation = -1
        self._bm25: Any = None
        self._ids: list[str] = []
        self._code_of: dict[str, int] = {}  # source name → small integer
        self._codes: np.ndarray = np.zeros(0, dtype=np.int32)  # per chunk, its source's code
        self._df: dict[str, int] = {}  # token → how many chunks' stored tokens hold it

    def refresh(self) -> None:
        """Bring the index up to the manifest now (after an ingest) rather than at the next search."""
        self._ensure()

    def ids(self) -> list[str]:
        """Chunk ids in the index, in index order (as of the last refresh)."""
        return list(self._ids)

    def _ensure(self) -> None:
        generation = self.manifest.generation
        if generation == self._generation:
            return
        with self._lock:
            if generation == self._generation:
                return
            if not self._load(generation):
                self._build(generation)
            self._generation = generation

    def _load(self, generation: int) -> bool:
        import bm25s

        info_path = self.folder / "info.json"
        try:
            info = json.loads(info_path.read_text("utf-8"))
        except (OSError, ValueError):
            return False
        if info.get("generation") != generation or info.get("format") != _FORMAT:
            return False
        if info["ids"]:
            try:
                bm25 = bm25s.BM25.load(str(self.folder / "index"), mmap=False)
            except Exception:  # damaged or truncated files: rebuild from the manifest
                return False
            if bm25.scores.get("num_docs") != len(info["ids"]):
                return False
            bm25.backend = _backend(len(info["ids"]))
            self._bm25 = bm25
        else:
            self._bm25 = None
        self._set_rows(info["ids"], info["sources"], info["df"])
        return True

    def verify(self, chunk_ids: set[str], repair: bool) -> str:
        """'' when the saved index holds exactly ``chunk_ids`` (the manifest's), else the problem.

        With ``repair`` a wrong index is rebuilt from the manifest.
        """
        generation = self.manifest.generation
        with self._lock:
            problem = ""
            if not self._load(generation):
                problem = "索引文件缺失、损坏或已过期"
            elif sorted(self._ids) != sorted(chunk_ids):
                problem = "索引中的片段与清单不一致"
            if problem and repair:
                self._build(generation)
            self._generation = generation if not problem or repair else -1
            return problem

    def _build(self, generation: int) -> None:
        import bm25s

        places = {info.source: place_tokens(info.title, info.regions) for info in self.manifest.sources()}
        ids, sources, corpus = [], [], []
        df: Counter[str] = Counter()
        for chunk_id, source, tokens in self.manifest.iter_tokens():
            ids.append(chunk_id)
            sources.append(source)
            own = set(tokens)
            df.update(own)
            corpus.append(tokens + sorted(places.get(source, set()) - own) or [""])
        bm25 = None
        tmp = self.folder.with_name(self.folder.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if ids:
            bm25 = bm25s.BM25(backend=_backend(len(ids)))
            bm25.index(corpus, show_progress=False)
            bm25.save(str(tmp / "index"))
        info = {"format": _FORMAT, "generation": generation, "ids": ids, "sources": sources, "df": dict(df)}
        (tmp / "info.json").write_text(json.dumps(info, ensure_ascii=False), "utf-8")
        shutil.rmtree(self.folder, ignore_errors=True)
        tmp.rename(self.folder)
        self._bm25 = bm25
        self._set_rows(ids, sources, df)

    def _set_rows(self, ids: list[str], sources: list[str], df: dict[str, int]) -> None:
        self._ids = ids
        self._df = dict(df)
        self._code_of = {name: i for i, name in enumerate(dict.fromkeys(sources))}
        self._codes = np.fromiter((self._code_of[s] for s in sources), dtype=np.int32, count=len(sources))

    def search(self, query: str, k: int, allowed_sources: set[str] | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best chunks, optionally only from ``allowed_sources``."""
        self._ensure()
        tokens = [t for t in tokenize(query) if self._bm25 is not None and t in self._bm25.vocab_dict]
        if not tokens or not self._ids:
            return []
        mask = None
        if allowed_sources is not None:
            allowed = np.zeros(len(self._code_of), dtype=np.float32)  # a lookup, not a string isin
            allowed[[self._code_of[s] for s in allowed_sources if s in self._code_of]] = 1.0
            mask = allowed[self._codes]
            if not mask.any():
                return []
        n = min(k, len(self._ids))
        docs, scores = self._bm25.retrieve([tokens], k=n, show_progress=False, weight_mask=mask,
                                           n_threads=1)
        return [(self._ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def idf(self, tokens: list[str]) -> dict[str, float]:
        """Inverse document frequency (over chunks' stored tokens) of each token; unseen tokens get the maximum."""
        self._ensure()
        n = len(self._ids)
        return {token: math.log(1.0 + (n - self._df.get(token, 0) + 0.5) / (self._df.get(token, 0) + 0.5))
                for token in tokens}


_NUMBA_MIN_CHUNKS = 20_000  # below this numpy answers in ms; numba's JIT costs seconds per process


def _backend(chunks: int) -> str:
    if chunks < _NUMBA_MIN_CHUNKS:
        return "numpy"
    try:
        import numba  # noqa: F401
    except ImportError:
        return "numpy"
    return "numba"
