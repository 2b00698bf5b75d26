"""Redaction before a transcript goes to an LLM endpoint off this machine: what is replaced, what is not."""

from __future__ import annotations

import pytest

from meeting_notes.notes.redact import RedactionReport, redact_facts, redact_text
from meeting_notes.schema import MeetingFacts, Participant


@pytest.mark.parametrize(
    "said",
    [
        "03-1234-5678",
        "03ー1234ー5678",  # katakana long-vowel mark, as Japanese ASR writes it
        "03−1234−5678",  # minus sign
        "090‐1234‐5678",  # Unicode hyphen
        "090–1234–5678",  # en dash
        "０９０－１２３４－５６７８",  # full width
        "0120-123-456",
        "03(1234)5678",
        "09012345678",
        "+81 3-1234-5678",
        "+81-90-1234-5678",
        "+1 (415) 555-0134",
        "(415) 555-0134",
        "415.555.0134",
        "+44 20 7946 0958",
    ],
)
def test_phone_numbers_in_every_common_shape_are_redacted(said: str) -> None:
    report = RedactionReport()
    out = redact_text(f"電話は{said}です。 Call {said} today.", report)
    assert out.count("[PHONE]") == 2, out
    assert report.counts["phone"] == 2
    assert not any(c.isdigit() for c in out.translate(str.maketrans("０１２３４５６７８９", "0123456789")))


@pytest.mark.parametrize(
    "said",
    [
        "2026.11.20 10.30",
        "2026-11-20",
        "2026/11/20 10:30",
        "1,200,000 yen",
        "予算は600万円、初期費用150万円",
        "64,000 dollars",
        "version 3.12.1",
        "240 trucks in 12 depots",
        "第2火曜日の10時30分",
        "データ",  # a long-vowel mark that is not between digits
        "Q3 2026, 15 percent",
    ],
)
def test_amounts_dates_and_counts_are_left_alone(said: str) -> None:
    report = RedactionReport()
    assert redact_text(said, report) == said
    assert report.total == 0


def test_emails_cards_and_mixed_text() -> None:
    report = RedactionReport()
    text = (
        "Mail jane.doe@acme.co.uk or call +1 (415) 555-0134, card 4111 1111 1111 1111. "
        "Budget 1,200,000 by 2025-04-01, 240 trucks. 電話は０３－１２３４－５６７８です"
    )
    out = redact_text(text, report)
    assert "jane.doe" not in out and "555-0134" not in out and "4111" not in out
    assert "1,200,000" in out and "2025-04-01" in out and "240 trucks" in out
    assert "電話は[PHONE]です" in out
    assert report.counts == {"email": 1, "phone": 2, "card": 1}


def test_sidecar_facts_are_redacted_too() -> None:
    facts = MeetingFacts.model_validate({
        "title": "Call back on 03-1234-5678",
        "participants": ["Kenji Sato (Acme)", {"name": "Ann Lee", "email": "ann@example.com", "role": "AE, 090-1234-5678"}],
        "account": "Acme KK",
        "date": "2026-11-20",
        "crm_ids": {"deal_id": "12345678901"},  # never in a prompt: left as it is, not counted
    })
    report = RedactionReport()
    out = redact_facts(facts, report)
    assert out.title == "Call back on [PHONE]"
    assert out.participants == [Participant(name="Kenji Sato", company="Acme"), Participant(name="Ann Lee", role="AE, [PHONE]")]
    assert out.account == "Acme KK" and out.date_text() == "2026-11-20" and out.crm_ids == facts.crm_ids
    assert report.counts == {"email": 1, "phone": 2, "card": 0}
    assert facts.participants[1].email == "ann@example.com"  # the caller's facts are untouched
