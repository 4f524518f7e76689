//! Random identifiers and tokens: a short type prefix and base62 characters from the OS's CSPRNG.

use rand::{Rng, distributions::Alphanumeric, rngs::OsRng};

/// `count` random base62 characters (`[0-9A-Za-z]`, about 5.95 bits each).
pub fn random_base62(count: usize) -> String {
    OsRng.sample_iter(&Alphanumeric).take(count).map(char::from).collect()
}

/// A new row id such as `usr_3kT9…`: a type prefix and 20 base62 characters (about 119 bits).
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", random_base62(20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_prefix_and_are_unique() {
        let a = new_id("usr");
        let b = new_id("usr");
        assert!(a.starts_with("usr_"));
        assert_eq!(a.len(), 24);
        assert_ne!(a, b);
        assert!(a[4..].chars().all(|c| c.is_ascii_alphanumeric()));
    }
}
