"""The delivery ledger: one row per meeting x target x notes hash (SQLAlchemy; SQLite or PostgreSQL).

A row goes ``pending`` -> ``sending`` -> ``delivered``, or to ``failed`` (429/5xx/timeouts
outlasted the retries: ``crm-retry`` sends it again) or ``rejected`` (the CRM refused it: needs a
fix). It keeps the CRM's record ids, the attempts and the last error. No credentials are stored.

Every transition is a compare-and-set (``UPDATE ... WHERE status = <seen> AND attempts = <seen>``):
a push *claims* the row (``attempts`` + 1 is its version), proves it is alive with
:meth:`Ledger.heartbeat` before each request and each wait, and *finishes* it only while it
still holds that version; a row taken over by ``crm retry`` (its holder silent past the stale
bound) is never written by the late holder.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from meeting_notes.clock import utc_now

Status = Literal["pending", "sending", "delivered", "failed", "rejected"]
LEDGER_FILE = ".crm-ledger.sqlite"

metadata = MetaData()
deliveries = Table(
    "crm_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("meeting_id", String(200), nullable=False),
    Column("target", String(20), nullable=False),
    Column("notes_hash", String(64), nullable=False),
    Column("plan_hash", String(64), nullable=True),
    Column("delivery_id", String(36), nullable=False),
    Column("meeting_dir", Text, nullable=False),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("record_ids", Text, nullable=False, default="{}"),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("meeting_id", "target", "notes_hash", name="uq_crm_delivery"),
)


@dataclass
class Delivery:
    """One ledger row."""

    id: int
    meeting_id: str
    target: str
    notes_hash: str
    plan_hash: str | None
    delivery_id: str
    meeting_dir: str
    status: str
    attempts: int
    record_ids: dict[str, str]
    last_error: str | None
    updated_at: dt.datetime

    @classmethod
    def from_row(cls, row: Any) -> Delivery:
        m = row._mapping
        return cls(
            id=m["id"], meeting_id=m["meeting_id"], target=m["target"], notes_hash=m["notes_hash"],
            plan_hash=m["plan_hash"], delivery_id=m["delivery_id"], meeting_dir=m["meeting_dir"], status=m["status"],
            attempts=m["attempts"], record_ids=json.loads(m["record_ids"] or "{}"),
            last_error=m["last_error"], updated_at=m["updated_at"],
        )


def _older_than(moment: dt.datetime, seconds: float) -> bool:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite gives it back naive (UTC)
    return aware < utc_now() - dt.timedelta(seconds=seconds)


def default_url(meetings_root: Path) -> str:
    """SQLite file beside the meeting folders."""
    return f"sqlite:///{(Path(meetings_root) / LEDGER_FILE).resolve()}"


class Ledger:
    """Access to the ledger table; creates it on first use."""

    def __init__(self, url: str) -> None:
        kw: dict[str, Any] = {"future": True}
        if url.startswith("sqlite"):
            kw["connect_args"] = {"timeout": 30}
        self.engine: Engine = create_engine(url, **kw)
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def get(self, meeting_id: str, target: str, notes_hash: str) -> Delivery | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(deliveries).where(
                    deliveries.c.meeting_id == meeting_id,
                    deliveries.c.target == target,
                    deliveries.c.notes_hash == notes_hash,
                )
            ).first()
        return Delivery.from_row(row) if row else None

    def open(self, meeting_id: str, target: str, notes_hash: str, meeting_dir: str) -> Delivery:
        """The row of this meeting x target x notes hash, created as ``pending`` when new."""
        found = self.get(meeting_id, target, notes_hash)
        if found:
            return found
        now = utc_now()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(deliveries).values(
                        meeting_id=meeting_id, target=target, notes_hash=notes_hash,
                        delivery_id=str(uuid.uuid4()), meeting_dir=meeting_dir, status="pending",
                        attempts=0, record_ids="{}", last_error=None, created_at=now, updated_at=now,
                    )
                )
        except IntegrityError:
            pass  # another worker created it between our read and insert
        found = self.get(meeting_id, target, notes_hash)
        assert found is not None
        return found

    def mark(self, row_id: int, status: Status, *, record_ids: dict[str, str] | None = None,
             error: str | None = None, attempt: bool = False, plan_hash: str | None = None,
             expect: Delivery | None = None) -> bool:
        """Set the status (and ids / the last error / the payload's hash); ``attempt`` counts one
        more push. With ``expect``: only while the row is still as read then (status and
        attempts); returns whether the row was written."""
        values: dict[str, Any] = {"status": status, "updated_at": utc_now(), "last_error": error}
        if plan_hash is not None:
            values["plan_hash"] = plan_hash
        if record_ids is not None:
            values["record_ids"] = json.dumps(record_ids, sort_keys=True, ensure_ascii=False)
        if attempt:
            values["attempts"] = deliveries.c.attempts + 1
        query = update(deliveries).where(deliveries.c.id == row_id)
        if expect is not None:
            query = query.where(deliveries.c.status == expect.status, deliveries.c.attempts == expect.attempts)
        with self.engine.begin() as conn:
            return conn.execute(query.values(**values)).rowcount == 1

    def claim(self, row: Delivery, plan_hash: str, stale_sending_s: float, force: bool = False) -> Delivery | None:
        """Take ``row`` for a push: ``sending``, one more attempt (the claim's version). Refused
        (None) when the row changed since it was read, or is ``sending`` for a push that showed
        life within ``stale_sending_s`` (unless ``force``)."""
        if row.status == "sending" and not force and not _older_than(row.updated_at, stale_sending_s):
            return None
        query = update(deliveries).where(
            deliveries.c.id == row.id, deliveries.c.status == row.status, deliveries.c.attempts == row.attempts,
            deliveries.c.updated_at == row.updated_at,
        )
        values = {"status": "sending", "attempts": row.attempts + 1, "updated_at": utc_now(), "last_error": None, "plan_hash": plan_hash}
        with self.engine.begin() as conn:
            if conn.execute(query.values(**values)).rowcount != 1:
                return None
        return self.get(row.meeting_id, row.target, row.notes_hash)

    def heartbeat(self, claimed: Delivery) -> bool:
        """The claim's holder is alive: True while it still holds the row."""
        query = update(deliveries).where(
            deliveries.c.id == claimed.id, deliveries.c.status == "sending", deliveries.c.attempts == claimed.attempts
        )
        with self.engine.begin() as conn:
            return conn.execute(query.values(updated_at=utc_now())).rowcount == 1

    def finish(self, claimed: Delivery, status: Status, record_ids: dict[str, str], error: str | None,
               delivery_id: str | None = None) -> bool:
        """End the claim with ``status``; False (nothing written) when it was taken over."""
        values: dict[str, Any] = {"status": status, "updated_at": utc_now(), "last_error": error,
                                  "record_ids": json.dumps(record_ids, sort_keys=True, ensure_ascii=False)}
        if delivery_id:
            values["delivery_id"] = delivery_id
        query = update(deliveries).where(
            deliveries.c.id == claimed.id, deliveries.c.status == "sending", deliveries.c.attempts == claimed.attempts
        )
        with self.engine.begin() as conn:
            return conn.execute(query.values(**values)).rowcount == 1

    def known_record_ids(self, meeting_id: str, target: str) -> dict[str, str]:
        """Record ids the CRM returned for this meeting in any earlier delivery (by key)."""
        out: dict[str, str] = {}
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(deliveries.c.record_ids).where(deliveries.c.meeting_id == meeting_id, deliveries.c.target == target)
                .order_by(deliveries.c.updated_at)
            ).all()
        for (text,) in rows:
            out.update(json.loads(text or "{}"))
        return out

    def retryable(self, target: str | None, max_attempts: int, stale_sending_s: float) -> list[Delivery]:
        """Failed rows (and 'sending' rows older than ``stale_sending_s``: their push died) still under
        ``max_attempts``, oldest first."""
        query = select(deliveries).where(deliveries.c.attempts < max_attempts)
        if target:
            query = query.where(deliveries.c.target == target)
        with self.engine.connect() as conn:
            rows = [Delivery.from_row(r) for r in conn.execute(query.order_by(deliveries.c.updated_at)).all()]
        return [d for d in rows if d.status == "failed" or (d.status == "sending" and _older_than(d.updated_at, stale_sending_s))]

    def all(self) -> list[Delivery]:
        with self.engine.connect() as conn:
            return [Delivery.from_row(r) for r in conn.execute(select(deliveries).order_by(deliveries.c.id)).all()]
