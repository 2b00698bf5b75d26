"""Named speakers: voice enrollment and matching diarized speakers to enrolled profiles.

A profile is a CAM++ embedding (the model diarization uses) averaged over the clean speech of
one or more clips, stored with the model's identity in a local SQLite file
(``speakers.store_path``). At processing time each diarized speaker gets an embedding from its
one-speaker-at-a-time turns; profiles and speakers are paired one-to-one (Hungarian assignment
on cosine similarity) and a pair is named only at or above ``speakers.match_threshold``
(calibrated in ``benchmarks/speaker_naming.py``; see docs/report.md).

Enrollment refuses clips it cannot trust: silence, under ``min_speech_s`` of speech, or a
second voice (diarization of the clip finds another speaker talking more than
``max_other_voice_s``). A store that is not a valid database is reported, never reset.

Each profile carries the record of the speaker's consent (:class:`Consent`: who gave it, when,
how, who recorded it) and where the voice came from (``source``: clips, or ``meeting:<id>`` for
``relabel --enroll``). Removing a profile erases the voiceprint from the file itself
(``secure_delete`` and ``VACUUM``: no copy left in free pages or the journal).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from meeting_notes.analytics import SpeakerLabel
from meeting_notes.audio import is_silent, load_audio
from meeting_notes.clock import now_iso
from meeting_notes.errors import InputError, MeetingNotesError
from meeting_notes.hashing import file_sha256
from meeting_notes.model_registry import resolve_model
from meeting_notes.schema import Diarization, Side, SpeakerTurn
from meeting_notes.settings import SpeakerSettings

Role = Literal["rep", "customer"]
ROLE_SIDE: dict[str, Side] = {"rep": "seller", "customer": "customer"}


class SpeakerError(MeetingNotesError):
    """A speaker-store or enrollment problem, with a plain message."""


class EnrollmentError(InputError):
    """An enrollment clip that cannot make a trustworthy profile (silence, too short, two voices)."""


class SpeakerStoreError(SpeakerError):
    """The speaker store cannot be read (corrupt, not a database, wrong schema)."""


class Consent(BaseModel):
    """The speaker's consent to keep their voiceprint: who gave it, when and how, and who
    recorded it when."""

    given_by: str = Field(description="Who consented: the speaker, or who speaks for them.")
    given_at: str = Field(description="When (ISO date or time), as stated.")
    method: str = Field(description="How: e.g. 'written form', 'verbal, on the recording at 00:12'.")
    recorded_by: str = Field(description="Who enrolled the voice (the operator's user name).")
    recorded_at: str = Field(description="When the consent was recorded here (UTC).")


class Profile(BaseModel):
    id: int
    name: str
    role: Role | None = None
    company: str | None = None
    model: str = Field(description="Embedding model identity: name and checkpoint sha256 prefix.")
    speech_seconds: float
    clips: int
    created_at: str
    embedding: list[float] = Field(repr=False)
    consent: Consent | None = Field(None, description="None: enrolled without a consent record (an older store, relabel --enroll).")
    source: str | None = Field(None, description="'clips', or 'meeting:<meeting id>' for a voice learnt from a meeting.")

    @property
    def side(self) -> Side:
        return ROLE_SIDE.get(self.role or "", "unknown")


class SpeakerMatch(BaseModel):
    """A diarized speaker named after an enrolled profile."""

    speaker: str
    profile_id: int
    name: str
    side: Side
    score: float = Field(description="Cosine similarity of the speaker's and the profile's embeddings.")
    source: Literal["enrolled"] = "enrolled"


# ---------------------------------------------------------------- the store

_SCHEMA = """
CREATE TABLE IF NOT EXISTS profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT,
    company TEXT,
    model TEXT NOT NULL,
    speech_seconds REAL NOT NULL,
    clips INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    embedding BLOB NOT NULL
);
"""
_COLUMNS = ("id", "name", "role", "company", "model", "speech_seconds", "clips", "created_at", "embedding")
_CONSENTS = """
CREATE TABLE IF NOT EXISTS consents (
    profile_id INTEGER PRIMARY KEY,
    given_by TEXT,
    given_at TEXT,
    method TEXT,
    recorded_by TEXT,
    recorded_at TEXT,
    source TEXT
);
"""
_CONSENT_COLUMNS = ("given_by", "given_at", "method", "recorded_by", "recorded_at")
_TABLES = {"profiles", "consents", "sqlite_sequence"}


class SpeakerStore:
    """Enrolled profiles in one SQLite file. A file that is not this store raises
    :class:`SpeakerStoreError` and is left as it is."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).expanduser()

    def _connect(self, create: bool) -> sqlite3.Connection:
        if not self.path.exists() and not create:
            raise FileNotFoundError(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            con = sqlite3.connect(self.path)
            con.execute("PRAGMA quick_check").fetchall()
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if "profiles" in tables:
                cols = tuple(r[1] for r in con.execute("PRAGMA table_info(profiles)"))
                if cols != _COLUMNS:
                    raise SpeakerStoreError(f"{self.path}: not a speaker store (profiles table has columns {cols}).")
                if tables - _TABLES:
                    raise SpeakerStoreError(f"{self.path}: not a speaker store (tables {sorted(tables)}).")
                if "consents" not in tables:  # a store from before consent records
                    con.executescript(_CONSENTS)
            elif tables:
                raise SpeakerStoreError(f"{self.path}: not a speaker store (tables {sorted(tables)}).")
            else:
                con.executescript(_SCHEMA + _CONSENTS)
            con.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten, not left in free pages
            return con
        except sqlite3.DatabaseError as exc:
            raise SpeakerStoreError(
                f"{self.path}: the speaker store is corrupt or not a database ({exc}); it was left as it is. "
                "Move it aside and enroll again, or set speakers.store_path."
            ) from exc

    def profiles(self) -> list[Profile]:
        """Every profile (empty when the store does not exist yet)."""
        if not self.path.exists():
            return []
        con = self._connect(create=False)
        try:
            rows = con.execute(
                f"SELECT {', '.join('p.' + c for c in _COLUMNS)}, {', '.join('c.' + c for c in _CONSENT_COLUMNS)}, c.source "
                "FROM profiles p LEFT JOIN consents c ON c.profile_id = p.id ORDER BY p.id"
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise SpeakerStoreError(f"{self.path}: the speaker store is corrupt ({exc}); it was left as it is.") from exc
        finally:
            con.close()
        out = []
        for r in rows:
            emb = np.frombuffer(r[8], dtype=np.float32)
            if emb.size == 0 or not np.all(np.isfinite(emb)):
                raise SpeakerStoreError(f"{self.path}: profile {r[1]!r} has a damaged embedding; it was left as it is.")
            consent = dict(zip(_CONSENT_COLUMNS, r[9:14], strict=True))
            out.append(Profile(**dict(zip(_COLUMNS[:8], r[:8], strict=False)), embedding=emb.tolist(),
                               consent=Consent(**consent) if consent["given_by"] else None, source=r[14]))
        return out

    def add(self, name: str, embedding: np.ndarray, model: str, speech_seconds: float, clips: int,
            role: Role | None = None, company: str | None = None, replace: bool = False,
            consent: Consent | None = None, source: str | None = None) -> Profile:
        """Store a profile (with its consent record and source); an existing name is refused
        unless ``replace``, which erases the old voiceprint."""
        name = name.strip()
        if not name:
            raise SpeakerError("a speaker needs a name")
        con = self._connect(create=True)
        try:
            with con:
                if replace:
                    con.execute("DELETE FROM consents WHERE profile_id IN (SELECT id FROM profiles WHERE name = ?)", (name,))
                    con.execute("DELETE FROM profiles WHERE name = ?", (name,))
                elif con.execute("SELECT 1 FROM profiles WHERE name = ?", (name,)).fetchone():
                    raise SpeakerError(f"a speaker named {name!r} is already enrolled (use --replace to re-enroll)")
                con.execute(
                    "INSERT INTO profiles (name, role, company, model, speech_seconds, clips, created_at, embedding) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (name, role, company, model, float(speech_seconds), int(clips),
                     now_iso(),
                     np.asarray(embedding, dtype=np.float32).tobytes()),
                )
                con.execute(
                    "INSERT INTO consents (profile_id, given_by, given_at, method, recorded_by, recorded_at, source) "
                    "VALUES (last_insert_rowid(), ?, ?, ?, ?, ?, ?)",
                    (*(getattr(consent, c) if consent else None for c in _CONSENT_COLUMNS), source),
                )
        finally:
            con.close()
        return next(p for p in self.profiles() if p.name == name)

    def remove(self, name_or_id: str) -> Profile:
        """Delete a profile by name or id; an unknown one is refused with the list of names."""
        profiles = self.profiles()
        hit = [p for p in profiles if p.name == name_or_id or str(p.id) == name_or_id]
        if not hit:
            names = ", ".join(p.name for p in profiles) or "none"
            raise SpeakerError(f"no enrolled speaker {name_or_id!r} (enrolled: {names})")
        self._erase([hit[0].id])
        return hit[0]

    def remove_source(self, source: str) -> list[Profile]:
        """Erase every profile learnt from ``source`` (``meeting:<id>``); the removed ones."""
        hit = [p for p in self.profiles() if p.source == source]
        if hit:
            self._erase([p.id for p in hit])
        return hit

    def _erase(self, ids: list[int]) -> None:
        """Delete the profiles and their consent records, overwriting the deleted bytes
        (``secure_delete``), then rebuild the file (``VACUUM``) so that no page keeps a copy."""
        con = self._connect(create=False)
        try:
            with con:
                for pid in ids:
                    con.execute("DELETE FROM consents WHERE profile_id = ?", (pid,))
                    con.execute("DELETE FROM profiles WHERE id = ?", (pid,))
            con.execute("VACUUM")
        finally:
            con.close()


# ---------------------------------------------------------------- embeddings


@dataclass
class _Embedder:
    model: Any
    identity: str


_EMBEDDERS: dict[str, _Embedder] = {}
_LOCK = threading.Lock()


def load_embedder(settings: Any) -> _Embedder:
    """The CAM++ model of ``settings.diarization.embedding_model``, loaded once per process,
    with its identity (name + checkpoint sha256 prefix)."""
    from meeting_notes.campplus import CamPlusPlus  # deferred: torch takes seconds to import, only enrollment needs it

    name = settings.diarization.embedding_model
    with _LOCK:
        if name not in _EMBEDDERS:
            resolved = resolve_model(name, settings, kind="speaker-embedding")
            path = Path(resolved.path)
            digest = file_sha256(path) if path.is_file() else hashlib.sha256(str(path).encode()).hexdigest()
            _EMBEDDERS[name] = _Embedder(CamPlusPlus.from_checkpoint(path), f"{name}@{digest[:12]}")
        return _EMBEDDERS[name]


def _speech(waveform: np.ndarray, turns: Sequence[SpeakerTurn], sr: int, max_s: float) -> np.ndarray:
    """The audio of ``turns`` (longest first, up to ``max_s``), concatenated in time order."""
    chosen, total = [], 0.0
    for t in sorted(turns, key=lambda t: t.end - t.start, reverse=True):
        if total >= max_s:
            break
        chosen.append(t)
        total += t.end - t.start
    chosen.sort(key=lambda t: t.start)
    parts = [waveform[int(t.start * sr): int(t.end * sr)] for t in chosen]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def embed_speech(audio: np.ndarray, embedder: _Embedder, cfg: SpeakerSettings, sr: int = 16000) -> np.ndarray | None:
    """L2-normalised mean of the normalised embeddings of ``window_s`` windows; None when too short."""
    import torch

    win, min_win = int(cfg.window_s * sr), int(cfg.min_window_s * sr)
    chunks = [audio[i: i + win] for i in range(0, len(audio), win)]
    chunks = [c for c in chunks if len(c) >= min_win]
    if not chunks:
        return None
    vecs = []
    threads = torch.get_num_threads()
    if cfg.embed_threads > 0:
        torch.set_num_threads(cfg.embed_threads)
    try:
        with torch.inference_mode():
            for c in chunks:  # windows differ in length: one at a time (CPU-cheap at 10 s)
                x = torch.from_numpy(np.ascontiguousarray(c, dtype=np.float32))[None, None]
                v = embedder.model(x)[0].numpy().astype(np.float64)
                vecs.append(v / (np.linalg.norm(v) or 1.0))
    finally:
        torch.set_num_threads(threads)
    mean = np.mean(vecs, axis=0)
    return (mean / (np.linalg.norm(mean) or 1.0)).astype(np.float32)


def speaker_embeddings(
    waveform: np.ndarray, diarization: Diarization, embedder: _Embedder, cfg: SpeakerSettings, sr: int = 16000
) -> dict[str, tuple[np.ndarray, float]]:
    """Each diarized speaker's embedding from their one-speaker-at-a-time turns, with the
    seconds of speech it comes from (speakers with too little speech are left out)."""
    by: dict[str, list[SpeakerTurn]] = {}
    for t in diarization.exclusive_turns:
        by.setdefault(t.speaker, []).append(t)
    out = {}
    for spk, turns in by.items():
        audio = _speech(waveform, turns, sr, cfg.max_embed_s)
        emb = embed_speech(audio, embedder, cfg, sr)
        if emb is not None:
            out[spk] = (emb, len(audio) / sr)
    return out


# ---------------------------------------------------------------- enrollment and matching


def clean_speech(waveform: np.ndarray, settings: Any, label: str, sr: int = 16000) -> np.ndarray:
    """The main voice's one-speaker-at-a-time speech in an enrollment clip; refuses silence and
    clips where a second voice talks longer than ``max_other_voice_s``."""
    cfg = speaker_settings(settings)
    if waveform.size == 0 or is_silent(waveform, settings.audio):
        raise EnrollmentError(f"{label}: silence, no voice to enroll")
    from meeting_notes.diarize import diarize  # deferred: torch and pyannote load only for a clip worth diarizing

    d = diarize(waveform, settings, sample_rate=sr)
    talk: dict[str, float] = {}
    for t in d.exclusive_turns:
        talk[t.speaker] = talk.get(t.speaker, 0.0) + t.end - t.start
    if not talk:
        raise EnrollmentError(f"{label}: no speech found (silence, noise or music?)")
    ranked = sorted(talk.items(), key=lambda kv: kv[1], reverse=True)
    if len(ranked) > 1 and ranked[1][1] > cfg.max_other_voice_s:
        raise EnrollmentError(
            f"{label}: two voices ({ranked[0][1]:.1f} s and {ranked[1][1]:.1f} s); enroll from a clip of one speaker"
        )
    return _speech(waveform, [t for t in d.exclusive_turns if t.speaker == ranked[0][0]], sr, cfg.max_embed_s)


def enroll(
    name: str, clips: Sequence[Path], settings: Any, role: Role | None = None, company: str | None = None,
    replace: bool = False, consent: Consent | None = None,
) -> Profile:
    """Make and store a profile from the clean speech of ``clips``, with the speaker's ``consent``."""
    cfg = speaker_settings(settings)
    store = SpeakerStore(cfg.store_path)
    store.profiles()  # a corrupt store is reported before any model work
    if not clips:
        raise EnrollmentError("no audio clip given")
    sr = settings.audio.sample_rate
    speech = [clean_speech(load_audio(Path(c), settings.audio), settings, str(c), sr) for c in clips]
    total = sum(len(s) for s in speech) / sr
    if total < cfg.min_speech_s:
        raise EnrollmentError(
            f"only {total:.1f} s of clear speech in {len(clips)} clip(s); at least {cfg.min_speech_s:g} s are needed"
        )
    embedder = load_embedder(settings)
    emb = embed_speech(np.concatenate(speech), embedder, cfg, sr)
    if emb is None:
        raise EnrollmentError("the speech is too fragmented to make a voice profile")
    return store.add(name, emb, embedder.identity, total, len(clips), role=role, company=company, replace=replace,
                     consent=consent, source="clips")


def enroll_from_meeting(
    name: str, waveform: np.ndarray, diarization: Diarization, speaker: str, settings: Any,
    role: Role | None = None, company: str | None = None, replace: bool = False, sr: int = 16000,
    meeting_id: str | None = None, consent: Consent | None = None,
) -> Profile:
    """Learn a voice from one diarized speaker of a meeting (``relabel --enroll``): the speaker's
    one-speaker-at-a-time turns (no overlapped speech), at least ``min_speech_s`` of them. The
    profile's source is ``meeting:<meeting_id>``: forgetting that meeting erases it."""
    cfg = speaker_settings(settings)
    store = SpeakerStore(cfg.store_path)
    store.profiles()  # a corrupt store is reported before any model work
    turns = [t for t in diarization.exclusive_turns if t.speaker == speaker]
    speech = _speech(waveform, turns, sr, cfg.max_embed_s) if turns else np.zeros(0, dtype=np.float32)
    seconds = len(speech) / sr
    if seconds < cfg.min_speech_s:
        raise EnrollmentError(
            f"{speaker} has only {seconds:.1f} s of speech without overlap; at least {cfg.min_speech_s:g} s "
            "are needed to enroll a voice"
        )
    embedder = load_embedder(settings)
    emb = embed_speech(speech, embedder, cfg, sr)
    if emb is None:
        raise EnrollmentError(f"{speaker}: the speech is too fragmented to make a voice profile")
    return store.add(name, emb, embedder.identity, seconds, 1, role=role, company=company, replace=replace,
                     consent=consent, source=f"meeting:{meeting_id}" if meeting_id else "meeting")


def assign(
    scores: dict[str, dict[int, float]], threshold: float
) -> dict[str, tuple[int, float]]:
    """One profile to at most one speaker: the assignment maximising total similarity, pairs
    below ``threshold`` dropped."""
    from scipy.optimize import linear_sum_assignment

    speakers = sorted(scores)
    profiles = sorted({p for row in scores.values() for p in row})
    if not speakers or not profiles:
        return {}
    m = np.array([[scores[s].get(p, -1.0) for p in profiles] for s in speakers])
    rows, cols = linear_sum_assignment(-m)
    return {speakers[r]: (profiles[c], float(m[r, c])) for r, c in zip(rows, cols, strict=False) if m[r, c] >= threshold}


def identify_speakers(
    waveform: np.ndarray, diarization: Diarization, settings: Any, profiles: Sequence[Profile] | None = None,
    sr: int = 16000,
) -> dict[str, SpeakerMatch]:
    """Name diarized speakers after enrolled profiles (see the module docstring). Profiles made
    with another embedding model are ignored."""
    cfg = speaker_settings(settings)
    profiles = SpeakerStore(cfg.store_path).profiles() if profiles is None else list(profiles)
    if not profiles or not diarization.exclusive_turns:
        return {}
    embedder = load_embedder(settings)
    usable = {p.id: p for p in profiles if p.model == embedder.identity}
    if not usable:
        return {}
    embs = speaker_embeddings(waveform, diarization, embedder, cfg, sr)
    scores = {
        spk: {pid: float(np.dot(e, np.asarray(p.embedding, dtype=np.float32))) for pid, p in usable.items()}
        for spk, (e, _) in embs.items()
    }
    return {
        spk: SpeakerMatch(speaker=spk, profile_id=pid, name=usable[pid].name, side=usable[pid].side, score=round(s, 4))
        for spk, (pid, s) in assign(scores, cfg.match_threshold).items()
    }


def speaker_labels(matches: dict[str, SpeakerMatch]) -> dict[str, Any]:
    """Matches as analytics labels (``compute_analytics(..., labels=...)``)."""
    return {
        spk: SpeakerLabel(name=m.name, side=m.side)
        for spk, m in matches.items()
    }


def speaker_settings(settings: Any) -> SpeakerSettings:
    """``settings.speakers``: the enrollment store and matching settings."""
    return settings.speakers
