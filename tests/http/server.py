"""Start and stop a real `sessionkit serve` for the HTTP tests, and talk to it with only the
standard library (as any client would)."""

import http.client
import json
import os
import signal
import subprocess
import tempfile
import time

BIN = os.environ.get("SESSIONKIT_BIN", "target/debug/sessionkit")


class Response:
    def __init__(self, status, headers, body, raw_headers=()):
        self.status = status
        self.headers = headers
        self.body = body
        self.raw_headers = list(raw_headers)

    def header(self, name):
        return self.headers.get(name.lower())

    def json(self):
        return json.loads(self.body)

    @property
    def kind(self):
        return self.json()["error"]["kind"]

    def __repr__(self):
        return f"<{self.status} {self.body[:300]!r}>"


class Server:
    """`sessionkit serve` on a fresh database in a temporary directory, on a free loopback
    port; stopped by pid with SIGTERM."""

    def __init__(self, *extra, db=None, admin_key="test-admin-key-0123456789abcdef-xyz",
                 key_file=None):
        self.dir = tempfile.TemporaryDirectory(prefix="sk-http-")
        self.db = db or os.path.join(self.dir.name, "sessions.db")
        if key_file is None:
            key_file = os.path.join(self.dir.name, "admin.key")
            with open(key_file, "w") as f:
                f.write(admin_key + "\n")
            os.chmod(key_file, 0o600)
        else:
            admin_key = None  # the server creates the file with a key of its own
        self.admin_key = admin_key
        self.key_file = key_file
        self.extra = list(extra)
        self.log_path = os.path.join(self.dir.name, "server.log")
        self.logs = []
        self.start()

    def start(self):
        env = {k: v for k, v in os.environ.items() if k != "SESSIONKIT_ADMIN_KEY"}
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [BIN, "--db", self.db, "serve", "--listen", "127.0.0.1:0",
             "--admin-key-file", self.key_file, *self.extra],
            stdout=subprocess.PIPE, stderr=self.log, env=env)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on http://"):
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r}")
        hostport = line.strip().removeprefix("listening on http://")
        self.host, port = hostport.rsplit(":", 1)
        self.port = int(port)
        self.url = f"http://{hostport}"

    def stop(self):
        """SIGTERM, then the exit code (the server must exit 0)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=30)
        self.proc.stdout.close()
        self.log.close()
        return code

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def close(self):
        if self.proc.poll() is None:
            self.stop()
        self.dir.cleanup()

    def connection(self, timeout=30):
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(self, method, path, body=None, token=None, admin=False, headers=None, raw=None):
        h = dict(headers or {})
        if admin:
            h["Authorization"] = f"Bearer {self.admin_key}"
        elif token is not None:
            h["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=h)
            resp = conn.getresponse()
            payload = resp.read()
            raw = resp.getheaders()
            return Response(resp.status, {k.lower(): v for k, v in raw}, payload, raw)
        finally:
            conn.close()

    # Shortcuts for the admin API.
    def create(self, user_id="alice", kind="web", **fields):
        r = self.request("POST", "/v1/admin/sessions",
                         {"user_id": user_id, "client_kind": kind, **fields}, admin=True)
        assert r.status == 201, r
        return r.json()

    def stats(self):
        r = self.request("GET", "/v1/admin/stats", admin=True)
        assert r.status == 200, r
        return r.json()


class EventStream:
    """A Server-Sent Events reader over http.client."""

    def __init__(self, server, token, timeout=30):
        self.conn = server.connection(timeout=timeout)
        self.conn.request("GET", "/v1/session/events", headers={"Authorization": f"Bearer {token}"})
        self.resp = self.conn.getresponse()

    def next(self):
        """The next (event, data) pair, or None when the stream ended."""
        name, data = None, []
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode().rstrip("\r\n")
            if line == "":
                if name is not None or data:
                    return name, json.loads("\n".join(data)) if data else None
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "event":
                name = value
            elif field == "data":
                data.append(value)

    def until(self, wanted, deadline_s=20):
        """Events up to and including the first named `wanted`."""
        seen = []
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            item = self.next()
            if item is None:
                break
            seen.append(item)
            if item[0] == wanted:
                return seen
        raise AssertionError(f"no {wanted!r} event; saw {seen}")

    def close(self):
        self.conn.close()
