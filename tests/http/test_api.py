"""Every route, status and error kind of docs/SPEC.md §8, through real HTTP on loopback against
`sessionkit serve`, with only Python's standard library.

    SESSIONKIT_BIN=target/debug/sessionkit python3 -m unittest discover -s tests/http -v
"""

import base64
import json
import os
import threading
import time
import unittest

from server import EventStream, Server

SESSION_FIELDS = {"id", "user_id", "created_at", "last_active_at", "expires_at",
                  "absolute_expires_at", "client", "ip", "user_agent", "active", "metadata"}


class Api(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.s = Server("--heartbeat-ms", "300", "--state-max-bytes", "4096")

    @classmethod
    def tearDownClass(cls):
        code = cls.s.stop()
        logs = cls.s.log_text()
        cls.s.close()
        assert code == 0, f"exit code {code}"
        assert cls.s.admin_key not in logs, "the admin key reached the logs"
        for token in Api.tokens:
            secret = token.split(".", 1)[1]
            assert secret not in logs, "a token reached the logs"

    tokens = []

    def new(self, user="alice", **fields):
        created = self.s.create(user, **fields)
        Api.tokens.append(created["token"])
        return created["session"], created["token"]

    def assertError(self, r, status, kind):
        self.assertEqual(r.status, status, r)
        self.assertEqual(r.kind, kind, r)
        self.assertIn("message", r.json()["error"])

    # ---- operations -------------------------------------------------------------------------

    def test_health_readiness_metrics_and_openapi(self):
        self.assertEqual(self.s.request("GET", "/healthz").status, 200)
        self.assertEqual(self.s.request("GET", "/readyz").json(), {"status": "ready"})
        self.s.request("GET", "/v1/session")
        metrics = self.s.request("GET", "/metrics")
        self.assertEqual(metrics.status, 200)
        text = metrics.body.decode()
        self.assertIn('sessionkit_http_requests_total{route="/v1/session",method="GET",status="401"}', text)
        self.assertIn("sessionkit_live_sessions", text)
        self.assertIn("sessionkit_http_request_duration_seconds_bucket", text)
        doc = self.s.request("GET", "/v1/openapi.json").json()
        self.assertTrue(doc["openapi"].startswith("3.1"))
        for path in ["/v1/session", "/v1/session/state", "/v1/session/devices/{id}",
                     "/v1/session/events", "/v1/session/ws", "/v1/admin/sessions",
                     "/v1/admin/users/{user_id}/revoke", "/v1/admin/cleanup", "/metrics"]:
            self.assertIn(path, doc["paths"])

    def test_unknown_paths_are_404_and_wrong_methods_405(self):
        self.assertError(self.s.request("GET", "/v1/nothing"), 404, "NotFound")
        self.assertError(self.s.request("POST", "/v1/session"), 405, "InvalidInput")
        self.assertError(self.s.request("PUT", "/v1/admin/stats", admin=True), 405, "InvalidInput")

    # ---- credentials ------------------------------------------------------------------------

    def test_credentials_missing_wrong_or_of_the_other_api_are_401(self):
        _, token = self.new()
        for r in [self.s.request("GET", "/v1/session"),
                  self.s.request("GET", "/v1/session", token="garbage"),
                  self.s.request("GET", "/v1/session", token=token[:-2] + "AA"),
                  self.s.request("GET", "/v1/session", admin=True),
                  self.s.request("GET", "/v1/admin/stats"),
                  self.s.request("GET", "/v1/admin/stats", token=token),
                  self.s.request("GET", "/v1/admin/stats", headers={"Authorization": "Bearer wrong-key-0123456789abcdef"})]:
            self.assertError(r, 401, "InvalidToken")
            self.assertEqual(r.header("WWW-Authenticate"), 'Bearer error="invalid_token"')
        self.assertEqual(self.s.request("GET", "/v1/admin/stats",
                                        headers={"X-Admin-Key": self.s.admin_key}).status, 200)

    # ---- client API -------------------------------------------------------------------------

    def test_validate_returns_the_session_without_caching(self):
        session, token = self.new(device="Pixel 8", ip="10.0.0.1", user_agent="test/1")
        r = self.s.request("GET", "/v1/session", token=token)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.header("Cache-Control"), "no-store")
        body = r.json()
        self.assertEqual(set(body), SESSION_FIELDS)
        self.assertEqual(body["id"], session["id"])
        self.assertEqual(body["client"], {"kind": "web", "version": None, "device": "Pixel 8"})
        self.assertNotIn(token.split(".")[1], r.body.decode())

    def test_sign_out_revokes_this_session(self):
        _, token = self.new()
        self.assertEqual(self.s.request("DELETE", "/v1/session", token=token).status, 204)
        self.assertError(self.s.request("GET", "/v1/session", token=token), 401, "Revoked")

    def test_rotate_gives_a_new_token_and_ends_the_old(self):
        session, token = self.new()
        r = self.s.request("POST", "/v1/session/rotate", token=token)
        self.assertEqual(r.status, 200)
        new = r.json()
        Api.tokens.append(new["token"])
        self.assertNotEqual(new["session"]["id"], session["id"])
        self.assertEqual(self.s.request("GET", "/v1/session", token=new["token"]).status, 200)
        self.assertError(self.s.request("GET", "/v1/session", token=token), 401, "InvalidToken")

    def test_metadata_takes_a_merge_patch_object(self):
        _, token = self.new(metadata={"role": "admin", "theme": "dark"})
        r = self.s.request("PATCH", "/v1/session/metadata", {"role": None, "lang": "fr"}, token=token)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["metadata"], {"theme": "dark", "lang": "fr"})
        for bad in ([1, 2], "text", 3):
            self.assertError(self.s.request("PATCH", "/v1/session/metadata", bad, token=token),
                             400, "InvalidInput")
        self.assertError(self.s.request("PATCH", "/v1/session/metadata", raw=b"{", token=token),
                         400, "InvalidInput")

    def test_state_versions_etags_and_conflicts(self):
        _, token = self.new()
        r = self.s.request("GET", "/v1/session/state", token=token)
        self.assertEqual((r.status, r.header("ETag")), (204, '"0"'))
        r = self.s.request("PUT", "/v1/session/state", {"data": {"a": 1}, "expected_version": 0}, token=token)
        self.assertEqual((r.status, r.json()), (200, {"version": 1}))
        r = self.s.request("GET", "/v1/session/state", token=token)
        self.assertEqual((r.status, r.header("ETag")), (200, '"1"'))
        self.assertEqual(r.json()["data"], {"a": 1})
        self.assertEqual(r.json()["version"], 1)
        # A stale write: 409 with the current version and state, nothing written.
        r = self.s.request("PUT", "/v1/session/state", {"data": {"a": 9}, "expected_version": 0}, token=token)
        self.assertError(r, 409, "Conflict")
        self.assertEqual(r.json()["error"]["current_version"], 1)
        self.assertEqual(r.json()["error"]["state"]["data"], {"a": 1})
        # If-Match works like expected_version.
        r = self.s.request("PUT", "/v1/session/state", {"data": {"a": 2}}, token=token, headers={"If-Match": '"0"'})
        self.assertError(r, 409, "Conflict")
        r = self.s.request("PUT", "/v1/session/state", {"data": {"a": 2}}, token=token, headers={"If-Match": '"1"'})
        self.assertEqual(r.json(), {"version": 2})
        r = self.s.request("PATCH", "/v1/session/state", {"patch": {"b": 3}, "expected_version": 2}, token=token)
        self.assertEqual(r.json(), {"version": 3})
        r = self.s.request("PATCH", "/v1/session/state", {"patch": {"b": 4}, "expected_version": 2}, token=token)
        self.assertError(r, 409, "Conflict")
        self.assertEqual(r.json()["error"]["state"]["data"], {"a": 2, "b": 3})
        self.assertEqual(self.s.request("DELETE", "/v1/session/state", token=token).status, 204)
        self.assertEqual(self.s.request("GET", "/v1/session/state", token=token).status, 204)
        # Versions never repeat: after a clear at 3 the next write is 4.
        r = self.s.request("PUT", "/v1/session/state", {"data": [1], "expected_version": 0}, token=token)
        self.assertEqual(r.json(), {"version": 4})
        self.assertError(self.s.request("PUT", "/v1/session/state", {"data": 1}, token=token,
                                        headers={"If-Match": "nonsense"}), 400, "InvalidInput")

    def test_state_travels_encoded_and_bad_blobs_change_nothing(self):
        _, a = self.new()
        b_session, b = self.new()
        doc = {"items": list(range(50)), "name": "encoded"}
        self.s.request("PUT", "/v1/session/state", {"data": doc}, token=a)
        blob = self.s.request("GET", "/v1/session/state", token=a,
                              headers={"Accept": "application/vnd.sessionkit.state"})
        self.assertEqual(blob.status, 200)
        self.assertEqual(blob.header("Content-Type"), "application/vnd.sessionkit.state")
        self.assertTrue(blob.body.startswith(b"SKST"))
        r = self.s.request("PUT", "/v1/session/state", token=b, raw=blob.body,
                           headers={"Content-Type": "application/vnd.sessionkit.state", "If-Match": '"0"'})
        self.assertEqual(r.json(), {"version": 1}, r)
        self.assertEqual(self.s.request("GET", "/v1/session/state", token=b).json()["data"], doc)
        damaged = bytearray(blob.body)
        damaged[-1] ^= 0xFF
        r = self.s.request("PUT", "/v1/session/state", token=b, raw=bytes(damaged),
                           headers={"Content-Type": "application/vnd.sessionkit.state"})
        self.assertError(r, 400, "InvalidInput")
        r = self.s.request("GET", f"/v1/admin/sessions/{b_session['id']}/state", admin=True)
        self.assertEqual((r.json()["version"], r.json()["data"]), (1, doc))

    def test_sizes_above_the_limits_are_413(self):
        _, token = self.new()
        r = self.s.request("PUT", "/v1/session/state", {"data": "x" * 5000}, token=token)
        self.assertError(r, 413, "LimitExceeded")
        self.assertEqual(r.json()["error"]["what"], "state_max_bytes")
        r = self.s.request("PUT", "/v1/session/state", token=token, raw=b"[" + b"1," * 100_000 + b"1]")
        self.assertError(r, 413, "LimitExceeded")
        self.assertEqual(self.s.request("GET", "/v1/session/state", token=token).status, 204)

    def test_devices_are_the_users_sessions_with_the_current_one_marked(self):
        user = "devices-user"
        ids = []
        for _ in range(3):
            session, token = self.new(user)
            ids.append(session["id"])
        r = self.s.request("GET", "/v1/session/devices", token=token)
        self.assertEqual(r.status, 200)
        page = r.json()
        self.assertEqual(sorted(i["id"] for i in page["items"]), sorted(ids))
        self.assertEqual([i["id"] for i in page["items"] if i["current"]], [ids[-1]])
        # Paging with the opaque cursor.
        first = self.s.request("GET", "/v1/session/devices?limit=2", token=token).json()
        self.assertEqual(len(first["items"]), 2)
        rest = self.s.request("GET", f"/v1/session/devices?limit=2&cursor={first['next_cursor']}", token=token).json()
        self.assertEqual(len(rest["items"]), 1)
        self.assertIsNone(rest["next_cursor"])
        for query in ["limit=0", "limit=1001", "limit=x", "active_only=maybe", "colour=red",
                      "cursor=forged", f"cursor={base64.urlsafe_b64encode(b'x' * 40).decode()}"]:
            self.assertError(self.s.request("GET", f"/v1/session/devices?{query}", token=token),
                             400, "InvalidInput")
        # Revoke one of the same user's devices; another user's is 404.
        self.assertEqual(self.s.request("DELETE", f"/v1/session/devices/{ids[0]}", token=token).status, 204)
        active = self.s.request("GET", "/v1/session/devices?active_only=true", token=token).json()
        self.assertEqual(len(active["items"]), 2)
        stranger, _ = self.new("someone-else")
        self.assertError(self.s.request("DELETE", f"/v1/session/devices/{stranger['id']}", token=token),
                         404, "NotFound")
        self.assertTrue(self.s.request("GET", f"/v1/admin/sessions/{stranger['id']}", admin=True).json()["active"])
        r = self.s.request("POST", "/v1/session/devices/revoke-others", token=token)
        self.assertEqual(r.json(), {"revoked": 1})
        self.assertEqual(self.s.request("GET", "/v1/session", token=token).status, 200)

    # ---- admin API --------------------------------------------------------------------------

    def test_admin_manages_any_session(self):
        session, token = self.new("admin-user", kind="mobile", client_version="2.1")
        sid = session["id"]
        r = self.s.request("POST", "/v1/admin/validate", {"token": token}, admin=True)
        self.assertEqual(r.json()["id"], sid)
        self.assertError(self.s.request("POST", "/v1/admin/validate", {"token": "x.y"}, admin=True),
                         401, "InvalidToken")
        self.assertEqual(self.s.request("GET", f"/v1/admin/sessions/{sid}", admin=True).json()["client"]["version"], "2.1")
        r = self.s.request("PUT", f"/v1/admin/sessions/{sid}/state", {"data": {"n": 1}, "expected_version": None}, admin=True)
        self.assertEqual(r.json(), {"version": 1})
        r = self.s.request("PATCH", f"/v1/admin/sessions/{sid}/state", {"patch": {"m": 2}}, admin=True)
        self.assertEqual(r.json(), {"version": 2})
        r = self.s.request("PUT", f"/v1/admin/sessions/{sid}/state", {"data": {}, "expected_version": 1}, admin=True)
        self.assertError(r, 409, "Conflict")
        self.assertEqual(r.json()["error"]["current_version"], 2)
        self.assertEqual(self.s.request("GET", f"/v1/admin/sessions/{sid}/state", admin=True).json()["data"], {"n": 1, "m": 2})
        self.assertEqual(self.s.request("DELETE", f"/v1/admin/sessions/{sid}/state", admin=True).status, 204)
        self.assertEqual(self.s.request("GET", f"/v1/admin/sessions/{sid}/state", admin=True).status, 204)
        r = self.s.request("GET", "/v1/admin/users/admin-user/sessions?active_only=true", admin=True)
        self.assertEqual([i["id"] for i in r.json()["items"]], [sid])
        self.assertEqual(self.s.request("POST", f"/v1/admin/sessions/{sid}/revoke", admin=True).status, 204)
        self.assertError(self.s.request("GET", "/v1/session", token=token), 401, "Revoked")
        self.assertEqual(self.s.request("DELETE", f"/v1/admin/sessions/{sid}", admin=True).status, 204)
        self.assertError(self.s.request("GET", f"/v1/admin/sessions/{sid}", admin=True), 404, "NotFound")
        self.assertError(self.s.request("DELETE", f"/v1/admin/sessions/{sid}", admin=True), 404, "NotFound")
        self.assertError(self.s.request("GET", "/v1/admin/sessions/not-an-id", admin=True), 400, "InvalidInput")

    def test_admin_revokes_a_users_sessions_but_one(self):
        keep, _ = self.new("bulk")
        self.new("bulk")
        self.new("bulk")
        r = self.s.request("POST", "/v1/admin/users/bulk/revoke", {"except": keep["id"]}, admin=True)
        self.assertEqual(r.json(), {"revoked": 2})
        r = self.s.request("POST", "/v1/admin/users/bulk/revoke", admin=True)
        self.assertEqual(r.json(), {"revoked": 1})
        r = self.s.request("POST", "/v1/admin/users/bulk/revoke", admin=True)
        self.assertEqual(r.json(), {"revoked": 0})

    def test_admin_deletes_a_users_sessions_and_state(self):
        a, token = self.new("erased")
        self.new("erased")
        kept, kept_token = self.new("not-erased")
        self.s.request("PUT", "/v1/session/state", {"data": {"x": 1}}, token=token)
        r = self.s.request("DELETE", "/v1/admin/users/erased", admin=True)
        self.assertEqual(r.json(), {"removed": 2})
        self.assertError(self.s.request("GET", f"/v1/admin/sessions/{a['id']}", admin=True), 404, "NotFound")
        self.assertError(self.s.request("GET", "/v1/session", token=token), 401, "InvalidToken")
        self.assertEqual(self.s.request("GET", "/v1/session", token=kept_token).status, 200)
        self.assertEqual(self.s.request("DELETE", "/v1/admin/users/erased", admin=True).json(), {"removed": 0})

    def test_admin_stats_and_cleanup(self):
        stats = self.s.stats()
        for field in ["total", "active", "created_last_24h", "created_last_7d", "by_client_kind",
                      "average_duration_ms"]:
            self.assertIn(field, stats)
        r = self.s.request("POST", "/v1/admin/cleanup", admin=True)
        self.assertEqual(r.status, 200)
        self.assertIn("removed", r.json())

    def test_bad_input_is_400_and_changes_nothing(self):
        before = self.s.stats()["total"]
        cases = [
            (b"{not json", "InvalidInput"),
            (json.dumps({"user_id": "u", "client_kind": "web", "colour": "red"}).encode(), "InvalidInput"),
            (json.dumps({"user_id": 7, "client_kind": "web"}).encode(), "InvalidInput"),
            (json.dumps({"user_id": "u", "client_kind": "toaster"}).encode(), "InvalidInput"),
            (json.dumps({"user_id": "", "client_kind": "web"}).encode(), "InvalidInput"),
            (json.dumps({"user_id": "u" * 300, "client_kind": "web"}).encode(), "InvalidInput"),
            (json.dumps({"user_id": "u", "client_kind": "web", "ip": "999.1.1.1"}).encode(), "InvalidInput"),
            (json.dumps({"user_id": "u", "client_kind": "web", "metadata": [1]}).encode(), "InvalidInput"),
            (json.dumps([1, 2]).encode(), "InvalidInput"),
            (b"", "InvalidInput"),
        ]
        for body, kind in cases:
            r = self.s.request("POST", "/v1/admin/sessions", raw=body, admin=True,
                               headers={"Content-Type": "application/json"})
            self.assertError(r, 400, kind)
        _, token = self.new()
        for body in [{"data": 1, "extra": 2}, {"expected_version": 0}, {"data": 1, "expected_version": "1"},
                     {"data": 1, "expected_version": -1}]:
            self.assertError(self.s.request("PUT", "/v1/session/state", body, token=token), 400, "InvalidInput")
        self.assertError(self.s.request("POST", "/v1/admin/users/u/revoke", {"except": "nope"}, admin=True),
                         400, "InvalidInput")
        self.assertEqual(self.s.request("GET", "/v1/session/state", token=token).status, 204)
        self.assertEqual(self.s.stats()["total"], before + 1)

    # ---- events -----------------------------------------------------------------------------

    def test_a_revocation_reaches_the_other_devices_stream_then_auth_ends_it(self):
        a_session, a = self.new("streamer")
        _, b = self.new("streamer")
        stream = EventStream(self.s, a)
        try:
            self.assertEqual(stream.resp.status, 200)
            self.assertEqual(stream.resp.getheader("Content-Type"), "text/event-stream")
            name, data = stream.next()
            self.assertEqual(name, "heartbeat")
            self.assertEqual(data["expires_at"], a_session["expires_at"])
            self.s.request("PUT", "/v1/session/state", {"data": {"x": 1}}, token=a)
            events = stream.until("state_changed")
            self.assertEqual(events[-1][1], {"session_id": a_session["id"], "version": 1})
            r = self.s.request("DELETE", f"/v1/session/devices/{a_session['id']}", token=b)
            self.assertEqual(r.status, 204)
            events = stream.until("auth")
            self.assertIn(("revoked", {"session_id": a_session["id"]}), events)
            self.assertEqual(events[-1], ("auth", {"reason": "revoked"}))
            self.assertIsNone(stream.next())
        finally:
            stream.close()

    def test_a_changed_user_agent_is_signalled_on_the_stream(self):
        session, token = self.new("ctx-user", user_agent="original-agent/1")
        stream = EventStream(self.s, token)  # http.client sends no User-Agent: not a change
        try:
            self.assertEqual(stream.next()[0], "heartbeat")
            r = self.s.request("GET", "/v1/session", token=token, headers={"User-Agent": "other-agent/2"})
            self.assertEqual(r.status, 200)  # the default policy only signals
            events = stream.until("context_changed")
            self.assertEqual(events[-1][1], {"session_id": session["id"], "ip_changed": False,
                                             "user_agent_changed": True})
        finally:
            stream.close()

    def test_a_stream_of_an_invalid_token_is_401(self):
        conn = self.s.connection()
        conn.request("GET", "/v1/session/events", headers={"Authorization": "Bearer a.b"})
        r = conn.getresponse()
        self.assertEqual(r.status, 401)
        conn.close()

    # ---- concurrency ------------------------------------------------------------------------

    def test_many_clients_doing_compare_and_swap_lose_no_update(self):
        _, token = self.new("cas")
        self.s.request("PUT", "/v1/session/state", {"data": {"n": 0}, "expected_version": 0}, token=token)
        workers, each = 8, 15
        errors = []

        def work():
            for _ in range(each):
                while True:
                    cur = self.s.request("GET", "/v1/session/state", token=token)
                    state = cur.json()
                    r = self.s.request("PUT", "/v1/session/state",
                                       {"data": {"n": state["data"]["n"] + 1},
                                        "expected_version": state["version"]}, token=token)
                    if r.status == 200:
                        break
                    if r.status != 409:
                        errors.append(r)
                        return

        threads = [threading.Thread(target=work) for _ in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        final = self.s.request("GET", "/v1/session/state", token=token).json()
        self.assertEqual(final["data"]["n"], workers * each)
        self.assertEqual(final["version"], 1 + workers * each)


class ServerOptions(unittest.TestCase):
    def test_expiry_is_401_expired_and_the_session_limit_is_409(self):
        s = Server("--idle-timeout-ms", "400", "--touch-interval-ms", "100",
                   "--max-sessions-per-user", "2")
        try:
            token = s.create("limited")["token"]
            s.create("limited")
            r = s.request("POST", "/v1/admin/sessions", {"user_id": "limited", "client_kind": "web"}, admin=True)
            self.assertEqual((r.status, r.kind, r.json()["error"]["what"]), (409, "LimitExceeded", "max_sessions_per_user"))
            # Wait (bounded) until the idle timeout has passed: then 401 Expired.
            deadline = time.monotonic() + 10
            while True:
                r = s.request("GET", "/v1/admin/sessions/" + token.split(".")[0], admin=True)
                if r.json()["expires_at"] <= int(time.time() * 1000) or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            r = s.request("GET", "/v1/session", token=token)
            self.assertEqual((r.status, r.kind), (401, "Expired"))
        finally:
            self.assertEqual(s.stop(), 0)
            s.close()

    def test_the_strict_context_policy_refuses_a_changed_user_agent(self):
        s = Server("--context-policy", "strict")
        try:
            token = s.create("strict", user_agent="agent/1")["token"]
            r = s.request("GET", "/v1/session", token=token, headers={"User-Agent": "agent/2"})
            self.assertEqual((r.status, r.kind), (401, "InvalidToken"))
            r = s.request("GET", "/v1/session", token=token, headers={"User-Agent": "agent/1"})
            self.assertEqual(r.status, 200)
        finally:
            self.assertEqual(s.stop(), 0)
            s.close()

    def test_cookie_mode_sets_a_host_cookie_and_guards_unsafe_methods(self):
        s = Server("--cookie-mode", "--cors-origin", "http://app.example")
        try:
            token = s.create("cookie-user")["token"]
            r = s.request("POST", "/v1/session/cookie", token=token)
            self.assertEqual(r.status, 200, r)
            cookies = [v for k, v in r.raw_headers if k.lower() == "set-cookie"]
            session_cookie = next(c for c in cookies if c.startswith("__Host-sessionkit="))
            csrf_cookie = next(c for c in cookies if c.startswith("__Host-sessionkit-csrf="))
            for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"]:
                self.assertIn(attr, session_cookie)
            self.assertNotIn("HttpOnly", csrf_cookie)
            self.assertNotIn("Domain", session_cookie)
            csrf = r.json()["csrf_token"]
            self.assertIn(csrf, csrf_cookie)
            jar = f"__Host-sessionkit={token}; __Host-sessionkit-csrf={csrf}"
            # A safe method needs only the cookie.
            r = s.request("GET", "/v1/session", headers={"Cookie": jar})
            self.assertEqual(r.status, 200, r)
            # An unsafe one also needs the CSRF header matching the cookie...
            put = {"data": {"a": 1}}
            r = s.request("PUT", "/v1/session/state", put, headers={"Cookie": jar})
            self.assertEqual((r.status, r.kind), (400, "InvalidInput"))
            r = s.request("PUT", "/v1/session/state", put, headers={"Cookie": jar, "X-CSRF-Token": "forged"})
            self.assertEqual((r.status, r.kind), (400, "InvalidInput"))
            self.assertEqual(s.request("GET", "/v1/session/state", headers={"Cookie": jar}).status, 204)
            # ...and a foreign Origin is refused even with it.
            r = s.request("PUT", "/v1/session/state", put,
                          headers={"Cookie": jar, "X-CSRF-Token": csrf, "Origin": "http://evil.example"})
            self.assertEqual(r.status, 400)
            r = s.request("PUT", "/v1/session/state", put,
                          headers={"Cookie": jar, "X-CSRF-Token": csrf, "Origin": "http://app.example"})
            self.assertEqual(r.json(), {"version": 1})
            # Signing out revokes the session and removes the cookies.
            r = s.request("DELETE", "/v1/session", headers={"Cookie": jar, "X-CSRF-Token": csrf})
            self.assertEqual(r.status, 204)
            cleared = [v for k, v in r.raw_headers if k.lower() == "set-cookie"]
            self.assertEqual(len(cleared), 2)
            self.assertTrue(all("Max-Age=0" in c for c in cleared), cleared)
            self.assertEqual(s.request("GET", "/v1/session", headers={"Cookie": jar}).kind, "Revoked")
        finally:
            self.assertEqual(s.stop(), 0)
            s.close()

    def test_without_cookie_mode_a_cookie_is_not_a_credential(self):
        s = Server()
        try:
            token = s.create("no-cookies")["token"]
            self.assertEqual(s.request("POST", "/v1/session/cookie", token=token).status, 404)
            r = s.request("GET", "/v1/session", headers={"Cookie": f"__Host-sessionkit={token}"})
            self.assertEqual((r.status, r.kind), (401, "InvalidToken"))
        finally:
            self.assertEqual(s.stop(), 0)
            s.close()

    def test_admin_revokes_every_users_sessions(self):
        s = Server()
        try:
            tokens = [s.create(user)["token"] for user in ["a", "b", "b"]]
            r = s.request("POST", "/v1/admin/revoke-all", admin=True)
            self.assertEqual(r.json(), {"revoked": 3})
            for token in tokens:
                self.assertEqual(s.request("GET", "/v1/session", token=token).kind, "Revoked")
            self.assertEqual(s.request("POST", "/v1/admin/revoke-all", admin=True).json(), {"revoked": 0})
        finally:
            self.assertEqual(s.stop(), 0)
            s.close()

    def test_cors_allows_only_the_listed_origins(self):
        s = Server("--cors-origin", "http://app.example")
        try:
            pre = {"Origin": "http://app.example", "Access-Control-Request-Method": "PUT",
                   "Access-Control-Request-Headers": "authorization,content-type,if-match"}
            r = s.request("OPTIONS", "/v1/session/state", headers=pre)
            self.assertEqual(r.header("Access-Control-Allow-Origin"), "http://app.example")
            r = s.request("OPTIONS", "/v1/session/state", headers={**pre, "Origin": "http://evil.example"})
            self.assertIsNone(r.header("Access-Control-Allow-Origin"))
            r = s.request("GET", "/healthz", headers={"Origin": "http://app.example"})
            self.assertEqual(r.header("Access-Control-Allow-Origin"), "http://app.example")
        finally:
            self.assertEqual(s.stop(), 0)
            s.close()

    def test_a_missing_admin_key_file_is_created_private_and_its_key_never_logged(self):
        s = Server()
        try:
            path = os.path.join(s.dir.name, "fresh.key")
            t = Server(key_file=path, db=os.path.join(s.dir.name, "b.db"))
            try:
                self.assertEqual(os.stat(path).st_mode & 0o777, 0o600)
                key = open(path).read().strip()
                self.assertGreaterEqual(len(key), 32)
                r = t.request("GET", "/v1/admin/stats", headers={"Authorization": f"Bearer {key}"})
                self.assertEqual(r.status, 200)
            finally:
                self.assertEqual(t.stop(), 0)
                logs = t.log_text()
                t.close()
            self.assertIn(path, logs)
            self.assertNotIn(key, logs)
        finally:
            s.stop()
            s.close()

    def test_sigterm_during_load_keeps_every_acknowledged_write(self):
        s = Server("--log-format", "json")
        acked = {}
        tokens = [s.create(f"load-{i}")["token"] for i in range(6)]
        stop = threading.Event()

        def writer(token):
            n = 0
            while not stop.is_set():
                n += 1
                try:
                    r = s.request("PUT", "/v1/session/state", {"data": {"n": n}}, token=token)
                except OSError:
                    return
                if r.status == 200:
                    acked[token] = (r.json()["version"], n)
                elif r.status >= 500:
                    return

        threads = [threading.Thread(target=writer, args=(t,)) for t in tokens]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(acked) < len(tokens) and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual(len(acked), len(tokens))
        code = s.stop()
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(code, 0)
        logs = s.log_text()
        for line in logs.splitlines():
            json.loads(line)  # --log-format json: every line is a JSON object
        s.start()
        try:
            for token, (version, n) in acked.items():
                state = s.request("GET", "/v1/session/state", token=token).json()
                self.assertGreaterEqual(state["version"], version)
                self.assertGreaterEqual(state["data"]["n"], n)
        finally:
            self.assertEqual(s.stop(), 0)
            logs = s.log_text()
            s.close()
        for token in tokens:
            self.assertNotIn(token.split(".")[1], logs)
        self.assertNotIn(s.admin_key, logs)


if __name__ == "__main__":
    unittest.main()
