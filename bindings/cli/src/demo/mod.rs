//! `sessionkit demo`: a realistic scenario played against the database file in simulated time.
//!
//! Four users sign in on their devices and use them over nine simulated days (day 0 to day 8): sessions idle out
//! and hit the absolute cap, one is rotated after a privilege change, others are revoked (one
//! by the per-user limit, some by "sign out everywhere else"), metadata and state change, a
//! compare-and-swap conflict is shown, a large state is compressed, expired sessions are cleaned
//! up, and a subscriber logs every event. A [`ManualClock`] makes the days pass instantly; the
//! timeline is placed so that it *ends* at the current wall-clock time, so `sessionkit list`
//! and `sessionkit stats` run afterwards with the demo's timeouts (`--idle-timeout-ms
//! 172800000 --absolute-timeout-ms 604800000`) see the sessions as the demo left them (with
//! the default 30-minute idle timeout, those idle longer count as expired).
//!
//! The demo keeps its own [`ledger::Ledger`] of what it did and checks the engine against it
//! after every step and at the end; any disagreement fails the command (`DemoCheckFailed`).
//! User ids carry a per-run tag, so a reused database works: its older sessions are reported
//! separately and the run's own figures are still checked exactly.

mod ledger;
mod script;
mod steps;
mod summary;

use std::path::Path;
use std::sync::{Arc, Mutex};

use sessionkit::{Clock, Config, Event, ManualClock, SessionLimitPolicy, SessionManager};

use crate::cli::ConfigArgs;
use crate::database::{self, Missing};
use crate::error::{CliError, CliResult};
use crate::output::time::iso;
use crate::output::Printer;

use ledger::{Ledger, DAY_MS};

/// Where the simulated timeline ends, counted from its start (day 0, 00:00): day 8, 18:00.
const TIMELINE_MS: i64 = 8 * DAY_MS + 18 * HOUR_MS;
const HOUR_MS: i64 = 3_600_000;
const MINUTE_MS: i64 = 60_000;

/// The names of the demo's users; each run appends its own tag.
const USER_NAMES: [&str; 4] = ["alice", "bob", "carol", "dave"];

/// The configuration the scenario is written for: a consumer app's "remember me" sessions.
fn demo_config() -> Config {
    Config {
        idle_timeout_ms: 2 * DAY_MS,
        absolute_timeout_ms: 7 * DAY_MS,
        touch_interval_ms: MINUTE_MS,
        max_sessions_per_user: Some(4),
        session_limit_policy: SessionLimitPolicy::EvictOldest,
        ..Config::default()
    }
}

/// Events received by the demo's subscriber, with the simulated time they arrived.
type EventLog = Arc<Mutex<Vec<(i64, Event)>>>;

/// The running scenario: the manager, its clock, the ledger and the narrative.
pub struct Demo<'p> {
    m: SessionManager,
    clock: ManualClock,
    config: Config,
    /// Start of simulated day 0.
    t0: i64,
    printer: &'p Printer,
    /// Full user ids of this run, in [`USER_NAMES`] order.
    users: Vec<String>,
    ledger: Ledger,
    events: EventLog,
    /// The day whose heading was printed last.
    day: Option<i64>,
    /// Figures gathered on the way, reported at the end.
    facts: summary::Facts,
}

/// Runs the demo against the database at `db`.
pub async fn run(db: &Path, config_args: &ConfigArgs, printer: &Printer) -> CliResult<()> {
    if config_args.any() {
        return Err(sessionkit::Error::invalid_input(
            "config",
            "the demo runs with its own configuration (idle 2 days, absolute 7 days, at most 4 \
             sessions per user, evict oldest); leave out the configuration options",
        )
        .into());
    }
    let config = demo_config();
    let wall = sessionkit::SystemClock.now_ms();
    // Whole minutes keep the printed times tidy; the timeline ends within a minute of now.
    let t0 = (wall - TIMELINE_MS).div_euclid(MINUTE_MS) * MINUTE_MS;
    let clock = ManualClock::new(t0);
    let m = database::open_manager(db, Missing::Create, config.clone(), Arc::new(clock.clone()))?;

    let events: EventLog = Arc::default();
    let sink = Arc::clone(&events);
    let log_clock = clock.clone();
    let _subscription = m.subscribe(Arc::new(move |event: &Event| {
        if let Ok(mut log) = sink.lock() {
            log.push((log_clock.now_ms(), event.clone()));
        }
    }));

    let tag = to_base36(wall.unsigned_abs());
    let users: Vec<String> = USER_NAMES.iter().map(|n| format!("{n}-{tag}")).collect();
    let mut demo = Demo {
        ledger: Ledger::new(&config),
        m,
        clock,
        config,
        t0,
        printer,
        users,
        events,
        day: None,
        facts: summary::Facts::default(),
    };
    demo.introduce(db).await?;
    demo.play().await?;
    demo.at(8, 18, 0)?;
    demo.finish(db).await
}

impl Demo<'_> {
    /// Prints the heading and checks this run's users start with no sessions.
    async fn introduce(&mut self, db: &Path) -> CliResult<()> {
        self.facts.existing_sessions = self.m.stats().await?.total;
        for user in &self.users {
            let n = self.m.count_user_sessions(user, false).await?;
            check(n == 0, || format!("user {user} already has {n} sessions"))?;
        }
        let p = self.printer;
        p.narrate(
            "sessionkit demo: four users, their devices and nine days (day 0 to day 8) of use",
        )?;
        p.narrate(&format!("  database   {}", db.display()))?;
        p.narrate(&format!(
            "  time       SIMULATED: a manual clock runs from {} to {} (now) in an instant",
            iso(self.t0),
            iso(self.t0 + TIMELINE_MS)
        ))?;
        p.narrate("             times below read `day N HH:MM`, counted from the start of day 0")?;
        p.narrate(&format!("  users      {}", self.users.join(", ")))?;
        p.narrate(
            "  config     idle timeout 2d, absolute cap 7d, touch interval 1m, at most 4 live \
             sessions per user (evict oldest), state compressed above 10 KiB",
        )?;
        if self.facts.existing_sessions > 0 {
            p.narrate(&format!(
                "  note       the database already holds {} session(s); they stay untouched, \
                 except that cleanup also removes those expired",
                self.facts.existing_sessions
            ))?;
        }
        Ok(())
    }

    /// Moves the clock forward to `day`, `hour`:`minute` (printing a heading for a new day).
    fn at(&mut self, day: i64, hour: i64, minute: i64) -> CliResult<()> {
        self.at_seconds(day, hour, minute, 0)
    }

    /// Moves the clock forward to a time with seconds.
    fn at_seconds(&mut self, day: i64, hour: i64, minute: i64, second: i64) -> CliResult<()> {
        let t = self.t0 + day * DAY_MS + hour * HOUR_MS + minute * MINUTE_MS + second * 1000;
        let now = self.clock.now_ms();
        check(t >= now, || {
            format!("the script moves time backwards at day {day} {hour:02}:{minute:02}")
        })?;
        self.clock.set(t);
        if self.day != Some(day) {
            self.day = Some(day);
            self.printer.narrate(&format!("\nDay {day}"))?;
        }
        Ok(())
    }

    /// `day 3 09:15`: a simulated time relative to the start of day 0.
    fn when(&self, t: i64) -> String {
        let rel = t - self.t0;
        format!(
            "day {} {:02}:{:02}",
            rel.div_euclid(DAY_MS),
            rel.rem_euclid(DAY_MS) / HOUR_MS,
            rel.rem_euclid(HOUR_MS) / MINUTE_MS
        )
    }

    /// Prints one narrative line stamped with the simulated time of day.
    fn say(&self, text: &str) -> CliResult<()> {
        let rel = self.clock.now_ms() - self.t0;
        self.printer.narrate(&format!(
            "  {:02}:{:02}  {text}",
            rel.rem_euclid(DAY_MS) / HOUR_MS,
            rel.rem_euclid(HOUR_MS) / MINUTE_MS
        ))
    }

    /// Prints a continuation line under the last narrative line.
    fn detail(&self, text: &str) -> CliResult<()> {
        self.printer.narrate(&format!("         {text}"))
    }
}

/// Fails the demo with `what` unless `ok`.
fn check(ok: bool, what: impl FnOnce() -> String) -> CliResult<()> {
    if ok {
        Ok(())
    } else {
        Err(CliError::DemoCheck(what()))
    }
}

/// `n` in base 36 (lowercase), for short per-run tags.
fn to_base36(mut n: u64) -> String {
    let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base36_tags() {
        assert_eq!(to_base36(0), "0");
        assert_eq!(to_base36(35), "z");
        assert_eq!(to_base36(36), "10");
    }

    #[test]
    fn the_demo_configuration_is_valid() {
        demo_config().validate().unwrap();
    }
}
