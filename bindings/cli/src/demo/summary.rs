//! The end of the demo: the engine's figures checked against the ledger, then printed (a summary,
//! the event log) or returned as one JSON document.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde_json::{json, Value};
use sessionkit::{Clock, Event, ListOptions, SessionId, Stats};

use super::ledger::Expected;
use super::steps::short;
use super::{check, Demo};
use crate::error::CliResult;
use crate::output::time::{duration, iso};
use crate::output::views::{stats_lines, to_json};

/// Figures gathered along the way, for the summary.
#[derive(Debug, Default)]
pub struct Facts {
    /// Sessions in the database before the run (0 on a fresh file).
    pub existing_sessions: u64,
    /// `current_version` carried by the deliberate conflict.
    pub conflict_current_version: Option<u64>,
    /// The large state: (JSON size, stored size).
    pub big_state: Option<(u64, u64)>,
    /// What `cleanup_expired` removed in all.
    pub cleanup_removed: u64,
    /// What it removed of this run's sessions.
    pub cleanup_removed_ours: u64,
}

impl Demo<'_> {
    /// Checks the final figures and prints the summary.
    pub(super) async fn finish(&mut self, db: &Path) -> CliResult<()> {
        let now = self.clock.now_ms();
        let expected = self.ledger.expected(now);
        let stats = self.m.stats().await?;
        self.check_users(now).await?;
        self.check_stats(&stats, &expected)?;
        let log = self.events.lock().map(|l| l.clone()).unwrap_or_default();
        let mut seen: BTreeMap<&'static str, u64> = BTreeMap::new();
        for (_, event) in &log {
            *seen.entry(event.name()).or_default() += 1;
        }
        check(seen == self.ledger.events, || {
            format!(
                "the subscriber saw {seen:?}, the demo caused {:?}",
                self.ledger.events
            )
        })?;
        if self.printer.is_json() {
            let doc = self.json_summary(db, &stats, &expected, &seen, &log);
            return self.printer.json_document(&doc);
        }
        self.print_summary(db, &stats, &expected, &seen, &log)
    }

    /// Every user's counts and device list must match the ledger exactly.
    async fn check_users(&self, now: i64) -> CliResult<()> {
        for (index, user) in self.users.iter().enumerate() {
            let stored: Vec<_> = self.ledger.stored_of(index).collect();
            let live = stored
                .iter()
                .filter(|t| self.ledger.is_live(t, now))
                .count() as u64;
            let total = self.m.count_user_sessions(user, false).await?;
            let active = self.m.count_user_sessions(user, true).await?;
            check(total == stored.len() as u64 && active == live, || {
                format!(
                    "{user}: engine counts {total} stored / {active} active, the demo expected \
                     {} / {live}",
                    stored.len()
                )
            })?;
            let options = ListOptions {
                limit: ListOptions::MAX_LIMIT,
                ..ListOptions::default()
            };
            let page = self.m.list_user_sessions(user, &options).await?;
            for t in &stored {
                let listed = page.items.iter().find(|s| s.id == t.id);
                check(
                    listed.is_some_and(|s| {
                        s.last_active_at == t.last_active_at
                            && s.created_at == t.created_at
                            && s.active != t.revoked
                    }),
                    || format!("{user}: session {} is not listed as the demo left it", t.id),
                )?;
            }
            check(page.items.len() == stored.len(), || {
                format!("{user}: {} sessions listed", page.items.len())
            })?;
        }
        Ok(())
    }

    /// `stats()` must equal the ledger's figures on a fresh database, and include them otherwise.
    fn check_stats(&self, stats: &Stats, e: &Expected) -> CliResult<()> {
        let average = if e.total == 0 {
            0
        } else {
            i64::try_from(e.duration_sum_ms / i128::from(e.total)).unwrap_or(i64::MAX)
        };
        if self.facts.existing_sessions == 0 {
            let want = Stats {
                total: e.total,
                active: e.active,
                created_last_24h: e.created_last_24h,
                created_last_7d: e.created_last_7d,
                by_client_kind: e.by_client_kind.clone(),
                average_duration_ms: average,
            };
            check(*stats == want, || {
                format!("stats() gave {stats:?}, the demo expected {want:?}")
            })
        } else {
            let kinds_ok = e
                .by_client_kind
                .iter()
                .all(|(k, n)| stats.by_client_kind.get(k).copied().unwrap_or(0) >= *n);
            check(
                stats.total >= e.total && stats.active >= e.active && kinds_ok,
                || format!("stats() gave {stats:?}, less than this run alone: {e:?}"),
            )
        }
    }

    /// `alice's MacBook Pro (3kX9aB2q…)` for each id the demo made.
    fn labels(&self) -> HashMap<SessionId, String> {
        self.ledger
            .handles()
            .map(|h| {
                let id = self.ledger.get(h).id;
                (id, format!("{} ({})", self.label(h), short(&id)))
            })
            .collect()
    }

    /// One event as a log line.
    fn event_line(&self, labels: &HashMap<SessionId, String>, at: i64, event: &Event) -> String {
        let label = |id: &SessionId| labels.get(id).cloned().unwrap_or_else(|| short(id));
        let what = match event {
            Event::Created { session_id, .. }
            | Event::MetadataUpdated { session_id }
            | Event::Revoked { session_id }
            | Event::Deleted { session_id }
            | Event::Expired { session_id } => label(session_id),
            Event::Rotated {
                old_session_id,
                session_id,
                ..
            } => format!("{} -> {}", label(old_session_id), short(session_id)),
            Event::StateChanged {
                session_id,
                version,
            } => format!("{}, version {version}", label(session_id)),
            Event::ContextChanged {
                session_id,
                ip_changed,
                user_agent_changed,
            } => format!(
                "{} (ip changed: {ip_changed}, user agent changed: {user_agent_changed})",
                label(session_id)
            ),
            Event::CleanupCompleted { removed } => format!("removed {removed}"),
        };
        format!("  {}  {:<16}  {what}", self.when(at), event.name())
    }

    fn print_summary(
        &self,
        db: &Path,
        stats: &Stats,
        e: &Expected,
        seen: &BTreeMap<&'static str, u64>,
        log: &[(i64, Event)],
    ) -> CliResult<()> {
        let p = self.printer;
        let count = |name: &str| seen.get(name).copied().unwrap_or(0);
        let labels = self.labels();
        p.narrate(&format!(
            "\nEvent log: a subscriber received {} events",
            log.len()
        ))?;
        for (at, event) in log {
            p.narrate(&self.event_line(&labels, *at, event))?;
        }
        let counts: Vec<String> = seen.iter().map(|(k, n)| format!("{k} {n}")).collect();
        p.narrate(&format!("  by type: {}", counts.join(", ")))?;

        p.narrate(&format!(
            "\nSummary at {} (= now, {})",
            self.when(self.clock.now_ms()),
            iso(self.clock.now_ms())
        ))?;
        p.narrate(&format!(
            "  this run: {} sign-ins, {} rotation, {} revocations, {} deletion, {} sessions \
             found expired by validate, {} removed by cleanup",
            count("Created"),
            count("Rotated"),
            count("Revoked"),
            count("Deleted"),
            count("Expired"),
            self.facts.cleanup_removed_ours
        ))?;
        if let Some((size, stored)) = self.facts.big_state {
            p.narrate(&format!(
                "  large state: {size} bytes of JSON stored in {stored} bytes (compressed)"
            ))?;
        }
        if let Some(v) = self.facts.conflict_current_version {
            p.narrate(&format!(
                "  conflict: the stale write got Conflict {{ current_version: {v} }}"
            ))?;
        }
        if self.facts.existing_sessions > 0 {
            p.narrate(&format!(
                "  this run's sessions: {} stored, {} active (the database also held {} from \
                 before; stats() below counts every session)",
                e.total, e.active, self.facts.existing_sessions
            ))?;
        }
        p.narrate("\nstats():")?;
        p.narrate(&stats_lines(stats))?;
        let scope = if self.facts.existing_sessions == 0 {
            "stats() equals"
        } else {
            "stats() includes"
        };
        p.narrate(&format!(
            "\nChecked: {scope} what the demo did (total {}, active {}, created last 24h {}, \
             last 7d {}, average duration {}); per-user counts, device lists and the event log \
             agree too.",
            e.total,
            e.active,
            e.created_last_24h,
            e.created_last_7d,
            duration(if e.total == 0 {
                0
            } else {
                i64::try_from(e.duration_sum_ms / i128::from(e.total)).unwrap_or(0)
            })
        ))?;
        p.narrate(&format!(
            "Look around: sessionkit --db {} list --user {}   (also: stats, show ID, export)",
            db.display(),
            self.users.first().map(String::as_str).unwrap_or("alice")
        ))
    }

    fn json_summary(
        &self,
        db: &Path,
        stats: &Stats,
        e: &Expected,
        seen: &BTreeMap<&'static str, u64>,
        log: &[(i64, Event)],
    ) -> Value {
        let users: BTreeMap<&str, &String> = super::USER_NAMES
            .iter()
            .copied()
            .zip(self.users.iter())
            .collect();
        json!({
            "simulated_time": true,
            "database": db.display().to_string(),
            "fresh_database": self.facts.existing_sessions == 0,
            "existing_sessions": self.facts.existing_sessions,
            "started_at": self.t0,
            "ended_at": self.clock.now_ms(),
            "users": users,
            "run": {
                "sessions_stored": e.total,
                "sessions_active": e.active,
                "created_last_24h": e.created_last_24h,
                "created_last_7d": e.created_last_7d,
                "by_client_kind": e.by_client_kind,
                "removed_by_cleanup": self.facts.cleanup_removed_ours,
                "conflict_current_version": self.facts.conflict_current_version,
                "large_state": self.facts.big_state.map(|(size, stored_size)| json!({
                    "size": size, "stored_size": stored_size, "compressed": true
                })),
            },
            "cleanup_removed": self.facts.cleanup_removed,
            "stats": to_json(stats),
            "events": seen,
            "event_log": log.iter().map(|(at, event)| json!({
                "at": at,
                "event": to_json(event),
            })).collect::<Vec<_>>(),
            "checks_passed": true,
        })
    }
}
