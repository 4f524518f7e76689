//! A workspace's display name, and the URL slug made from it.

use crate::error::{CoreError, CoreResult};

pub const MAX_WORKSPACE_NAME_CHARS: usize = 80;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    /// 1 to 80 characters after trimming, no control characters.
    pub fn parse(input: &str) -> CoreResult<Self> {
        let value = input.trim();
        if value.is_empty() {
            return Err(CoreError::invalid("name", "Give the workspace a name."));
        }
        if value.chars().count() > MAX_WORKSPACE_NAME_CHARS {
            return Err(CoreError::invalid("name", format!("Use at most {MAX_WORKSPACE_NAME_CHARS} characters.")));
        }
        if value.chars().any(char::is_control) {
            return Err(CoreError::invalid("name", "A name cannot contain control characters."));
        }
        Ok(WorkspaceName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Lower-case ASCII letters and digits joined by single dashes, at most 40 characters;
/// `workspace` when nothing usable is left.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_matches('-').to_owned();
    if slug.is_empty() { "workspace".to_owned() } else { slug }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(WorkspaceName::parse("   ").is_err());
        assert!(WorkspaceName::parse(&"x".repeat(10_000)).is_err());
        assert!(WorkspaceName::parse("a\u{0}b").is_err());
        assert_eq!(WorkspaceName::parse("  Acme  ").map(|n| n.0).ok(), Some("Acme".into()));
    }

    #[test]
    fn slugs() {
        assert_eq!(slugify("Ada's Workspace!"), "ada-s-workspace");
        assert_eq!(slugify("日本"), "workspace");
        assert!(slugify(&"ab ".repeat(50)).len() <= 40);
    }
}
