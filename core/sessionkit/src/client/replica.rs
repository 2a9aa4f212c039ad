//! The client's replica (docs/SPEC.md §9): the server's base plus a durable queue of local
//! changes; the local view is the base with the queue applied.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Error, Result, Session};

/// One local change, as the app made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// `put_state(data)`: the whole state.
    Put(Value),
    /// `patch_state(patch)`: a JSON Merge Patch (RFC 7396).
    Patch(Value),
}

impl Change {
    fn apply(&self, view: Option<Value>) -> Option<Value> {
        match self {
            Change::Put(data) => Some(data.clone()),
            Change::Patch(patch) => {
                let mut data = view.unwrap_or(Value::Object(Default::default()));
                json_patch::merge(&mut data, patch);
                Some(data)
            }
        }
    }
}

/// A queued change and its place in the queue (sequence numbers only grow).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedChange {
    /// Its sequence number.
    pub seq: u64,
    /// The change.
    pub change: Change,
}

/// What a client keeps durably between runs: its credential, its session as last seen, the
/// server's state as last acknowledged, and the local changes not yet acknowledged.
///
/// The token is the client's own bearer credential (the same thing a cookie jar would keep);
/// a face stores the record where the platform keeps private app data.
#[derive(Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Replica {
    /// The bearer token; `None` when signed out.
    pub token: Option<String>,
    /// The session as the server last described it.
    pub session: Option<Session>,
    /// The version of `base` on the server (0: no state).
    pub base_version: u64,
    /// The server's state at `base_version`.
    pub base: Option<Value>,
    /// Local changes not yet acknowledged, oldest first.
    pub queue: Vec<QueuedChange>,
    /// The next change's sequence number.
    pub next_seq: u64,
    /// Grows with every saved change of the record, so copies (tabs) can tell the newest.
    pub revision: u64,
}

impl std::fmt::Debug for Replica {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Replica")
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("session", &self.session.as_ref().map(|s| s.id))
            .field("base_version", &self.base_version)
            .field("queue", &self.queue.len())
            .field("revision", &self.revision)
            .finish()
    }
}

impl Replica {
    /// The local view: the base with every queued change applied.
    pub fn view(&self) -> Option<Value> {
        self.view_upto(u64::MAX)
    }

    /// The base with the queued changes up to `seq` (inclusive) applied.
    pub fn view_upto(&self, seq: u64) -> Option<Value> {
        self.queue
            .iter()
            .take_while(|q| q.seq <= seq)
            .fold(self.base.clone(), |view, q| q.change.apply(view))
    }

    /// Queues a change; returns its sequence number.
    pub fn push(&mut self, change: Change) -> u64 {
        let seq = self.next_seq.max(1);
        self.next_seq = seq + 1;
        self.queue.push(QueuedChange { seq, change });
        seq
    }

    /// The server acknowledged the changes up to `seq`: they are now its state `data` at `version`.
    pub fn acknowledge(&mut self, upto: u64, version: u64, data: Option<Value>) {
        self.queue.retain(|q| q.seq > upto);
        self.base_version = version;
        self.base = data;
    }

    /// The record as stored bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&Stored {
            format: FORMAT,
            replica: self,
        })
        .expect("a replica always serializes")
    }

    /// Reads a stored record back; bytes from an unknown format are `Corrupt`, never guessed at.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        #[derive(Deserialize)]
        struct Owned {
            format: u32,
            replica: Replica,
        }
        // Read as text: the same JSON reader as the client's HTTP answers, so a wasm build
        // carries one deserializer per record type, not two.
        let stored: Owned = std::str::from_utf8(bytes)
            .ok()
            .and_then(|text| serde_json::from_str(text).ok())
            .ok_or_else(|| Error::corrupt("client replica"))?;
        if stored.format != FORMAT {
            return Err(Error::corrupt("client replica format"));
        }
        Ok(stored.replica)
    }
}

const FORMAT: u32 = 1;

#[derive(Serialize)]
struct Stored<'a> {
    format: u32,
    replica: &'a Replica,
}

/// How a conflict between the local queue and the server's newer state is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictPolicy {
    /// Replay the queued changes on the server's state: edits to different keys both survive;
    /// on the same key the local edit wins.
    #[default]
    Merge,
    /// Drop the local changes; the server's state stands.
    ServerWins,
    /// Overwrite the server's state with the local view.
    ClientWins,
    /// Ask the app's resolver `(base, local, remote) -> data`.
    Custom,
}

/// How a conflict was settled, as `sync_conflict` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// See [`ConflictPolicy::Merge`].
    Merge,
    /// See [`ConflictPolicy::ServerWins`].
    ServerWins,
    /// See [`ConflictPolicy::ClientWins`].
    ClientWins,
    /// See [`ConflictPolicy::Custom`].
    Custom,
}

/// The app's conflict resolver: `(base, local, remote) -> data`, each `None` when there is no state.
pub trait Resolver {
    /// The state to push in place of the local view.
    fn resolve(&self, base: Option<&Value>, local: Option<&Value>, remote: Option<&Value>)
        -> Value;
}

impl<F> Resolver for F
where
    F: Fn(Option<&Value>, Option<&Value>, Option<&Value>) -> Value,
{
    fn resolve(
        &self,
        base: Option<&Value>,
        local: Option<&Value>,
        remote: Option<&Value>,
    ) -> Value {
        self(base, local, remote)
    }
}

/// Rebases the replica on the server's newer state `(version, remote)` as `policy` says.
pub(crate) fn rebase(
    replica: &mut Replica,
    policy: ConflictPolicy,
    resolver: Option<&dyn Resolver>,
    version: u64,
    remote: Option<Value>,
) -> Resolution {
    let local = replica.view();
    let old_base = std::mem::replace(&mut replica.base, remote);
    replica.base_version = version;
    let replace = |replica: &mut Replica, data: Value| {
        replica.queue.clear();
        replica.push(Change::Put(data));
    };
    match (policy, resolver) {
        (ConflictPolicy::Merge, _) => Resolution::Merge,
        (ConflictPolicy::ServerWins, _) => {
            replica.queue.clear();
            Resolution::ServerWins
        }
        (ConflictPolicy::ClientWins, _) | (ConflictPolicy::Custom, None) => {
            if let Some(local) = local {
                replace(replica, local);
            }
            Resolution::ClientWins
        }
        (ConflictPolicy::Custom, Some(resolver)) => {
            let data = resolver.resolve(old_base.as_ref(), local.as_ref(), replica.base.as_ref());
            replace(replica, data);
            Resolution::Custom
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn replica(base: Value, changes: &[Change]) -> Replica {
        let mut r = Replica {
            base_version: 3,
            base: Some(base),
            ..Replica::default()
        };
        for c in changes {
            r.push(c.clone());
        }
        r
    }

    #[test]
    fn the_view_is_the_base_with_the_queue_applied() {
        let r = replica(
            json!({"a": 1, "b": 2}),
            &[
                Change::Patch(json!({"b": null, "c": 3})),
                Change::Patch(json!({"a": 9})),
            ],
        );
        assert_eq!(r.view(), Some(json!({"a": 9, "c": 3})));
        assert_eq!(r.view_upto(1), Some(json!({"a": 1, "c": 3})));
        let put = replica(
            json!({"a": 1}),
            &[Change::Put(json!([1])), Change::Patch(json!({"x": 1}))],
        );
        assert_eq!(put.view(), Some(json!({"x": 1})));
    }

    #[test]
    fn merge_keeps_both_sides_and_the_local_edit_wins_a_shared_key() {
        let mut r = replica(
            json!({"a": 1}),
            &[Change::Patch(json!({"mine": 1, "a": 2}))],
        );
        let how = rebase(
            &mut r,
            ConflictPolicy::Merge,
            None,
            5,
            Some(json!({"a": 7, "theirs": 1})),
        );
        assert_eq!(how, Resolution::Merge);
        assert_eq!(r.base_version, 5);
        assert_eq!(r.view(), Some(json!({"a": 2, "mine": 1, "theirs": 1})));
    }

    #[test]
    fn server_wins_drops_the_queue_and_client_wins_replaces_the_remote() {
        let mut s = replica(json!({"a": 1}), &[Change::Patch(json!({"a": 2}))]);
        rebase(
            &mut s,
            ConflictPolicy::ServerWins,
            None,
            5,
            Some(json!({"b": 1})),
        );
        assert!(s.queue.is_empty());
        assert_eq!(s.view(), Some(json!({"b": 1})));

        let mut c = replica(json!({"a": 1}), &[Change::Patch(json!({"a": 2}))]);
        rebase(
            &mut c,
            ConflictPolicy::ClientWins,
            None,
            5,
            Some(json!({"b": 1})),
        );
        assert_eq!(c.view(), Some(json!({"a": 2})));
        assert_eq!(c.base_version, 5);
    }

    #[test]
    fn a_custom_resolver_sees_base_local_and_remote() {
        let mut r = replica(json!({"n": 1}), &[Change::Patch(json!({"n": 3}))]);
        let sum = |b: Option<&Value>, l: Option<&Value>, r: Option<&Value>| {
            let n = |v: Option<&Value>| v.and_then(|v| v["n"].as_i64()).unwrap_or(0);
            json!({"n": n(l) + n(r) - n(b)})
        };
        let how = rebase(
            &mut r,
            ConflictPolicy::Custom,
            Some(&sum),
            4,
            Some(json!({"n": 5})),
        );
        assert_eq!(how, Resolution::Custom);
        assert_eq!(r.view(), Some(json!({"n": 7})));
    }

    #[test]
    fn records_round_trip_and_unknown_formats_are_corrupt() {
        let mut r = replica(json!({"a": 1}), &[Change::Patch(json!({"b": 2}))]);
        r.token = Some("tok".into());
        assert_eq!(Replica::decode(&r.encode()).unwrap(), r);
        assert!(!format!("{r:?}").contains("tok\""));
        assert!(Replica::decode(br#"{"format":2,"replica":{}}"#).is_err());
        assert!(Replica::decode(b"nope").is_err());
    }
}
