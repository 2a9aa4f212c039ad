"""What Python users rely on beyond the scenarios: the entry points' names, native JSON values,
exceptions that carry their kind and fields, listeners called back and unsubscribed, SQLite
files that persist, and threads."""

import gc
import threading

import pytest

import sessionkit
from sessionkit import (
    ClientKind,
    Config,
    ContextPolicy,
    Created,
    Event,
    ListOptions,
    ManualClock,
    NewSession,
    SessionManager,
    SessionLimitPolicy,
    SessionkitError,
)

START = 1_700_000_000_000


@pytest.fixture
def clock():
    return ManualClock(START)


@pytest.fixture
def manager(clock):
    return SessionManager.open_memory(Config(), clock)


def test_config_defaults_are_the_engines_and_all_keywords_optional():
    defaults = sessionkit.default_config()
    assert SessionManager.open_memory(Config()).config() == defaults
    assert (defaults.session_limit_policy, defaults.context_policy) == (
        SessionLimitPolicy.REJECT,
        ContextPolicy.SIGNAL,
    )
    c = Config(idle_timeout_ms=60_000, max_sessions_per_user=2, session_limit_policy=SessionLimitPolicy.EVICT_OLDEST)
    assert c.idle_timeout_ms == 60_000
    assert c.absolute_timeout_ms == 30 * 24 * 3600 * 1000
    assert c.max_sessions_per_user == 2
    assert Config().max_sessions_per_user is None
    assert Config().session_limit_policy is None


def test_open_memory_without_config_or_clock_uses_defaults():
    m = SessionManager.open_memory(Config())
    created = m.create(NewSession(user_id="u", client_kind=ClientKind.WEB))
    assert abs(created.session.created_at - m.now()) < 60_000
    assert m.config() == sessionkit.default_config()


def test_the_enums_stand_for_their_spec_names_and_keywords_still_work(manager):
    # The SPEC's names are accepted wherever an enum is, and an enum equals its name.
    assert ClientKind.WEB == "web" and "web" == ClientKind.WEB and ClientKind.WEB != "mobile"
    assert str(SessionLimitPolicy.EVICT_OLDEST) == "evict_oldest"
    assert {ClientKind.MOBILE: 1}["mobile"] == 1
    a = manager.create(user_id="alice", client_kind="mobile", device="Pixel 8")
    b = manager.create(NewSession(user_id="alice", client_kind="web"))
    assert (a.session.client.kind, b.session.client.kind) == ("mobile", ClientKind.WEB)
    assert a.session.client.device == "Pixel 8"
    with pytest.raises(TypeError):
        manager.create(NewSession(user_id="alice", client_kind="web"), device="x")
    with pytest.raises(sessionkit.SessionkitError.InvalidInput) as bad:
        manager.create(user_id="alice", client_kind="tablet")
    assert bad.value.field == "client_kind"
    with pytest.raises(sessionkit.SessionkitError.InvalidInput) as bad:
        SessionManager.open_memory(Config(session_limit_policy="oldest"))
    assert bad.value.kind == "InvalidInput"
    limited = SessionManager.open_memory(
        Config(max_sessions_per_user=1, session_limit_policy="evict_oldest", context_policy="strict")
    )
    assert limited.config().session_limit_policy == SessionLimitPolicy.EVICT_OLDEST
    assert limited.config().context_policy == "strict"
    first = limited.create(user_id="bob", client_kind="web")
    limited.create(user_id="bob", client_kind="web")
    assert limited.count_user_sessions("bob", active_only=True) == 1
    page = manager.list_user_sessions("alice", limit=1)
    assert len(page.items) == 1 and page.next_cursor is not None
    assert manager.revoke_user_sessions("alice", except_id=a.session.id) == 1
    assert first.session.client.kind == "web"


def test_create_takes_a_new_session(manager):
    a = manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB, device="Firefox", metadata={"theme": "dark"}))
    b = manager.create(NewSession(user_id="alice", client_kind=ClientKind.MOBILE))
    c = manager.create(NewSession(user_id="alice", client_kind=ClientKind.DESKTOP))
    d = manager.create(NewSession(user_id="alice", client_kind=ClientKind.OTHER, ip="::1"))
    assert [x.session.client.kind for x in (a, b, c, d)] == [ClientKind.WEB, ClientKind.MOBILE, ClientKind.DESKTOP, ClientKind.OTHER]
    assert a.session.metadata == {"theme": "dark"}
    assert a.session.client.device == "Firefox"
    assert d.session.ip == "::1"
    assert manager.count_user_sessions("alice") == 4


def test_records_carry_spec_field_names(manager, clock):
    created = manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB))
    assert isinstance(created, Created)
    s = manager.validate(created.token)
    assert (s.id, s.user_id, s.active) == (created.session.id, "alice", True)
    assert s.created_at == s.last_active_at == START
    assert s.expires_at == START + 30 * 60 * 1000
    assert s.absolute_expires_at == START + 30 * 24 * 3600 * 1000
    assert (s.client.kind, s.client.version, s.client.device, s.ip, s.user_agent) == (ClientKind.WEB, None, None, None, None)
    assert s.metadata == {}


def test_token_is_not_in_repr(manager):
    created = manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB))
    secret = created.token.split(".")[1]
    for text in (repr(created), str(created), f"{created!r}", repr([created])):
        assert secret not in text
    assert created.token.split(".")[0] == created.session.id


def test_token_is_not_in_the_native_records_repr(manager):
    from sessionkit._native import sessionkit as ffi  # the generated module under the layer

    created = manager._native.create(
        ffi.NewSession(
            user_id="alice", client_kind=ClientKind.WEB, client_version=None, device=None,
            ip=None, user_agent=None, metadata=None,
        )
    )
    secret = created.token.split(".")[1]
    assert secret not in repr(created) and secret not in str(created)
    assert "<redacted>" in str(created)


def test_json_values_are_native(manager):
    sid = manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB)).session.id
    data = {"cart": [1, 2.5, None, True, "x"], "nested": {"deep": {"n": 10**18}}}
    assert manager.put_state(sid, data, expected_version=0) == 1
    state = manager.get_state(sid)
    assert state.data == data
    assert state.version == 1 and state.checksum.startswith("crc32:")
    assert manager.patch_state(sid, {"cart": None, "added": "yes"}) == 2
    assert manager.get_state(sid).data == {"nested": {"deep": {"n": 10**18}}, "added": "yes"}
    s = manager.update_metadata(sid, {"plan": "pro", "tags": ["a"]})
    assert s.metadata == {"plan": "pro", "tags": ["a"]}
    manager.clear_state(sid)
    assert manager.get_state(sid) is None


def test_exceptions_carry_kind_and_fields(manager):
    sid = manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB)).session.id
    manager.put_state(sid, {"v": 1})
    with pytest.raises(SessionkitError) as caught:
        manager.put_state(sid, {"v": 2}, expected_version=7)
    err = caught.value
    assert err.kind == "Conflict" and err.current_version == 1
    assert isinstance(err, SessionkitError.Conflict)
    assert "version conflict" in str(err)

    with pytest.raises(SessionkitError.InvalidInput) as caught:
        manager.get("not-an-id")
    assert (caught.value.kind, caught.value.field) == ("InvalidInput", "id")

    with pytest.raises(SessionkitError) as caught:
        manager.validate("garbage")
    assert caught.value.kind == "InvalidToken"

    with pytest.raises(SessionkitError) as caught:
        manager.get("AAAAAAAAAAAAAAAAAAAAAA")
    assert caught.value.kind == "NotFound"

    with pytest.raises(SessionkitError) as caught:
        sessionkit.parse_client_kind("tablet")
    assert (caught.value.kind, caught.value.field) == ("InvalidInput", "client_kind")
    assert sessionkit.parse_client_kind("web") == ClientKind.WEB

    with pytest.raises(SessionkitError) as caught:
        manager.put_state(sid, {"x": float("nan")})
    assert (caught.value.kind, caught.value.field) == ("InvalidInput", "data")

    with pytest.raises(SessionkitError) as caught:
        manager.update_metadata(sid, [1, 2])
    assert caught.value.kind == "InvalidInput"


def test_limit_exceeded_carries_what():
    m = SessionManager.open_memory(Config(state_max_bytes=16))
    sid = m.create(NewSession(user_id="u", client_kind=ClientKind.WEB)).session.id
    with pytest.raises(SessionkitError) as caught:
        m.put_state(sid, {"text": "x" * 100})
    assert (caught.value.kind, caught.value.what) == ("LimitExceeded", "state_max_bytes")


def test_invalid_config_is_invalid_input_at_open(tmp_path):
    with pytest.raises(SessionkitError) as caught:
        SessionManager.open_memory(Config(idle_timeout_ms=0))
    assert (caught.value.kind, caught.value.field) == ("InvalidInput", "idle_timeout_ms")
    with pytest.raises(SessionkitError) as caught:
        SessionManager.open_sqlite(tmp_path / "x.db", Config(idle_timeout_ms=0))
    assert caught.value.field == "idle_timeout_ms"
    assert not (tmp_path / "x.db").exists(), "bad config must not create the database"
    with pytest.raises(SessionkitError.InvalidInput) as caught:
        sessionkit.parse_session_limit_policy("newest")
    assert caught.value.field == "session_limit_policy"
    assert sessionkit.parse_session_limit_policy("evict_oldest") == SessionLimitPolicy.EVICT_OLDEST
    with pytest.raises(SessionkitError.InvalidInput) as caught:
        sessionkit.parse_context_policy("Strict")
    assert caught.value.field == "context_policy"


def test_expiry_with_the_manual_clock(manager, clock):
    token = manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB)).token
    assert clock.advance(31 * 60 * 1000) == START + 31 * 60 * 1000
    with pytest.raises(SessionkitError) as caught:
        manager.validate(token)
    assert caught.value.kind == "Expired"


def test_listener_is_called_back_and_unsubscribed(manager):
    seen = []
    sub = manager.subscribe(seen.append)
    assert sub.active
    created = manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB))
    manager.put_state(created.session.id, {"a": 1})
    manager.revoke(created.session.id)
    assert [e.type for e in seen] == ["Created", "StateChanged", "Revoked"]
    assert seen[0] == Event(type="Created", session_id=created.session.id, user_id="alice")
    assert seen[1].to_dict() == {"type": "StateChanged", "session_id": created.session.id, "version": 1}
    assert (seen[1]["type"], seen[1]["version"], seen[1].get("removed")) == ("StateChanged", 1, None)
    sub.close()
    assert not sub.active
    manager.create(NewSession(user_id="bob", client_kind=ClientKind.WEB))
    assert len(seen) == 3
    sub.close()  # twice is fine


def test_subscription_as_context_manager_and_by_garbage_collection(manager):
    seen = []
    with manager.subscribe(seen.append):
        manager.create(NewSession(user_id="a", client_kind=ClientKind.WEB))
    manager.create(NewSession(user_id="b", client_kind=ClientKind.WEB))
    assert len(seen) == 1

    other = []
    sub = manager.subscribe(other.append)
    manager.create(NewSession(user_id="c", client_kind=ClientKind.WEB))
    del sub
    gc.collect()
    manager.create(NewSession(user_id="d", client_kind=ClientKind.WEB))
    assert [e.user_id for e in other] == ["c"]


def test_a_failing_listener_does_not_fail_the_operation(manager, caplog):
    def boom(event):
        raise RuntimeError("listener bug")

    seen = []
    with manager.subscribe(boom), manager.subscribe(seen.append):
        created = manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB))
    assert manager.get(created.session.id).user_id == "alice"
    assert [e.type for e in seen] == ["Created"]
    assert "listener bug" in caplog.text


def test_listener_may_call_back_into_the_manager(manager):
    users = []

    def on_event(event):
        if event.type == "Created":
            users.append(manager.get(event.session_id).user_id)

    with manager.subscribe(on_event):
        manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB))
    assert users == ["alice"]


def test_listing_and_sign_out_everywhere_else(manager, clock):
    ids = []
    for _ in range(3):
        ids.append(manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB)).session.id)
        clock.advance(1000)
    page = manager.list_user_sessions("alice", ListOptions(limit=2))
    assert [s.id for s in page.items] == [ids[2], ids[1]]
    rest = manager.list_user_sessions("alice", ListOptions(limit=2, cursor=page.next_cursor))
    assert [s.id for s in rest.items] == [ids[0]] and rest.next_cursor is None
    assert manager.list_user_sessions("alice", ListOptions(limit=1)).items[0].id == ids[2]
    assert manager.revoke_user_sessions("alice", ids[0]) == 2
    assert manager.revoke_user_sessions("alice", except_=ids[0]) == 0
    assert manager.count_user_sessions("alice", active_only=True) == 1
    assert manager.count_active() == 1
    stats = manager.stats()
    assert stats.total == 3 and stats.active == 1
    assert stats.by_client_kind == {"desktop": 0, "mobile": 0, "web": 3, "other": 0}


def test_rotate_and_cleanup(manager, clock):
    created = manager.create(NewSession(user_id="alice", client_kind=ClientKind.WEB))
    rotated = manager.rotate(created.session.id)
    assert rotated.session.id != created.session.id
    with pytest.raises(SessionkitError):
        manager.validate(created.token)
    manager.validate(rotated.token)
    clock.advance(31 * 24 * 3600 * 1000)
    assert manager.cleanup_expired() == 1
    manager.delete  # exists
    with pytest.raises(SessionkitError) as caught:
        manager.delete(rotated.session.id)
    assert caught.value.kind == "NotFound"


def test_sqlite_file_persists_across_managers(tmp_path, clock):
    path = tmp_path / "sessions.db"
    first = SessionManager.open_sqlite(path, Config(), clock)
    created = first.create(NewSession(user_id="alice", client_kind=ClientKind.MOBILE, metadata={"k": 1}))
    first.put_state(created.session.id, {"draft": "hi"})
    del first
    gc.collect()
    second = SessionManager.open_sqlite(str(path), Config(), clock)
    session = second.validate(created.token)
    assert session.metadata == {"k": 1}
    assert second.get_state(session.id).data == {"draft": "hi"}


def test_a_database_that_is_not_sqlite_is_a_storage_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(SessionkitError) as caught:
        SessionManager.open_sqlite(path, Config())
    assert caught.value.kind in ("Storage", "Corrupt")


def test_threads_share_one_manager(tmp_path):
    manager = SessionManager.open_sqlite(tmp_path / "t.db", Config())
    tokens = [manager.create(NewSession(user_id=f"u{i}", client_kind=ClientKind.WEB)).token for i in range(8)]
    errors = []

    def work(token):
        try:
            for _ in range(50):
                manager.validate(token)
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_public_names():
    for name in sessionkit.__all__:
        assert hasattr(sessionkit, name), name
    from sessionkit import Config, ManualClock, SessionManager, SessionkitError  # noqa: F401


def test_revoke_all_and_delete_user_sessions(manager):
    a = manager.create(NewSession(user_id="a", client_kind=ClientKind.WEB))
    manager.create(NewSession(user_id="b", client_kind=ClientKind.WEB))
    manager.create(NewSession(user_id="b", client_kind=ClientKind.MOBILE))
    assert manager.delete_user_sessions("b") == 2
    assert manager.revoke_all_sessions() == 1
    with pytest.raises(SessionkitError) as err:
        manager.validate(a.token)
    assert err.value.kind == "Revoked"


def test_validate_in_context_signals_and_the_strict_policy_refuses(clock):
    for policy in (ContextPolicy.SIGNAL, ContextPolicy.STRICT):
        m = SessionManager.open_memory(Config(context_policy=policy), clock)
        seen = []
        sub = m.subscribe(seen.append)
        created = m.create(NewSession(user_id="u", client_kind=ClientKind.WEB, ip="192.0.2.1", user_agent="app/1"))
        m.validate_in_context(created.token, "192.0.2.1", "app/1")
        assert [e.type for e in seen] == ["Created"]
        if policy == ContextPolicy.SIGNAL:
            m.validate_in_context(created.token, "198.51.100.2", "app/1")
        else:
            with pytest.raises(SessionkitError) as err:
                m.validate_in_context(created.token, "198.51.100.2", "app/1")
            assert err.value.kind == "InvalidToken"
        changed = [e for e in seen if e.type == "ContextChanged"]
        assert [(e.ip_changed, e.user_agent_changed) for e in changed] == [(True, False)]
        sub.close()


def test_state_is_encrypted_at_rest_with_the_callers_keys(tmp_path):
    import base64
    import sqlite3

    from sessionkit import SessionkitError, SessionManager

    key1 = "1:" + base64.b64encode(bytes(range(32))).decode()
    key2 = "2:" + base64.b64encode(bytes(range(32, 64))).decode()
    path = tmp_path / "sessions.db"
    manager = SessionManager.open_sqlite(path, state_keys=key1)
    created = manager.create(NewSession(user_id="alice", client_kind=ClientKind.MOBILE))
    manager.put_state(created.session.id, {"secret": "plans"})
    assert manager.get_state(created.session.id).data == {"secret": "plans"}
    del manager

    # What is stored is not the JSON.
    with sqlite3.connect(path) as db:
        (blob,) = db.execute("SELECT blob FROM session_state").fetchone()
    assert b"plans" not in bytes(blob)

    # Without the key: Corrupt, never garbage. With a rotated key list: still read.
    plain = SessionManager.open_sqlite(path)
    with pytest.raises(SessionkitError.Corrupt):
        plain.get_state(created.session.id)
    rotated = SessionManager.open_sqlite(path, state_keys=key2 + "\n" + key1)
    assert rotated.get_state(created.session.id).data == {"secret": "plans"}

    # Bad keys are refused before anything is created.
    fresh = tmp_path / "fresh.db"
    with pytest.raises(SessionkitError.InvalidInput):
        SessionManager.open_sqlite(fresh, state_keys="1:not-base64")
    assert not fresh.exists()


def _export_all(manager, limit=2):
    records, after = [], None
    while True:
        page = manager.export_sessions(after=after, limit=limit)
        if not page:
            return records
        records += page
        after = page[-1]["session"]["id"]


def test_export_import_round_trip_memory_sqlite_memory(clock, tmp_path):
    source = SessionManager.open_memory(Config(), clock)
    a = source.create(NewSession(user_id="alice", client_kind=ClientKind.WEB, metadata={"theme": "dark"}))
    b = source.create(NewSession(user_id="bob", client_kind=ClientKind.MOBILE))
    c = source.create(NewSession(user_id="carol", client_kind=ClientKind.DESKTOP))
    source.put_state(a.session.id, {"cart": [1, 2, 3]})
    source.put_state(b.session.id, {"draft": "x"})
    source.clear_state(b.session.id)
    source.revoke(c.session.id)
    exported = _export_all(source)
    assert sorted(r["session"]["id"] for r in exported) == sorted(x.session.id for x in (a, b, c))
    assert all("token" not in r and r["token_hash"] for r in exported)

    sqlite = SessionManager.open_sqlite(tmp_path / "sessions.db", Config(), clock)
    summary = sqlite.import_sessions(exported)
    assert (summary.imported, summary.skipped) == (3, 0)
    back = SessionManager.open_memory(Config(), clock)
    assert back.import_sessions(_export_all(sqlite)).imported == 3
    assert _export_all(back) == exported

    # The clients' tokens still open their sessions, with their state.
    assert back.validate(a.token).metadata == {"theme": "dark"}
    assert back.get_state(a.session.id).data == {"cart": [1, 2, 3]}
    assert back.get_state(b.session.id) is None
    with pytest.raises(SessionkitError.Revoked):
        back.validate(c.token)
    # Insert-only: importing again skips every record.
    again = back.import_sessions(exported)
    assert (again.imported, again.skipped) == (0, 3)


def test_a_bad_import_record_is_refused_and_nothing_is_imported(clock):
    source = SessionManager.open_memory(Config(), clock)
    for user in ("a", "b"):
        source.create(NewSession(user_id=user, client_kind=ClientKind.WEB))
    good = _export_all(source)
    target = SessionManager.open_memory(Config(), clock)
    with pytest.raises(SessionkitError.InvalidInput) as err:
        target.import_sessions([good[0], "{not json", good[1]])
    assert err.value.field == "records[1]"
    bad_hash = dict(good[1], token_hash="AAAA")
    with pytest.raises(SessionkitError.InvalidInput) as err:
        target.import_sessions([good[0], bad_hash])
    assert err.value.field == "records[1].token_hash"
    assert _export_all(target) == []
    assert target.count_active() == 0
    with pytest.raises(SessionkitError.InvalidInput) as err:
        target.export_sessions(limit=0)
    assert err.value.field == "limit"
