//! Paging: for list tools an opaque offset cursor and a bounded page size; for the management
//! API a seek cursor ([`Seek`]) that names the last row of a page and the workspace it belongs to.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::{
    clock::Millis,
    error::{CoreError, CoreResult},
};

/// Where the next page of a newest-first list starts: after the row created at `at` with id `id`.
/// Encoded for the client as base64url JSON that also names the workspace, so a cursor brought
/// to another workspace is refused with an error rather than quietly starting over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seek {
    pub at: Millis,
    pub id: String,
}

#[derive(Serialize, Deserialize)]
struct SeekWire {
    w: String,
    t: Millis,
    i: String,
}

impl Seek {
    /// The cursor's text for a page of `workspace_id`.
    pub fn encode(&self, workspace_id: &str) -> String {
        let wire = SeekWire { w: workspace_id.to_owned(), t: self.at, i: self.id.clone() };
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
    }

    /// A cursor a client sent back, for a page of `workspace_id`.
    pub fn decode(text: &str, workspace_id: &str) -> CoreResult<Seek> {
        let unknown =
            || CoreError::invalid("cursor", "Unknown cursor: send back the next_cursor of the previous page.");
        let bytes = URL_SAFE_NO_PAD.decode(text.trim().as_bytes()).map_err(|_| unknown())?;
        let wire: SeekWire = serde_json::from_slice(&bytes).map_err(|_| unknown())?;
        if wire.w != workspace_id {
            return Err(CoreError::invalid(
                "cursor",
                "This cursor belongs to another workspace's list; start again without a cursor.",
            ));
        }
        Ok(Seek { at: wire.t, id: wire.i })
    }

    /// The cursor of the page after `rows` (fetched as `limit + 1`): the last row shown, when more follow.
    pub fn after<T>(rows: &mut Vec<T>, limit: i64, key: impl Fn(&T) -> Seek) -> Option<Seek> {
        let limit = usize::try_from(limit).unwrap_or(0);
        if rows.len() <= limit {
            return None;
        }
        rows.truncate(limit);
        rows.last().map(key)
    }
}

/// A page size for the management API: 1 to 100, 50 when not given.
pub fn page_size(limit: Option<i64>) -> i64 {
    limit.unwrap_or(50).clamp(1, 100)
}

/// The offset a cursor names and the page size (1 to 100). Callers fetch `limit + 1` rows to learn
/// whether another page follows.
pub fn window(cursor: Option<&str>, limit: i64) -> CoreResult<(i64, i64)> {
    let offset = match cursor {
        None => 0,
        Some(c) => {
            c.parse().ok().filter(|n: &i64| *n >= 0).ok_or_else(|| CoreError::invalid("cursor", "Unknown cursor."))?
        }
    };
    Ok((offset, limit.clamp(1, 100)))
}

/// The cursor of the next page, when more rows were found than the page holds.
pub fn next_cursor(rows_found: usize, offset: i64, limit: i64) -> Option<String> {
    (rows_found as i64 > limit).then(|| (offset + limit).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors() {
        assert_eq!(window(None, 500).ok(), Some((0, 100)));
        assert_eq!(window(Some("40"), 0).ok(), Some((40, 1)));
        assert!(window(Some("-1"), 10).is_err());
        assert!(window(Some("abc"), 10).is_err());
        assert_eq!(next_cursor(11, 0, 10).as_deref(), Some("10"));
        assert_eq!(next_cursor(10, 0, 10), None);
    }

    #[test]
    fn seek_cursors_name_their_workspace() {
        let seek = Seek { at: 42, id: "key_1".into() };
        let text = seek.encode("ws_a");
        assert_eq!(Seek::decode(&text, "ws_a").ok(), Some(seek));
        let other = Seek::decode(&text, "ws_b").expect_err("another workspace");
        assert!(other.to_string().contains("another workspace"), "{other}");
        assert!(Seek::decode("not a cursor", "ws_a").is_err());
        assert!(Seek::decode("", "ws_a").is_err());
        let mut rows = vec![1, 2, 3];
        assert_eq!(Seek::after(&mut rows, 2, |n| Seek { at: *n, id: String::new() }).map(|s| s.at), Some(2));
        assert_eq!(rows, vec![1, 2]);
        assert_eq!(Seek::after(&mut rows, 2, |n| Seek { at: *n, id: String::new() }), None);
    }
}
