//! Every hot-path statement is served by the index it is meant to use — validation by id,
//! listings, counts and the limit by `(user_id, last_active_at DESC, id DESC)`, cleanup by
//! `(expires_at, id)` — on a table of 20,000 sessions of 2,000 users, as `EXPLAIN` shows it
//! (the statements' real text, from the crate).

mod common;

use tokio_postgres::types::Type;

#[test]
fn postgres_hot_paths_use_their_indexes() {
    let Some(server) = common::server_url("postgres_hot_paths_use_their_indexes") else {
        return;
    };
    let db = common::TestDb::create(&server);
    drop(db.open()); // creates the schema
    common::admin(
        &db.url,
        "INSERT INTO sessions (id, token_hash, user_id, created_at, last_active_at, expires_at, \
         absolute_expires_at, client_kind, active, metadata) \
         SELECT decode(lpad(to_hex(i), 32, '0'), 'hex'), decode(repeat('ab', 32), 'hex'), \
         'user-' || (i % 2000), 1700000000000 - i, 1700000000000, \
         1700000000000 + i * 100 - 10000, 1800000000000, 'web', true, '{}' \
         FROM generate_series(1, 20000) AS i; \
         INSERT INTO session_state (session_id, version, blob, updated_at) \
         SELECT id, 1, '\\x00', 0 FROM sessions; \
         ANALYZE",
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut failures = Vec::new();
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(&db.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        let driver = tokio::spawn(connection);
        client
            .batch_execute("SET plan_cache_mode = force_custom_plan")
            .await
            .unwrap();
        for (i, (name, sql, index)) in sessionkit_postgres::hot_path_statements()
            .iter()
            .enumerate()
        {
            let statement = client.prepare(sql).await.unwrap();
            // Values by type: an id in the table, a user with ten sessions, small numbers (a
            // LIMIT of 500, times before every stored one).
            let args: Vec<String> = statement
                .params()
                .iter()
                .map(|ty| match *ty {
                    Type::BYTEA => "'\\x00000000000000000000000000000100'::bytea".to_owned(),
                    Type::TEXT => "'user-7'".to_owned(),
                    Type::INT8 => "500".to_owned(),
                    ref other => panic!("{name}: no test value for a {other} parameter"),
                })
                .collect();
            client
                .batch_execute(&format!("PREPARE hot{i} AS {sql}"))
                .await
                .unwrap();
            let plan: Vec<String> = client
                .simple_query(&format!("EXPLAIN EXECUTE hot{i}({})", args.join(", ")))
                .await
                .unwrap()
                .into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                    _ => None,
                })
                .collect();
            let plan = plan.join("\n");
            if !plan.contains(index) || plan.contains("Seq Scan on sessions") {
                failures.push(format!("{name}: expected {index}, got\n{plan}"));
            }
        }
        drop(client);
        let _ = driver.await;
    });
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
