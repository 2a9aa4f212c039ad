//! The story the demo plays, day by day: who signs in where, who uses what, and what goes wrong.
//!
//! Bob is an early user (day 0); alice, carol and dave join on day 2. The configuration (idle
//! 2 days, absolute cap 7 days, 4 live sessions per user, evict oldest) makes the outcomes below
//! certain, and every one of them is checked as it happens.

use serde_json::{json, Value};
use sessionkit::{ClientKind, ErrorKind, ListOptions};

use super::steps::{short, Device};
use super::{check, Demo};
use crate::error::CliResult;

const ALICE: usize = 0;
const BOB: usize = 1;
const CAROL: usize = 2;
const DAVE: usize = 3;

const FIREFOX_UA: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";

const MACBOOK: Device = Device {
    name: "MacBook Pro",
    kind: ClientKind::Desktop,
    version: "3.2.1",
    ip: "203.0.113.10",
    user_agent: "SessionKitDesktop/3.2.1 (macOS 14.4; arm64)",
    slot: (8, 10),
};
const IPHONE: Device = Device {
    name: "iPhone 15",
    kind: ClientKind::Mobile,
    version: "3.2.0",
    ip: "198.51.100.23",
    user_agent: "SessionKit/3.2.0 (iPhone15,4; iOS 17.4)",
    slot: (8, 0),
};
const FIREFOX: Device = Device {
    name: "Firefox on Linux",
    kind: ClientKind::Web,
    version: "2026.04.1",
    ip: "203.0.113.10",
    user_agent: FIREFOX_UA,
    slot: (9, 20),
};
const IPAD: Device = Device {
    name: "iPad Air",
    kind: ClientKind::Mobile,
    version: "3.2.1",
    ip: "198.51.100.24",
    user_agent: "SessionKit/3.2.1 (iPad13,16; iPadOS 17.4)",
    slot: (9, 30),
};
const DELL: Device = Device {
    name: "Dell XPS 13",
    kind: ClientKind::Desktop,
    version: "3.2.1",
    ip: "192.0.2.17",
    user_agent: "SessionKitDesktop/3.2.1 (Windows 11; x64)",
    slot: (9, 10),
};
const CHROME: Device = Device {
    name: "Chrome on Windows",
    kind: ClientKind::Web,
    version: "2026.04.1",
    ip: "192.0.2.44",
    user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/124.0.0.0 Safari/537.36",
    slot: (8, 20),
};
const PIXEL: Device = Device {
    name: "Pixel 8",
    kind: ClientKind::Mobile,
    version: "3.1.9",
    ip: "2001:db8::8a2e:370:7334",
    user_agent: "SessionKit/3.1.9 (Pixel 8; Android 14)",
    slot: (8, 30),
};
const THINKPAD: Device = Device {
    name: "ThinkPad X1 Carbon",
    kind: ClientKind::Desktop,
    version: "3.2.1",
    ip: "198.51.100.77",
    user_agent: "SessionKitDesktop/3.2.1 (Linux; x86_64)",
    slot: (8, 40),
};
const SAFARI: Device = Device {
    name: "Safari on macOS",
    kind: ClientKind::Web,
    version: "2026.04.1",
    ip: "198.51.100.78",
    user_agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like \
                 Gecko) Version/17.4 Safari/605.1.15",
    slot: (8, 45),
};
const BACKUP_JOB: Device = Device {
    name: "nightly backup job",
    kind: ClientKind::Other,
    version: "backup-agent 1.4",
    ip: "10.0.0.5",
    user_agent: "backup-agent/1.4",
    slot: (8, 50),
};
const GALAXY: Device = Device {
    name: "Galaxy S24",
    kind: ClientKind::Mobile,
    version: "3.2.0",
    ip: "203.0.113.200",
    user_agent: "SessionKit/3.2.0 (SM-S921B; Android 14)",
    slot: (9, 0),
};
const EDGE: Device = Device {
    name: "Edge on Windows",
    kind: ClientKind::Web,
    version: "2026.04.1",
    ip: "192.0.2.250",
    user_agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/124.0.0.0 Safari/537.36 Edg/124.0.0.0",
    slot: (9, 5),
};
const TV: Device = Device {
    name: "living-room TV",
    kind: ClientKind::Other,
    version: "tv-app 1.0",
    ip: "203.0.113.201",
    user_agent: "SessionKitTV/1.0 (webOS 23)",
    slot: (19, 0),
};

/// An offline cache big enough to be compressed: 2,000 documents of repetitive JSON.
fn offline_cache() -> Value {
    let documents: Vec<Value> = (0..2000)
        .map(|i| {
            json!({
                "id": format!("doc-{i:05}"),
                "title": format!("Quarterly report section {}", i % 40),
                "tags": ["finance", "draft", if i % 3 == 0 { "shared" } else { "private" }],
                "pinned": i % 17 == 0,
                "revision": i % 9,
            })
        })
        .collect();
    json!({ "kind": "offline-cache", "documents": documents })
}

impl Demo<'_> {
    /// Plays the whole story.
    pub(super) async fn play(&mut self) -> CliResult<()> {
        // ---- day 0: bob, an early user -----------------------------------------------------
        self.at(0, 10, 0)?;
        let b_chrome = self
            .sign_in(BOB, &CHROME, Some(json!({ "login": "password" })))
            .await?;
        let cart =
            json!({ "cart": [{ "sku": "KB-101", "name": "mechanical keyboard", "qty": 1 }] });
        let v = self.put_state(b_chrome, &cart, Some(0)).await?;
        check(v == 1, || format!("first state write gave version {v}"))?;
        self.detail("the shop keeps bob's cart as session state: version 1")?;
        self.at(0, 10, 10)?;
        let b_pixel = self
            .sign_in(BOB, &PIXEL, Some(json!({ "login": "fingerprint" })))
            .await?;

        // ---- day 1: the touch interval, and tokens that are not tokens ---------------------
        self.routine(1, &[b_chrome, b_pixel]).await?;
        self.at_seconds(1, 10, 0, 0)?;
        let first = self.use_ok(b_pixel).await?;
        self.at_seconds(1, 10, 0, 20)?;
        let second = self.use_ok(b_pixel).await?;
        check(second.last_active_at == first.last_active_at, || {
            "a validate within the touch interval wrote activity".into()
        })?;
        self.say(
            "bob's Pixel validates at 10:00:00 and again at 10:00:20: the second is a pure read \
             (activity is written at most once a minute), last_active_at stays 10:00:00",
        )?;
        self.at(1, 15, 10)?;
        self.try_token("not-a-token", ErrorKind::InvalidToken)
            .await?;
        let forged = format!("{}.{}", self.ledger.get(b_chrome).id, "A".repeat(43));
        self.try_token(&forged, ErrorKind::InvalidToken).await?;
        self.say(
            "a malformed token and a guessed secret for bob's real session id are both \
             InvalidToken: the answer never tells which ids exist",
        )?;

        // ---- day 2: everyone else signs in; bob turns on 2FA --------------------------------
        self.routine(2, &[b_chrome, b_pixel]).await?;
        self.at(2, 9, 0)?;
        let a_mac = self
            .sign_in(
                ALICE,
                &MACBOOK,
                Some(json!({ "login": "password", "remember_me": true })),
            )
            .await?;
        let layout = json!({ "theme": "dark", "sidebar": "collapsed", "open": ["q2-plan.md"] });
        let v = self.put_state(a_mac, &layout, Some(0)).await?;
        check(v == 1, || format!("first state write gave version {v}"))?;
        self.detail("the desktop app saves its window layout as state: version 1")?;
        self.at(2, 9, 5)?;
        let a_iphone = self
            .sign_in(ALICE, &IPHONE, Some(json!({ "login": "face_id" })))
            .await?;
        self.at(2, 9, 30)?;
        let a_firefox = self.sign_in(ALICE, &FIREFOX, None).await?;
        self.at(2, 11, 0)?;
        let c_thinkpad = self.sign_in(CAROL, &THINKPAD, None).await?;
        self.at(2, 11, 5)?;
        let c_safari = self.sign_in(CAROL, &SAFARI, None).await?;
        self.at(2, 11, 20)?;
        let c_backup = self
            .sign_in(CAROL, &BACKUP_JOB, Some(json!({ "purpose": "backups" })))
            .await?;
        self.at(2, 14, 0)?;
        let d_galaxy = self.sign_in(DAVE, &GALAXY, None).await?;
        self.at(2, 14, 30)?;
        let d_edge = self.sign_in(DAVE, &EDGE, None).await?;

        self.at(2, 16, 0)?;
        let merged = self
            .update_metadata(
                b_chrome,
                json!({ "mfa": { "enabled": true, "method": "totp" } }),
            )
            .await?;
        let b_chrome2 = self.rotate(b_chrome).await?;
        self.say(&format!(
            "bob turns on two-factor login (metadata now {merged}); privileges changed, so \
             his Chrome session is rotated: {} -> {}",
            short(&self.ledger.get(b_chrome).id),
            short(&self.ledger.get(b_chrome2).id)
        ))?;
        self.use_refused(b_chrome, ErrorKind::InvalidToken).await?;
        let rotated = self.use_ok(b_chrome2).await?;
        let kept_state = self.state(b_chrome2).await?;
        check(
            rotated.metadata.get("mfa").is_some() && kept_state.data == cart,
            || "rotation lost metadata or state".into(),
        )?;
        self.detail(&format!(
            "the old token is refused at once (InvalidToken); the new one works, and the cart \
             (state version {}) and metadata came along",
            kept_state.version
        ))?;

        self.at(2, 18, 0)?;
        self.device_list(ALICE, &[a_firefox, a_iphone], &[a_mac])
            .await?;

        // ---- day 3: two windows, one conflict; a suspicious sign-in -------------------------
        self.routine(
            3,
            &[
                a_iphone, a_mac, b_chrome2, b_pixel, c_thinkpad, c_safari, c_backup, d_galaxy,
            ],
        )
        .await?;
        self.conflict(a_mac).await?;
        self.at(3, 15, 0)?;
        self.revoke(d_edge).await?;
        self.say(&format!(
            "security revokes dave's {} session (sign-in from an unusual network)",
            EDGE.name
        ))?;
        self.use_refused(d_edge, ErrorKind::Revoked).await?;
        self.detail("its token now gets Revoked; the session stays listed, marked revoked")?;

        // ---- day 4: idle expiry, sign out everywhere else, a big state -----------------------
        self.routine(
            4,
            &[
                a_iphone, a_mac, b_chrome2, b_pixel, c_thinkpad, c_safari, c_backup, d_galaxy,
            ],
        )
        .await?;
        self.at(4, 9, 45)?;
        self.use_refused(a_firefox, ErrorKind::Expired).await?;
        self.say(
            "alice opens Firefox, unused since day 2 09:30: Expired (idle for 2 days), and the \
             session is removed",
        )?;
        self.at(4, 11, 0)?;
        let n = self.sign_out_everywhere_else(CAROL, c_thinkpad).await?;
        self.say(&format!(
            "carol left Safari signed in on a shared computer: \"sign out everywhere else\" from \
             her ThinkPad revokes {n} session(s)"
        ))?;
        self.use_refused(c_safari, ErrorKind::Revoked).await?;
        self.at(4, 11, 30)?;
        self.compressed_state(c_thinkpad).await?;
        self.at(4, 13, 5)?;
        self.delete(d_edge).await?;
        self.say("dave removes the revoked Edge session from his device list: deleted for good")?;

        // ---- day 5: alice's new devices hit the per-user limit; dave's preferences ---------
        self.routine(5, &[a_iphone, b_chrome2, b_pixel, c_thinkpad, d_galaxy])
            .await?;
        self.at(5, 12, 0)?;
        let a_ipad = self.sign_in(ALICE, &IPAD, None).await?;
        self.at(5, 12, 30)?;
        let a_dell = self
            .sign_in(ALICE, &DELL, Some(json!({ "login": "sso", "org": "acme" })))
            .await?;
        self.at(5, 13, 0)?;
        let a_firefox2 = self.sign_in(ALICE, &FIREFOX, None).await?;
        self.evicted(a_mac).await?;
        self.detail(&format!(
            "a 5th live session for alice: the limit (4, evict oldest) revoked her least recently \
             active one, the MacBook Pro (last active {})",
            self.when(self.ledger.get(a_mac).last_active_at)
        ))?;
        self.use_refused(a_mac, ErrorKind::Revoked).await?;
        let live = self.m.count_user_sessions(&self.users[ALICE], true).await?;
        check(live == 4, || {
            format!("alice has {live} live sessions, expected 4")
        })?;
        self.at(5, 13, 30)?;
        self.preferences(d_galaxy).await?;

        // ---- day 6: an ordinary day ----------------------------------------------------------
        self.routine(
            6,
            &[
                a_iphone, a_dell, a_firefox2, a_ipad, b_chrome2, b_pixel, c_thinkpad, d_galaxy,
            ],
        )
        .await?;

        // ---- day 7: bob's sessions reach the absolute cap ---------------------------------------
        self.routine(7, &[a_iphone, a_dell, a_firefox2, c_thinkpad, d_galaxy])
            .await?;
        self.at(7, 10, 30)?;
        self.use_refused(b_chrome2, ErrorKind::Expired).await?;
        self.say(&format!(
            "bob used Chrome every day, yet it is Expired: the absolute cap ends a session 7 days \
             after sign-in ({}), and rotation did not extend it",
            self.when(self.ledger.get(b_chrome2).created_at + self.config.absolute_timeout_ms)
        ))?;
        self.at(7, 10, 31)?;
        self.use_refused(b_pixel, ErrorKind::Expired).await?;
        self.detail("his Pixel too (signed in on day 0 10:10)")?;
        self.at(7, 10, 35)?;
        let b_chrome3 = self.sign_in(BOB, &CHROME, None).await?;
        self.at(7, 10, 40)?;
        let b_pixel2 = self.sign_in(BOB, &PIXEL, None).await?;

        // ---- day 8: cleanup, a new device, a sign-out ------------------------------------------
        self.routine(
            8,
            &[a_iphone, a_dell, b_chrome3, b_pixel2, c_thinkpad, d_galaxy],
        )
        .await?;
        self.at(8, 12, 0)?;
        let (removed, ours) = self.cleanup().await?;
        self.facts.cleanup_removed = removed;
        self.facts.cleanup_removed_ours = ours;
        self.say(&format!(
            "cleanup_expired removes {removed} expired session(s) and their state (revoked ones \
             and idle ones nobody came back to, like alice's iPad)"
        ))?;
        self.at(8, 12, 30)?;
        self.clear_state(c_thinkpad).await?;
        self.say("carol clears her offline cache: the session has no state any more")?;
        self.at(8, 16, 0)?;
        let _d_tv = self.sign_in(DAVE, &TV, None).await?;
        self.at(8, 17, 0)?;
        self.revoke(a_firefox2).await?;
        self.say("alice signs out of Firefox: revoked")?;
        Ok(())
    }

    /// Lists `user`'s sessions two per page and checks the pages hold `page1` then `page2`.
    async fn device_list(
        &mut self,
        user: usize,
        page1: &[super::ledger::Handle],
        page2: &[super::ledger::Handle],
    ) -> CliResult<()> {
        self.say(&format!(
            "{}'s device list, 2 per page, newest activity first:",
            self.name(user)
        ))?;
        let mut options = ListOptions {
            limit: 2,
            ..ListOptions::default()
        };
        for (number, expected) in [(1, page1), (2, page2)] {
            let page = self
                .m
                .list_user_sessions(&self.users[user], &options)
                .await?;
            let ids: Vec<_> = page.items.iter().map(|s| s.id).collect();
            let want: Vec<_> = expected.iter().map(|&h| self.ledger.get(h).id).collect();
            check(ids == want, || {
                format!("device list page {number} is {ids:?}")
            })?;
            check(page.next_cursor.is_some() == (number == 1), || {
                format!("device list page {number} has the wrong next cursor")
            })?;
            let rows: Vec<String> = page
                .items
                .iter()
                .map(|s| {
                    format!(
                        "{} ({}, last active {})",
                        s.client.device.as_deref().unwrap_or("?"),
                        s.client.kind.as_str(),
                        self.when(s.last_active_at)
                    )
                })
                .collect();
            let more = if page.next_cursor.is_some() {
                "; next page through the cursor"
            } else {
                "; last page"
            };
            self.detail(&format!("page {number}: {}{more}", rows.join(", ")))?;
            options.cursor = page.next_cursor;
        }
        Ok(())
    }

    /// Two windows of one desktop app save state from the same version: one wins, the other
    /// gets `Conflict` and changes nothing.
    async fn conflict(&mut self, h: super::ledger::Handle) -> CliResult<()> {
        self.at(3, 10, 30)?;
        let seen = self.state(h).await?.version;
        let v = self
            .patch_state(h, &json!({ "sidebar": "expanded" }), Some(seen))
            .await?;
        let stale = self
            .m
            .put_state(
                &self.ledger.get(h).id,
                &json!({ "theme": "light", "sidebar": "collapsed", "open": [] }),
                Some(seen),
            )
            .await;
        let current_version = match stale {
            Err(sessionkit::Error::Conflict { current_version }) => current_version,
            other => {
                return Err(crate::error::CliError::DemoCheck(format!(
                    "a stale compare-and-swap should be a Conflict, got {other:?}"
                )))
            }
        };
        let after = self.state(h).await?;
        check(
            current_version == v
                && after.version == v
                && after.data["theme"] == "dark"
                && after.data["sidebar"] == "expanded",
            || format!("the conflicting write changed the state: {:?}", after.data),
        )?;
        self.facts.conflict_current_version = Some(current_version);
        self.say(&format!(
            "two windows of alice's desktop app both read state version {seen}; window 1 saves \
             (version {v})"
        ))?;
        self.detail(&format!(
            "window 2 saves with expected_version {seen}: Conflict {{ current_version: \
             {current_version} }}, and nothing changed (theme still \"dark\", sidebar \
             \"expanded\")"
        ))
    }

    /// Saves a large state and shows it stored compressed.
    async fn compressed_state(&mut self, h: super::ledger::Handle) -> CliResult<()> {
        let v = self.put_state(h, &offline_cache(), None).await?;
        let state = self.state(h).await?;
        check(
            state.version == v && state.compressed && state.stored_size < state.size,
            || format!("a large state was not stored compressed: {state:?}"),
        )?;
        self.facts.big_state = Some((state.size, state.stored_size));
        self.say(&format!(
            "carol's desktop app saves an offline cache of 2,000 documents: {} bytes of JSON, \
             stored compressed in {} bytes ({:.1}x smaller), checksum {}",
            state.size,
            state.stored_size,
            state.size as f64 / state.stored_size.max(1) as f64,
            state.checksum
        ))
    }

    /// Sets and then patches dave's preferences in his session metadata.
    async fn preferences(&mut self, h: super::ledger::Handle) -> CliResult<()> {
        self.update_metadata(h, json!({ "locale": "de-DE", "theme": "dark" }))
            .await?;
        let merged = self
            .update_metadata(h, json!({ "theme": null, "notifications": "weekly" }))
            .await?;
        check(
            merged == json!({ "locale": "de-DE", "notifications": "weekly" }),
            || format!("merge patch gave {merged}"),
        )?;
        self.say(&format!(
            "dave sets preferences on his phone's session, then patches them with \
             {{\"theme\": null, \"notifications\": \"weekly\"}}: metadata is now {merged}"
        ))
    }
}
