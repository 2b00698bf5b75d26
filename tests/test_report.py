"""report.html: content, escaping and links (as text), then in a real headless Chromium."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from browser_support import chromium, chromium_path
from report_fixtures import HOSTILE, build_meeting

from meeting_notes.crm.preview import preview_texts
from meeting_notes.report import audio_src, fmt_time, overlap_intervals, write_report
from meeting_notes.schema import SpeakerTurn


@pytest.fixture()
def meeting(tmp_path: Path) -> Path:
    return build_meeting(tmp_path / "out" / "demo-1234abcd")


def test_report_content_and_escaping(meeting: Path):
    html = write_report(meeting).read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="en">' in html
    # one script (ours), every hostile string shown as text
    assert html.count("<script") == 1
    assert "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
    assert "Rollout review &lt;b&gt;bold?&lt;/b&gt;" in html
    assert "Ann &lt;Rep&gt;" in html and "Globex &amp; Co" in html
    # no network: nothing fetched from http(s)
    assert not re.search(r"(src|href)=\"https?:", html) and "@import" not in html
    # each evidence link targets an existing segment
    targets = re.findall(r'class="ev" href="#seg-(\d+)"', html)
    assert sorted(set(targets)) == ["1", "3", "4", "5"]
    for n in targets:
        assert f'id="seg-{n}"' in html
    # next step fields (incl. one another helper added) are shown; unknown top-level keys tolerated
    assert "2026-11-27" in html and "Send a proposal" in html
    # the recording is referenced relatively, not copied
    m = re.search(r'<audio id="player"[^>]* src="([^"]+)"', html)
    assert m and not m.group(1).startswith("/")
    assert (meeting / m.group(1)).resolve() == (Path(__file__).resolve().parents[1] / "samples" / "sample.wav")
    assert list(meeting.glob("*.wav")) == []
    # speakers named from the labels in analytics.json, the other numbered
    assert ">Speaker 2<" in html
    assert "meeting-notes 0.1.0" in html and "diarization: segmentation-3.0 + campplus" in html


def test_missing_audio_and_notes(tmp_path: Path):
    folder = build_meeting(tmp_path / "m", audio=None)
    (folder / "notes.json").unlink()
    (folder / "analytics.json").unlink()  # computed from transcript + diarization instead
    html = write_report(folder).read_text(encoding="utf-8")
    assert '<audio' not in html
    assert 'id="audio-missing" class="note no-print">' in html and "missing.wav" in html
    assert "No notes for this meeting." in html
    assert "Conversation analytics" in html


def test_japanese_report(tmp_path: Path):
    lines = [
        (0.0, 3.0, "S0", "本日はありがとうございます。ご予算はどのくらいでしょうか。"),
        (3.5, 7.0, "S1", "年間で二百万円くらいです。<script>alert(1)</script>"),
    ]
    folder = build_meeting(tmp_path / "ja", language="ja", lines=lines)
    notes = json.loads((folder / "notes.json").read_text(encoding="utf-8"))
    notes.update(needs=[], budget=[{"text": "年間二百万円", "evidence": [{"segment_ids": [1], "quote": "年間で二百万円"}]}],
                 next_steps=[], competitors=[], title="丸山様 定例")
    (folder / "notes.json").write_text(json.dumps(notes, ensure_ascii=False), encoding="utf-8")
    html = write_report(folder).read_text(encoding="utf-8")
    assert '<html lang="ja">' in html and "丸山様 定例" in html and "予算" in html
    assert "話者2" in html and "文字/分" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="#seg-1"' in html


def test_audio_src_relative_and_encoded(tmp_path: Path):
    audio = tmp_path / "in box" / "会議 1.wav"
    audio.parent.mkdir()
    audio.write_bytes(b"RIFF")
    folder = tmp_path / "out" / "m"
    folder.mkdir(parents=True)
    url, resolved = audio_src(folder, str(audio))
    assert url == "../../in%20box/%E4%BC%9A%E8%AD%B0%201.wav" and resolved == audio.resolve()
    assert audio_src(folder, str(tmp_path / "nope.wav"))[0] is None


def test_helpers():
    assert fmt_time(5) == "0:05" and fmt_time(3725.9) == "1:02:05"
    turns = [SpeakerTurn(start=0, end=5, speaker="A"), SpeakerTurn(start=3, end=8, speaker="B"),
             SpeakerTurn(start=4, end=6, speaker="C"), SpeakerTurn(start=10, end=12, speaker="A")]
    assert overlap_intervals(turns) == [(3, 6)]


def test_damaged_optional_inputs_are_skipped(meeting: Path):
    (meeting / "notes.json").write_text("{not json", encoding="utf-8")
    (meeting / "analytics.json").write_text('{"meeting_id": 3}', encoding="utf-8")  # wrong shape: recomputed
    (meeting / "run.json").write_bytes(b"\xff\xfe")
    html = write_report(meeting).read_text(encoding="utf-8")
    assert "No notes for this meeting." in html and "Conversation analytics" in html


def test_report_requires_transcript(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="transcript.json"):
        write_report(tmp_path)


# ---------------------------------------------------------------- in a real browser

needs_chromium = pytest.mark.skipif(
    chromium_path() is None, reason="chromium is not installed (apt-get install -y chromium; scripts/setup.sh does)"
)


@pytest.fixture()
def artifacts() -> Path:
    """Where the screenshots are kept after the run: ``$MEETING_NOTES_TEST_ARTIFACTS``, else
    ``out/test-artifacts/`` in the checkout (git-ignored)."""
    import os

    folder = Path(os.environ.get("MEETING_NOTES_TEST_ARTIFACTS") or Path(__file__).resolve().parents[1] / "out" / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium (own throwaway profile) for the browser tests of this module."""
    with chromium() as context:
        yield context


def _open(context, path: Path):
    page = context.new_page()
    errors: list[str] = []
    dialogs: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def on_dialog(d):
        dialogs.append(d.message)
        d.dismiss()

    page.on("dialog", on_dialog)
    page.goto(path.as_uri())
    return page, errors, dialogs


@needs_chromium
def test_report_in_chromium(browser, meeting: Path, artifacts: Path):
    report = write_report(meeting)
    page, errors, dialogs = _open(browser, report)
    page.wait_for_function("document.getElementById('player').readyState >= 1", timeout=15000)
    assert page.evaluate("document.getElementById('player').duration") == pytest.approx(30.0, abs=0.1)
    # the hostile transcript line is text: no dialog, no extra script or image elements
    assert dialogs == []
    assert page.evaluate("document.scripts.length") == 1 and page.evaluate("document.images.length") == 0
    assert page.inner_text("#seg-2 .txt").startswith(HOSTILE)
    # a timestamp seeks the player
    page.click("#seg-3 .ts")
    assert page.evaluate("document.getElementById('player').currentTime") == pytest.approx(12.5, abs=0.05)
    page.wait_for_selector("#seg-3.now", timeout=5000)
    # a click on the timeline seeks to that time
    page.locator("#timeline").scroll_into_view_if_needed()
    box = page.locator("#timeline").bounding_box()
    x0, x1 = (float(page.get_attribute("#timeline", a)) for a in ("data-x0", "data-x1"))
    x = box["x"] + (x0 + (x1 - x0) * 20 / 30) * box["width"] / 1000
    page.mouse.click(x, box["y"] + box["height"] / 2)
    assert page.evaluate("document.getElementById('player').currentTime") == pytest.approx(20.0, abs=0.3)
    page.evaluate("document.getElementById('player').pause()")
    # an evidence link scrolls to its segment and targets it
    page.evaluate("window.scrollTo(0, 0)")
    page.click('a.ev[href="#seg-4"]')
    page.wait_for_function("location.hash === '#seg-4'")
    assert page.evaluate("document.getElementById('seg-4').matches(':target')")
    top = page.evaluate("document.getElementById('seg-4').getBoundingClientRect().top")
    assert 0 <= top < page.evaluate("window.innerHeight")
    page.evaluate("window.scrollTo(0, 0)")
    shot = artifacts / "report.png"
    shot.unlink(missing_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    page.emulate_media(media="print")
    assert page.evaluate("getComputedStyle(document.querySelector('.player')).display") == "none"
    assert errors == []
    assert shot.stat().st_size > 10_000


@needs_chromium
def test_report_without_audio_in_chromium(browser, tmp_path: Path, artifacts: Path):
    folder = build_meeting(tmp_path / "m", audio=None, language="ja", lines=[
        (0.0, 3.0, "S0", "本日はありがとうございます。"), (3.5, 7.0, "S1", "よろしくお願いします。")])
    report = write_report(folder)
    page, errors, dialogs = _open(browser, report)
    assert page.is_visible("#audio-missing")
    assert page.evaluate("document.documentElement.lang") == "ja"
    page.click("#seg-1 .ts")  # no player: the timestamp is a link to its segment
    page.wait_for_function("location.hash === '#seg-1'")
    page.screenshot(path=str(artifacts / "report-ja.png"), full_page=True)
    assert errors == [] and dialogs == []


def test_report_shows_the_crm_preview(tmp_path: Path) -> None:
    """The same preview as `meeting-notes crm preview`, per target, escaped; nothing is sent."""
    from crm_helpers import SF_IDS, crm_settings, en_notes, make_meeting

    notes = en_notes(title="Renewal <script>alert(1)</script>")
    folder = make_meeting(tmp_path / "out", notes, SF_IDS)
    html = write_report(folder, preview_texts(folder, crm_settings("http://127.0.0.1:9", tmp_path))).read_text(encoding="utf-8")
    section = html[html.index('<section id="crm">'):]
    assert "<summary>salesforce</summary>" in section and "<summary>hubspot</summary>" in section
    assert "upsert by key" in section  # the salesforce records, field by field
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html
    assert not (tmp_path / "ledger.sqlite").exists()  # a preview, not a push
