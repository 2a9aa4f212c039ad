//! Events across processes through `LISTEN/NOTIFY`: what one relay publishes reaches every other
//! relay on the database, in order, and not the relay that published it; a relay on another
//! database hears nothing.

mod common;

use sessionkit::{Event, SessionId};
use sessionkit_postgres::PostgresEventRelay;
use tokio::sync::broadcast;

/// The next event, waiting at most 10 s.
fn next(receiver: &mut broadcast::Receiver<Event>) -> Event {
    sessionkit_netstore::testing::next_within_10s(receiver)
}

#[test]
fn postgres_relayed_events_reach_the_other_relays_only() {
    let Some(server) = common::server_url("postgres_relayed_events_reach_the_other_relays_only")
    else {
        return;
    };
    let db = common::TestDb::create(&server);
    let other_db = common::TestDb::create(&server);
    let a = PostgresEventRelay::start(&db.url, None).unwrap();
    let b = PostgresEventRelay::start(&db.url, None).unwrap();
    let elsewhere = PostgresEventRelay::start(&other_db.url, None).unwrap();
    let mut at_a = a.subscribe();
    let mut at_b = b.subscribe();
    let mut at_elsewhere = elsewhere.subscribe();

    let id = SessionId::from_slice(&[7; 16]).unwrap();
    let sent = [
        Event::Created {
            session_id: id,
            user_id: "alice \u{e9}".to_owned(),
        },
        Event::StateChanged {
            session_id: id,
            version: 3,
        },
        Event::Revoked { session_id: id },
    ];
    for event in &sent {
        a.publish(event);
    }
    for event in &sent {
        assert_eq!(&next(&mut at_b), event);
    }
    // B's own event reaches A; A never hears its own (the first thing it hears is B's).
    let from_b = Event::Deleted { session_id: id };
    b.publish(&from_b);
    assert_eq!(next(&mut at_a), from_b);
    assert!(at_b.try_recv().is_err(), "B heard its own event");
    // Another database's relay heard nothing: a marker published there arrives first.
    let marker = Event::CleanupCompleted { removed: 1 };
    let publisher = PostgresEventRelay::start(&other_db.url, None).unwrap();
    publisher.publish(&marker);
    assert_eq!(next(&mut at_elsewhere), marker);
}

#[test]
fn postgres_relay_refuses_bad_urls_and_unreachable_servers() {
    assert!(matches!(
        PostgresEventRelay::start("postgres://user@host:notaport/db", None).unwrap_err(),
        sessionkit::Error::InvalidInput { ref field, .. } if field == "db"
    ));
    let refused =
        PostgresEventRelay::start("postgres://postgres@127.0.0.1:1/postgres", None).unwrap_err();
    assert!(
        matches!(refused, sessionkit::Error::Storage { .. }),
        "{refused:?}"
    );
}
