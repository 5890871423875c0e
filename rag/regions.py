"""Find the Chinese administrative regions an article is about.

The gazetteer is the national adcode table (province / city / county, 3.5k
entries) shipped by the PyPI package ``cpca``; it is read as data (the CSV),
without importing ``cpca`` itself. Names are matched with an Aho-Corasick
automaton, longest match first, by full name and by the short forms people
write ("乐山" for 乐山市, "四川" for 四川省; counties only by full name). Ambiguous
names are resolved by the other regions the same text mentions, and dropped
when that does not decide. Results are normalized full paths such as
``四川省乐山市``.

Used by ingest (article metadata) and by retrieval (normalizing a region
filter such as "四川"; ``named_place`` for the one place a question names,
``article_place`` for the one place an article is about). Deliberately not
here: towns, streets, development zones (高新区、经开区), which the table does
not contain.
"""

from __future__ import annotations

import csv
import importlib.util
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick

_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")
_CITY_SUFFIXES = ("自治州", "地区", "市", "盟")
_PLACEHOLDERS = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
# Short forms that are everyday words far more often than places in this genre.
_AMBIGUOUS_SHORT = {"中山", "白山", "黄山", "朝阳", "吉林", "通化", "抚顺", "和平", "新城", "城关",
                    "江北", "江南", "河东", "河西", "城中", "城北", "城南", "城东", "城西", "开平", "永安"}


def _strip_nationalities(name: str) -> str:
    """凉山彝族 -> 凉山, 黔东南苗族侗族 -> 黔东南 (names from cpca's nations table)."""
    changed = True
    while changed:
        changed = False
        for nation in _nations():
            if name.endswith(nation) and len(name) > len(nation):
                name, changed = name[: -len(nation)], True
    return name


@lru_cache(maxsize=1)
def _nations() -> tuple[str, ...]:
    text = (gazetteer_csv().parent / "56_nations.csv").read_text("utf-8")
    names = {n.strip() for n in text.replace(",", "\n").splitlines() if n.strip().endswith("族")}
    return tuple(sorted(names | {n[:-1] for n in names if len(n) > 2}, key=len, reverse=True))


@dataclass(frozen=True)
class Region:
    code: str  # 6-digit adcode
    name: str
    level: int  # 0 province, 1 city, 2 county

    @property
    def parent_codes(self) -> tuple[str, ...]:
        return tuple(c for c in (self.code[:2] + "0000", self.code[:4] + "00") if c != self.code)[
            : self.level
        ]


def gazetteer_csv() -> Path:
    """Path of cpca's adcode table, located without executing the package."""
    spec = importlib.util.find_spec("cpca")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("cpca package (gazetteer data) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "adcodes.csv"


class Gazetteer:
    """The adcode table and a name matcher over it."""

    def __init__(self, rows: list[tuple[str, str]]) -> None:
        self.by_code: dict[str, Region] = {}
        for adcode, name in rows:
            code = adcode[:6]
            if name in _PLACEHOLDERS:
                continue
            level = 0 if code.endswith("0000") else 1 if code.endswith("00") else 2
            self.by_code[code] = Region(code, name, level)
        self.automaton = ahocorasick.Automaton()
        names: dict[str, set[str]] = {}
        for region in self.by_code.values():
            for alias in self._aliases(region):
                names.setdefault(alias, set()).add(region.code)
        for alias, codes in names.items():
            self.automaton.add_word(alias, (alias, tuple(sorted(codes))))
        self.automaton.make_automaton()
        self.by_full_name = {self.full_name(c): c for c in self.by_code}

    @staticmethod
    def _aliases(region: Region) -> set[str]:
        aliases = {region.name}
        if region.level == 2:
            return aliases  # short county names (合作市 -> 合作) are everyday words
        suffixes = _PROVINCE_SUFFIXES if region.level == 0 else _CITY_SUFFIXES
        for suffix in suffixes:
            if region.name.endswith(suffix) and len(region.name) - len(suffix) >= 2:
                short = _strip_nationalities(region.name[: -len(suffix)])
                if len(short) >= 2 and short not in _AMBIGUOUS_SHORT:
                    aliases.add(short)
                break
        return aliases

    def full_name(self, code: str) -> str:
        region = self.by_code[code]
        parts = [self.by_code[c].name for c in region.parent_codes if c in self.by_code]
        return "".join([*parts, region.name])

    def mentions(self, text: str) -> list[tuple[int, str, tuple[str, ...]]]:
        """Non-overlapping (position, alias, candidate codes), longest match first."""
        found = sorted(
            ((end - len(alias) + 1, end + 1, alias, codes)
             for end, (alias, codes) in self.automaton.iter(text)),
            key=lambda m: (m[0], -(m[1] - m[0])),
        )
        result, covered_to = [], 0
        for start, end, alias, codes in found:
            if start >= covered_to:
                result.append((start, alias, codes))
                covered_to = end
        return result

    def find(self, text: str, limit: int = 8) -> tuple[str, ...]:
        """Regions ``text`` is about, most-mentioned first, as normalized full paths."""
        mentions = self.mentions(text)
        unambiguous = {codes[0] for _, _, codes in mentions if len(codes) == 1}
        context = unambiguous | {p for c in unambiguous for p in self.by_code[c].parent_codes}
        counts: Counter[str] = Counter()
        first: dict[str, int] = {}
        for pos, _, codes in mentions:
            chosen = codes[0] if len(codes) == 1 else self._resolve(codes, context)
            if chosen:
                counts[chosen] += 1
                first.setdefault(chosen, pos)
        for code in [c for c in counts if self.by_code[c].level == 2 and counts[c] < 2]:
            parent = next((p for p in reversed(self.by_code[code].parent_codes) if p in self.by_code), None)
            if parent:  # a county named once counts toward its city
                counts[parent] += counts.pop(code)
                first[parent] = min(first.get(parent, first[code]), first[code])
        ranked = sorted(counts, key=lambda c: (-counts[c], first[c]))
        # Drop a region when a more specific one inside it is also listed.
        ancestors = {p for c in ranked for p in self.by_code[c].parent_codes}
        return tuple(self.full_name(c) for c in ranked if c not in ancestors)[:limit]

    def places(self, text: str) -> list[tuple[str, str]]:
        """(alias as written, full path) of every place ``text`` names, in order."""
        mentions = self.mentions(text)
        unambiguous = {codes[0] for _, _, codes in mentions if len(codes) == 1}
        context = unambiguous | {p for c in unambiguous for p in self.by_code[c].parent_codes}
        out = []
        for _, alias, codes in mentions:
            code = codes[0] if len(codes) == 1 else self._resolve(codes, context)
            if code is not None:
                out.append((alias, self.full_name(code)))
        return out

    def tags(self, full_names: tuple[str, ...] | list[str]) -> list[str]:
        """Each region with all its ancestors, for filtering (四川省乐山市 -> 四川省 too)."""
        out: list[str] = []
        for name in full_names:
            code = self.by_full_name.get(name)
            if code is None:
                continue
            for c in (*self.by_code[code].parent_codes, code):
                if c in self.by_code and self.full_name(c) not in out:
                    out.append(self.full_name(c))
        return out

    def _resolve(self, codes: tuple[str, ...], context: set[str]) -> str | None:
        in_context = [c for c in codes if set(self.by_code[c].parent_codes) & context]
        if len(in_context) == 1:
            return in_context[0]
        top = [c for c in codes if self.by_code[c].level == min(self.by_code[x].level for x in codes)]
        return top[0] if len(top) == 1 and self.by_code[top[0]].level < 2 else None

    def normalize(self, name: str) -> str | None:
        """Full path of a region a user typed ("四川", "乐山市", "四川省乐山市"), or None."""
        name = name.strip()
        if name in self.by_full_name:
            return name
        mentions = self.mentions(name)
        if len(mentions) != 1:
            found = self.find(name)  # "江西上饶": a province and a city inside it
            return found[0] if len(mentions) > 1 and len(found) == 1 else None
        codes = mentions[0][2]
        code = codes[0] if len(codes) == 1 else self._resolve(codes, set())
        return self.full_name(code) if code else None


@lru_cache(maxsize=1)
def load_gazetteer() -> Gazetteer:
    with gazetteer_csv().open(encoding="utf-8") as fh:
        rows = [(r["adcode"], r["name"]) for r in csv.DictReader(fh)]
    return Gazetteer(rows)


def deepest(names: Sequence[str]) -> list[str]:
    """The full names not contained in another one (四川省乐山市 over 四川省), in order."""
    return [n for n in names if not any(o != n and o.startswith(n) for o in names)]


def named_place(text: str) -> str | None:
    """Full name of the one place ``text`` names, the deepest of a chain ("四川省乐山市" → 乐山市), else None."""
    found = deepest(list(dict.fromkeys(full for _, full in load_gazetteer().places(text))))
    return found[0] if len(found) == 1 else None


@lru_cache(maxsize=4096)
def article_place(title: str, regions: tuple[str, ...]) -> str | None:
    """The one place an article is about: the one its title names, else its only region, else None."""
    return named_place(title) or (regions[0] if len(regions) == 1 else None)
