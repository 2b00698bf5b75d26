"""What every pass shares: the run of one meeting (:class:`PassRun`: its inputs, its calls to the
model, window by window, and the evidence it cites), the output models' base, and a candidate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from meeting_notes.notes.evidence import normalize
from meeting_notes.notes.llm_client import LLMClient, LLMError
from meeting_notes.notes.passes.words import quote_from, supports
from meeting_notes.notes.prompts import PassPrompts, pass_messages
from meeting_notes.notes.schema import Evidence, extraction_json_schema

#: Context shown beside a candidate amount or date, in characters.
CONTEXT_CHARS = 110
#: Pass errors that leave the pass's fields empty instead of failing the meeting.
PASS_ERRORS = frozenset({"invalid_output", "context_length_exceeded", "empty_response"})


def _lim(n: int) -> Any:
    return Field(default_factory=list, json_schema_extra={"maxItems": n})


class _Out(BaseModel):
    model_config = ConfigDict(extra="ignore")


class LabelsOut(_Out):
    """One label per candidate: {"M1": "price", "M2": "budget", ...} (money, next steps)."""

    model_config = ConfigDict(extra="allow")


def _schema(model: type[BaseModel], enums: dict[tuple[str, ...], list[str]] | None = None) -> dict[str, Any]:
    """The pass's JSON schema, with some string fields restricted to the listed values."""
    schema = extraction_json_schema(model)
    for path, values in (enums or {}).items():
        node = schema
        for key in path:
            node = node["properties"][key] if key != "[]" else node["items"]
        node.pop("type", None)
        node["enum"] = values
    return schema


# -- running the passes ------------------------------------------------------------------
@dataclass(frozen=True)
class Window:
    """A stretch of the transcript the model reads in one prompt prefix: ``shared_user`` holds
    its lines (``ids``, with a few lines of the previous window as context); the candidates said
    in its ``own`` segments are asked about in it."""

    shared_user: str
    ids: frozenset[int]
    own: frozenset[int]


@dataclass
class PassRun:
    """Inputs shared by the passes of one meeting, and what each pass did.

    ``texts`` holds every segment: the rules read them all. ``shared_user`` is the prefix of the
    people and rest passes (the whole transcript when it fits one window, else a digest: the
    opening, the close and the lines with the most cues). With ``windows``, the candidate
    passes (money, competitors, next steps) ask about each window's candidates in that window's
    own prefix, so a long meeting is read whole in as many calls as it needs; without, everything
    is asked in ``shared_user``. ``read`` collects the segments the model has read."""

    client: LLMClient
    prompts: PassPrompts
    shared_user: str
    language: str
    texts: dict[int, str]  # segment id -> text, every segment
    anchor: dt.date | None
    anchor_guessed: bool
    max_tokens: int
    speakers: dict[int, str] = field(default_factory=dict)  # segment id -> SPEAKER label
    statuses: dict[str, str] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)
    windows: list[Window] = field(default_factory=list)
    shared_ids: frozenset[int] | None = None  # the segments in shared_user (None: all)
    read: set[int] = field(default_factory=set)
    on_call: Callable[[str], None] | None = None  # progress: called before each model call
    _recording: list[tuple[str, str, type[BaseModel], dict[str, Any], Window | None]] | None = None
    _answers: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    @property
    def ja(self) -> bool:
        return self.language.startswith("ja")

    def candidate_windows(self) -> list[Window]:
        """The windows the candidate passes ask in (one: the shared prefix, when not windowed)."""
        if self.windows:
            return self.windows
        ids = frozenset(self.texts) if self.shared_ids is None else self.shared_ids
        return [Window(self.shared_user, ids, frozenset(self.texts))]

    def window_of(self, seg: int) -> int:
        """Index of the window that asks about a candidate said in segment ``seg``."""
        return next((k for k, w in enumerate(self.candidate_windows()) if seg in w.own), 0)

    def ask(
        self, name: str, question: str, model: type[BaseModel], schema: dict[str, Any], window: Window | None = None
    ) -> Any:
        """One pass's call in ``window``'s prefix (default: the shared one); None (recorded) when
        the answer stays invalid. A pass asked in several windows keeps its first failure."""
        prefix = window.shared_user if window is not None else self.shared_user
        if self._recording is not None:  # see in_window_order
            self._recording.append((name, question, model, schema, window))
            return None
        key = (name, question, prefix)
        if key in self._answers:
            return self._answers.pop(key)
        if self.on_call is not None:
            self.on_call(name)
        messages = pass_messages(self.prompts, prefix, question)
        try:
            result = self.client.complete(
                messages, model, schema, f"notes_{name}", self.prompts.version_id, max_tokens=self.max_tokens
            )
        except LLMError as exc:
            if exc.code in PASS_ERRORS:
                self.statuses[name] = exc.code
                return None
            raise
        if self.statuses.get(name) in (None, "ok", "rules", "skipped"):
            self.statuses[name] = "ok"
        if window is not None:
            self.read |= window.ids
        else:
            self.read |= set(self.texts) if self.shared_ids is None else self.shared_ids
        return result.value

    def label(
        self, name: str, question: str, ids: list[str], values: tuple[str, ...], window: Window | None = None
    ) -> dict[str, str] | None:
        """One pass that gives each candidate id one of ``values`` (every id required); None
        (recorded) when the answer stays invalid."""
        properties = {i: {"enum": list(values)} for i in ids}
        schema = {"type": "object", "properties": properties, "required": list(ids), "additionalProperties": False}
        out: LabelsOut | None = self.ask(name, question, LabelsOut, schema, window)
        if out is None:
            return None
        return {k: str(v) for k, v in (out.model_extra or {}).items() if k in properties}

    def in_window_order(self, passes: Callable[[], Any]) -> Any:
        """Run ``passes`` (a function making :meth:`ask` calls that do not depend on each
        other's answers) with their calls sent window by window: the server keeps one prompt
        prefix in its cache, so a window's questions are asked one after another and each
        window is read once, not once per pass. The calls are recorded by a dry run, sent in
        window order, and their answers handed back when ``passes`` runs again."""
        if len(self.windows) < 2:
            return passes()
        self._recording = []
        saved = (dict(self.statuses), dict(self.info))
        try:
            passes()
            recorded = self._recording
        finally:
            self._recording = None
        self.statuses, self.info = saved
        order = {w.shared_user: k for k, w in enumerate(self.windows)}
        recorded.sort(key=lambda r: order.get(r[4].shared_user, -1) if r[4] is not None else -1)  # stable
        for name, question, model, schema, window in recorded:
            prefix = window.shared_user if window is not None else self.shared_user
            self._answers[(name, question, prefix)] = self.ask(name, question, model, schema, window)
        return passes()

    def by_window(self, segs: Iterable[tuple[str, int]], size: int) -> list[tuple[Window, list[str]]]:
        """Candidate ids (with their segments) grouped by the window that asks about them, at
        most ``size`` ids a call, in transcript order."""
        windows = self.candidate_windows()
        groups: dict[int, list[str]] = {}
        for cid, seg in segs:
            groups.setdefault(self.window_of(seg), []).append(cid)
        out = []
        for k in sorted(groups):
            ids = groups[k]
            out += [(windows[k], ids[i : i + size]) for i in range(0, len(ids), size)]
        return out

    # evidence --------------------------------------------------------------------------
    def find_segment(self, key: str, prefer: int = -1) -> int:
        """``prefer`` when it holds ``key`` (or no key is given), else the first segment that does."""
        nkey = normalize(key)
        if prefer in self.texts and (not nkey or nkey in normalize(self.texts[prefer])):
            return prefer
        if nkey:
            for sid, text in self.texts.items():
                if nkey in normalize(text):
                    return sid
        return prefer if prefer in self.texts else -1

    def evidence(self, seg: int, key: str = "", about: str = "") -> list[Evidence]:
        """Evidence from the cited segment: the one holding ``key`` (a name, the due words), or,
        for a free-text item, the cited segment or a near one that supports ``about``; none
        (the item is then dropped by the check) when no segment does."""
        if key:
            sid = self.find_segment(key, seg)
        else:
            near = [seg] + [seg + d for d in (-1, 1, -2, 2)]
            sid = next((i for i in near if i in self.texts and supports(self.texts[i], about)), -1) if about else seg
        if sid not in self.texts:
            return []
        return [Evidence(segment_ids=[sid], quote=quote_from(self.texts[sid], key, about))]


@dataclass(frozen=True)
class Candidate:
    id: str
    seg: int
    said: str
    sentence: str
    resolved: str = ""


def _context(sentence: str, said: str) -> str:
    if len(sentence) <= CONTEXT_CHARS:
        return sentence
    at = max(0, sentence.find(said))
    start = max(0, min(at - CONTEXT_CHARS // 3, len(sentence) - CONTEXT_CHARS))
    return "…" + sentence[start : start + CONTEXT_CHARS] + "…"
