//! How upstream names appear on `/mcp`, where every reachable server's tools and prompts sit
//! beside the built-in ones: `{slug}__{name}`. Every name must match `^[A-Za-z0-9_-]{1,64}$`:
//!
//! - a name made only of `A-Z a-z 0-9 _ -` that fits is kept: `crm` + `search_contacts` →
//!   `crm__search_contacts`;
//! - otherwise the characters outside that set become `_`, the result is cut to fit, and a dash and
//!   the first 8 hex digits of the original name's SHA-256 are appended: `crm` + `find.contact` →
//!   `crm__find_contact-3b2c0f1a`. The suffix makes the name stable and keeps two names that differ
//!   only in such characters apart.
//!
//! Slugs have no `_`, so the first `__` always ends the slug. Resource URIs become
//! `gatehouse://upstream/{slug}/{original URI}`.

use sha2::{Digest, Sha256};

pub const SEPARATOR: &str = "__";
const MAX_NAME: usize = 64;
/// The prefix of an upstream resource's URI on `/mcp`.
pub const RESOURCE_PREFIX: &str = "gatehouse://upstream/";

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

/// The name of an upstream tool or prompt on `/mcp`.
pub fn exposed(slug: &str, name: &str) -> String {
    let plain = format!("{slug}{SEPARATOR}{name}");
    if !name.is_empty() && name.chars().all(allowed) && plain.len() <= MAX_NAME {
        return plain;
    }
    let hash: String = Sha256::digest(name.as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect();
    let room = MAX_NAME - slug.len() - SEPARATOR.len() - 1 - hash.len();
    let cleaned: String = name.chars().map(|c| if allowed(c) { c } else { '_' }).take(room).collect();
    format!("{slug}{SEPARATOR}{cleaned}-{hash}")
}

/// The slug and the rest of an exposed name (`crm__search` → `("crm", "search")`).
pub fn split(exposed: &str) -> Option<(&str, &str)> {
    let (slug, rest) = exposed.split_once(SEPARATOR)?;
    (!slug.is_empty() && !rest.is_empty()).then_some((slug, rest))
}

/// The original name behind an exposed one, without a list, when the rule kept it as it was.
pub fn unchanged_original<'a>(slug: &str, rest: &'a str) -> Option<&'a str> {
    (exposed(slug, rest) == format!("{slug}{SEPARATOR}{rest}")).then_some(rest)
}

/// An upstream resource URI as `/mcp` shows it.
pub fn exposed_uri(slug: &str, uri: &str) -> String {
    format!("{RESOURCE_PREFIX}{slug}/{uri}")
}

/// The slug and original URI of an exposed one.
pub fn split_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix(RESOURCE_PREFIX)?;
    let (slug, original) = rest.split_once('/')?;
    (!slug.is_empty() && !original.is_empty()).then_some((slug, original))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        (1..=64).contains(&name.len()) && name.chars().all(allowed)
    }

    #[test]
    fn names_follow_the_rule() {
        assert_eq!(exposed("crm", "search_contacts"), "crm__search_contacts");
        let dotted = exposed("crm", "find.contact");
        assert!(dotted.starts_with("crm__find_contact-") && valid(&dotted), "{dotted}");
        assert_ne!(exposed("crm", "find.contact"), exposed("crm", "find contact"), "kept apart by the hash");
        assert_eq!(exposed("crm", "find.contact"), dotted, "stable");
        let long = exposed("internal-search", &"x".repeat(80));
        assert_eq!(long.len(), 64);
        assert!(valid(&long));
        assert!(valid(&exposed("s", "日本語")));
        assert_eq!(split("crm__search__deep"), Some(("crm", "search__deep")));
        assert_eq!(split("whoami"), None);
        assert_eq!(unchanged_original("crm", "search_contacts"), Some("search_contacts"));
        assert_eq!(unchanged_original("crm", "find.contact"), None, "a name the rule changes is never sent as it is");
    }

    #[test]
    fn resource_uris_round_trip() {
        let uri = exposed_uri("docs", "file:///a/b.txt");
        assert_eq!(uri, "gatehouse://upstream/docs/file:///a/b.txt");
        assert_eq!(split_uri(&uri), Some(("docs", "file:///a/b.txt")));
        assert_eq!(split_uri("gatehouse://runs/run_1"), None);
    }
}
