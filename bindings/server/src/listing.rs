//! The query of a listing (`active_only`, `limit`, `cursor`), read strictly: an unknown
//! parameter or a value of the wrong type is 400 `InvalidInput`; an empty value counts as absent.

use serde::Deserialize;
use sessionkit::ListOptions;

use crate::error::ApiError;

/// `?active_only=&limit=&cursor=` as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PageQuery {
    active_only: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

impl PageQuery {
    /// The engine's options; the engine checks the limit's range and the cursor.
    pub(crate) fn options(self) -> Result<ListOptions, ApiError> {
        let present = |v: Option<String>| v.filter(|v| !v.is_empty());
        let mut options = ListOptions::default();
        if let Some(active_only) = present(self.active_only) {
            options.active_only = match active_only.as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => return Err(ApiError::invalid("active_only", "expected true or false")),
            };
        }
        if let Some(limit) = present(self.limit) {
            options.limit = limit
                .parse()
                .map_err(|_| ApiError::invalid("limit", "expected an integer from 1 to 1000"))?;
        }
        options.cursor = present(self.cursor);
        Ok(options)
    }
}
