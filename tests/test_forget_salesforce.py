"""`forget --crm` on Salesforce: the records this project created are deleted through the sObject
Collections delete (``DELETE /services/data/vXX.X/composite/sobjects?ids=...&allOrNone=false``,
up to 200 ids a request, one result per id); a record already gone counts as done, any other
refusal stops the forget (nothing is removed locally, so the ids survive for the next try)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from crm_helpers import crm_settings

from meeting_notes.crm.errors import CRMError
from meeting_notes.forget import _salesforce_delete


class FakeSalesforceDelete:
    """Records by id; ``refuse`` ids answer INSUFFICIENT_ACCESS_OR_READONLY."""

    def __init__(self, live: set[str], refuse: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.live, self.refuse, self.deleted = set(live), set(refuse), set()
        self.calls: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_DELETE(self) -> None:
                url = urlparse(self.path)
                query = parse_qs(url.query)
                fake.calls.append({"path": url.path, "query": query, "auth": self.headers.get("Authorization")})
                if self.headers.get("Authorization") != "Bearer test-token":
                    return self._send(401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
                out = []
                for rid in query["ids"][0].split(","):
                    if rid in fake.refuse:
                        out.append({"id": rid, "success": False, "errors": [{"statusCode": "INSUFFICIENT_ACCESS_OR_READONLY", "message": "no"}]})
                    elif rid in fake.live:
                        fake.live.discard(rid)
                        fake.deleted.add(rid)
                        out.append({"id": rid, "success": True, "errors": []})
                    else:
                        out.append({"id": rid, "success": False, "errors": [{"statusCode": "ENTITY_IS_DELETED", "message": "gone"}]})
                self._send(200, out)

            def _send(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture()
def token(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TEST_SF_TOKEN", "test-token")
    yield


def test_the_records_are_deleted_and_one_already_gone_counts_as_done(tmp_path: Path, token: None) -> None:
    ids = [f"00T{n:012d}AAA" for n in range(250)]
    fake = FakeSalesforceDelete(set(ids[1:]))  # ids[0] was deleted by hand already
    try:
        gone = _salesforce_delete(ids, crm_settings(fake.url, tmp_path))
    finally:
        fake.close()
    assert gone == 249 and fake.live == set()
    assert [len(c["query"]["ids"][0].split(",")) for c in fake.calls] == [200, 50]  # the API's 200-id limit
    assert all(c["query"]["allOrNone"] == ["false"] and c["path"].endswith("/composite/sobjects") for c in fake.calls)


def test_a_refused_delete_stops_the_forget(tmp_path: Path, token: None) -> None:
    ids = ["00T000000000001AAA", "00T000000000002AAA"]
    fake = FakeSalesforceDelete(set(ids), refuse={ids[1]})
    try:
        with pytest.raises(CRMError, match="refused to delete 00T000000000002AAA"):
            _salesforce_delete(ids, crm_settings(fake.url, tmp_path))
    finally:
        fake.close()
