"""Japanese entities: the hand-written rules against GiNZA, on both development sets.

Compares, on the Japanese meetings (``ja_*``) of ``benchmarks/notes_eval/`` ("original") and
``benchmarks/notes_eval/extra/`` ("extra"), without any LLM call:

1. Account: the rules' fallback :func:`meeting_notes.notes.passes.people._japanese_company` against a
   GiNZA finder (the most-named company-like entity that is not the seller), once with the
   seller company given (from gold ``not_account``) and once with no seller (each method then
   only knows the companies named in lines that say 弊社/私ども/当社/と申します, the rule's own
   test, given to both).
2. Competitor candidates: :func:`meeting_notes.notes.prefilter.candidate_names` over the
   segments near competitor cues (as ``competitors_pass`` builds the list, without the model)
   against GiNZA's company/product entities in the same segments; same exclusions (gold
   participants, seller, account), same cap and integration filter. Recall of the gold
   ``fields.competitors``, and noise (``not_competitors`` and other words).
3. Participants from self-introductions: :func:`meeting_notes.introductions.introductions_in` against
   GiNZA Person + company entities in each speaker's first lines; and two hybrids: the rule
   with the line's GiNZA Person names (or SudachiPy's 人名 tokens, GiNZA's tokenizer alone) as
   its known names, so that 「Xです」 also takes a surname missing from introductions.JA_SURNAMES.
4. Cost: load time, ms per segment, installed size of the GiNZA stack.

"GiNZA" is the plain entity labels; "GiNZA+" also takes a Person entity written without kanji
(katakana or latin, e.g. 「アグリーテックさん」, 「ANDPADさん」, which GiNZA labels Person) as a
company name: GiNZA's best chance, helped by one rule.

Runs under a Python that has both the project's modules and GiNZA; GiNZA is kept out of the
project's environment for now, so::

    python3 -m venv /tmp/ginza-venv && /tmp/ginza-venv/bin/pip install ginza==5.3.0 ja-ginza==5.3.0
    /tmp/ginza-venv/bin/python benchmarks/ja_entities_eval.py [--details]

(the project's ``.venv`` site-packages are added after GiNZA's when the project's imports are
missing; ``openai`` is stubbed when absent, as no model is called).
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import json
import re
import sys
import time
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "notes_eval"
SETS = {"original": DATA, "extra": DATA / "extra"}
SET_ORDER = ("original", "extra", "pooled")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _import_project() -> None:
    try:
        import openai  # noqa: F401
    except ImportError:  # no model is called here
        sys.modules["openai"] = types.ModuleType("openai")
    try:
        import meeting_notes.notes.passes  # noqa: F401
    except ImportError:
        site = ROOT / ".venv" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        sys.path.append(str(site))
        import meeting_notes.notes.passes  # noqa: F401


_import_project()

from meeting_notes.introductions import introductions_in  # noqa: E402
from meeting_notes.notes import prefilter  # noqa: E402
from meeting_notes.notes.evidence import normalize  # noqa: E402
from meeting_notes.notes.passes.competitors import MAX_NAMES, _integration_only  # noqa: E402
from meeting_notes.notes.passes.people import INTRO_SEGMENTS, ROLE_WORDS, _japanese_company  # noqa: E402
from meeting_notes.notes.passes.words import _overlaps  # noqa: E402

# -- GiNZA ----------------------------------------------------------------------------------
#: GiNZA's ENE labels (Sekine's Extended Named Entity hierarchy) for companies and other bodies.
COMPANY_LABELS = frozenset(
    {"Company", "Company_Group", "Corporation_Other", "Organization_Other", "Public_Institution", "Research_Institute"}
)
#: ... and for products (a competitor is often a product name).
PRODUCT_LABELS = frozenset({"Product_Other"})
#: Labels that are never a vendor's name: numbers, times, measures, titles, positions.
NOT_NAME_LABELS = frozenset(
    "Money Money_Form Date Time Day_Of_Week Era Period_Day Period_Month Period_Time Period_Week Period_Year Periodx_Other "
    "Timex_Other Time_Top_Other Ordinal_Number Numex_Other Percent Frequency Age Measurement_Other Multiplication "
    "Physical_Extent Weight Volume Speed Temperature Intensity Calorie Point Rank School_Age Unit_Other Countx_Other "
    "N_Animal N_Country N_Event N_Facility N_Flora N_Location_Other N_Natural_Object_Other N_Organization N_Person N_Product "
    "Title_Other Position_Vocation Phone_Number Postal_Address Email URL ID_Number Latitude_Longtitude".split()
)
_HONORIFIC = re.compile(r"(?:さん|さま|様|御中|殿|ちゃん|くん|君)$")
_LEGAL = re.compile(
    r"^(?:株式会社|有限会社|合同会社|社会福祉法人|医療法人|一般社団法人|公益財団法人|\(株\)|（株）)\s*"
    r"|\s*(?:株式会社|有限会社|合同会社|\(株\)|（株）)$"
)
_KANJI = re.compile(r"[\u4e00-\u9fff\u3005]")


def clean_name(text: str) -> str:
    """An entity's text without spaces at the ends, an honorific or a legal form."""
    s = text.strip(" \u3000、。,.「」『』")
    prev = None
    while prev != s:
        prev = s
        s = _HONORIFIC.sub("", s).strip()
        s = _LEGAL.sub("", s).strip()
    return s


@dataclass(frozen=True)
class Ent:
    text: str  # cleaned
    label: str
    start: int  # character offset in the segment


class Ginza:
    """ja_ginza loaded once; each segment parsed once (cached), timed."""

    def __init__(self) -> None:
        t = time.perf_counter()
        import spacy

        self.nlp = spacy.load("ja_ginza")
        self.load_s = time.perf_counter() - t
        self.cache: dict[str, list[tuple[str, str, int]]] = {}
        self.parse_s = 0.0
        self.parsed = 0
        self.chars = 0

    def raw(self, text: str) -> list[tuple[str, str, int]]:
        if text not in self.cache:
            t = time.perf_counter()
            doc = self.nlp(text)
            self.parse_s += time.perf_counter() - t
            self.parsed += 1
            self.chars += len(text)
            self.cache[text] = [(e.text, e.label_, e.start_char) for e in doc.ents]
        return self.cache[text]

    def ents(self, text: str, plus: bool = False) -> list[Ent]:
        """Entities of ``text``; with ``plus`` a Person without kanji is relabelled Company."""
        out = []
        for raw, label, start in self.raw(text):
            if plus and label == "Person" and not _KANJI.search(raw) and len(clean_name(raw)) >= 3:
                label = "Company"
            name = clean_name(raw)
            if name:
                out.append(Ent(name, label, start))
        return out


class Sudachi:
    """SudachiPy with sudachidict-core alone (GiNZA's tokenizer, without spaCy): its dictionary
    tags surnames and given names (名詞,固有名詞,人名,...)."""

    def __init__(self) -> None:
        t = time.perf_counter()
        from sudachipy import dictionary, tokenizer

        self.tok = dictionary.Dictionary(dict="core").create()
        self.mode = tokenizer.Tokenizer.SplitMode.C
        self.load_s = time.perf_counter() - t
        self.parse_s = 0.0
        self.parsed = 0
        self.cache: dict[str, list[str]] = {}

    def person_names(self, text: str) -> list[str]:
        if text not in self.cache:
            t = time.perf_counter()
            ms = self.tok.tokenize(text, self.mode)
            self.parse_s += time.perf_counter() - t
            self.parsed += 1
            self.cache[text] = [m.surface() for m in ms if tuple(m.part_of_speech()[1:3]) == ("固有名詞", "人名")]
        return self.cache[text]


# -- data ------------------------------------------------------------------------------------
@dataclass
class Meeting:
    set_name: str
    id: str
    texts: dict[int, str]
    speakers: dict[int, str]
    gold: dict[str, Any]
    seller: str = ""


def _seller(gold: dict[str, Any]) -> str:
    for item in gold.get("not_account", []):
        if "売り手" in item["text"]:
            return item["keywords"][0].split("|")[0]
    return ""


def load_meetings() -> list[Meeting]:
    out = []
    for set_name, folder in SETS.items():
        for path in sorted((folder / "gold").glob("ja_*.json")):
            gold = json.loads(path.read_text(encoding="utf-8"))
            tr = json.loads((folder / f"{path.stem}.transcript.json").read_text(encoding="utf-8"))
            texts = {s["id"]: s["text"] for s in tr["segments"]}
            speakers = {s["id"]: s.get("speaker") or "" for s in tr["segments"]}
            out.append(Meeting(set_name, path.stem, texts, speakers, gold, _seller(gold)))
    return out


def matches(text: str, keywords: list[str]) -> bool:
    """As benchmarks/notes_eval.py scores: every keyword (``a|b`` = either) in the text, normalised."""
    norm = normalize(text)
    return bool(norm) and all(any(normalize(a) in norm for a in kw.split("|") if normalize(a)) for kw in keywords)


# -- 1. account ------------------------------------------------------------------------------
#: The lines whose companies are the seller's: the same test as the rule's (_japanese_company).
_OWN_LINE = re.compile(r"弊社|私ども|当社|と申します")


def ginza_account(g: Ginza, texts: dict[int, str], seller: str, plus: bool) -> str:
    """The company-like entity named most often that is not the seller (nor one named in a line
    that says 弊社/私ども/当社/と申します, as the rule); names that are one another's part count together."""
    counts: Counter[str] = Counter()
    own: set[str] = set()
    for text in texts.values():
        for e in g.ents(text, plus):
            if e.label in COMPANY_LABELS and len(e.text) >= 2:
                counts[e.text] += 1
                if _OWN_LINE.search(text):
                    own.add(e.text)
    groups: list[list[Any]] = []  # [head, count]
    for name, n in counts.most_common():
        grp = next((gr for gr in groups if _overlaps(name, gr[0])), None)
        if grp is None:
            groups.append([name, n])
        else:
            grp[1] += n
    groups.sort(key=lambda gr: -gr[1])  # stable: ties keep the first-counted
    for head, _ in groups:
        if (seller and _overlaps(head, seller)) or any(_overlaps(head, o) for o in own):
            continue
        return head
    return ""


def account_verdict(name: str, gold: dict[str, Any]) -> str:
    if not name:
        return "none"
    if matches(name, gold["account"]["keywords"]):
        return "right"
    if any(matches(name, x["keywords"]) for x in gold.get("not_account", [])):
        return "WRONG (seller)"
    return "WRONG"


# -- 2. competitor candidates ----------------------------------------------------------------
def _near(texts: dict[int, str]) -> list[int]:
    cue_ids = prefilter.select(texts, "competitors", "ja")
    return sorted({j for i in cue_ids for j in (i - 1, i, i + 1) if j in texts})


def _exclusions(m: Meeting) -> tuple[list[str], list[str]]:
    """(names to exclude, companies to exclude): what competitors_pass gets from the people pass,
    here from gold (participants' names, seller, account)."""
    people = [a for p in m.gold["fields"]["participants"] for kw in p["keywords"] for a in kw.split("|")]
    account = m.gold["account"]["keywords"][0].split("|")[0]
    return people + [m.seller, account], [m.seller, account]


def _finish(names: list[str], m: Meeting, companies: list[str]) -> tuple[list[str], list[str]]:
    """competitors_pass's filters after the candidate list: not the seller/account, the cap,
    integrations out. Returns (candidates for the model, integrations removed)."""
    names = [n for n in names if not any(x and _overlaps(n, x) for x in companies)][: MAX_NAMES]
    integrations = [n for n in names if _integration_only(n, m.texts)]
    return [n for n in names if n not in integrations], integrations


def rule_candidates(m: Meeting) -> tuple[list[str], list[str]]:
    exclude, companies = _exclusions(m)
    return _finish(prefilter.candidate_names(m.texts, _near(m.texts), exclude), m, companies)


def ginza_candidates(g: Ginza, m: Meeting, plus: bool, any_label: bool = False) -> tuple[list[str], list[str]]:
    """Company/product entities of the segments near competitor cues; with ``any_label`` every
    entity but people (with kanji) and numbers, times, positions (GiNZA's spans, whatever it
    calls them: its upper bound here)."""
    exclude, companies = _exclusions(m)
    excluded = {e.casefold() for e in exclude if e}
    out: list[str] = []
    seen: set[str] = set()
    for sid in _near(m.texts):
        for e in g.ents(m.texts[sid], plus):
            if any_label:
                if e.label in NOT_NAME_LABELS or e.label == "Person" or len(e.text) < 2:
                    continue
            elif e.label not in COMPANY_LABELS | PRODUCT_LABELS or len(e.text) < 2:
                continue
            key = e.text.casefold()
            if key in seen or any(key == x or key in x.split() for x in excluded):
                continue
            seen.add(key)
            out.append(e.text)
    return _finish(out, m, companies)


@dataclass
class CandScore:
    required: int = 0
    found: int = 0
    optional_found: int = 0
    candidates: int = 0
    traps: int = 0  # not_competitors
    other: int = 0  # neither gold nor trap: ordinary words, people, other companies
    trap_names: list[str] = field(default_factory=list)
    other_names: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)

    def add(self, o: CandScore) -> None:
        for k in ("required", "found", "optional_found", "candidates", "traps", "other"):
            setattr(self, k, getattr(self, k) + getattr(o, k))


def score_candidates(names: list[str], gold: dict[str, Any]) -> CandScore:
    comps = gold["fields"]["competitors"]
    s = CandScore(candidates=len(names))
    for c in comps:
        hit = any(matches(n, c["keywords"]) for n in names)
        if c.get("optional"):
            s.optional_found += hit
        else:
            s.required += 1
            s.found += hit
            if not hit:
                s.missed.append(c["keywords"][0])
    for n in names:
        if any(matches(n, c["keywords"]) for c in comps):
            continue
        if any(matches(n, t["keywords"]) for t in gold.get("not_competitors", [])):
            s.traps += 1
            s.trap_names.append(n)
        else:
            s.other += 1
            s.other_names.append(n)
    return s


# -- 3. self-introductions -------------------------------------------------------------------
Intro = tuple[str, str, str, int]  # speaker, name, company, segment


def _first_lines(m: Meeting) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for sid in sorted(m.texts):
        label = m.speakers.get(sid, "")
        if label and len(out.setdefault(label, [])) < INTRO_SEGMENTS:
            out[label].append(sid)
    return out


def _company(name: str) -> str:
    """The company as people_pass takes it from an introduction: not a role or department."""
    return "" if ROLE_WORDS.search(name) else name


def ginza_person_names(g: Ginza, text: str) -> list[str]:
    """GiNZA's Person entities written with kanji (a katakana "person" is usually a company)."""
    return [e.text for e in g.ents(text) if e.label == "Person" and _KANJI.search(e.text)]


def rule_intros(m: Meeting, known: Callable[[str], list[str]] | None = None) -> list[Intro]:
    """Each speaker's first introduction in their first lines (as passes.people.self_introductions,
    without the model's names: known names are introductions.JA_SURNAMES only, plus ``known(text)``:
    the hybrid gives GiNZA's Person names of the line, so 「Xです」 also takes a surname that
    is not on the list)."""
    out = []
    for label, sids in _first_lines(m).items():
        for sid in sids:
            found = introductions_in(m.texts[sid], "ja", known(m.texts[sid]) if known else ())
            if found:
                name, company, _, _ = found[0]
                out.append((label, name, _company(company or ""), sid))
                break
    return out


def ginza_intros(g: Ginza, m: Meeting, plus: bool) -> list[Intro]:
    """Each speaker's first Person entity in their first lines, with the company-like entity
    said last before it in the same line (else none)."""
    out = []
    for label, sids in _first_lines(m).items():
        for sid in sids:
            ents = g.ents(m.texts[sid], plus)
            person = next((e for e in ents if e.label == "Person"), None)
            if person is None:
                continue
            before = [e for e in ents if e.label in COMPANY_LABELS and e.start < person.start]
            out.append((label, person.text, _company(before[-1].text) if before else "", sid))
            break
    return out


def _gold_company(text: str) -> str:
    m = re.search(r"[（(]([^、,）)]+)", text)
    comp = m.group(1).strip() if m else ""
    return re.sub(r"\s*(?:社長|専務|常務|本社.*|富山工場)$", "", comp) if comp else ""


@dataclass
class IntroScore:
    speakers: int = 0  # speakers in the meeting
    gold_people: int = 0  # required gold participants
    right: int = 0  # names of a gold participant (each once)
    wrong: int = 0  # names of no gold participant, or one already taken
    comp_said: int = 0  # right names whose line names their company
    comp_right: int = 0
    comp_wrong: int = 0
    wrong_items: list[str] = field(default_factory=list)

    def add(self, o: IntroScore) -> None:
        for k in ("speakers", "gold_people", "right", "wrong", "comp_said", "comp_right", "comp_wrong"):
            setattr(self, k, getattr(self, k) + getattr(o, k))


def _comp_ok(pred: str, gold_comp: str) -> bool:
    a, b = normalize(clean_name(pred)), normalize(clean_name(gold_comp))
    return bool(a) and bool(b) and (a in b or b in a)


def score_intros(intros: list[Intro], m: Meeting) -> IntroScore:
    people = m.gold["fields"]["participants"]
    s = IntroScore(speakers=len(set(m.speakers.values()) - {""}), gold_people=sum(1 for p in people if not p.get("optional")))
    taken: set[int] = set()
    for label, name, comp, sid in intros:
        k = next((i for i, p in enumerate(people) if i not in taken and matches(name, p["keywords"])), None)
        if k is None:
            s.wrong += 1
            s.wrong_items.append(f"{label}:{name}" + (f"/{comp}" if comp else ""))
            continue
        taken.add(k)
        s.right += 1
        gc = _gold_company(people[k]["text"])
        said = bool(gc) and normalize(clean_name(gc)) in normalize(m.texts[sid])
        s.comp_said += said
        if comp:
            if _comp_ok(comp, gc):
                s.comp_right += 1
            else:
                s.comp_wrong += 1
                s.wrong_items.append(f"{label}:{name}/{comp}")
    return s


# -- 4. cost ---------------------------------------------------------------------------------
GINZA_STACK = (
    "ginza ja-ginza spacy thinc sudachipy sudachidict-core blis srsly cymem preshed murmurhash wasabi weasel "
    "confection catalogue spacy-legacy spacy-loggers plac cloudpathlib smart-open langcodes language-data marisa-trie"
).split()


def _project_has(dist: str) -> bool:
    site = ROOT / ".venv" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
    norm = dist.replace("-", "_").lower()
    return any(p.name.lower().startswith(norm + "-") and p.name.endswith(".dist-info") for p in site.glob("*.dist-info"))


def stack_sizes() -> list[tuple[str, str, float, bool]]:
    out = []
    for name in GINZA_STACK:
        try:
            d = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        size = sum((f.size or 0) for f in (d.files or []))
        out.append((name, d.version, size / 2**20, _project_has(name)))
    return out


# -- report ----------------------------------------------------------------------------------
def _pct(a: int, b: int) -> str:
    return f"{a}/{b}" if b else "-"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--details", action="store_true", help="also list each meeting's candidates and misses")
    args = ap.parse_args(argv)

    meetings = load_meetings()
    sudachi = Sudachi()  # first: GiNZA's load would warm the same dictionary
    g = Ginza()
    print(f"# Japanese entities: rules vs GiNZA ({len(meetings)} meetings, no LLM)\n")

    # 1. account
    print("## 1. Account\n")
    print("Seller given = the gold seller; seller unknown = each method only knows the companies named in lines with 弊社/私ども/当社/と申します (the rule's own test, given to GiNZA too).\n")
    print("| set | meeting | gold | rule (seller given) | GiNZA (seller given) | GiNZA+ (seller given) | rule (seller unknown) | GiNZA (seller unknown) | GiNZA+ (seller unknown) |")
    print("|---|---|---|---|---|---|---|---|---|")
    acc: dict[str, Counter[str]] = {}
    for m in meetings:
        cells = []
        for seller in (m.seller, ""):
            for key, name in (
                ("rule", _japanese_company(m.texts, seller)),
                ("GiNZA", ginza_account(g, m.texts, seller, False)),
                ("GiNZA+", ginza_account(g, m.texts, seller, True)),
            ):
                v = account_verdict(name, m.gold)
                col = f"{key} ({'seller given' if seller else 'seller unknown'})"
                acc.setdefault(col, Counter())[(m.set_name, v == "right")] += 1
                cells.append(f"{name or '—'} {'✓' if v == 'right' else '✗ ' + v}")
        print(f"| {m.set_name} | {m.id} | {m.gold['account']['text']} | " + " | ".join(cells) + " |")
    print("\n| method | original right | extra right | pooled right |\n|---|---|---|---|")
    for col, c in acc.items():
        o, e = c[("original", True)], c[("extra", True)]
        no = c[("original", True)] + c[("original", False)]
        ne = c[("extra", True)] + c[("extra", False)]
        print(f"| {col} | {o}/{no} | {e}/{ne} | {o + e}/{no + ne} |")

    # 2. competitor candidates
    print("\n## 2. Competitor candidates (the list the model would pick from)\n")
    cand_methods = {
        "rule": lambda m: rule_candidates(m),
        "GiNZA": lambda m: ginza_candidates(g, m, False),
        "GiNZA+": lambda m: ginza_candidates(g, m, True),
        "GiNZA+ any label": lambda m: ginza_candidates(g, m, True, any_label=True),
    }
    totals: dict[tuple[str, str], CandScore] = {}
    details: list[str] = []
    print("| set | meeting | method | required found | optional found | candidates | not_competitors in | other words in | integrations removed |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m in meetings:
        lists = {}
        for key, fn in cand_methods.items():
            names, integ = fn(m)
            lists[key] = names
            s = score_candidates(names, m.gold)
            for st in (m.set_name, "pooled"):
                totals.setdefault((st, key), CandScore()).add(s)
            print(f"| {m.set_name} | {m.id} | {key} | {_pct(s.found, s.required)} | {s.optional_found} | {s.candidates} | {s.traps} | {s.other} | {len(integ)} |")
            details.append(
                f"- {m.id} {key}: candidates {names}; missed {s.missed}; not_competitors {s.trap_names}; integrations removed {integ}"
            )
        union = list(dict.fromkeys(lists["rule"] + [n for n in lists["GiNZA"] if not any(n.casefold() == r.casefold() for r in lists["rule"])]))
        s = score_candidates(union, m.gold)
        for st in (m.set_name, "pooled"):
            totals.setdefault((st, "rule ∪ GiNZA"), CandScore()).add(s)
    print("\n| set | method | required found | optional found | candidates | not_competitors in | other words in |")
    print("|---|---|---|---|---|---|---|")
    for (st, key), s in sorted(totals.items(), key=lambda kv: SET_ORDER.index(kv[0][0])):
        print(f"| {st} | {key} | {_pct(s.found, s.required)} | {s.optional_found} | {s.candidates} | {s.traps} | {s.other} |")
    if args.details:
        print("\n" + "\n".join(details))

    # 3. introductions
    print("\n## 3. Participants from self-introductions (each speaker's first two lines)\n")
    intro_methods = {
        "rule": lambda m: rule_intros(m),
        "GiNZA": lambda m: ginza_intros(g, m, False),
        "GiNZA+": lambda m: ginza_intros(g, m, True),
        "rule + GiNZA persons": lambda m: rule_intros(m, lambda t: ginza_person_names(g, t)),
        "rule + Sudachi 人名": lambda m: rule_intros(m, sudachi.person_names),
    }
    itotals: dict[tuple[str, str], IntroScore] = {}
    idetails: list[str] = []
    print("| set | meeting | method | names right / gold | names wrong | company right / said | company wrong |")
    print("|---|---|---|---|---|---|---|")
    for m in meetings:
        for key, fn in intro_methods.items():
            intros = fn(m)
            s = score_intros(intros, m)
            for st in (m.set_name, "pooled"):
                itotals.setdefault((st, key), IntroScore()).add(s)
            print(f"| {m.set_name} | {m.id} | {key} | {s.right}/{s.gold_people} | {s.wrong} | {s.comp_right}/{s.comp_said} | {s.comp_wrong} |")
            idetails.append(f"- {m.id} {key}: {[f'{a}:{b}/{c}' for a, b, c, _ in intros]}; wrong {s.wrong_items}")
    print("\n| set | method | names right / gold | names wrong | company right / said | company wrong |")
    print("|---|---|---|---|---|---|")
    for (st, key), s in sorted(itotals.items(), key=lambda kv: SET_ORDER.index(kv[0][0])):
        print(f"| {st} | {key} | {s.right}/{s.gold_people} | {s.wrong} | {s.comp_right}/{s.comp_said} | {s.comp_wrong} |")
    if args.details:
        print("\n" + "\n".join(idetails))

    # 4. cost
    print("\n## 4. Cost\n")
    for m in meetings:  # every segment once, for the speed figure
        for text in m.texts.values():
            g.raw(text)
    print(f"- `spacy.load('ja_ginza')`: {g.load_s:.2f} s")
    print(
        f"- parsing: {g.parsed} segments ({g.chars} characters) in {g.parse_s:.1f} s = "
        f"{1000 * g.parse_s / max(g.parsed, 1):.1f} ms a segment, {1000 * g.parse_s / max(g.chars, 1):.2f} ms a character"
    )
    for m in meetings:
        for text in m.texts.values():
            sudachi.person_names(text)
    print(
        f"- SudachiPy alone (sudachidict-core, mode C): load {sudachi.load_s:.2f} s, {sudachi.parsed} segments in "
        f"{sudachi.parse_s:.2f} s = {1000 * sudachi.parse_s / max(sudachi.parsed, 1):.2f} ms a segment"
    )
    sizes = stack_sizes()
    new = [s for s in sizes if not s[3]]
    print(f"- installed (from each package's RECORD), {sum(s[2] for s in new):.0f} MiB not already in the project's .venv:")
    for name, version, mib, has in sorted(sizes, key=lambda s: -s[2]):
        print(f"  - {name} {version}: {mib:.1f} MiB" + (" (already in .venv)" if has else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
