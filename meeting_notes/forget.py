"""``meeting-notes forget``: remove every trace of a meeting, of an account's meetings, or of a voice.

A meeting's data lives in:

* its folder (transcripts, notes, ``crm.json``, ``run.json``, the report, the decoded audio);
* the inbox: the recording and its sidecar in ``done/`` (or ``failed/``) with their notes, and
  ``.ledger/<sha256>.json`` / ``.claim``;
* the LLM response cache (found through its meeting index, :mod:`meeting_notes.notes.cache`);
* the CRM delivery ledger (its rows for the meeting; SQLite rows are overwritten and the file
  rebuilt, so no free page keeps them);
* Prefect: the meeting's flow runs (their parameters, task runs and logs) and artifacts, deleted
  through the Prefect API; rows of other artifacts (the sweep's and batch's tables) that name it;
* llama-server logs: the lines that quote the meeting's transcript or notes;
* the speaker store: voices learnt from the meeting (``relabel --enroll``);
* with ``--crm``, the CRM records this project created (Salesforce: deleted, to its recycle bin;
  HubSpot: archived; a webhook receives a signed ``meeting_notes.deleted`` event).

Remote copies go first: when the CRM or the Prefect API cannot be reached the command stops with
the reason and removes nothing, so that the ids it needs are still there for the next try.
Running it again finds nothing left (idempotent). Every removal is printed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.engine import make_url

from meeting_notes.clock import utc_now
from meeting_notes.crm.credentials import hubspot_credential, salesforce_credential, webhook_secret
from meeting_notes.crm.errors import CRMError
from meeting_notes.crm.http import RetryingClient
from meeting_notes.crm.inputs import read_state
from meeting_notes.crm.ledger import Ledger, default_url, deliveries
from meeting_notes.crm.mapping import meeting_key
from meeting_notes.crm.senders import webhook_signature
from meeting_notes.errors import MeetingNotesError
from meeting_notes.hashing import file_sha256
from meeting_notes.inbox import InboxLayout, is_regular_file
from meeting_notes.notes.cache import ResponseCache
from meeting_notes.settings import CRMSettings, Settings
from meeting_notes.sidecar import sidecar_path
from meeting_notes.speakers import SpeakerStore
from meeting_notes.workspace import LEASE_FILE, MeetingWorkspace

#: Prefect artifact key prefixes written per meeting (flows/meeting.py, flows/crm.py)
ARTIFACT_PREFIXES = ("report", "notes", "stage-timings", "crm")
#: the flows whose runs belong to one meeting
MEETING_FLOWS = ("process-meeting",)
_NEEDLE_MIN = 12  # shorter transcript snippets are too common to identify a meeting in a log


class ForgetError(MeetingNotesError):
    """A copy could not be removed (the CRM or Prefect cannot be reached); nothing local was removed."""


@dataclass
class ForgetReport:
    """What was removed (one line per store) and what was left, with why."""

    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.removed.append(what)


@dataclass
class Traces:
    """What identifies a meeting in the stores, read before anything is removed."""

    folder: Path
    meeting_id: str
    audio_sha256: set[str] = field(default_factory=set)
    audio_paths: set[str] = field(default_factory=set)
    flow_run_ids: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)
    crm_ids: dict[str, dict[str, str]] = field(default_factory=dict)  # target -> key -> record id

    @property
    def artifact_slugs(self) -> list[str]:
        return [_artifact_key(p, self.meeting_id) for p in ARTIFACT_PREFIXES]

    @property
    def identities(self) -> set[str]:
        """Strings that name this meeting and no other: its id and the full paths of its audio."""
        return {self.meeting_id, *self.audio_paths, *self.audio_sha256}


def _artifact_key(prefix: str, meeting_id: str) -> str:
    """The key flows/meeting.py (``artifact_key``) and flows/crm.py give this meeting's artifacts."""
    slug = re.sub(r"[^a-z0-9-]+", "-", meeting_id.lower()).strip("-")
    return f"{prefix}-{slug}"[:100]


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def read_traces(folder: Path, inbox: InboxLayout | None = None) -> Traces:
    """The meeting's identifiers and texts, from its folder (and the inbox's records of it)."""
    folder = Path(folder)
    t = Traces(folder=folder, meeting_id=folder.name)
    transcript = _json(folder / "transcript.json") or {}
    audio = transcript.get("audio") if isinstance(transcript, dict) else None
    if isinstance(audio, dict):
        if audio.get("sha256"):
            t.audio_sha256.add(str(audio["sha256"]))
        if audio.get("path"):
            t.audio_paths.add(str(audio["path"]))
    for seg in transcript.get("segments", []) if isinstance(transcript, dict) else []:
        if isinstance(seg, dict) and isinstance(seg.get("text"), str):
            t.texts.add(seg["text"].strip())
    run = _json(folder / "run.json") or {}
    run_id = (run.get("extra") or {}).get("prefect_flow_run_id") if isinstance(run, dict) else None
    if run_id:
        t.flow_run_ids.add(str(run_id))
    t.texts.update(s.strip() for s in _strings(_json(folder / "notes.json") or {}))
    t.texts = {s for s in t.texts if len(s) >= _NEEDLE_MIN}
    state = read_state(folder) if folder.is_dir() else {}
    for target, info in (state.get("deliveries") or {}).items():
        if isinstance(info, dict) and isinstance(info.get("record_ids"), dict):
            t.crm_ids.setdefault(target, {}).update({str(k): str(v) for k, v in info["record_ids"].items()})
    if inbox is not None:  # the inbox's record of this meeting gives the hash when the folder is gone
        for record in inbox.ledger.glob("*.json"):
            data = _json(record)
            if isinstance(data, dict) and data.get("meeting_dir") and Path(data["meeting_dir"]).name == t.meeting_id:
                t.audio_sha256.add(record.stem)
    return t


# ------------------------------------------------------------------ local stores


def _remove_folder(t: Traces, report: ForgetReport) -> None:
    if not t.folder.exists():
        return
    files = sum(1 for p in t.folder.rglob("*") if p.is_file())
    shutil.rmtree(t.folder)
    report.add(f"meeting folder {t.folder} ({files} files: transcripts, notes, crm.json, run.json, report)")


class InboxHashes:
    """sha256 of the files under an inbox's done/ and failed/, computed once per forget run."""

    def __init__(self, layout: InboxLayout) -> None:
        self.layout = layout
        self._known: dict[Path, tuple[tuple[int, int], str]] = {}

    def files_with(self, sha: str) -> list[Path]:
        out = []
        for folder in (self.layout.done, self.layout.failed, self.layout.processing):
            if not folder.is_dir():
                continue
            for path in sorted(folder.iterdir()):
                if not is_regular_file(path) or path.name.endswith((".json",)):
                    continue
                st = path.stat()
                sig = (st.st_size, st.st_mtime_ns)
                known = self._known.get(path)
                if known is None or known[0] != sig:
                    known = (sig, file_sha256(path))
                    self._known[path] = known
                if known[1] == sha:
                    out.append(path)
        return out


def _remove_inbox(t: Traces, hashes: InboxHashes | None, report: ForgetReport) -> None:
    if hashes is None:
        return
    layout = hashes.layout
    for sha in sorted(t.audio_sha256):
        for path in hashes.files_with(sha):
            companions = [sidecar_path(path)] + [path.with_name(path.name + s) for s in (".duplicate.json", ".error.json")]
            path.unlink()
            gone = [c for c in companions if c.exists()]
            for c in gone:
                c.unlink()
            report.add(f"inbox copy {path}" + (f" and {', '.join(c.name for c in gone)}" if gone else ""))
        for record in (layout.ledger / f"{sha}.json", layout.ledger / f"{sha}.claim"):
            if record.exists():
                record.unlink()
                report.add(f"inbox ledger record {record}")


def _llm_cache(settings: Settings) -> ResponseCache:
    return ResponseCache(settings.llm.cache_dir or (settings.cache_dir / "llm-responses"))


def _remove_llm_cache(t: Traces, settings: Settings, report: ForgetReport) -> None:
    cache = _llm_cache(settings)
    removed = cache.forget_meeting(t.meeting_id)
    if removed:
        report.add(f"LLM response cache: {len(removed) - 1} entries and the meeting's index under {cache.root}")


def _ledger_url(settings: CRMSettings, folder: Path) -> str:
    return settings.ledger_url or default_url(Path(folder).resolve().parent)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    return Path(parsed.database) if parsed.get_backend_name() == "sqlite" and parsed.database else None


@contextmanager
def _meeting_ledger(t: Traces, settings: CRMSettings) -> Iterator[tuple[Ledger, str, Path | None] | None]:
    """The CRM ledger this meeting's deliveries went to, with its URL and (for SQLite) its file;
    None when that file does not exist (nothing was ever delivered, nothing to create)."""
    url = _ledger_url(settings, t.folder)
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        yield None
        return
    ledger = Ledger(url)
    try:
        yield ledger, url, path
    finally:
        ledger.close()


def _ledger_ids(t: Traces, settings: CRMSettings) -> None:
    """The CRM record ids the ledger holds for this meeting (added to ``t.crm_ids``)."""
    with _meeting_ledger(t, settings) as opened:
        if opened is None:
            return
        for row in opened[0].all():
            if row.meeting_id == t.meeting_id:
                t.crm_ids.setdefault(row.target, {}).update(row.record_ids)


def _remove_ledger_rows(t: Traces, settings: CRMSettings, report: ForgetReport) -> None:
    with _meeting_ledger(t, settings) as opened:
        if opened is None:
            return
        ledger, url, path = opened
        with ledger.engine.begin() as conn:
            if path is not None:
                conn.execute(text("PRAGMA secure_delete = ON"))  # the deleted rows' bytes are overwritten
            ids = [r[0] for r in conn.execute(select(deliveries.c.id).where(deliveries.c.meeting_id == t.meeting_id))]
            if ids:
                conn.execute(delete(deliveries).where(deliveries.c.id.in_(ids)))
        if ids and path is not None:
            with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM"))  # no free page, journal or WAL keeps a copy
        if ids:
            report.add(f"CRM delivery ledger: {len(ids)} row(s) in {make_url(url).render_as_string(hide_password=True)}")


def _log_needles(t: Traces) -> list[bytes]:
    out: set[bytes] = set()
    for s in t.texts | t.identities:
        out.add(s.encode("utf-8"))
        out.add(json.dumps(s)[1:-1].encode("utf-8"))  # as a JSON log line escapes it
    return sorted(out)


def _remove_log_lines(t: Traces, settings: Settings, report: ForgetReport) -> None:
    """Drop the lines of the llama-server logs that quote the meeting, in place (the server keeps
    appending to the same file)."""
    needles = _log_needles(t)
    for log in sorted((settings.cache_dir / "logs").glob("llama-server-*.log")):
        with open(log, "r+b") as fh:
            lines = fh.read().splitlines(keepends=True)
            kept = [line for line in lines if not any(n in line for n in needles)]
            if len(kept) == len(lines):
                continue
            fh.seek(0)
            fh.write(b"".join(kept))
            fh.truncate()
        report.add(f"llama-server log {log}: {len(lines) - len(kept)} line(s) quoting the meeting")


def _remove_voices(t: Traces, settings: Settings, report: ForgetReport) -> None:
    store = SpeakerStore(settings.speakers.store_path)
    for p in store.remove_source(f"meeting:{t.meeting_id}"):
        report.add(f"speaker store {store.path}: voiceprint of {p.name!r} learnt from this meeting (id {p.id})")


# ------------------------------------------------------------------ the CRM


def _salesforce_delete(ids: list[str], settings: CRMSettings) -> int:
    cred = salesforce_credential(settings)
    base = (cred.instance_url or settings.salesforce.instance_url or "").rstrip("/")
    url = f"{base}/services/data/{settings.salesforce.api_version}/composite/sobjects"
    gone = 0
    with RetryingClient(settings, {"Authorization": f"Bearer {cred.token}"}, (cred.token,)) as client:
        for i in range(0, len(ids), 200):  # sObject Collections delete: up to 200 ids a request
            batch = ids[i: i + 200]
            data = client.request("DELETE", url, params={"ids": ",".join(batch), "allOrNone": "false"}).json()
            if not isinstance(data, list):
                raise CRMError(f"Salesforce answered the delete with an unexpected body: {json.dumps(data)[:300]}")
            for item in data:
                errors = item.get("errors") or []
                codes = {e.get("statusCode") for e in errors if isinstance(e, dict)}
                if item.get("success"):
                    gone += 1
                elif not codes <= {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "NOT_FOUND"}:
                    raise CRMError(f"Salesforce refused to delete {item.get('id')}: {json.dumps(errors)[:300]}")
    return gone


def _hubspot_archive(t: Traces, ids: dict[str, str], settings: CRMSettings) -> int:
    cred = hubspot_credential(settings)
    base = settings.hubspot.base_url.rstrip("/")
    by_type: dict[str, list[str]] = {}
    for key, rid in ids.items():
        by_type.setdefault("meetings" if key == meeting_key(t.meeting_id) else "tasks", []).append(rid)
    with RetryingClient(settings, {"Authorization": f"Bearer {cred.token}"}, (cred.token,)) as client:
        for obj, rids in by_type.items():
            for i in range(0, len(rids), 100):
                body = {"inputs": [{"id": r} for r in rids[i: i + 100]]}
                client.request("POST", f"{base}/crm/v3/objects/{obj}/batch/archive", json=body)
    return len(ids)


def deletion_event(meeting_id: str, delivery_ids: list[str]) -> bytes:
    """The signed webhook body announcing that a meeting was forgotten: receivers delete what the
    listed deliveries carried. Its delivery id is derived from the meeting (a resend is a duplicate)."""
    doc = {"event": "meeting_notes.deleted", "meeting_id": meeting_id, "delivery_ids": sorted(delivery_ids),
           "delivery_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"meeting-notes:deleted:{meeting_id}"))}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _webhook_delete(t: Traces, settings: CRMSettings) -> None:
    wh = settings.webhook
    if not wh.url:
        raise CRMError("the webhook received this meeting but crm.webhook.url is not set now: cannot tell it to delete")
    cred = webhook_secret(settings)
    body = deletion_event(t.meeting_id, list(t.crm_ids.get("webhook", {}).values()) + _delivery_ids(t, settings))
    headers = {"Content-Type": "application/json; charset=utf-8", wh.signature_header: webhook_signature(body, cred.token),
               wh.delivery_header: json.loads(body)["delivery_id"]}
    with RetryingClient(settings, {}, (cred.token,)) as client:
        client.request("POST", wh.url, content=body, headers=headers)


def _delivery_ids(t: Traces, settings: CRMSettings) -> list[str]:
    url = _ledger_url(settings, t.folder)
    path = _sqlite_file(url)
    if path is not None and not path.exists():
        return []
    ledger = Ledger(url)
    try:
        return [r.delivery_id for r in ledger.all() if r.meeting_id == t.meeting_id and r.target == "webhook"]
    finally:
        ledger.close()


def _remove_crm(t: Traces, settings: CRMSettings, delete_remote: bool, report: ForgetReport) -> None:
    targets = {k: v for k, v in t.crm_ids.items() if v}
    if not targets:
        return
    if not delete_remote:
        for target, ids in sorted(targets.items()):
            report.notes.append(f"left in {target}: {len(ids)} record(s) this project created "
                                f"({', '.join(sorted(ids.values()))}); `forget --crm` deletes them")
        return
    try:
        for target, ids in sorted(targets.items()):
            if target == "salesforce":
                n = _salesforce_delete(sorted(set(ids.values())), settings)
                report.add(f"Salesforce: {len(ids)} record(s) deleted ({n} were still there; they go to its recycle bin)")
            elif target == "hubspot":
                _hubspot_archive(t, ids, settings)
                report.add(f"HubSpot: {len(ids)} record(s) archived (HubSpot keeps archived records 90 days)")
            elif target == "webhook":
                _webhook_delete(t, settings)
                report.add("webhook: a signed meeting_notes.deleted event sent (the receiver deletes what it kept)")
    except CRMError as exc:
        raise ForgetError(f"{t.meeting_id}: the CRM copy could not be removed ({exc}); nothing was removed here, "
                          "so that the record ids are kept for the next try") from exc


# ------------------------------------------------------------------ Prefect


class PrefectEraser:
    """The meeting's flow runs and artifacts, deleted through the Prefect API.

    Used when Prefect is configured (``PREFECT_API_URL``) or the meeting ran in a flow (its
    ``run.json`` names the flow run). An API that cannot be reached is a :class:`ForgetError`.
    """

    def __init__(self, required: bool | None = None) -> None:
        from prefect.settings import PREFECT_API_URL  # deferred: Prefect takes seconds to import

        self.api_url = PREFECT_API_URL.value()
        self.required = bool(self.api_url) if required is None else required

    def _client(self) -> Any:
        from prefect.client.orchestration import get_client  # deferred: Prefect takes seconds to import

        return get_client(sync_client=True)

    def erase(self, t: Traces, report: ForgetReport) -> None:
        if not self.required and not t.flow_run_ids:
            return
        where = self.api_url or "Prefect's local database (no PREFECT_API_URL: the temporary server)"
        try:
            with self._client() as client:
                client.hello()
                self._erase(client, t, report)
        except ForgetError:
            raise
        except Exception as exc:
            raise ForgetError(
                f"{t.meeting_id}: the Prefect API at {where} cannot be reached or refused ({type(exc).__name__}: {exc}); "
                "nothing was removed. Start it (or set PREFECT_API_URL), then run forget again; "
                "--skip-prefect forgets the rest and leaves Prefect's copy."
            ) from exc

    def _all_artifacts(self, client: Any) -> list[Any]:
        out, offset = [], 0
        while True:
            page = client.read_artifacts(limit=200, offset=offset)
            out.extend(page)
            if len(page) < 200:
                return out
            offset += 200

    def _erase(self, client: Any, t: Traces, report: ForgetReport) -> None:
        from prefect.client.schemas.filters import FlowFilter, FlowFilterName  # deferred: Prefect takes seconds to import

        artifacts = self._all_artifacts(client)
        slugs = set(t.artifact_slugs)
        runs = set(t.flow_run_ids)
        other_runs = set()
        for a in artifacts:
            if a.key in slugs and a.flow_run_id:
                runs.add(str(a.flow_run_id))
            elif a.key and a.flow_run_id and any(a.key.startswith(p + "-") for p in ARTIFACT_PREFIXES):
                other_runs.add(str(a.flow_run_id))  # another meeting's run
        offset = 0
        while True:
            page = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=list(MEETING_FLOWS))),
                                         limit=200, offset=offset)
            for fr in page:
                path = (fr.parameters or {}).get("audio_path")
                if path in t.audio_paths and str(fr.id) not in other_runs:
                    runs.add(str(fr.id))
            if len(page) < 200:
                break
            offset += 200
        gone = 0
        for a in artifacts:
            if a.key in slugs or (a.flow_run_id and str(a.flow_run_id) in runs):
                self._delete_artifact(client, a.id)
                gone += 1
        if gone:
            report.add(f"Prefect: {gone} artifact(s) of the meeting (notes, report link, timings, CRM outcomes)")
        deleted = 0
        for run_id in sorted(runs):
            if self._delete_flow_run(client, run_id):
                deleted += 1
        if deleted:
            report.add(f"Prefect: {deleted} flow run(s) with their parameters, task runs and logs")
        rows = self._scrub_shared_tables(client, [a for a in artifacts if a.key not in slugs and not
                                                  (a.flow_run_id and str(a.flow_run_id) in runs)], t)
        self._purge_events(t, runs, report)
        if rows:
            report.add(f"Prefect: {rows} row(s) naming the meeting removed from shared table artifacts "
                       "(inbox-sweep, nightly-batch, crm-retry)")

    def _purge_events(self, t: Traces, runs: set[str], report: ForgetReport) -> None:
        """Prefect's event log copies artifacts (their data included) and names flow runs, and its
        API deletes no event. When the server's database is a SQLite file on this machine (the
        temporary server, or a local one), the meeting's events are deleted there and the file
        rebuilt; otherwise the output says that they stay until the server's events retention
        (``PREFECT_SERVER_EVENTS_RETENTION_PERIOD``, 7 days by default) removes them."""
        from prefect.settings import PREFECT_API_DATABASE_CONNECTION_URL  # deferred: Prefect takes seconds to import

        db = _sqlite_file(PREFECT_API_DATABASE_CONNECTION_URL.value() or "")
        host = make_url(self.api_url).host if self.api_url else None
        if db is None or not db.exists() or host not in (None, "127.0.0.1", "localhost", "::1"):
            report.notes.append("Prefect's event log (not deletable through its API) keeps the meeting's artifact contents "
                                "until PREFECT_SERVER_EVENTS_RETENTION_PERIOD (7 days by default) expires them on the server")
            return
        needles = sorted({*t.artifact_slugs, t.meeting_id, *runs} - {""})
        con = sqlite3.connect(db, timeout=60)
        try:
            con.execute("PRAGMA secure_delete = ON")
            cols = {r[1] for r in con.execute("PRAGMA table_info(events)")} & {"payload", "resource", "related"}
            if not cols:
                return
            match = " OR ".join(f"instr({c}, ?) > 0" for c in sorted(cols) for _ in needles)
            args = [n for _ in sorted(cols) for n in needles]
            with con:
                ids = [r[0] for r in con.execute(f"SELECT id FROM events WHERE {match}", args)]  # noqa: S608 (columns are fixed)
                for i in range(0, len(ids), 500):
                    chunk = ids[i: i + 500]
                    marks = ",".join("?" * len(chunk))
                    con.execute(f"DELETE FROM event_resources WHERE event_id IN ({marks})", chunk)  # noqa: S608
                    con.execute(f"DELETE FROM events WHERE id IN ({marks})", chunk)  # noqa: S608
            con.execute("VACUUM")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            con.close()
        if ids:
            report.add(f"Prefect: {len(ids)} event(s) naming the meeting or copying its artifacts, from {db} (file rebuilt)")

    @staticmethod
    def _delete_artifact(client: Any, artifact_id: Any) -> None:
        from prefect.exceptions import ObjectNotFound  # deferred: Prefect takes seconds to import

        try:
            client.delete_artifact(artifact_id)
        except ObjectNotFound:
            pass

    @staticmethod
    def _delete_flow_run(client: Any, run_id: str) -> bool:
        from prefect.exceptions import ObjectNotFound  # deferred: Prefect takes seconds to import

        try:
            client.delete_flow_run(uuid.UUID(run_id))
            return True
        except ObjectNotFound:
            return False

    def _scrub_shared_tables(self, client: Any, artifacts: list[Any], t: Traces) -> int:
        """Rows that name the meeting in other runs' table artifacts go; an artifact that names it
        outside a table row is deleted."""
        from prefect.client.schemas.actions import ArtifactUpdate  # deferred: Prefect takes seconds to import

        names = {n for n in t.identities if n} | {Path(p).name for p in t.audio_paths if len(Path(p).name) >= 8}
        names |= t.texts

        def mentions(value: Any) -> bool:
            blob = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
            return any(n in blob for n in names)

        removed = 0
        for a in artifacts:
            if not (mentions(a.data) or mentions(a.description or "") or mentions(a.metadata_ or {})):
                continue
            data = json.loads(a.data) if isinstance(a.data, str) and a.type == "table" else a.data
            if a.type == "table" and isinstance(data, list) and not mentions(a.description or ""):
                kept = [row for row in data if not mentions(row)]
                removed += len(data) - len(kept)
                client.update_artifact(a.id, ArtifactUpdate(data=json.dumps(kept, default=str) if isinstance(a.data, str) else kept))
            else:
                self._delete_artifact(client, a.id)
                removed += 1
        return removed


# ------------------------------------------------------------------ the commands


@dataclass
class Forgetter:
    """One forget run: the settings, where the inbox is, and what to do about remote copies."""

    settings: Settings
    inbox_root: Path | None = None
    crm: bool = False
    prefect: PrefectEraser | None = None
    log: Callable[[str], None] = print
    _hashes: InboxHashes | None = None

    def __post_init__(self) -> None:
        root = self.inbox_root if self.inbox_root is not None else self.settings.orchestration.inbox_dir
        layout = InboxLayout(Path(root))
        self._hashes = InboxHashes(layout) if layout.ledger.is_dir() else None

    def meeting(self, folder: Path) -> ForgetReport:
        """Forget one meeting (its folder may already be gone: the other stores are still searched)."""
        folder = Path(folder)
        report = ForgetReport()
        t = read_traces(folder, self._hashes.layout if self._hashes else None)
        _ledger_ids(t, self.settings.crm)
        lease = MeetingWorkspace(folder).lease(self.settings.orchestration.lock_lease_s, wait_s=0) if folder.is_dir() else None
        if lease is not None and not lease.try_acquire():
            raise ForgetError(f"{folder}: a run is working on this meeting (its lease {LEASE_FILE} is held); "
                              "forget it once the run has finished")
        try:
            _remove_crm(t, self.settings.crm, self.crm, report)  # remote copies first: their ids are local
            if self.prefect is not None:
                self.prefect.erase(t, report)
            _remove_log_lines(t, self.settings, report)  # needs the texts: before the folder goes
            _remove_llm_cache(t, self.settings, report)
            _remove_ledger_rows(t, self.settings.crm, report)
            _remove_voices(t, self.settings, report)
            _remove_inbox(t, self._hashes, report)
            _remove_folder(t, report)
        finally:
            if lease is not None and folder.is_dir():
                lease.release()
        return report

    def print(self, name: str, report: ForgetReport) -> None:
        if report.removed:
            self.log(f"{name}: removed")
            for line in report.removed:
                self.log(f"  - {line}")
        else:
            self.log(f"{name}: nothing left to remove")
        for line in report.notes:
            self.log(f"  ! {line}")


def account_matches(folder: Path, account: str) -> bool:
    """True when the meeting belongs to ``account``: a CRM id of the meeting (its ``crm.json``
    or its sidecar's ``crm_ids``) or the account name of its notes equals it."""
    want = account.strip().casefold()
    state = read_state(folder)
    ids = [str(v) for v in (state.get("crm_ids") or {}).values()]
    notes = _json(folder / "notes.json") or {}
    names = [str((notes.get("account") or {}).get("name") or "")] if isinstance(notes, dict) else []
    return any(want == v.strip().casefold() for v in ids + names if v)


def meetings_of_account(out_dir: Path, account: str) -> list[Path]:
    """The meeting folders under ``out_dir`` that belong to ``account``."""
    return sorted(p for p in Path(out_dir).iterdir() if p.is_dir() and account_matches(p, account))


def meeting_age_days(folder: Path, now: dt.datetime | None = None) -> float:
    """Days since the meeting was processed (``run.json``'s start, else the folder's mtime)."""
    now = now or utc_now()
    run = _json(folder / "run.json") or {}
    started = run.get("started_at") if isinstance(run, dict) else None
    try:
        when = dt.datetime.fromisoformat(str(started)) if started else None
    except ValueError:
        when = None
    if when is None:
        when = dt.datetime.fromtimestamp(folder.stat().st_mtime, tz=dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return (now - when).total_seconds() / 86400.0


def expired_meetings(out_dir: Path, retention_days: int, now: dt.datetime | None = None) -> list[Path]:
    """Meeting folders (with a ``run.json``) older than ``retention_days``."""
    out = Path(out_dir)
    if retention_days <= 0 or not out.is_dir():
        return []
    return sorted(p for p in out.iterdir()
                  if p.is_dir() and (p / "run.json").is_file() and meeting_age_days(p, now) > retention_days)


def forget_speaker(name: str, settings: Settings) -> ForgetReport:
    """Erase an enrolled voice (profile, embedding and consent record) from the speaker store."""
    report = ForgetReport()
    store = SpeakerStore(settings.speakers.store_path)
    for p in [p for p in store.profiles() if p.name == name or str(p.id) == name]:
        store.remove(str(p.id))
        report.add(f"speaker store {store.path}: voiceprint and consent record of {p.name!r} (id {p.id}), "
                   "overwritten and the file rebuilt")
    return report


def prefect_eraser(skip: bool) -> PrefectEraser | None:
    """The Prefect eraser, or None with ``--skip-prefect`` (or when Prefect is not installed)."""
    if skip:
        return None
    try:
        return PrefectEraser()
    except ImportError:
        return None


__all__ = [
    "ForgetError", "ForgetReport", "Forgetter", "PrefectEraser", "Traces", "account_matches", "deletion_event",
    "expired_meetings", "forget_speaker", "meeting_age_days", "meetings_of_account", "prefect_eraser", "read_traces",
]
