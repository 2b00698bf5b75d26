"""Rule-level candidate recall for the notes passes (no LLM): which gold items reach the model.

The passes show the model candidates found by rule (amounts, dates, next-step sentences,
competitor names); a gold item that is not among them can never come out, whatever the model
does. This runs those rule finders over *every* segment of each evaluation meeting (both sets,
``benchmarks/notes_eval/`` and ``notes_eval/extra/``) and reports, per meeting and pooled per
set and language:

* **budget**: required gold ``fields.budget`` items whose keywords some money candidate's
  sentence or words match (``money_candidates``; ``cap`` = within ``MAX_CANDIDATES``, as the
  pass sees them; ``all`` = without the cut); ``rule≠budget``: found items whose every matching
  candidate ``money_rule`` labels price or other (the model is never asked about those);
* **dates**: required gold ``fields.dates`` items matched by a date candidate's sentence or
  words (``date_candidates``, past dates already left out), and ``resolved``: of the found
  items with a gold ``resolved`` value, those with a matching candidate resolved to it
  (``notes_eval.resolved_ok``);
* **steps**: required gold ``fields.next_steps`` matched by a step candidate's sentence
  (``step_candidates``; ``cap`` = within ``MAX_STEP_CANDIDATES``, ``all`` = without it);
* **competitors**: required gold ``fields.competitors`` matched by a name in the list
  ``competitors_pass`` offers, built the same way but excluding the gold participants, the gold
  account and the ``not_account`` names (the people pass's right answer) rather than the
  people pass's output (``cap`` = within ``MAX_NAMES`` and after the integration filter);
* **timeline**: the dates field as the pipeline writes it, by rule with no model call
  (``dates_pass``), scored as ``notes_eval`` scores the timeline (the date as said against the
  gold keywords; next steps' due dates, which need the model, are left out): precision/recall,
  and the matched items resolved right;
* **traps**: ``not_budget`` items that ``money_rule`` labels budget by rule (a candidate
  matching the trap and no gold budget item), and ``not_competitors`` names in the list.

Optional gold items are not counted. Prints Markdown tables, then the required gold items that
no candidate matches. Pure Python, a second or two::

    python benchmarks/notes_candidates.py [--meetings id,id] [--sets original,extra] [--out f.json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "benchmarks"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from notes_eval import SETS, Meeting, _matches, load_meetings, resolved_ok, score_field  # noqa: E402

from meeting_notes.notes import passes, prefilter  # noqa: E402
from meeting_notes.notes.passes import budget, competitors, next_steps, words  # noqa: E402

FIELDS = ("budget", "dates", "steps", "competitors")


@dataclass
class Count:
    """Found / required gold items of one field (``cap`` as the pass sees them, ``all`` uncut)."""

    gold: int = 0
    cap: int = 0
    all: int = 0
    extra: int = 0  # budget: rule labels it not-budget; dates: resolved right
    extra_of: int = 0  # dates: found items with a gold resolved value
    missed: list[str] = field(default_factory=list)

    def add(self, other: Count) -> None:
        self.gold += other.gold
        self.cap += other.cap
        self.all += other.all
        self.extra += other.extra
        self.extra_of += other.extra_of


@dataclass
class Row:
    meeting: str
    set: str
    language: str
    counts: dict[str, Count]
    candidates: dict[str, str]  # field -> "capped/uncapped" candidate counts
    budget_traps: list[str]  # not_budget items labelled budget by rule
    budget_listed: int  # not_budget items among the money candidates (the model may label them)
    competitor_traps: list[str]  # not_competitors names in the list
    uncased: bool = False  # lowercase text: competitor names are open (the model names them)
    timeline: dict[str, int] = field(default_factory=dict)  # tp, fp, gold, found, resolved, resolved_of


@contextmanager
def _uncapped() -> Iterator[None]:
    """The finders without their cuts (module constants read at call time)."""
    saved = budget.MAX_CANDIDATES, next_steps.MAX_STEP_CANDIDATES
    budget.MAX_CANDIDATES = next_steps.MAX_STEP_CANDIDATES = 10**6
    try:
        yield
    finally:
        budget.MAX_CANDIDATES, next_steps.MAX_STEP_CANDIDATES = saved


def make_run(meeting: Meeting) -> passes.PassRun:
    """A PassRun over every segment, with no client and no prompts (the rule finders only)."""
    t = meeting.transcript
    date = meeting.hints.get("date") or meeting.gold.get("meeting_date")
    anchor = dt.date.fromisoformat(str(date)[:10]) if date else None
    return passes.PassRun(
        client=None,  # type: ignore[arg-type]
        prompts=None,  # type: ignore[arg-type]
        shared_user="",
        language=t.language,
        texts={s.id: s.text for s in t.segments},
        anchor=anchor,
        anchor_guessed=False,
        max_tokens=0,
        speakers={s.id: s.speaker or "" for s in t.segments},
    )


def _alternatives(items: list[dict[str, Any]]) -> list[str]:
    return [alt for it in items for kw in it.get("keywords", []) for alt in kw.split("|") if alt]


def competitor_names(run: passes.PassRun, gold: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(offered, uncut) names as ``competitors_pass`` builds them for one window, excluding the
    gold people, account and ``not_account`` names instead of the people pass's answer; uncut:
    before ``MAX_NAMES`` and the integration filter."""
    cue_ids = prefilter.select(run.texts, "competitors", run.language)
    near = sorted({j for i in cue_ids for j in (i - 1, i, i + 1) if j in run.texts})
    people = [p.get("text", "").split(",")[0].split("（")[0].strip() for p in gold["fields"].get("participants", [])]
    people += _alternatives(gold["fields"].get("participants", []))
    companies = [gold["account"].get("text", ""), *_alternatives([gold["account"]]), *_alternatives(gold.get("not_account", []))]
    exclude = [x for x in people + companies if x]
    names = [
        n
        for n in prefilter.candidate_names(run.texts, near, exclude)
        if not any(x and words._overlaps(n, x) for x in companies)
    ]
    kept = [n for n in names if not competitors._integration_only(n, run.texts)][: competitors.MAX_NAMES]
    return kept, names


def _required(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [g for g in items if not g.get("optional")]


def measure(meeting: Meeting) -> Row:
    """The candidate recall of one meeting."""
    run = make_run(meeting)
    gold = meeting.gold
    fields = gold["fields"]
    money_cap = passes.money_candidates(run)
    dates = passes.date_candidates(run)
    steps_cap, _ = passes.step_candidates(run)
    with _uncapped():
        money_all = passes.money_candidates(run)
        dates_all = passes.date_candidates(run)
        steps_all, _ = passes.step_candidates(run)
    names_cap, names_all = competitor_names(run, gold)

    def hits(cands: list[Any], keywords: list[str], attrs: tuple[str, ...]) -> list[Any]:
        return [c for c in cands if any(_matches(getattr(c, a), keywords) for a in attrs)]

    counts = {f: Count() for f in FIELDS}
    # budget
    c = counts["budget"]
    for g in _required(fields.get("budget", [])):
        c.gold += 1
        found_cap = hits(money_cap, g["keywords"], ("sentence", "said"))
        found_all = hits(money_all, g["keywords"], ("sentence", "said"))
        c.cap += bool(found_cap)
        c.all += bool(found_all)
        if found_all and all(passes.money_rule(x) not in ("", "budget") for x in found_all):
            c.extra += 1
            c.missed.append(f"(rule: {'/'.join(sorted({passes.money_rule(x) for x in found_all}))}) {g['text']}")
        elif not found_cap:
            c.missed.append(g["text"] + ("" if not found_all else " (cut by MAX_CANDIDATES)"))
    # dates
    c = counts["dates"]
    for g in _required(fields.get("dates", [])):
        c.gold += 1
        found_cap = hits(dates, g["keywords"], ("sentence", "said"))
        found_all = hits(dates_all, g["keywords"], ("sentence", "said"))
        c.cap += bool(found_cap)
        c.all += bool(found_all)
        if found_cap and g.get("resolved"):
            c.extra_of += 1
            ok = any(resolved_ok(x.resolved, g["resolved"]) for x in found_cap)
            c.extra += ok
            if not ok:
                got = ", ".join(sorted({f"{x.said!r}={x.resolved or '?'}" for x in found_cap}))[:120]
                c.missed.append(f"(resolved {got}; gold {g['resolved']}) {g['text']}")
        if not found_cap:
            c.missed.append(g["text"] + ("" if not found_all else " (cut by MAX_CANDIDATES)"))
    # next steps
    c = counts["steps"]
    for g in _required(fields.get("next_steps", [])):
        c.gold += 1
        found_cap = hits(steps_cap, g["keywords"], ("sentence",))
        found_all = hits(steps_all, g["keywords"], ("sentence",))
        c.cap += bool(found_cap)
        c.all += bool(found_all)
        if not found_cap:
            c.missed.append(g["text"] + ("" if not found_all else " (cut by MAX_STEP_CANDIDATES)"))
    # competitors
    c = counts["competitors"]
    for g in _required(fields.get("competitors", [])):
        c.gold += 1
        in_cap = any(_matches(n, g["keywords"]) for n in names_cap)
        in_all = any(_matches(n, g["keywords"]) for n in names_all)
        c.cap += in_cap
        c.all += in_all
        if not in_cap:
            c.missed.append(g["text"] + ("" if not in_all else " (cut by MAX_NAMES or taken for an integration)"))
    # the timeline, as scored
    timeline = passes.dates_pass(run)
    pairs: list[tuple[int, int]] = []
    gold_dates = fields.get("dates", [])
    sc = score_field([t.date or t.text for t in timeline], gold_dates, pairs)
    checked = [(timeline[k], gold_dates[i]) for k, i in pairs if not gold_dates[i].get("optional") and gold_dates[i].get("resolved")]
    timeline_counts = {
        "tp": sc.tp, "fp": sc.fp, "gold": sc.gold, "found": sc.found,
        "resolved": sum(resolved_ok(t.resolved, g["resolved"]) for t, g in checked), "resolved_of": len(checked),
    }  # fmt: skip
    # traps
    budget_gold = fields.get("budget", [])
    budget_traps, budget_listed = [], 0
    for trap in gold.get("not_budget", []):
        hit = [
            x for x in money_cap
            if _matches(f"{x.said} {x.sentence}", trap["keywords"])
            and not any(_matches(f"{x.said} {x.sentence}", g["keywords"]) for g in budget_gold)
        ]  # fmt: skip
        budget_listed += bool(hit)
        if any(passes.money_rule(x) == "budget" for x in hit):
            budget_traps.append(trap["text"])
    competitor_traps = [
        n for n in names_cap if any(_matches(n, t["keywords"]) for t in gold.get("not_competitors", []))
    ]
    return Row(
        meeting=meeting.transcript.meeting_id,
        set=meeting.set,
        language=meeting.transcript.language,
        counts=counts,
        candidates={
            "money": f"{len(money_cap)}/{len(money_all)}",
            "dates": f"{len(dates)}/{len(dates_all)}",
            "steps": f"{len(steps_cap)}/{len(steps_all)}",
            "names": f"{len(names_cap)}/{len(names_all)}",
        },
        budget_traps=budget_traps,
        budget_listed=budget_listed,
        competitor_traps=competitor_traps,
        uncased=bool(getattr(prefilter, "uncased", lambda _: False)(run.texts.values())),
        timeline=timeline_counts,
    )


def _cell(c: Count, f: str) -> str:
    cut = f" ({c.all})" if c.all != c.cap else ""
    main = f"{c.cap}/{c.gold}{cut}"
    if f == "budget":
        return f"{main} | {c.extra}"
    if f == "dates":
        return f"{main} | {c.extra}/{c.extra_of}"
    return main


HEAD = "budget | rule≠budget | dates | resolved | steps | competitors | timeline P/R | timeline resolved"


def _timeline(rows: list[Row]) -> str:
    t = {k: sum(r.timeline.get(k, 0) for r in rows) for k in ("tp", "fp", "gold", "found", "resolved", "resolved_of")}
    p = f"{t['tp'] / (t['tp'] + t['fp']):.2f}" if t["tp"] + t["fp"] else "–"
    r = f"{t['found'] / t['gold']:.2f}" if t["gold"] else "–"
    return f"{p}/{r} ({t['found']}/{t['gold']}, {t['fp']} fp) | {t['resolved']}/{t['resolved_of']}"


def table(rows: list[Row]) -> str:
    """Per meeting: found/required (uncut, when it differs), candidate counts (cut/uncut), traps."""
    head = (
        f"| meeting | set | lang | {HEAD} | candidates money/dates/steps/names | "
        "not_budget ruled budget (listed) | not_competitors listed |"
    )
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        cells = " | ".join(_cell(r.counts[f], f) for f in FIELDS)
        cands = ", ".join(r.candidates[k] for k in ("money", "dates", "steps", "names"))
        comp = f"{len(r.competitor_traps)}" + (f" ({', '.join(r.competitor_traps)[:60]})" if r.competitor_traps else "")
        if r.uncased:
            cands += " (lowercase: names open)"
        lines.append(
            f"| {r.meeting} | {r.set} | {r.language} | {cells} | {_timeline([r])} | {cands} | "
            f"{len(r.budget_traps)} ({r.budget_listed}) | {comp} |"
        )
    return "\n".join(lines)


def pooled(rows: list[Row]) -> str:
    """Found/required per set and language, and per set."""
    head = f"| group | meetings | {HEAD} | not_budget ruled budget (listed) | not_competitors listed |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    groups: list[tuple[str, list[Row]]] = []
    for name in SETS:
        in_set = [r for r in rows if r.set == name]
        if not in_set:
            continue
        for lang in ("en", "ja"):
            sub = [r for r in in_set if r.language == lang]
            if sub:
                groups.append((f"{name} {lang}", sub))
        groups.append((f"**{name}**", in_set))
    for label, sub in groups:
        tot = {f: Count() for f in FIELDS}
        for r in sub:
            for f in FIELDS:
                tot[f].add(r.counts[f])
        traps = (
            f"{sum(len(r.budget_traps) for r in sub)} ({sum(r.budget_listed for r in sub)}) | "
            f"{sum(len(r.competitor_traps) for r in sub)}"
        )
        lines.append(f"| {label} | {len(sub)} | " + " | ".join(_cell(tot[f], f) for f in FIELDS) + f" | {_timeline(sub)} | {traps} |")
    return "\n".join(lines)


def missed(rows: list[Row]) -> str:
    """The required gold items no candidate reaches (and dates resolved wrong, budget ruled out)."""
    lines = []
    for r in rows:
        items = [(f, m) for f in FIELDS for m in r.counts[f].missed]
        items += [("budget trap", t) for t in r.budget_traps]
        if not items:
            continue
        lines.append(f"- **{r.meeting}**")
        lines += [f"  - {f}: {m}" for f, m in items]
    return "\n".join(lines) or "(none)"


def as_json(rows: list[Row]) -> list[dict[str, Any]]:
    return [
        {
            "meeting": r.meeting, "set": r.set, "language": r.language,
            "counts": {f: {k: v for k, v in vars(c).items()} for f, c in r.counts.items()},
            "candidates": r.candidates, "budget_traps": r.budget_traps, "budget_listed": r.budget_listed,
            "competitor_traps": r.competitor_traps, "uncased": r.uncased, "timeline": r.timeline,
        }
        for r in rows
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--meetings", help="Comma-separated meeting ids (default: all).")
    parser.add_argument("--sets", default=",".join(SETS), help="Comma-separated sets (default: all).")
    parser.add_argument("--out", type=Path, help="Write the rows as JSON here.")
    parser.add_argument("--no-missed", action="store_true", help="Do not list the gold items missed.")
    args = parser.parse_args(argv)
    ids = args.meetings.split(",") if args.meetings else None
    meetings = load_meetings(ids, tuple(s for s in args.sets.split(",") if s))
    rows = [measure(m) for m in meetings]
    print("Found/required gold items among the rule candidates (uncut count in brackets when the cut loses some).\n")
    print(table(rows))
    print()
    print(pooled(rows))
    if not args.no_missed:
        print("\nNot reached (or resolved wrong / labelled away by rule):\n")
        print(missed(rows))
    if args.out:
        args.out.write_text(json.dumps(as_json(rows), ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
