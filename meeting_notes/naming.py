"""One speaker map: who each diarized speaker is, on which side, and how we know.

Every output of a meeting (the exports, ``analytics.json``, ``report.html``, ``notes.md``) shows
a speaker by the ``label`` the map in ``transcript.json`` gives it (``Transcript.speakers``):
the name when one is known, else "Speaker N" / 「話者N」 (N: the speaker's position, so a
relabel never renumbers the others). A name comes, in this order of precedence, from:

1. ``manual``: ``meeting-notes relabel`` (kept in ``speaker_names.json`` in the meeting folder);
2. ``enrolled``: the speaker's voice matches an enrolled profile (:mod:`meeting_notes.speakers`);
3. ``introduced`` / ``sidecar``: the speaker introduces themself in one of their own first
   segments ("This is Diane in New Jersey", "Hi, I'm Tom from Acme", 「丸山の佐藤です」,
   「佐藤と申します」), found by rule (:func:`find_introductions`) with the segment and quote as
   evidence; ``sidecar`` when the introduced name is a sidecar participant's, whose full name
   and company are then used. Never a name without the quote of that speaker saying it.

Sides: an enrolled profile's role; a participant's company against the seller's companies
(``speakers.seller_companies`` and the companies of enrolled reps) and the sidecar's account.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from meeting_notes.atomic import write_text_atomic
from meeting_notes.errors import InputError, MeetingNotesError
from meeting_notes.schema import Speaker, SpeakerEvidence, Transcript

OVERRIDES_FILE = "speaker_names.json"
SIDES = ("seller", "customer", "unknown")

# ---------------------------------------------------------------- labels


def unnamed_label(position: int, language: str) -> str:
    """'Speaker N' (or 「話者N」 for Japanese) for the speaker at 0-based ``position``."""
    return f"話者{position + 1}" if language.lower().startswith("ja") else f"Speaker {position + 1}"


def display_labels(transcript: Transcript) -> dict[str, str]:
    """Speaker id -> what outputs show (the map's label; computed for a transcript without one)."""
    return {s.id: s.label or s.name or unnamed_label(i, transcript.language) for i, s in enumerate(transcript.speakers)}


# ---------------------------------------------------------------- self-introductions

_UP = r"[A-Z\u00C0-\u00DE]"
_WORD = rf"{_UP}[\w'’\-]*"
_NAME = rf"(?P<name>{_WORD}(?:\s+{_WORD}){{0,2}})"
_COMPANY = rf"(?:\s*,?\s+(?:from|with|at|of)\s+(?P<company>{_WORD}(?:\s+{_WORD}){{0,3}}))?"
_EN_PATTERNS = [
    re.compile(rf"(?i:\b(?:I'm|I’m|I am|my name is|my name's|my name’s))\s+{_NAME}{_COMPANY}"),
    re.compile(rf"(?i:\bthis is)\s+{_NAME}{_COMPANY}"),
    re.compile(rf"(?i:\bit's|\bit’s|\bit is)\s+{_NAME}(?:\s*,?\s+(?:from|with|at)\s+(?P<company>{_WORD}(?:\s+{_WORD}){{0,3}}))"),
    re.compile(rf"(?:^|[.!?,]\s*)(?i:(?:hi|hello|hey)[,!.]?\s+(?:all|everyone|there)?[,!.]?\s*)?{_NAME}(?i:\s+here\b){_COMPANY}"),
]
#: capitalised words that follow "I'm" / "this is" without being a name
_NOT_NAMES = frozenset(
    """a an the i so not just really very also still back now here there sorry glad happy fine good great
    okay ok yes no well actually sure right calling going looking trying wondering afraid excited interested
    curious originally it that this we you they he she his her my our your monday tuesday wednesday thursday
    friday saturday sunday january february march april may june july august september october november
    december mister mr mrs ms dr everyone everybody all hi hello hey thanks thank speaking pretty totally
    definitely absolutely exactly correct probably basically honestly new what who how when why where""".split()
)
_OTHER_PERSON = re.compile(r"^\s*,?\s*(?:our|my|the|who|she|he|they|his|her)\b", re.I)
_TITLES = re.compile(r"^(?:Mr|Mrs|Ms|Dr|Mister)\.?\s+")

_JA_NAME = r"[\u4e00-\u9fff\u3005\u30a1-\u30fa\u30fc]{1,8}"
_JA_LEFT = r"(?:^|(?<=[、。，．,.\s　！？!?「」『』])|(?<=の)|(?<=は)|(?<=私)|(?<=わたくし)|(?<=はい)|(?<=もしもし))"
_JA_COMPANY = r"(?:(?P<company>[\w・ー&]{1,20}?)の)?"
#: 「佐藤と申します」 「佐藤といいます」: strong; any name-like run qualifies
_JA_STRONG = re.compile(rf"{_JA_LEFT}{_JA_COMPANY}(?P<name>{_JA_NAME})(?:と申します|と申し上げます|といいます|と言います)(?!か)")
#: 「丸山の佐藤です」 「佐藤でございます」: only with a known surname or participant's name
_JA_WEAK = re.compile(rf"{_JA_LEFT}{_JA_COMPANY}(?P<name>{_JA_NAME})(?:です|でございます)(?![かがけしよね])")
_JA_NOT_NAMES = frozenset("何 私 弊社 御社 こちら そちら 以上 本日 今日 資料 営業 担当 大丈夫 了解 結構 承知".split())
#: common Japanese surnames: 「Xです」 names a speaker only when X is one of these (or a participant's)
JA_SURNAMES = frozenset(
    """佐藤 鈴木 高橋 田中 伊藤 渡辺 渡邊 山本 中村 小林 加藤 吉田 山田 佐々木 山口 松本 井上 木村 林 斎藤 斉藤 清水
    山崎 森 池田 橋本 阿部 石川 山下 中島 石井 小川 前田 岡田 長谷川 藤田 後藤 近藤 村上 遠藤 青木 坂本 斉藤 福田
    太田 西村 藤井 金子 岡本 藤原 中野 三浦 原田 中川 松田 竹内 小野 田村 中山 和田 石田 森田 上田 原 柴田 酒井
    工藤 横山 宮崎 宮本 内田 高木 安藤 島田 谷口 大野 丸山 今井 高田 藤本 武田 村田 上野 杉山 増田 小山 大塚
    平野 菅原 久保 松井 千葉 岩崎 桜井 木下 野口 松尾 菊地 野村 新井 渡部 佐野 杉本 古川 大西 市川""".split()
)


@dataclass(frozen=True)
class Introduction:
    """A speaker naming themself in one of their own segments."""

    speaker: str
    name: str
    company: str | None
    segment_id: int
    quote: str


def _clean_en_name(raw: str) -> str | None:
    name = _TITLES.sub("", raw.strip())
    words = name.split()
    while words and words[-1].lower() in _NOT_NAMES:
        words.pop()
    if not words or words[0].lower() in _NOT_NAMES or any(w.lower() in _NOT_NAMES for w in words):
        return None
    if any(len(w.strip("'’-")) < 2 for w in words):
        return None
    return " ".join(w.strip("'’-,.") for w in words)


def _quote(text: str, start: int, end: int) -> str:
    """The sentence of ``text`` around ``start``-``end``, verbatim."""
    left = max((text.rfind(c, 0, start) for c in ".!?。！？"), default=-1)
    rights = [i for i in (text.find(c, end) for c in ".!?。！？") if i >= 0]
    right = min(rights) + 1 if rights else len(text)
    return text[left + 1 : right].strip()


def _name_tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[\s\u3000・]+", name) if t]


def introductions_in(
    text: str, language: str, known_names: Iterable[str] = ()
) -> list[tuple[str, str | None, int, int]]:
    """Self-introductions in one segment's text: ``(name, company, start, end)``."""
    out = []
    ja = language.lower().startswith("ja") or bool(re.search(r"[\u3040-\u30ff]", text))
    if ja:
        known = set(JA_SURNAMES)
        for n in known_names:
            known.update(_name_tokens(n))
            known.add(n.replace(" ", "").replace("\u3000", ""))
        for pattern, strong in ((_JA_STRONG, True), (_JA_WEAK, False)):
            for m in pattern.finditer(text):
                name = m.group("name")
                if name in _JA_NOT_NAMES:
                    continue
                if not strong and not (name in known or any(name.startswith(k) and len(k) >= 2 for k in known)):
                    continue
                out.append((name, m.group("company") or None, m.start(), m.end()))
    for pattern in _EN_PATTERNS:
        for m in pattern.finditer(text):
            name = _clean_en_name(m.group("name"))
            if name is None or _OTHER_PERSON.match(text[m.end("name") :]) and "this is" in m.group(0).lower():
                continue
            company = m.groupdict().get("company")
            out.append((name, company, m.start("name"), m.end()))
    out.sort(key=lambda x: x[2])
    return out


def find_introductions(transcript: Transcript, first_segments: int = 8, known_names: Iterable[str] = ()) -> dict[str, Introduction]:
    """Each speaker's first self-introduction, searched in that speaker's own first
    ``first_segments`` segments (segments said mostly over someone else are skipped: their
    words may be another voice's)."""
    known = list(known_names)
    seen: dict[str, int] = {}
    out: dict[str, Introduction] = {}
    for seg in transcript.segments:
        spk = seg.speaker
        if spk is None or spk in out:
            continue
        seen[spk] = seen.get(spk, 0) + 1
        if seen[spk] > first_segments or seg.overlap >= 0.5:
            continue
        found = introductions_in(seg.text, transcript.language, known)
        if found:
            name, company, start, end = found[0]
            out[spk] = Introduction(spk, name, company, seg.id, _quote(seg.text, start, end))
    return out


# ---------------------------------------------------------------- introductions through the LLM

LLM_PROMPT_VERSION = "speaker-intros-v1"
LLM_SYSTEM = (
    "You read the first lines of each speaker of a meeting transcript. A speaker introduces "
    "themself when they say their own name (\"This is Diane\", \"I'm Tom from Acme\", "
    "「丸山の佐藤です」, 「佐藤と申します」). For each speaker who does, return the speaker label, the name as "
    "said, the segment id and a verbatim quote from that segment containing the name. A name said "
    "about someone else is not an introduction. Never guess: no quote, no entry. Return JSON only."
)


def _llm_models() -> tuple[type, dict[str, Any]]:
    from pydantic import BaseModel, Field

    class Intro(BaseModel):
        speaker: str
        name: str = Field(max_length=80)
        segment_id: int
        quote: str = Field(max_length=200)

    class Intros(BaseModel):
        introductions: list[Intro] = Field(default_factory=list)

    schema = {
        "type": "object",
        "properties": {
            "introductions": {
                "type": "array",
                "maxItems": 12,
                "items": {
                    "type": "object",
                    "properties": {
                        "speaker": {"type": "string"},
                        "name": {"type": "string", "maxLength": 80},
                        "segment_id": {"type": "integer"},
                        "quote": {"type": "string", "maxLength": 200},
                    },
                    "required": ["speaker", "name", "segment_id", "quote"],
                },
            }
        },
        "required": ["introductions"],
    }
    return Intros, schema


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def _name_in(name: str, quote: str) -> bool:
    """``name`` is in ``quote`` as whole words (whole run for Japanese)."""
    n, q = _squash(name), _squash(quote)
    if not n:
        return False
    if re.search(r"[\u3040-\u9fff]", n):
        return n.replace(" ", "") in q.replace(" ", "")
    return re.search(r"(?<![\w])" + re.escape(n) + r"(?![\w])", q, re.I) is not None


def check_llm_introductions(transcript: Transcript, proposed: Iterable[Any], speakers: Iterable[str]) -> dict[str, Introduction]:
    """The LLM's proposals that hold: the segment is that speaker's, the quote is in the segment
    verbatim (whitespace aside) and holds the name as whole words. Anything else is dropped."""
    wanted = set(speakers)
    by_id = {seg.id: seg for seg in transcript.segments}
    out: dict[str, Introduction] = {}
    for p in proposed:
        seg = by_id.get(p.segment_id)
        if p.speaker not in wanted or p.speaker in out or seg is None or seg.speaker != p.speaker:
            continue
        quote = _squash(p.quote)
        name = _squash(p.name)
        if not quote or quote not in _squash(seg.text) or not _name_in(name, quote):
            continue
        if name.casefold() in _NOT_NAMES or len(name) > 60:
            continue
        out[p.speaker] = Introduction(p.speaker, name, None, seg.id, quote)
    return out


def llm_introductions(
    transcript: Transcript, client: Any, speakers: Iterable[str], first_segments: int = 8
) -> dict[str, Introduction]:
    """Ask the notes LLM (an :class:`~meeting_notes.notes.llm_client.LLMClient`) who of
    ``speakers`` introduces themself in their first segments; only proposals that pass
    :func:`check_llm_introductions` are kept."""
    wanted = set(speakers)
    seen: dict[str, int] = {}
    lines = []
    for seg in transcript.segments:
        if seg.speaker in wanted and seen.get(seg.speaker, 0) < first_segments:
            seen[seg.speaker] = seen.get(seg.speaker, 0) + 1
            lines.append(f"[{seg.id}] {seg.speaker}: {seg.text.strip()}")
    if not lines:
        return {}
    model, schema = _llm_models()
    messages = [
        {"role": "system", "content": LLM_SYSTEM},
        {"role": "user", "content": "\n".join(lines)},
    ]
    result = client.complete(messages, model, schema, "speaker_introductions", LLM_PROMPT_VERSION, max_tokens=600)
    return check_llm_introductions(transcript, result.value.introductions, wanted)


# ---------------------------------------------------------------- participants and sides

_LEGAL = re.compile(
    r"(株式会社|有限会社|合同会社|\(株\)|（株）|\b(?:inc|ltd|llc|corp|corporation|co|gmbh|kk|k\.k|plc)\b\.?)", re.I
)


def norm_company(name: str | None) -> str:
    """A company name compared without case, legal forms, punctuation or width."""
    s = unicodedata.normalize("NFKC", name or "").casefold()
    s = _LEGAL.sub(" ", s)
    return re.sub(r"[\W_]+", "", s)


@dataclass(frozen=True)
class Participant:
    name: str
    company: str | None = None
    role: str | None = None


def parse_participants(hints: Mapping[str, Any] | None) -> list[Participant]:
    """The sidecar's participants (``"Kenji Sato (Acme)"`` or ``{"name", "company", "role"}``)."""
    out = []
    for p in (hints or {}).get("participants") or []:
        if isinstance(p, str):
            m = re.match(r"^\s*(.+?)\s*[(（]\s*(.+?)\s*[)）]\s*$", p)
            name, company = (m.group(1), m.group(2)) if m else (p.strip(), None)
            if name:
                out.append(Participant(name, company))
        elif isinstance(p, Mapping) and str(p.get("name") or "").strip():
            out.append(Participant(str(p["name"]).strip(), p.get("company") or None, p.get("role") or None))
    return out


def side_of_company(company: str | None, seller_companies: Sequence[str], account: str | None) -> str:
    """seller when ``company`` is one of the seller's; customer when it is the account, or when
    the seller's companies are known and it is none of them; else unknown."""
    c = norm_company(company)
    if not c:
        return "unknown"
    sellers = {norm_company(s) for s in seller_companies} - {""}
    if c in sellers:
        return "seller"
    if (account and c == norm_company(account)) or sellers:
        return "customer"
    return "unknown"


def same_person(said: str, full: str) -> bool:
    """``said`` (an introduced name) is ``full`` (a participant's name) or a whole part of it."""
    a = unicodedata.normalize("NFKC", said).casefold().replace(" ", "")
    b_tokens = [unicodedata.normalize("NFKC", t).casefold() for t in _name_tokens(full)]
    b = "".join(b_tokens)
    if not a:
        return False
    if a == b or a in b_tokens:
        return True
    said_tokens = [unicodedata.normalize("NFKC", t).casefold() for t in _name_tokens(said)]
    if len(said_tokens) > 1 and all(t in b_tokens for t in said_tokens):
        return True
    # Japanese: 佐藤 is the start (surname) of 佐藤健二
    return bool(re.search(r"[\u3040-\u9fff]", a)) and len(a) >= 2 and b.startswith(a)


# ---------------------------------------------------------------- the map


@dataclass(frozen=True)
class Override:
    name: str
    side: str | None = None


def read_overrides(meeting_dir: Path) -> dict[str, Override]:
    """The relabels of a meeting (``speaker_names.json``); a damaged file is an error, never dropped."""
    path = Path(meeting_dir) / OVERRIDES_FILE
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): Override(str(v["name"]), v.get("side")) for k, v in raw.items()}
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InputError(f"{path} is not a valid speaker-name file ({exc}); fix or remove it") from exc


def write_overrides(meeting_dir: Path, overrides: Mapping[str, Override]) -> None:
    data = {k: {"name": v.name, **({"side": v.side} if v.side else {})} for k, v in sorted(overrides.items())}
    write_text_atomic(Path(meeting_dir) / OVERRIDES_FILE, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def overrides_param(overrides: Mapping[str, Override]) -> dict[str, Any]:
    return {k: [v.name, v.side] for k, v in sorted(overrides.items())}


def build_speaker_map(
    transcript: Transcript,
    matches: Mapping[str, Any] | None = None,
    participants: Sequence[Participant] = (),
    seller_companies: Sequence[str] = (),
    account: str | None = None,
    overrides: Mapping[str, Override] | None = None,
    intro_segments: int = 8,
    known_names: Iterable[str] = (),
    more_intros: Mapping[str, Introduction] | None = None,
) -> list[Speaker]:
    """The speaker map (see the module docstring): ``transcript.speakers`` with label, name, side,
    source, score and evidence. ``matches``: :class:`~meeting_notes.speakers.SpeakerMatch` per
    speaker id. ``more_intros``: introductions found otherwise (the LLM's, checked), used where
    the rules found none."""
    matches = dict(matches or {})
    overrides = dict(overrides or {})
    names_known = [p.name for p in participants] + list(known_names)
    intros = {**(more_intros or {}), **find_introductions(transcript, intro_segments, names_known)}
    taken: set[str] = {m.name.casefold() for m in matches.values()} | {o.name.casefold() for o in overrides.values()}

    def participant_for(name: str) -> Participant | None:
        found = [p for p in participants if same_person(name, p.name)]
        return found[0] if len(found) == 1 else None

    def side_for_name(name: str) -> str:
        p = participant_for(name)
        return side_of_company(p.company, seller_companies, account) if p else "unknown"

    out: list[Speaker] = []
    for i, spk in enumerate(transcript.speakers):
        base = Speaker(id=spk.id, speech_seconds=spk.speech_seconds)
        o, m, intro = overrides.get(spk.id), matches.get(spk.id), intros.get(spk.id)
        if o is not None:
            side = o.side or (m.side if m is not None and m.name == o.name else side_for_name(o.name))
            s = replace_model(base, name=o.name, side=side, source="manual", score=1.0)
        elif m is not None:
            side = m.side if m.side in SIDES else "unknown"
            s = replace_model(base, name=m.name, side=side, source="enrolled", score=m.score)
        elif intro is not None:
            p = participant_for(intro.name)
            name = p.name if p else intro.name
            if name.casefold() in taken:
                s = base
            else:
                taken.add(name.casefold())
                side = (
                    side_of_company(p.company, seller_companies, account)
                    if p and p.company
                    else side_of_company(intro.company, seller_companies, account)
                    if intro.company and _known_company(intro.company, seller_companies, account, participants)
                    else "unknown"
                )
                s = replace_model(
                    base, name=name, side=side, source="sidecar" if p else "introduced", score=1.0,
                    evidence=SpeakerEvidence(segment_id=intro.segment_id, quote=intro.quote),
                )
        else:
            s = base
        s.label = s.name or unnamed_label(i, transcript.language)
        out.append(s)
    return out


def _known_company(company: str, sellers: Sequence[str], account: str | None, participants: Sequence[Participant]) -> bool:
    """An introduced "from X" is a company only when X is one we know (else "from Chicago" would be)."""
    c = norm_company(company)
    return bool(c) and c in {norm_company(x) for x in [*sellers, account or "", *(p.company or "" for p in participants)]} - {""}


def replace_model(model: Speaker, **changes: Any) -> Speaker:
    return model.model_copy(update=changes)


# ---------------------------------------------------------------- notes


def _id_pattern(ids: Iterable[str]) -> re.Pattern[str] | None:
    ids = sorted({i for i in ids if i}, key=len, reverse=True)
    if not ids:
        return None
    return re.compile(r"(?<![\w])(" + "|".join(re.escape(i) for i in ids) + r")(?![\w])")


def name_notes(notes: Any, labels: Mapping[str, str]) -> Any:
    """A copy of the notes (a JSON-like tree) where every speaker id said in a field (an owner
    "SPEAKER_01", "SPEAKER_01 will send the quote") reads as its label. Quotes are left verbatim."""
    pattern = _id_pattern(labels)

    def walk(node: Any, key: str | None) -> Any:
        if isinstance(node, dict):
            return {k: (v if k in ("evidence", "quote", "verification", "generator") else walk(v, k)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v, key) for v in node]
        if isinstance(node, str) and pattern is not None:
            return pattern.sub(lambda m: labels[m.group(1)], node)
        return node

    return walk(notes, None)


# ---------------------------------------------------------------- speaker-count hint


def enrolled_reps_present(hints: Mapping[str, Any] | None, profiles: Sequence[Any]) -> list[str]:
    """Names of enrolled reps (role ``rep``) that the sidecar lists as participants."""
    people = parse_participants(hints)
    reps = [p for p in profiles if getattr(p, "role", None) == "rep"]
    return sorted({r.name for r in reps if any(same_person(x.name, r.name) or same_person(r.name, x.name) for x in people)})


def with_enrolled_min_speakers(options: Any, profiles: Sequence[Any]) -> Any:
    """``options`` (a :class:`~meeting_notes.context.ProcessOptions`) whose ``min_speakers`` is at
    least the number of enrolled reps named in the sidecar's participants: they are there. Never
    above ``max_speakers``, and no change when ``num_speakers`` (an exact count) is given."""
    n = len(enrolled_reps_present(options.hints, profiles))
    if n < 2 or options.num_speakers:  # one speaker is no bound at all
        return options
    if options.max_speakers:
        n = min(n, options.max_speakers)
    if n < 2 or (options.min_speakers and options.min_speakers >= n):
        return options
    return replace(options, min_speakers=n)


def speaker_count_hint(options: Any, settings: Any) -> Any:
    """:func:`with_enrolled_min_speakers` with the enrolled profiles (an unreadable store: no hint;
    the ``names`` stage reports it)."""
    if not parse_participants(options.hints):
        return options
    from meeting_notes.speakers import SpeakerError, SpeakerStore

    try:
        profiles = SpeakerStore(settings.speakers.store_path).profiles()
    except (SpeakerError, OSError):
        return options
    return with_enrolled_min_speakers(options, profiles)


# ---------------------------------------------------------------- the stage and re-rendering


def _restamp(workspace: Any, stage: str, outputs: list[Path], write: Any) -> None:
    """Rewrite outputs of a finished ``stage`` through ``write()`` and keep that stage finished
    under its key (its record then holds the new checksums). A stage that was not intact before
    is left unrecorded, so that it runs again."""
    key = workspace.keys_of(stage)[stage]
    intact = bool(key) and workspace.is_done(stage, key, outputs)
    write()
    if intact:
        workspace.mark_done(stage, key, outputs)


def seller_companies(settings: Any, profiles: Sequence[Any]) -> list[str]:
    """``speakers.seller_companies`` and the companies of enrolled reps."""
    out = list(settings.speakers.seller_companies)
    for p in profiles:
        if getattr(p, "role", None) == "rep" and p.company and p.company not in out:
            out.append(p.company)
    return out


def names_stage(ctx: Any, run: Any, waveform: Any) -> Any:
    """The ``names`` stage: the speaker map written into ``transcript.json`` (the align stage's
    record is kept with the new checksum, so align stays finished). Its key covers the enrolled
    profiles, the sidecar's participants and account, the relabels and the naming settings."""
    from meeting_notes.pipeline import run_cached
    from meeting_notes.schema import Diarization, read_json, write_json
    from meeting_notes.speakers import SpeakerStore, SpeakerStoreError, identify_speakers

    ws = ctx.workspace
    settings = ctx.settings
    store_error = False
    try:
        profiles = SpeakerStore(settings.speakers.store_path).profiles()
    except SpeakerStoreError as exc:  # reported, never reset; the names found last time are kept
        run.extra["speakers"] = {"error": str(exc)}
        profiles, store_error = [], True
    overrides = read_overrides(ws.root)
    hints = ctx.options.hints or {}
    participants = parse_participants(hints)
    sellers = seller_companies(settings, profiles)
    account = hints.get("account")
    llm_identity = _llm_identity(settings) if settings.speakers.llm_introductions else None
    params = {
        "speakers": settings.speakers.model_dump(mode="json", exclude={"store_path"}),
        "profiles": sorted((p.id, p.model, p.name, p.role or "", p.company or "") for p in profiles),
        "participants": [[p.name, p.company, p.role] for p in participants],
        "account": account,
        "sellers": sellers,
        "overrides": overrides_param(overrides),
        "store_error": store_error,
        "llm": llm_identity,
    }

    def body() -> None:
        transcript = read_json(Transcript, ws.transcript_json)
        matches: dict[str, Any] = {}
        if profiles:
            diarization = read_json(Diarization, ws.diarization_json)
            try:
                audio = waveform()
            except (OSError, InputError) as exc:  # a relabel after the recording was moved away
                audio = None
                run.extra["speakers"] = {"error": f"recording not readable, enrolled names kept: {exc}"}
            if audio is not None:
                matches = identify_speakers(audio, diarization, settings, profiles)
                run.extra["speakers"] = {s: m.model_dump() for s, m in matches.items()}
            else:
                matches = _previous_matches(transcript, {p.name for p in profiles})
        elif store_error:
            matches = _previous_matches(transcript, None)
        more = _llm_step(ctx, run, transcript, matches, participants, overrides) if llm_identity else None
        transcript.speakers = build_speaker_map(
            transcript, matches, participants, sellers, account, overrides, settings.speakers.intro_segments,
            more_intros=more,
        )
        transcript.naming = {
            "participants": [{k: v for k, v in vars(p).items() if v} for p in participants],
            "account": account,
            "seller_companies": sellers,
        }
        _restamp(ws, "align", [ws.transcript_json], lambda: write_json(transcript, ws.transcript_json))

    return run_cached(ctx, "names", params, [ws.transcript_json], body, upstream=("align", "diarize"))


def _llm_identity(settings: Any) -> str | None:
    """The notes endpoint's model identity when the LLM may read the transcript here: never an
    off-machine endpoint that the settings say must get redacted text (names are the point here)."""
    from meeting_notes.notes.generate import describe_endpoint, should_redact
    from meeting_notes.notes.llm_client import LLMError

    try:
        endpoint = describe_endpoint(settings)
    except (LLMError, MeetingNotesError, OSError):
        return None
    return None if should_redact(settings.llm, endpoint) else f"{endpoint.identity}|{LLM_PROMPT_VERSION}"


def _llm_step(ctx: Any, run: Any, transcript: Transcript, matches: Mapping[str, Any], participants: Sequence[Participant],
              overrides: Mapping[str, Override]) -> dict[str, Introduction]:
    """Introductions through the notes LLM for the speakers the rules, voices and relabels left
    unnamed; a failed call is recorded in ``run.json`` and names nobody."""
    from meeting_notes.notes.generate import make_client, open_endpoint

    rule = find_introductions(transcript, ctx.settings.speakers.intro_segments, [p.name for p in participants])
    left = [s.id for s in transcript.speakers if s.id not in matches and s.id not in overrides and s.id not in rule]
    if not left:
        return {}
    try:
        client = make_client(ctx.settings, open_endpoint(ctx.settings))
        found = llm_introductions(transcript, client, left, ctx.settings.speakers.intro_segments)
    except Exception as exc:  # the names stage never fails for the LLM
        run.extra["speaker_intros_llm"] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        return {}
    run.extra["speaker_intros_llm"] = {"asked": left, "named": sorted(found)}
    return found


def _previous_matches(transcript: Transcript, names: set[str] | None) -> dict[str, Any]:
    """The enrolled names of the last speaker map (when the voices cannot be matched again)."""
    from meeting_notes.speakers import SpeakerMatch

    return {
        s.id: SpeakerMatch(speaker=s.id, profile_id=0, name=s.name, side=s.side, score=s.score or 0.0)
        for s in transcript.speakers
        if s.source == "enrolled" and s.name and (names is None or s.name in names)
    }


def name_notes_md(workspace: Any) -> bool:
    """Re-render ``notes.md`` from ``notes.json`` with the speaker map's labels (owners such as
    SPEAKER_01 read as names); the notes stage stays finished. ``notes.json`` keeps what the
    notes stage wrote. False when there are no notes or no transcript."""
    from meeting_notes.notes.render import render_markdown
    from meeting_notes.notes.schema import SalesNotes
    from meeting_notes.schema import read_json

    ws = workspace
    if not (ws.notes_json.is_file() and ws.transcript_json.is_file()):
        return False
    try:
        transcript = read_json(Transcript, ws.transcript_json)
        raw = json.loads(ws.notes_json.read_text(encoding="utf-8"))
        named = SalesNotes.model_validate(name_notes(raw, display_labels(transcript)))
    except (OSError, ValueError):  # notes from another version, damaged: left as the notes stage wrote them
        return False
    text = render_markdown(named)
    if ws.notes_md.is_file() and ws.notes_md.read_text(encoding="utf-8") == text:
        return True
    _restamp(ws, "notes", [ws.notes_json, ws.notes_md], lambda: write_text_atomic(ws.notes_md, text))
    return True


__all__ = [
    "Introduction",
    "OVERRIDES_FILE",
    "Override",
    "Participant",
    "build_speaker_map",
    "check_llm_introductions",
    "llm_introductions",
    "display_labels",
    "enrolled_reps_present",
    "find_introductions",
    "introductions_in",
    "same_person",
    "name_notes",
    "name_notes_md",
    "names_stage",
    "seller_companies",
    "speaker_count_hint",
    "norm_company",
    "parse_participants",
    "read_overrides",
    "side_of_company",
    "unnamed_label",
    "with_enrolled_min_speakers",
    "write_overrides",
]
