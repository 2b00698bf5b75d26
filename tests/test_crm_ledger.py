"""The delivery ledger on SQLite and on a real PostgreSQL started for the test session."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from crm_helpers import SF_IDS, crm_settings, en_notes, make_meeting
from fake_crm_server import FakeCRM

from meeting_notes.crm.ledger import Ledger, deliveries
from meeting_notes.crm.service import push

PG_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def _pg_bin(name: str) -> str | None:
    for folder in PG_BIN_DIRS:
        if (folder / name).is_file():
            return str(folder / name)
    return shutil.which(name)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl in a temp dir, Unix socket only, trust auth).

    As root the server runs as the 'postgres' system user (PostgreSQL refuses to run as root).
    Skipped, saying why, only when the binaries or psycopg are missing.
    """
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not installed: apt-get install postgresql")
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install -e '.[dev]')")
    folder = Path(tempfile.mkdtemp(prefix="crm-pg-"))
    data = folder / "data"
    prefix: list[str] = []
    if os.geteuid() == 0:
        import pwd

        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' user to run the server as")
        os.chown(folder, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    subprocess.run([*prefix, initdb, "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"],
                   check=True, capture_output=True, env=env)
    opts = f"-c listen_addresses='' -c unix_socket_directories={folder} -p {port} -c fsync=off"
    subprocess.run([*prefix, pg_ctl, "-D", str(data), "-o", opts, "-l", str(folder / "log"), "-w", "start"],
                   check=True, capture_output=True, env=env)
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={folder}&port={port}"
    finally:
        subprocess.run([*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, env=env)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ledger.sqlite'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    ledger = Ledger(url)
    with ledger.engine.begin() as conn:
        conn.execute(deliveries.delete())
    ledger.close()


def test_one_row_per_meeting_target_notes_hash(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    other = Ledger(ledger_url)  # a second worker
    try:
        a = ledger.open("商談-1a2b3c4d", "salesforce", "h1", "/m/商談")
        b = other.open("商談-1a2b3c4d", "salesforce", "h1", "/m/商談")
        assert a.id == b.id and a.delivery_id == b.delivery_id and a.status == "pending"
        assert ledger.open("商談-1a2b3c4d", "hubspot", "h1", "/m").id != a.id
        assert ledger.open("商談-1a2b3c4d", "salesforce", "h2", "/m").id != a.id
        ledger.mark(a.id, "sending", attempt=True)
        ledger.mark(a.id, "delivered", record_ids={"k.meeting": "00U1"}, error=None)
        row = other.get("商談-1a2b3c4d", "salesforce", "h1")
        assert row is not None and (row.status, row.attempts, row.record_ids) == ("delivered", 1, {"k.meeting": "00U1"})
        assert other.known_record_ids("商談-1a2b3c4d", "salesforce") == {"k.meeting": "00U1"}
        assert len(ledger.all()) == 3
    finally:
        ledger.close()
        other.close()


def test_retryable_rows(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    try:
        failed = ledger.open("m1", "hubspot", "h", "/m1")
        ledger.mark(failed.id, "failed", error="HTTP 503", attempt=True)
        rejected = ledger.open("m2", "hubspot", "h", "/m2")
        ledger.mark(rejected.id, "rejected", error="bad field", attempt=True)
        fresh = ledger.open("m3", "hubspot", "h", "/m3")
        ledger.mark(fresh.id, "sending", attempt=True)
        stale = ledger.open("m4", "hubspot", "h", "/m4")
        ledger.mark(stale.id, "sending", attempt=True)
        worn = ledger.open("m5", "hubspot", "h", "/m5")
        for _ in range(3):
            ledger.mark(worn.id, "failed", error="HTTP 500", attempt=True)
        with ledger.engine.begin() as conn:
            old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
            conn.execute(deliveries.update().where(deliveries.c.id == stale.id).values(updated_at=old))
        picked = {d.meeting_id for d in ledger.retryable("hubspot", max_attempts=3, stale_sending_s=600)}
        assert picked == {"m1", "m4"}
        assert ledger.retryable("salesforce", 3, 600) == []
        assert ledger.get("m1", "hubspot", "h").last_error == "HTTP 503"
    finally:
        ledger.close()


def test_push_with_the_ledger_on_each_backend(ledger_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_SF_TOKEN", "test-token")
    with FakeCRM() as crm:
        settings = crm_settings(crm.url, tmp_path, ledger_url=ledger_url)
        folder = make_meeting(tmp_path, en_notes(), SF_IDS)
        assert push(folder, "salesforce", settings, approve_as="a").status == "delivered"
        assert push(folder, "salesforce", settings).status == "already_delivered"
        assert len(crm.requests) == 1 and crm.count("Task") == 2


def test_transitions_are_compare_and_set(ledger_url: str) -> None:
    """Two workers see the same stale 'sending' row: exactly one takes it over; the holder that
    lost it can neither show life nor write its outcome over the new holder's."""
    a, b = Ledger(ledger_url), Ledger(ledger_url)
    try:
        row = a.open("m-cas", "hubspot", "h", "/m")
        first = a.claim(row, "p1", stale_sending_s=600)
        assert first is not None and first.status == "sending" and first.attempts == 1
        assert a.claim(a.get("m-cas", "hubspot", "h"), "p1", stale_sending_s=600) is None  # live: not taken over
        with a.engine.begin() as conn:
            old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=1)
            conn.execute(deliveries.update().where(deliveries.c.id == row.id).values(updated_at=old))
        seen_a, seen_b = a.get("m-cas", "hubspot", "h"), b.get("m-cas", "hubspot", "h")
        won = [c for c in (a.claim(seen_a, "p1", 600), b.claim(seen_b, "p1", 600)) if c is not None]
        assert len(won) == 1 and won[0].attempts == 2
        assert a.heartbeat(first) is False
        assert a.finish(first, "failed", {}, "late") is False
        assert b.finish(won[0], "delivered", {"k": "1"}, None) is True
        final = b.get("m-cas", "hubspot", "h")
        assert (final.status, final.attempts, final.record_ids) == ("delivered", 2, {"k": "1"})
        assert b.claim(final, "p1", 600, force=True) is not None  # a delivered row is claimed again by --force
    finally:
        a.close()
        b.close()
