//! Events across processes through the polled events table: what one relay publishes reaches
//! every other relay on the database, in order, and not the relay that published it; a relay
//! on another database hears nothing; old rows are deleted.

mod common;

use std::time::{Duration, Instant};

use sessionkit::{Event, SessionId};
use sessionkit_mysql::{MysqlEventRelay, MysqlRelayOptions};
use tokio::sync::broadcast;

fn options() -> MysqlRelayOptions {
    MysqlRelayOptions {
        poll_interval: Duration::from_millis(20),
        ..MysqlRelayOptions::default()
    }
}

/// The next event, waiting at most 10 s.
fn next(receiver: &mut broadcast::Receiver<Event>) -> Event {
    sessionkit_netstore::testing::next_within_10s(receiver)
}

#[test]
fn mysql_relayed_events_reach_the_other_relays_only() {
    let Some(server) = common::server_url("mysql_relayed_events_reach_the_other_relays_only")
    else {
        return;
    };
    let db = common::TestDb::create(&server);
    let other_db = common::TestDb::create(&server);
    let a = MysqlEventRelay::start(&db.url, options(), None).unwrap();
    let b = MysqlEventRelay::start(&db.url, options(), None).unwrap();
    let elsewhere = MysqlEventRelay::start(&other_db.url, options(), None).unwrap();
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
    let started = Instant::now();
    for event in &sent {
        a.publish(event);
    }
    for event in &sent {
        assert_eq!(&next(&mut at_b), event);
    }
    eprintln!("three events from A to B in {:?}", started.elapsed());
    let from_b = Event::Deleted { session_id: id };
    b.publish(&from_b);
    assert_eq!(next(&mut at_a), from_b);
    assert!(at_b.try_recv().is_err(), "B heard its own event");
    let marker = Event::CleanupCompleted { removed: 1 };
    let publisher = MysqlEventRelay::start(&other_db.url, options(), None).unwrap();
    publisher.publish(&marker);
    assert_eq!(next(&mut at_elsewhere), marker);
    // The rows are in the table (until the retention removes them).
    let rows = common::query_text(&db.url, "SELECT COUNT(*) FROM sessionkit_events");
    assert_eq!(rows[0][0].as_deref(), Some("4"));
}

#[test]
fn mysql_relay_refuses_bad_urls_and_unreachable_servers() {
    assert!(matches!(
        MysqlEventRelay::start("mysql://user@host:notaport/db", options(), None).unwrap_err(),
        sessionkit::Error::InvalidInput { ref field, .. } if field == "db"
    ));
    let refused =
        MysqlEventRelay::start("mysql://root@127.0.0.1:1/db", options(), None).unwrap_err();
    assert!(
        matches!(refused, sessionkit::Error::Storage { .. }),
        "{refused:?}"
    );
}
