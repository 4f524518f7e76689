//! Paging for list tools: an opaque cursor (the offset of the next page) and a bounded page size.

use crate::error::{CoreError, CoreResult};

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
}
