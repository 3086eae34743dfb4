"""The start-up gate: requests wait until the endpoint is ready, but never take every thread of the server."""

from __future__ import annotations

import threading

from lookout_nb.service.http.auth import OwnClients
from lookout_nb.service.http.ready import Gate


def _app(environ, start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


def test_requests_beyond_the_waiters_are_told_to_retry_while_the_own_clients_pass():
    own = OwnClients()
    gate = Gate(_app, own, waiters=1)
    statuses = []
    held = threading.Thread(target=lambda: statuses.append(
        gate({"PATH_INFO": "/b"}, lambda s, h, e=None: statuses.append(s))))
    held.start()
    while not gate.waiting:  # until the first request waits at the gate
        threading.Event().wait(0.01)
    refused = []
    body = gate({"PATH_INFO": "/b/k"}, lambda s, h, e=None: refused.append((s, dict(h))))
    assert refused[0][0] == "503 Service Unavailable" and b"<Code>SlowDown</Code>" in body[0]
    assert refused[0][1]["Retry-After"] == "1"
    passed = []
    assert gate({"HTTP_X_LOOKOUT_NB_OWN": own.token}, lambda s, h, e=None: passed.append(s)) == [b"ok"]
    gate.open()
    held.join(10)
    assert statuses[0] == "200 OK" and passed == ["200 OK"]
