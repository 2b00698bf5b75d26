"""``report.html``: one self-contained page per meeting that a rep opens.

Header (title, date, account, participants with sides), the notes with every item's evidence
linking to its transcript segment (``#seg-N``), a speaker timeline (who spoke when, overlaps in
red), the conversation analytics, and the transcript coloured by speaker whose timestamps seek
an ``<audio>`` player. The recording is referenced by a path relative to the report (nothing is
copied); when it is not there a note says so.

No network: CSS and JS (``meeting_notes/templates/``) are inlined, fonts are system fonts with
Japanese fallbacks. Every string that comes from the audio or the LLM goes through
:func:`html.escape`. The transcript is rendered per segment (not per word), so a two-hour
meeting stays well under 5 MB (``benchmarks/report_size.py``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from html import escape
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from meeting_notes.analytics import Analytics, SpeakerLabel, compute_analytics
from meeting_notes.atomic import write_text_atomic
from meeting_notes.schema import Diarization, SpeakerTurn, Transcript, is_side
from meeting_notes.speaker_map import display_labels, name_notes, unnamed_label
from meeting_notes.workspace import MeetingWorkspace

M = TypeVar("M", bound=BaseModel)
N_COLOURS = 10
"""Speaker colours in the stylesheet (``.s0`` .. ``.s9``); more speakers reuse them."""
TIMELINE_WIDTH = 1000
TIMELINE_LABEL_W = 110
TIMELINE_ROW_H = 18
OVERLAP_MARK = 0.5
"""A segment at least this share said during overlap gets an "overlap" mark."""

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "date": "Date", "account": "Account", "duration": "Duration", "participants": "Participants",
        "notes": "Notes", "summary": "Summary", "deal_stage": "Deal stage", "no_notes": "No notes for this meeting.",
        "timeline": "Speaker timeline", "overlap": "overlap", "analytics": "Conversation analytics",
        "transcript": "Transcript", "speaker": "Speaker", "side": "Side", "talk": "Talk time", "share": "Share",
        "rate_words": "Words/min", "rate_characters": "Chars/min", "turns": "Turns", "monologue": "Longest monologue",
        "questions": "Questions", "interrupting": "Interrupted others", "interrupted": "Was interrupted",
        "overlap_time": "Overlap", "speech": "Speech", "silence": "Silence", "overlap_all": "Overlapping speech",
        "ratio": "Seller : customer talk", "sides": "By side", "seller": "seller", "customer": "customer",
        "crm": "CRM preview",
        "crm_note": "What `meeting-notes crm push` would send, field by field with its evidence; nothing is sent before it is approved.",
        "unknown": "side unknown", "no_audio": "The recording is not next to this report ({path}): timestamps "
        "only jump within the page.", "audio_error": "The recording could not be loaded: timestamps only jump "
        "within the page.", "generated": "Generated", "models": "Models", "status": "Notes status",
        "partly_read": "Warning: the model read {read} of {total} transcript segments ({pct} %); the rest reached "
        "the notes only through the rules (amounts, dates, names).",
        "dropped": "items dropped for lack of evidence", "from_hints": "from the meeting's hints",
    },
    "ja": {
        "date": "日付", "account": "取引先", "duration": "長さ", "participants": "参加者",
        "notes": "商談メモ", "summary": "要約", "deal_stage": "商談フェーズ", "no_notes": "この会議のメモはありません。",
        "timeline": "話者タイムライン", "overlap": "重なり", "analytics": "会話分析",
        "transcript": "文字起こし", "speaker": "話者", "side": "立場", "talk": "発話時間", "share": "割合",
        "rate_words": "語/分", "rate_characters": "文字/分", "turns": "ターン数", "monologue": "最長の独話",
        "questions": "質問", "interrupting": "割り込んだ回数", "interrupted": "割り込まれた回数",
        "overlap_time": "重なり", "speech": "発話", "silence": "無音", "overlap_all": "同時発話",
        "ratio": "売り手 : 顧客の発話比", "sides": "立場別", "seller": "売り手", "customer": "顧客",
        "crm": "CRM送信内容の確認",
        "crm_note": "`meeting-notes crm push` で送信される内容（項目ごとの根拠付き）。承認されるまで何も送信されません。",
        "unknown": "立場不明", "no_audio": "録音ファイルがこのレポートの近くにありません（{path}）。"
        "タイムスタンプはページ内の移動のみです。", "audio_error": "録音を読み込めませんでした。"
        "タイムスタンプはページ内の移動のみです。", "generated": "作成", "models": "モデル", "status": "メモの状態",
        "partly_read": "注意: モデルが読んだのは文字起こし {total} セグメント中 {read} セグメント（{pct} %）です。"
        "残りはルール（金額・日付・名前）でのみメモに反映されています。",
        "dropped": "根拠がなく除外した項目", "from_hints": "会議ヒントより",
    },
}

FIELD_TITLES: dict[str, dict[str, str]] = {
    "en": {
        "participants": "Participants (from the notes)", "needs": "Needs", "budget": "Budget",
        "decision_makers": "Decision makers", "decision_process": "Decision process", "timeline": "Timeline",
        "competitors": "Competitors", "objections": "Objections", "pricing": "Pricing", "next_steps": "Next steps",
        "risks": "Risks", "open_questions": "Open questions",
    },
    "ja": {
        "participants": "参加者（メモより）", "needs": "ニーズ", "budget": "予算", "decision_makers": "決裁者",
        "decision_process": "決裁プロセス", "timeline": "スケジュール", "competitors": "競合", "objections": "懸念・反論",
        "pricing": "価格", "next_steps": "次のアクション", "risks": "リスク", "open_questions": "未解決の質問",
    },
}
FIELD_ORDER = tuple(FIELD_TITLES["en"])
KEY_TITLES: dict[str, dict[str, str]] = {
    "en": {"due_resolved": "due date", "resolved": "date"},
    "ja": {
        "owner": "担当", "due": "期限", "due_resolved": "期限日", "date": "時期", "resolved": "日付",
        "context": "状況", "response": "回答", "role": "役職", "company": "会社", "name": "名前",
    },
}
"""Labels of item fields shown as ``key: value`` (others: the key with spaces)."""
PRIMARY_KEYS = ("text", "action", "objection", "name")
"""The key whose value is an item's main line; the other string fields follow as ``key: value``."""


def _e(value: Any) -> str:
    """HTML-escaped text (also quotes, so it is safe inside attributes)."""
    return escape("" if value is None else str(value), quote=True)


def fmt_time(seconds: float) -> str:
    """``m:ss`` or ``h:mm:ss``."""
    s = max(0, int(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"


def fmt_duration(seconds: float) -> str:
    """A duration: ``4.5 s`` under a minute, else ``m:ss`` / ``h:mm:ss``."""
    return f"{seconds:.1f} s" if seconds < 60 else fmt_time(seconds)


def _read(path: Path, required: bool = False) -> dict[str, Any] | None:
    """A JSON object from ``path``; None when an optional file is missing or unreadable."""
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        if required:
            raise
        return None
    return data if isinstance(data, dict) else None


def _model(cls: type[M], data: dict[str, Any] | None) -> M | None:
    """``data`` as ``cls``; None when absent or not of that shape (an optional input)."""
    if data is None:
        return None
    try:
        return cls.model_validate(data)
    except ValidationError:
        return None


def _asset(name: str) -> str:
    return resources.files("meeting_notes").joinpath("templates", name).read_text(encoding="utf-8")


def audio_src(meeting_dir: Path, audio_path: str) -> tuple[str | None, Path]:
    """The recording as a URL relative to the report (percent-encoded) and its resolved path;
    ``None`` when the file is not there."""
    p = Path(audio_path)
    if not p.is_absolute():
        p = (meeting_dir / p) if (meeting_dir / p).exists() else Path.cwd() / p
    p = p.resolve()
    if not p.is_file():
        return None, p
    rel = os.path.relpath(p, meeting_dir.resolve())
    return quote(rel.replace(os.sep, "/")), p


# ---------------------------------------------------------------- speakers


class _Speakers:
    """Display names, sides and colour classes of the diarized speakers."""

    def __init__(self, order: Iterable[str], labels: Mapping[str, SpeakerLabel]) -> None:
        self.ids: list[str] = []
        for s in order:
            if s and s not in self.ids:
                self.ids.append(s)
        self.labels = labels

    def index(self, spk: str | None) -> int:
        if spk is None:
            return -1
        if spk not in self.ids:
            self.ids.append(spk)
        return self.ids.index(spk)

    def name(self, spk: str | None, lang: str) -> str:
        if spk is None:
            return "?"
        label = self.labels.get(spk)
        if label and label.name:
            return label.name
        return unnamed_label(self.index(spk), lang)

    def side(self, spk: str | None) -> str:
        label = self.labels.get(spk or "")
        return label.side if label else "unknown"

    def cls(self, spk: str | None) -> str:
        i = self.index(spk)
        return f"s{i % N_COLOURS}" if i >= 0 else ""


def _labels(transcript_raw: Mapping[str, Any], analytics: Analytics | None) -> dict[str, SpeakerLabel]:
    """Names and sides: from the speaker map in ``transcript.json`` (``label``/``name``/``side``),
    else from ``analytics.json``."""
    out: dict[str, SpeakerLabel] = {}
    if analytics is not None:
        for s in analytics.speakers:
            out[s.speaker] = SpeakerLabel(name=s.name, side=s.side)
    for s in transcript_raw.get("speakers") or []:
        if isinstance(s, dict) and s.get("id") and (s.get("label") or s.get("name") or s.get("side") in ("seller", "customer")):
            side = s["side"] if is_side(s.get("side")) else "unknown"
            out[str(s["id"])] = SpeakerLabel(name=s.get("label") or s.get("name") or None, side=side)
    return out


# ---------------------------------------------------------------- sections


def _side_badge(side: str, t: Mapping[str, str]) -> str:
    side = side if side in ("seller", "customer") else "unknown"
    return f'<span class="side {side}">{_e(t[side])}</span>'


def _name_source(entry: Any) -> tuple[str, str] | None:
    """Why a speaker has its name (the speaker map's source): a tooltip, and a link to the
    segment where they said it."""
    if entry is None or not entry.source:
        return None
    text = {"enrolled": f"enrolled voice (similarity {entry.score or 0:.2f})", "manual": "named by hand (relabel)"}.get(
        entry.source, entry.source)
    link = ""
    if entry.evidence is not None:
        text = f"{entry.source}: \u201c{entry.evidence.quote}\u201d"
        link = f' <a class="intro" href="#seg-{int(entry.evidence.segment_id)}">\u2197</a>'
    return text, link


def _header(
    transcript: Transcript, notes: Mapping[str, Any] | None, run: Mapping[str, Any] | None,
    speakers: _Speakers, t: Mapping[str, str], lang: str,
) -> str:
    notes = notes or {}
    title = notes.get("title") or transcript.meeting_id
    date = notes.get("date") or notes.get("date_anchor") or ((run or {}).get("started_at") or "")[:10]
    account = (notes.get("account") or {}).get("name") if isinstance(notes.get("account"), dict) else None
    meta = []
    if date:
        meta.append(f"<li>{_e(t['date'])}: <b>{_e(date)}</b></li>")
    if account:
        meta.append(f"<li>{_e(t['account'])}: <b>{_e(account)}</b></li>")
    meta.append(f"<li>{_e(t['duration'])}: <b>{fmt_time(transcript.audio.duration)}</b></li>")
    people = []
    any_side = any(speakers.side(s) != "unknown" for s in speakers.ids)
    mapped = {x.id: x for x in transcript.speakers}
    for spk in speakers.ids:
        badge = _side_badge(speakers.side(spk), t) if any_side else ""
        why = _name_source(mapped.get(spk))
        people.append(
            f'<li{" title=" + chr(34) + _e(why[0]) + chr(34) if why else ""}><span class="sw b{speakers.index(spk) % N_COLOURS}"></span>'
            f'{_e(speakers.name(spk, lang))} {badge}{why[1] if why else ""}</li>'
        )
    for p in notes.get("participants") or []:
        if not isinstance(p, dict) or not p.get("name"):
            continue
        extra = ", ".join(str(p[k]) for k in ("role", "company") if p.get(k))
        people.append(
            f"<li>{_e(p['name'])}{' (' + _e(extra) + ')' if extra else ''} {_side_badge(str(p.get('side')), t)}</li>"
        )
    return (
        f'<header class="top"><h1>{_e(title)}</h1><ul class="meta">{"".join(meta)}</ul>'
        + (f'<ul class="people" aria-label="{_e(t["participants"])}">{"".join(people)}</ul>' if people else "")
        + "</header>"
    )


def _evidence(items: Any, seg_start: Mapping[int, float]) -> str:
    out = []
    for ev in items if isinstance(items, list) else []:
        if not isinstance(ev, dict):
            continue
        quote_text = ev.get("quote") or ""
        ids = [i for i in ev.get("segment_ids") or [] if isinstance(i, int) and i in seg_start]
        if ids:
            first = ids[0]
            out.append(
                f'<a class="ev" href="#seg-{first}" data-seg="{first}">{fmt_time(seg_start[first])}'
                + (f' <span class="q">“{_e(quote_text)}”</span>' if quote_text else "")
                + "</a>"
            )
        elif quote_text:
            out.append(f'<span class="ev"><span class="q">“{_e(quote_text)}”</span></span>')
    return "".join(out)


def _item(item: Any, seg_start: Mapping[int, float], t: Mapping[str, str], lang: str) -> str:
    if isinstance(item, str):
        return f"<li>{_e(item)}</li>"
    if not isinstance(item, dict):
        return ""
    primary_key = next((k for k in PRIMARY_KEYS if isinstance(item.get(k), str) and item.get(k)), None)
    main = _e(item[primary_key]) if primary_key else ""
    fields = []
    for k, v in item.items():
        if k in ("evidence", primary_key) or v in (None, "", [], {}):
            continue
        if k == "side":
            fields.append(_side_badge(str(v), t))
        elif isinstance(v, (str, int, float)):
            key = KEY_TITLES[lang].get(k) or k.replace("_", " ")
            fields.append(f'<span class="field">{_e(key)}: <b>{_e(v)}</b></span>')
    return f"<li>{main}{''.join(fields)}<br>{_evidence(item.get('evidence'), seg_start)}</li>"


def _notes(notes: Mapping[str, Any] | None, seg_start: Mapping[int, float], t: Mapping[str, str], lang: str) -> str:
    head = f'<section id="notes"><h2>{_e(t["notes"])}</h2>'
    if not notes:
        return head + f"<p>{_e(t['no_notes'])}</p></section>"
    parts = [head]
    status = notes.get("status")
    if status and status != "ok":
        detail = notes.get("status_detail") or ""
        parts.append(f'<p class="note">{_e(t["status"])}: {_e(status)}{" — " + _e(detail) if detail else ""}</p>')
    generator = notes.get("generator") or {}
    coverage, read, total = generator.get("coverage"), generator.get("segments_read"), generator.get("segments")
    if isinstance(coverage, (int, float)) and coverage < 1.0 and isinstance(read, int) and isinstance(total, int) and total:
        warning = t["partly_read"].format(read=read, total=total, pct=round(100 * read / total))
        parts.append(f'<p class="note warning">{_e(warning)}</p>')
    if notes.get("summary"):
        parts.append(f'<h3>{_e(t["summary"])}</h3><p class="summary">{_e(notes["summary"])}</p>')
    stage = notes.get("deal_stage")
    if isinstance(stage, dict) and stage.get("stage") and stage.get("stage") != "unknown":
        parts.append(
            f'<h3>{_e(t["deal_stage"])}</h3><p><b>{_e(str(stage["stage"]).replace("_", " "))}</b>'
            + (f" — {_e(stage['reason'])}" if stage.get("reason") else "")
            + f"<br>{_evidence(stage.get('evidence'), seg_start)}</p>"
        )
    titles = FIELD_TITLES[lang]
    known = [f for f in FIELD_ORDER if f != "participants"]
    extra = [k for k, v in notes.items() if k not in FIELD_ORDER and isinstance(v, list) and v and all(
        isinstance(i, dict) and "evidence" in i for i in v)]
    for field in known + extra:
        items = notes.get(field)
        if not isinstance(items, list) or not items:
            continue
        title = titles.get(field) or field.replace("_", " ").capitalize()
        parts.append(f'<h3 id="notes-{_e(field)}">{_e(title)}</h3><ul class="notes-list">')
        parts += [_item(i, seg_start, t, lang) for i in items]
        parts.append("</ul>")
    ver = notes.get("verification")
    if isinstance(ver, dict) and ver.get("items_dropped"):
        parts.append(f'<p class="legend">{_e(t["dropped"])}: {int(ver["items_dropped"])}</p>')
    parts.append("</section>")
    return "".join(parts)


def overlap_intervals(turns: Iterable[SpeakerTurn]) -> list[tuple[float, float]]:
    """Stretches where two or more speakers talk (one sweep over the turn boundaries)."""
    events = sorted(
        [(x.start, 1, x.speaker) for x in turns if x.end > x.start] + [(x.end, -1, x.speaker) for x in turns if x.end > x.start],
        key=lambda e: (e[0], e[1]),
    )
    active: dict[str, int] = {}
    out: list[tuple[float, float]] = []
    start: float | None = None
    for time, delta, spk in events:
        n = active.get(spk, 0) + delta
        if n > 0:
            active[spk] = n
        else:
            active.pop(spk, None)
        if len(active) >= 2 and start is None:
            start = time
        elif len(active) < 2 and start is not None:
            if time > start:
                out.append((start, time))
            start = None
    return out


def _timeline(
    diarization: Diarization | None, duration: float, speakers: _Speakers, t: Mapping[str, str], lang: str
) -> str:
    if diarization is None or not diarization.turns or duration <= 0:
        return ""
    talking = {x.speaker for x in diarization.turns}
    rows = [s for s in list(speakers.ids) if s in talking]
    rows += sorted(talking - set(rows))
    x0, x1 = TIMELINE_LABEL_W, TIMELINE_WIDTH - 20
    scale = (x1 - x0) / duration
    n_rows = len(rows) + 1  # + the overlap row
    height = 20 + n_rows * (TIMELINE_ROW_H + 4) + 4
    row_of = {s: i for i, s in enumerate(rows)}
    parts = [
        f'<svg id="timeline" class="timeline" viewBox="0 0 {TIMELINE_WIDTH} {height}" role="img" '
        f'aria-label="{_e(t["timeline"])}" data-x0="{x0}" data-x1="{x1}" data-duration="{duration:.3f}" '
        'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="none">'
    ]
    ov = overlap_intervals(diarization.turns)
    band_h = n_rows * (TIMELINE_ROW_H + 4)
    for a, b in ov:
        parts.append(f'<rect class="ovband" x="{x0 + a * scale:.1f}" y="18" width="{max(0.5, (b - a) * scale):.1f}" height="{band_h}"/>')
    for i, spk in enumerate(rows):
        y = 20 + i * (TIMELINE_ROW_H + 4)
        parts.append(f'<text x="4" y="{y + 13}">{_e(speakers.name(spk, lang)[:16])}</text>')
    for turn in diarization.turns:
        if turn.speaker not in row_of or turn.end <= turn.start:
            continue
        y = 20 + row_of[turn.speaker] * (TIMELINE_ROW_H + 4)
        parts.append(
            f'<rect class="f{speakers.index(turn.speaker) % N_COLOURS}" x="{x0 + turn.start * scale:.1f}" y="{y}" '
            f'width="{max(0.5, (turn.end - turn.start) * scale):.1f}" height="{TIMELINE_ROW_H}"/>'
        )
    y = 20 + len(rows) * (TIMELINE_ROW_H + 4)
    parts.append(f'<text x="4" y="{y + 13}">{_e(t["overlap"])}</text>')
    for a, b in ov:
        parts.append(
            f'<rect class="ov" x="{x0 + a * scale:.1f}" y="{y}" width="{max(0.5, (b - a) * scale):.1f}" height="{TIMELINE_ROW_H}"/>'
        )
    step = _tick_step(duration)
    k = 0.0
    while k <= duration + 1e-6:
        parts.append(f'<text x="{x0 + k * scale:.1f}" y="12" text-anchor="middle">{fmt_time(k)}</text>')
        k += step
    parts.append(f'<line id="tl-cursor" class="cursor" x1="{x0}" x2="{x0}" y1="16" y2="{height}"/></svg>')
    legend = " ".join(
        f'<span><span class="sw b{speakers.index(s) % N_COLOURS}"></span>{_e(speakers.name(s, lang))}</span>' for s in rows
    )
    legend += f' <span><span class="sw" style="background:var(--overlap)"></span>{_e(t["overlap"])}</span>'
    return f'<section id="timeline-section"><h2>{_e(t["timeline"])}</h2>{"".join(parts)}<p class="legend">{legend}</p></section>'


def _tick_step(duration: float) -> float:
    for step in (5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if duration / step <= 10:
            return float(step)
    return 7200.0


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f}%"


def _num(x: float | None, digits: int = 0) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _analytics(a: Analytics | None, speakers: _Speakers, t: Mapping[str, str], lang: str) -> str:
    if a is None:
        return ""
    rate = t["rate_characters"] if a.rate_unit == "characters" else t["rate_words"]
    kpis = [
        (t["speech"], fmt_duration(a.speech_seconds)),
        (t["silence"], _pct(a.silence_share)),
        (t["overlap_all"], f"{fmt_duration(a.overlap_seconds)} ({_pct(a.overlap_share)})"),
    ]
    if a.seller_customer_talk_ratio is not None and a.seller_talk_share is not None:
        kpis.append((t["ratio"], f"{100 * a.seller_talk_share:.0f} : {100 * (1 - a.seller_talk_share):.0f}"))
    head = (
        f"<tr><th>{_e(t['speaker'])}</th><th>{_e(t['side'])}</th><th>{_e(t['talk'])}</th><th>{_e(t['share'])}</th>"
        f"<th>{_e(rate)}</th><th>{_e(t['turns'])}</th><th>{_e(t['monologue'])}</th><th>{_e(t['questions'])}</th>"
        f"<th>{_e(t['interrupting'])}</th><th>{_e(t['interrupted'])}</th><th>{_e(t['overlap_time'])}</th></tr>"
    )

    def row(label: str, side: str, s: Any, colour: str) -> str:
        return (
            f"<tr><td>{label}</td><td>{_side_badge(side, t)}</td><td>{fmt_duration(s.talk_seconds)}</td>"
            f'<td><span class="bar {colour}" style="width:{60 * s.talk_share:.0f}px"></span>{_pct(s.talk_share)}</td>'
            f"<td>{_num(s.rate_per_minute)}</td><td>{s.turns}</td><td>{fmt_duration(s.longest_monologue_seconds)}</td>"
            f"<td>{s.questions}</td><td>{s.interruptions_made}</td><td>{s.interrupted}</td>"
            f"<td>{fmt_duration(s.overlap_seconds)}</td></tr>"
        )

    rows = [
        row(
            f'<span class="sw b{speakers.index(s.speaker) % N_COLOURS}"></span>{_e(speakers.name(s.speaker, lang))}',
            s.side, s, f"b{speakers.index(s.speaker) % N_COLOURS}",
        )
        for s in a.speakers
    ]
    out = [
        f'<section id="analytics"><h2>{_e(t["analytics"])}</h2><ul class="kpis">',
        "".join(f"<li>{_e(k)}<b>{_e(v)}</b></li>" for k, v in kpis),
        f'</ul><table class="speakers">{head}{"".join(rows)}</table>',
    ]
    known_sides = [s for s in a.sides if s.side != "unknown"]
    if known_sides:
        side_rows = [row(_e(t[s.side]), s.side, s, "b6") for s in a.sides]
        out.append(f'<h3>{_e(t["sides"])}</h3><table class="sides">{head}{"".join(side_rows)}</table>')
    out.append("</section>")
    return "".join(out)


def _transcript(transcript: Transcript, speakers: _Speakers, t: Mapping[str, str], lang: str) -> str:
    parts = [f'<section id="transcript-section"><h2>{_e(t["transcript"])}</h2><ol class="transcript">']
    for seg in transcript.segments:
        mark = f'<span class="olap">{_e(t["overlap"])}</span>' if seg.overlap >= OVERLAP_MARK else ""
        parts.append(
            f'<li id="seg-{seg.id}" class="seg {speakers.cls(seg.speaker)}" data-t="{seg.start:.2f}">'
            f'<a class="ts" href="#seg-{seg.id}" data-t="{seg.start:.2f}">{fmt_time(seg.start)}</a>'
            f'<span class="who">{_e(speakers.name(seg.speaker, lang))}</span>'
            f'<span class="txt">{_e(seg.text.strip())}{mark}</span></li>'
        )
    parts.append("</ol></section>")
    return "".join(parts)


def _footer(run: Mapping[str, Any] | None, t: Mapping[str, str]) -> str:
    if not run:
        return ""
    models = run.get("models")
    if not isinstance(models, dict):
        models = {}
    names = []
    for stage, m in models.items():
        if isinstance(m, dict):
            name = m.get("name") or " + ".join(str(m[k]) for k in ("segmentation", "embedding") if m.get(k)) or m.get("model")
            if name:
                names.append(f"{stage}: {name}")
    versions = run.get("versions")
    if not isinstance(versions, dict):
        versions = {}
    version = versions.get("meeting-notes") or versions.get("meeting_notes") or ""
    when = run.get("finished_at") or run.get("started_at") or ""
    return (
        f"<footer>{_e(t['generated'])}: {_e(when)} · meeting-notes {_e(version)}"
        + (f" · {_e(t['models'])}: {_e('; '.join(names))}" if names else "")
        + "</footer>"
    )


# ---------------------------------------------------------------- the page


def _crm(previews: Mapping[str, str], t: Mapping[str, str]) -> str:
    """The CRM previews (one per target, collapsed), as the ``crm preview`` command prints them."""
    if not previews:
        return ""
    blocks = "".join(
        f"<details><summary>{_e(target)}</summary><pre class=\"crm\">{_e(text)}</pre></details>"
        for target, text in previews.items()
    )
    return f'<section id="crm"><h2>{_e(t["crm"])}</h2><p class="note">{_e(t["crm_note"])}</p>{blocks}</section>'


def render_report(
    transcript_raw: Mapping[str, Any],
    diarization: Diarization | None,
    notes: Mapping[str, Any] | None,
    analytics: Analytics | None,
    run: Mapping[str, Any] | None,
    audio_url: str | None,
    audio_path: str,
    crm: Mapping[str, str] | None = None,
) -> str:
    """The HTML of one meeting's report (see the module docstring)."""
    transcript = Transcript.model_validate(transcript_raw)
    lang = "ja" if transcript.language.lower().startswith("ja") else "en"
    t = LABELS[lang]
    order = [s.id for s in transcript.speakers]
    if analytics is not None:
        order += [s.speaker for s in analytics.speakers]
    if diarization is not None:
        order += diarization.speakers
    speakers = _Speakers(order, _labels(transcript_raw, analytics))
    seg_start = {s.id: s.start for s in transcript.segments}
    title = (notes or {}).get("title") or transcript.meeting_id
    if audio_url:
        player = (
            f'<div class="player"><audio id="player" controls preload="metadata" src="{_e(audio_url)}"></audio></div>'
            f'<p id="audio-missing" class="note no-print" hidden>{_e(t["audio_error"])}</p>'
        )
    else:
        player = f'<p id="audio-missing" class="note no-print">{_e(t["no_audio"].format(path=audio_path))}</p>'
    body = "".join(
        [
            _header(transcript, notes, run, speakers, t, lang),
            player,
            "<main>",
            _notes(notes, seg_start, t, lang),
            _timeline(diarization, transcript.audio.duration, speakers, t, lang),
            _analytics(analytics, speakers, t, lang),
            _transcript(transcript, speakers, t, lang),
            _crm(crm or {}, t),
            _footer(run, t),
            "</main>",
        ]
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; media-src 'self' file: blob:; img-src data:\">"
        f"<title>{_e(title)}</title><style>{_asset('report.css')}</style></head>"
        f"<body>{body}<script>{_asset('report.js')}</script></body></html>\n"
    )


def write_report(meeting_dir: Path, crm_previews: Mapping[str, str] | None = None) -> Path:
    """Write ``report.html`` in a meeting folder from its ``transcript.json`` (required),
    ``diarization.json``, ``notes.json``, ``analytics.json`` and ``run.json`` (each optional;
    analytics are computed when ``analytics.json`` is missing), with the CRM previews (target ->
    text, :func:`meeting_notes.crm.preview.preview_texts`) when given. Returns the report's path."""
    meeting_dir = Path(meeting_dir)
    ws = MeetingWorkspace(meeting_dir)
    transcript_raw = _read(ws.transcript_json, required=True)
    if transcript_raw is None:
        raise FileNotFoundError(f"{ws.transcript_json}: no transcript to report on")
    diarization = _model(Diarization, _read(ws.diarization_json))
    analytics = _model(Analytics, _read(ws.analytics_json))
    if analytics is None and diarization is not None:
        analytics = compute_analytics(Transcript.model_validate(transcript_raw), diarization)
    audio_path = str((transcript_raw.get("audio") or {}).get("path") or "")
    url, _resolved = audio_src(meeting_dir, audio_path) if audio_path else (None, Path())
    notes = _read(ws.notes_json)
    if notes is not None:  # owners said as SPEAKER_01 read as the speaker map's labels
        notes = name_notes(notes, display_labels(Transcript.model_validate(transcript_raw)))
    html_text = render_report(
        transcript_raw, diarization, notes, analytics, _read(ws.run_json),
        url, Path(audio_path).name if audio_path else "",
        crm_previews,
    )
    write_text_atomic(ws.report_html, html_text)
    return ws.report_html


__all__ = ["audio_src", "fmt_duration", "fmt_time", "overlap_intervals", "render_report", "write_report"]
