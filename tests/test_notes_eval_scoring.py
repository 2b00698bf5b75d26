"""benchmarks/notes_eval.py scoring: resolved dates, owners, trap hits, dates counted once,
mean recall; and every gold file's resolved values are well-formed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import notes_eval  # noqa: E402

from meeting_notes.notes.schema import Account, Competitor, NextStep, SalesNotes, TextItem, TimelineItem  # noqa: E402


def test_resolved_dates_compare_as_dates_and_weeks() -> None:
    assert notes_eval.resolved_ok("2026-03-12", "2026-03-12")
    assert not notes_eval.resolved_ok("2026-03-13", "2026-03-12")
    assert notes_eval.resolved_ok("2026-06-08/2026-06-12", ["2026-06-08", "2026-06-12"])
    assert notes_eval.resolved_ok("2026-06-08/2026-06-14", ["2026-06-08", "2026-06-12"])  # Mon-Sun week
    assert not notes_eval.resolved_ok("2026-06-01/2026-06-05", ["2026-06-08", "2026-06-12"])
    assert not notes_eval.resolved_ok("", "2026-03-12")


def test_owner_matches_a_name_or_one_of_several() -> None:
    assert notes_eval.owner_ok("Kevin Walsh", "Kevin")
    assert notes_eval.owner_ok("森", ["森", "岡田"])
    assert not notes_eval.owner_ok("Maria Lopez", "Kevin")
    assert not notes_eval.owner_ok("", "Kevin")


GOLD = {
    "meeting_date": "2026-03-06",
    "account": {"keywords": ["brightline"]},
    "not_account": [{"keywords": ["titanserve"]}],
    "not_budget": [{"keywords": ["twelve hundred"]}],
    "deal_stage": ["discovery"],
    "fields": {
        "dates": [{"keywords": ["thursday"], "resolved": "2026-03-12"}, {"keywords": ["may"], "resolved": "2026-05-31"}],
        "next_steps": [{"keywords": ["demo"], "owner": "Kevin", "resolved": "2026-03-12"}],
        "budget": [{"keywords": ["eighteen thousand"]}],
        "competitors": [{"keywords": ["servicetitan"]}],
        "participants": [],
        "decision_makers": [],
    },
}


def test_a_due_date_on_the_timeline_counts_once_and_traps_are_reported() -> None:
    notes = SalesNotes(
        meeting_id="m",
        language="en",
        account=Account(name="TitanServe"),
        timeline=[TimelineItem(text="demo", date="next Thursday", resolved="2026-03-12")],
        next_steps=[NextStep(action="live demo", owner="Kevin Walsh", due="next Thursday", due_resolved="2026-03-12")],
        budget=[TextItem(text="about eighteen thousand"), TextItem(text="twelve hundred a month")],
        competitors=[Competitor(name="ServiceTitan")],
    )
    score = notes_eval.score_notes(notes, GOLD)
    dates = score["fields"]["dates"]
    assert (dates["tp"], dates["fp"], dates["found"], dates["gold"]) == (1, 0, 1, 2)
    assert score["checks"] == {"resolved_dates": [1, 1], "resolved_dues": [1, 1], "owners": [1, 1]}
    assert score["traps"] == {"account": ["TitanServe"], "budget": ["twelve hundred a month"]}
    assert not score["account_ok"]
    row = {"ok": True, "score": score, "gold_counts": {}}
    # next steps 1/1, competitors 1/1, budget 1/1, dates 1/2 -> mean 0.875
    assert notes_eval.mean_recall([row]) == 0.875


def test_gold_resolved_values_are_dates_or_ranges() -> None:
    paths = [p for folder in notes_eval.SETS.values() for p in sorted((folder / "gold").glob("*.json"))]
    assert len(paths) == 16
    for path in paths:
        gold = json.loads(path.read_text(encoding="utf-8"))
        assert notes_eval._span(gold["meeting_date"]) is not None, path.name
        for items in gold["fields"].values():
            for item in items:
                if "resolved" in item:
                    span = notes_eval._span(item["resolved"])
                    assert span is not None and span[0] <= span[1], (path.name, item)


def test_both_sets_load_with_their_hints_and_set_names() -> None:
    meetings = notes_eval.load_meetings(None)
    assert {m.set for m in meetings} == {"original", "extra"}
    ids = [m.transcript.meeting_id for m in meetings]
    assert len(ids) == len(set(ids)) == 16  # ids are unique across the sets
    for m in meetings:
        assert m.hints.get("date") == m.gold["meeting_date"], m.transcript.meeting_id
        assert m.gold["meeting_id"] == m.transcript.meeting_id


def test_summary_reports_each_set_and_language_apart() -> None:
    rows = []
    for set_name, lang, recall_hit in (("original", "en", True), ("extra", "en", False), ("extra", "ja", True)):
        step = NextStep(action="Send the proposal", owner="Kim", due="Friday", evidence=[])
        notes = SalesNotes(meeting_id="m", language=lang, next_steps=[step] if recall_hit else [])
        gold = {"fields": {"next_steps": [{"keywords": ["proposal"]}]}, "account": {"keywords": ["x"]}}
        rows.append(
            {"ok": True, "set": set_name, "language": lang, "minutes": 30.0, "meeting": f"{set_name}_{lang}",
             "latency_s": 1.0, "usage": {"calls": 1}, "score": notes_eval.score_notes(notes, gold)}
        )
    text = notes_eval.sets_table(rows)
    lines = {line.split("|")[1].strip(): line for line in text.splitlines()[2:]}
    assert "| 1.00 |" in lines["original en"]
    assert "| 0.00 |" in lines["extra en"] and "| 1.00 |" in lines["extra ja"]
    assert "| 0.50 |" in lines["**extra**"]
