//! Column conversions every SQL store shares (SQLite, PostgreSQL, MySQL): they store versions,
//! revisions and counts as signed 64-bit integers and metadata as JSON text. Conversions only —
//! what the values mean is the engine's.

use serde_json::{Map, Value};

use crate::{Error, Result};

/// A stored version or revision: never negative (a negative one is a corrupt row).
pub fn version_from_sql(version: i64) -> Result<u64> {
    u64::try_from(version).map_err(|_| Error::corrupt(format!("stored state version {version}")))
}

/// A version or revision as a signed 64-bit column.
pub fn version_to_sql(version: u64) -> Result<i64> {
    i64::try_from(version).map_err(|_| {
        Error::invalid_input(
            "state.version",
            "larger than this store can hold (2^63 - 1)",
        )
    })
}

/// A count or sum the database returned as a signed 64-bit integer, which cannot be negative.
pub fn count_from_sql(n: i64) -> Result<u64> {
    u64::try_from(n).map_err(|_| Error::storage(format!("negative count {n}")))
}

/// Metadata as stored: `serde_json::to_string` of the map (compact, never compared: the
/// compare-and-swap compares `metadata_revision`).
pub fn metadata_text(metadata: &Map<String, Value>) -> Result<String> {
    serde_json::to_string(metadata).map_err(Error::storage)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn versions_and_counts_round_trip_and_refuse_what_a_column_cannot_hold() {
        assert_eq!(version_to_sql(7).unwrap(), 7);
        assert_eq!(version_from_sql(7).unwrap(), 7);
        assert_eq!(version_to_sql(i64::MAX as u64).unwrap(), i64::MAX);
        assert_eq!(
            version_to_sql(i64::MAX as u64 + 1).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(version_from_sql(-1).unwrap_err().kind(), ErrorKind::Corrupt);
        assert_eq!(count_from_sql(3).unwrap(), 3);
        assert_eq!(count_from_sql(-3).unwrap_err().kind(), ErrorKind::Storage);
    }

    #[test]
    fn metadata_is_compact_json() {
        let mut map = Map::new();
        map.insert("a".into(), Value::from(1));
        assert_eq!(metadata_text(&map).unwrap(), r#"{"a":1}"#);
    }
}
