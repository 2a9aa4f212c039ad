//! A deterministic dump of a sessionkit database's logical content: `PRAGMA user_version`, every
//! schema object, and every row of every table in primary-key order, each value with its
//! SQLite type. Two dumps are equal exactly when the stored data is.
//!
//! Shared by the SQLite store's tests and the CLI's (included with `#[path]`).

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// One table's rows, each rendered as typed values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDump {
    /// The table's name.
    pub name: String,
    /// Its rows in primary-key order; the first value is the key's first column.
    pub rows: Vec<Vec<String>>,
}

/// Everything stored, in a fixed order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    /// `PRAGMA user_version`.
    pub user_version: i64,
    /// `(type, name, sql)` of every schema object, by type and name.
    pub schema: Vec<(String, String, Option<String>)>,
    /// Every table, by name.
    pub tables: Vec<TableDump>,
}

/// Renders one value with its type, so `1`, `'1'` and `x'01'` differ.
fn render(value: ValueRef<'_>) -> String {
    match value {
        ValueRef::Null => "NULL".to_owned(),
        ValueRef::Integer(i) => format!("int:{i}"),
        ValueRef::Real(r) => format!("real:{r:?}"),
        ValueRef::Text(t) => format!("text:{:?}", String::from_utf8_lossy(t)),
        ValueRef::Blob(b) => {
            let mut hex = String::with_capacity(5 + 2 * b.len());
            hex.push_str("blob:");
            for byte in b {
                let _ = write!(hex, "{byte:02x}");
            }
            hex
        }
    }
}

/// Hex of `bytes`, as [`render`] shows a blob (to find a session's rows by id).
pub fn blob_key(bytes: &[u8]) -> String {
    render(ValueRef::Blob(bytes))
}

/// Dumps the database at `path` through a read-only connection of its own.
pub fn dump(path: &Path) -> Dump {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open the database read-only for a dump");
    dump_connection(&conn)
}

/// Dumps through an open connection (one consistent snapshot).
pub fn dump_connection(conn: &Connection) -> Dump {
    conn.execute_batch("BEGIN").expect("begin a read snapshot");
    let user_version = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .expect("user_version");
    let schema: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY type, name")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
                .collect()
        })
        .expect("schema");
    let mut tables = Vec::new();
    for (kind, name, _) in &schema {
        if kind != "table" || name.starts_with("sqlite_") {
            continue;
        }
        // Primary-key columns in key order; a rowid table without one sorts by rowid.
        let mut key: Vec<(i64, String)> = conn
            .prepare(&format!(
                "SELECT pk, name FROM pragma_table_info('{name}') WHERE pk > 0"
            ))
            .and_then(|mut stmt| {
                stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .expect("table_info");
        key.sort();
        let order = if key.is_empty() {
            "rowid".to_owned()
        } else {
            key.iter()
                .map(|(_, column)| format!("\"{column}\""))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let columns: Vec<String> = conn
            .prepare(&format!(
                "SELECT name FROM pragma_table_info('{name}') ORDER BY cid"
            ))
            .and_then(|mut stmt| stmt.query_map([], |row| row.get(0))?.collect())
            .expect("columns");
        // Key columns first, so `rows[i][0]` identifies the row.
        let key_columns: Vec<String> = key.iter().map(|(_, c)| c.clone()).collect();
        let mut ordered = key_columns.clone();
        ordered.extend(columns.into_iter().filter(|c| !key_columns.contains(c)));
        let select = ordered
            .iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = conn
            .prepare(&format!("SELECT {select} FROM \"{name}\" ORDER BY {order}"))
            .expect("select rows");
        let width = ordered.len();
        let rows = stmt
            .query_map([], |row| {
                (0..width)
                    .map(|i| row.get_ref(i).map(render))
                    .collect::<rusqlite::Result<Vec<String>>>()
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .expect("rows");
        tables.push(TableDump {
            name: name.clone(),
            rows,
        });
    }
    conn.execute_batch("COMMIT").expect("end the read snapshot");
    Dump {
        user_version,
        schema,
        tables,
    }
}

impl Dump {
    /// This dump without the rows whose key starts with `id` (a session and its state), as it
    /// should look after that session was removed.
    pub fn without_session(&self, id: &[u8]) -> Dump {
        let key = blob_key(id);
        let mut out = self.clone();
        for table in &mut out.tables {
            table.rows.retain(|row| row.first() != Some(&key));
        }
        out
    }

    /// How many rows are stored in `table`.
    pub fn row_count(&self, table: &str) -> usize {
        self.tables
            .iter()
            .find(|t| t.name == table)
            .map_or(0, |t| t.rows.len())
    }

    /// The first difference from `other`, for assertion messages.
    pub fn first_difference(&self, other: &Dump) -> String {
        if self.user_version != other.user_version {
            return format!(
                "user_version {} vs {}",
                self.user_version, other.user_version
            );
        }
        if self.schema != other.schema {
            return format!("schema {:?} vs {:?}", self.schema, other.schema);
        }
        for (a, b) in self.tables.iter().zip(&other.tables) {
            if a != b {
                let row = a
                    .rows
                    .iter()
                    .zip(&b.rows)
                    .find(|(x, y)| x != y)
                    .map(|(x, y)| format!("{x:?} vs {y:?}"))
                    .unwrap_or_else(|| format!("{} rows vs {} rows", a.rows.len(), b.rows.len()));
                return format!("table {}: {row}", a.name);
            }
        }
        if self.tables.len() != other.tables.len() {
            return "different tables".to_owned();
        }
        "no difference".to_owned()
    }
}
