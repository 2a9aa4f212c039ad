//! The context signal (SPEC §11): a request whose IP or User-Agent differs from the stored ones
//! emits `ContextChanged`; the strict policy refuses it and changes nothing.

use std::sync::{Arc, Mutex};

use sessionkit::{
    ClientKind, Config, ContextPolicy, ErrorKind, Event, ManualClock, MemoryStore, NewSession,
    RequestContext, SessionManager,
};

fn manager(policy: ContextPolicy, clock: &ManualClock) -> (SessionManager, Arc<Mutex<Vec<Event>>>) {
    let config = Config {
        context_policy: policy,
        ..Config::default()
    };
    let manager = SessionManager::open_with_clock(
        Arc::new(MemoryStore::new()),
        config,
        Arc::new(clock.clone()),
    )
    .unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    std::mem::forget(manager.subscribe(Arc::new(move |e: &Event| {
        sink.lock().unwrap().push(e.clone())
    })));
    (manager, events)
}

fn new_session() -> NewSession {
    let mut new = NewSession::new("alice", ClientKind::Web);
    new.ip = Some("192.0.2.10".into());
    new.user_agent = Some("Firefox/140".into());
    new
}

fn context(ip: &str, ua: &str) -> RequestContext {
    RequestContext {
        ip: Some(ip.into()),
        user_agent: Some(ua.into()),
    }
}

fn changes(events: &Mutex<Vec<Event>>) -> Vec<(bool, bool)> {
    events
        .lock()
        .unwrap()
        .iter()
        .filter_map(|e| match e {
            Event::ContextChanged {
                ip_changed,
                user_agent_changed,
                ..
            } => Some((*ip_changed, *user_agent_changed)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_changed_context_is_signalled_and_accepted_by_default() {
    pollster::block_on(async {
        let clock = ManualClock::new(1_700_000_000_000);
        let (m, events) = manager(ContextPolicy::Signal, &clock);
        let token = m.create(new_session()).await.unwrap().token;
        let token = token.as_str();
        m.validate_in_context(token, &context("192.0.2.10", "Firefox/140"))
            .await
            .unwrap();
        assert_eq!(changes(&events), vec![]);
        m.validate_in_context(token, &context("198.51.100.7", "Firefox/140"))
            .await
            .unwrap();
        m.validate_in_context(token, &context("192.0.2.10", "curl/8"))
            .await
            .unwrap();
        assert_eq!(changes(&events), vec![(true, false), (false, true)]);
        // Unknown parts are not changes; plain validate never compares.
        m.validate_in_context(token, &RequestContext::default())
            .await
            .unwrap();
        m.validate(token).await.unwrap();
        assert_eq!(changes(&events).len(), 2);
    });
}

#[test]
fn the_strict_policy_refuses_a_changed_context_and_slides_nothing() {
    pollster::block_on(async {
        let clock = ManualClock::new(1_700_000_000_000);
        let (m, events) = manager(ContextPolicy::Strict, &clock);
        let created = m.create(new_session()).await.unwrap();
        let token = created.token.as_str();
        clock.advance(5 * 60_000);
        let refused = m
            .validate_in_context(token, &context("198.51.100.7", "Firefox/140"))
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), ErrorKind::InvalidToken);
        assert_eq!(changes(&events), vec![(true, false)]);
        let stored = m.get(&created.session.id).await.unwrap();
        assert_eq!(
            stored.last_active_at, created.session.last_active_at,
            "nothing slid"
        );
        // The same context as stored is accepted (and slides the expiry).
        let ok = m
            .validate_in_context(token, &context("192.0.2.10", "Firefox/140"))
            .await
            .unwrap();
        assert!(ok.last_active_at > created.session.last_active_at);
    });
}
