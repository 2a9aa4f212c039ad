"""The shared sync client scenarios (tests/client/scenarios.json) through the Python
``SessionClient``, against a real ``sessionkit serve`` (``SESSIONKIT_BIN``) on loopback."""

import json
import os
import queue
import signal
import socket
import subprocess
import tempfile
import urllib.request
from pathlib import Path

import pytest

from sessionkit import SessionClient

ROOT = Path(__file__).resolve().parents[4]
SCENARIOS = json.loads((ROOT / "tests" / "client" / "scenarios.json").read_text())["scenarios"]
BIN = os.environ.get("SESSIONKIT_BIN", str(ROOT / "target" / "debug" / "sessionkit"))
ADMIN_KEY = "client-scenarios-admin-key-0123456789"
WAIT_S = 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``sessionkit serve`` on a fixed free port (so a restart keeps the clients' URL)."""

    def __init__(self, directory):
        self.db = os.path.join(directory, "server.db")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(os.path.join(directory, "server.log"), "ab")
        self.start()

    def start(self):
        env = dict(os.environ, SESSIONKIT_ADMIN_KEY=ADMIN_KEY)
        self.proc = subprocess.Popen(
            [BIN, "--db", self.db, "serve", "--listen", f"127.0.0.1:{self.port}",
             "--heartbeat-ms", "300"],
            stdout=subprocess.PIPE, stderr=self.log, env=env)
        line = self.proc.stdout.readline().decode()
        assert line.startswith("listening on http://"), line

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=30) == 0
        self.proc.stdout.close()

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.url + path, data=data, method=method,
            headers={"Authorization": f"Bearer {ADMIN_KEY}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, (json.loads(text) if text else None)


class Client:
    def __init__(self, url, path):
        self.events = queue.Queue()
        self.client = SessionClient.open_sqlite(
            url, path, heartbeat_ms=300, backoff_initial_ms=100)
        self.subscription = self.client.subscribe(self.events.put)

    def wait(self, event, fields):
        while True:
            try:
                got = self.events.get(timeout=WAIT_S)
            except queue.Empty:
                pytest.fail(f"no {event} {fields} within {WAIT_S} s")
            if got.type == event and all(getattr(got, k) == v for k, v in fields.items()):
                return

    def close(self):
        self.subscription.close()
        self.client.close()


def run(scenario, directory):
    server = Server(directory)
    sessions, clients = {}, {}
    try:
        for step in scenario["steps"]:
            do = step["do"]
            client = clients.get(step.get("client"))
            if do == "create":
                status, created = server.admin(
                    "POST", "/v1/admin/sessions", {"user_id": step["user"], "client_kind": "mobile"})
                assert status == 201
                sessions[step["as"]] = created
            elif do == "open":
                clients[step["client"]] = Client(
                    server.url, os.path.join(directory, step["client"] + ".db"))
            elif do == "close":
                clients.pop(step["client"]).close()
            elif do == "sign_in":
                client.client.sign_in(sessions[step["session"]]["token"])
            elif do == "patch":
                client.client.patch_state(step["value"])
            elif do == "put":
                client.client.put_state(step["value"])
            elif do == "sync":
                result = client.client.sync()
                for k, v in step.get("expect", {}).items():
                    assert getattr(result, k) == v, (k, result)
            elif do == "recover":
                result = client.client.recover()
                for k, v in step.get("expect", {}).items():
                    assert getattr(result, k) == v, (k, result)
            elif do == "offline":
                client.client.set_online(False)
            elif do == "online":
                client.client.set_online(True)
            elif do == "admin_patch":
                sid = sessions[step["session"]]["session"]["id"]
                status, _ = server.admin(
                    "PATCH", f"/v1/admin/sessions/{sid}/state", {"patch": step["value"]})
                assert status == 200
            elif do == "revoke":
                sid = sessions[step["session"]]["session"]["id"]
                status, _ = server.admin("POST", f"/v1/admin/sessions/{sid}/revoke")
                assert status == 204
            elif do == "restart_server":
                server.stop()
                for c in clients.values():
                    c.wait("connection_lost", {})
                during = step.get("patch_while_down")
                if during:
                    clients[during["client"]].client.patch_state(during["value"])
                server.start()
            elif do == "wait":
                client.wait(step["event"], step.get("fields", {}))
            elif do == "state":
                assert client.client.state() == step["expect"]
            elif do == "server_state":
                sid = sessions[step["session"]]["session"]["id"]
                status, state = server.admin("GET", f"/v1/admin/sessions/{sid}/state")
                assert (state or {}).get("data") == step["expect"], state
            elif do == "connection":
                assert client.client.connection_state() == step["expect"]
            elif do == "pending":
                assert client.client.metrics().pending_changes == step["expect"]
            else:
                raise AssertionError(f"unknown step {do}")
    finally:
        for c in clients.values():
            c.close()
        if server.proc.poll() is None:
            server.stop()
        server.log.close()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s["name"] for s in SCENARIOS])
def test_client_scenario(scenario):
    with tempfile.TemporaryDirectory(prefix="sk-client-") as directory:
        run(scenario, directory)


def test_asyncio_forms_and_an_unreachable_server():
    import asyncio

    port = free_port()  # nothing listens there
    with SessionClient.open_memory(f"http://127.0.0.1:{port}", request_timeout_ms=2000) as client:
        client.sign_in("sk_some-token-from-a-backend")
        client.patch_state({"kept": True})
        result = asyncio.run(client.sync_async())
        assert (result.offline, result.pending) == (True, 1)
        recovered = asyncio.run(client.recover_async())
        assert recovered.outcome == "offline"
        assert client.state() == {"kept": True}
        assert client.connection_state() == "reconnecting"


def test_bad_options_and_input_are_refused():
    from sessionkit import SessionkitError

    with pytest.raises(SessionkitError.InvalidInput):
        SessionClient.open_memory("ftp://nowhere")
    with pytest.raises(SessionkitError.InvalidInput):
        SessionClient.open_memory("http://127.0.0.1:9", conflict_policy="whatever")
    with pytest.raises(SessionkitError.InvalidInput):
        SessionClient.open_memory("http://127.0.0.1:9", no_such_option=1)
    with SessionClient.open_memory("http://127.0.0.1:9") as client:
        with pytest.raises(SessionkitError.InvalidToken):
            client.patch_state({"a": 1})  # not signed in
        client.sign_in("sk_x")
        with pytest.raises(SessionkitError.InvalidInput):
            client.put_state(float("nan"))
