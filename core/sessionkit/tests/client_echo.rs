//! The sync client and its own writes echoed by the event stream: a `state_changed` naming the
//! version its push in flight will create is not news (no pull), while one naming any other
//! version is.

use serde_json::{json, Value};
use sessionkit::client::{ClientConfig, HttpRequest, Input, Output, Replica, SyncMachine};

const NOW: i64 = 1_700_000_000_000;
const ID: &str = "AAAAAAAAAAAAAAAAAAAAAA";

fn session() -> String {
    json!({
        "id": ID, "user_id": "alice", "created_at": NOW, "last_active_at": NOW,
        "expires_at": NOW + 600_000, "absolute_expires_at": NOW + 6_000_000,
        "client": {"kind": "web", "version": null, "device": null},
        "ip": null, "user_agent": null, "active": true, "metadata": {}
    })
    .to_string()
}

fn sends(outputs: &[Output]) -> Vec<(u64, HttpRequest)> {
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send { id, request } => Some((*id, request.clone())),
            _ => None,
        })
        .collect()
}

fn answer(machine: &mut SyncMachine, id: u64, status: u16, body: &str) -> Vec<Output> {
    machine.handle(
        NOW,
        Input::HttpResponse {
            id,
            status,
            retry_after: None,
            etag: None,
            body: body.into(),
        },
    )
}

/// A connected machine with no state on the server yet.
fn connected() -> SyncMachine {
    let mut machine = SyncMachine::new(ClientConfig::default(), Replica::default(), 7).unwrap();
    let out = machine.handle(
        NOW,
        Input::SignIn {
            token: format!("{ID}.secret"),
        },
    );
    let (validate, _) = sends(&out)[0].clone();
    let out = answer(&mut machine, validate, 200, &session());
    let (pull, request) = sends(&out)[0].clone();
    assert_eq!(request.path, "/v1/session/state");
    answer(&mut machine, pull, 204, "");
    machine.handle(NOW, Input::StreamOpened);
    machine
}

fn state_changed(version: u64) -> Input {
    Input::StreamEvent {
        name: "state_changed".into(),
        data: json!({"session_id": ID, "version": version}),
    }
}

#[test]
fn the_echo_of_its_own_push_does_not_make_the_client_pull() {
    let mut machine = connected();
    let out = machine.handle(NOW, Input::PutState(json!({"a": 1})));
    let pushes = sends(&out);
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0].1.method, "PUT");
    // The stream tells of version 1 before the push's answer arrives.
    let out = machine.handle(NOW, state_changed(1));
    assert!(sends(&out).is_empty(), "no pull for its own write");
    let out = answer(&mut machine, pushes[0].0, 200, r#"{"version":1}"#);
    assert!(
        sends(&out).is_empty(),
        "nothing left to fetch after the answer"
    );
    assert_eq!(machine.state(), Some(json!({"a": 1})));
    assert_eq!(machine.replica().base_version, 1);
}

#[test]
fn another_writers_version_still_makes_it_pull() {
    let mut machine = connected();
    let out = machine.handle(NOW, Input::PatchState(json!({"a": 1})));
    let push = sends(&out)[0].0;
    // Version 2 cannot be this push (which expects 0 and would make 1): someone else wrote.
    machine.handle(NOW, state_changed(2));
    let conflict = json!({"error": {"kind": "Conflict", "message": "m", "current_version": 2,
        "state": {"version": 2, "data": {"b": 2}}}});
    let out = answer(&mut machine, push, 409, &conflict.to_string());
    // The event asked for a pull: it comes first, then the local edit merged on the server's
    // state is pushed.
    let pull = sends(&out);
    assert_eq!(pull.len(), 1);
    assert_eq!(
        (pull[0].1.method.as_str(), pull[0].1.path.as_str()),
        ("GET", "/v1/session/state")
    );
    let out = answer(
        &mut machine,
        pull[0].0,
        200,
        r#"{"version":2,"data":{"b":2},"checksum":"c"}"#,
    );
    let retry = sends(&out);
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].1.method, "PUT");
    let body: Value = serde_json::from_str(retry[0].1.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"data": {"a": 1, "b": 2}, "expected_version": 2})
    );
}

fn done(outputs: &[Output], op: u64) -> bool {
    outputs
        .iter()
        .any(|o| matches!(o, Output::Done { op: o, result: Ok(_) } if *o == op))
}

#[test]
fn a_sign_out_completes_once_the_server_answered_its_revocation() {
    // Online: the session is cleared at once, the call completes with the DELETE's answer (so
    // a caller that exits right after it does not cut the revocation off).
    let mut machine = connected();
    let out = machine.handle(NOW, Input::SignOut { op: 9 });
    let revoke = sends(&out);
    assert_eq!(revoke.len(), 1);
    assert_eq!(
        (revoke[0].1.method.as_str(), revoke[0].1.path.as_str()),
        ("DELETE", "/v1/session")
    );
    assert!(!machine.signed_in());
    assert!(!done(&out, 9), "completed before the server answered");
    assert!(done(&answer(&mut machine, revoke[0].0, 204, ""), 9));

    // Already revoked elsewhere (401): signed out all the same.
    let mut machine = connected();
    let out = machine.handle(NOW, Input::SignOut { op: 3 });
    let (id, _) = sends(&out)[0].clone();
    let body = r#"{"error":{"kind":"Revoked","message":"session revoked"}}"#;
    assert!(done(&answer(&mut machine, id, 401, body), 3));

    // Offline: nothing to wait for.
    let mut machine = connected();
    machine.handle(NOW, Input::Online(false));
    let out = machine.handle(NOW, Input::SignOut { op: 4 });
    assert!(sends(&out).is_empty());
    assert!(done(&out, 4));
}
