"""Two `sessionkit serve` processes on one PostgreSQL database, and two on one MySQL/MariaDB
database (scripts/pg-mysql.sh runs this with SESSIONKIT_TEST_POSTGRES_URL and
SESSIONKIT_TEST_MYSQL_URL set; each is skipped without its URL unless SESSIONKIT_REQUIRE_DB=1):

- a session created through server A validates on server B;
- a revocation made through A reaches an SSE stream open on B (PostgreSQL: LISTEN/NOTIFY;
  MySQL: the polled events table), well within a heartbeat — the heartbeat is set to 10 s so
  that only the relay, not B's own heartbeat read, can deliver it in time; the latency is
  printed;
- a state change made through B reaches an SSE stream open on A (only the relay carries it);
- 8 clients doing compare-and-swap increments on one state, alternating between A and B, lose
  no update.
"""

import json
import os
import subprocess
import sys
import threading
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "http"))
from server import EventStream, Server  # noqa: E402

PG_URL = os.environ.get("SESSIONKIT_TEST_POSTGRES_URL", "")
MY_URL = os.environ.get("SESSIONKIT_TEST_MYSQL_URL", "")
HEARTBEAT_MS = 10_000
CLIENTS = 8
INCREMENTS = 12


def psql(url, sql):
    subprocess.run(["psql", "-v", "ON_ERROR_STOP=1", "-q", url, "-c", sql], check=True,
                   stdout=subprocess.DEVNULL)


def mariadb(url, sql):
    u = urllib.parse.urlsplit(url)
    args = ["mariadb", "--no-defaults", "-h", u.hostname, "-P", str(u.port or 3306),
            "-u", urllib.parse.unquote(u.username or "root")]
    if u.password:
        args.append("-p" + urllib.parse.unquote(u.password))
    subprocess.run(args + ["-e", sql], check=True, stdout=subprocess.DEVNULL)


def required():
    return os.environ.get("SESSIONKIT_REQUIRE_DB") == "1" or (
        os.environ.get("CI") and os.environ.get("SESSIONKIT_REQUIRE_DB") != "0")


class TwoServers:
    """The tests, for a subclass that says how to make and drop a database."""

    KIND = ""
    URL = ""

    @classmethod
    def create_database(cls, name):
        raise NotImplementedError

    @classmethod
    def drop_database(cls, name):
        raise NotImplementedError

    @classmethod
    def setUpClass(cls):
        assert cls.URL, f"the {cls.KIND} URL is required"
        cls.name = "sk_two_" + uuid.uuid4().hex[:12]
        cls.create_database(cls.name)
        cls.db = cls.URL.rsplit("/", 1)[0] + "/" + cls.name
        cls.a = Server("--heartbeat-ms", str(HEARTBEAT_MS), db=cls.db)
        cls.b = Server("--heartbeat-ms", str(HEARTBEAT_MS), db=cls.db,
                       key_file=cls.a.key_file)
        cls.b.admin_key = cls.a.admin_key

    @classmethod
    def tearDownClass(cls):
        codes = [s.stop() for s in (cls.a, cls.b)]
        for s in (cls.a, cls.b):
            s.close()
        cls.drop_database(cls.name)
        assert codes == [0, 0], f"exit codes {codes}"

    def test_a_session_created_on_one_server_validates_on_the_other(self):
        created = self.a.create("alice")
        r = self.b.request("GET", "/v1/session", token=created["token"])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["id"], created["session"]["id"])

    def test_a_revocation_on_one_server_reaches_a_stream_on_the_other(self):
        created = self.a.create("bob")
        token = created["token"]
        stream = EventStream(self.b, token)
        try:
            first = stream.next()
            self.assertEqual(first[0], "heartbeat", first)
            started = time.monotonic()
            r = self.a.request("DELETE", "/v1/session", token=token)
            answered = time.monotonic()
            self.assertEqual(r.status, 204, r)
            seen = stream.until("revoked", deadline_s=HEARTBEAT_MS / 1000)
            arrived = time.monotonic()
            self.assertEqual(seen[-1][1]["session_id"], created["session"]["id"])
            latency_ms = (arrived - started) * 1000
            after_answer_ms = (arrived - answered) * 1000
            print(f"\n{self.KIND}: revocation on A -> SSE on B: {latency_ms:.1f} ms from the request, "
                  f"{after_answer_ms:.1f} ms after A answered (heartbeat {HEARTBEAT_MS} ms)",
                  file=sys.stderr)
            self.assertLess(latency_ms, HEARTBEAT_MS / 2,
                            "the revocation came no sooner than a heartbeat would bring it")
            end = stream.next()
            self.assertEqual(end[0], "auth", end)
            self.assertEqual(end[1]["reason"], "revoked")
        finally:
            stream.close()

    def test_a_state_change_on_one_server_reaches_a_stream_on_the_other(self):
        created = self.b.create("carol")
        token = created["token"]
        stream = EventStream(self.a, token)
        try:
            self.assertEqual(stream.next()[0], "heartbeat")
            r = self.b.request("PUT", "/v1/session/state", {"data": {"x": 1}}, token=token)
            self.assertEqual(r.status, 200, r)
            seen = stream.until("state_changed", deadline_s=HEARTBEAT_MS / 2000)
            self.assertEqual(seen[-1][1], {"session_id": created["session"]["id"], "version": 1})
        finally:
            stream.close()

    def test_compare_and_swap_through_both_servers_loses_no_update(self):
        created = self.a.create("dave")
        token = created["token"]
        servers = (self.a, self.b)
        conflicts = [0] * CLIENTS
        errors = []

        def client(n):
            try:
                for i in range(INCREMENTS):
                    server = servers[(n + i) % 2]
                    while True:
                        r = server.request("GET", "/v1/session/state", token=token)
                        if r.status == 204:
                            version, count = 0, 0
                        else:
                            assert r.status == 200, r
                            body = r.json()
                            version, count = body["version"], body["data"]["count"]
                        w = server.request("PUT", "/v1/session/state",
                                           {"data": {"count": count + 1},
                                            "expected_version": version}, token=token)
                        if w.status == 200:
                            break
                        assert w.status == 409, w
                        conflicts[n] += 1
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        r = self.b.request("GET", "/v1/session/state", token=token)
        self.assertEqual(r.json()["data"]["count"], CLIENTS * INCREMENTS, r)
        self.assertEqual(r.json()["version"], CLIENTS * INCREMENTS, r)
        print(f"\n{self.KIND}: {CLIENTS} clients x {INCREMENTS} increments through A and B: none lost "
              f"({sum(conflicts)} conflicts retried)", file=sys.stderr)


@unittest.skipUnless(PG_URL or required(), "no SESSIONKIT_TEST_POSTGRES_URL (scripts/pg-mysql.sh)")
class PostgresTwoServers(TwoServers, unittest.TestCase):
    KIND = "postgres"
    URL = PG_URL

    @classmethod
    def create_database(cls, name):
        psql(cls.URL, f"CREATE DATABASE {name}")

    @classmethod
    def drop_database(cls, name):
        psql(cls.URL, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@unittest.skipUnless(MY_URL or required(), "no SESSIONKIT_TEST_MYSQL_URL (scripts/pg-mysql.sh)")
class MysqlTwoServers(TwoServers, unittest.TestCase):
    KIND = "mysql"
    URL = MY_URL

    @classmethod
    def create_database(cls, name):
        mariadb(cls.URL, f"CREATE DATABASE {name}")

    @classmethod
    def drop_database(cls, name):
        mariadb(cls.URL, f"DROP DATABASE IF EXISTS {name}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
