//! The scope catalog: what each scope allows, in the words shown on the key form and the consent
//! screen, and which scopes an API key may carry (the OAuth-only ones it may not).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "agents:read")]
    AgentsRead,
    #[serde(rename = "agents:write")]
    AgentsWrite,
    #[serde(rename = "runs:read")]
    RunsRead,
    #[serde(rename = "runs:execute")]
    RunsExecute,
    #[serde(rename = "apps:read")]
    AppsRead,
    #[serde(rename = "apps:execute")]
    AppsExecute,
    #[serde(rename = "assets:write")]
    AssetsWrite,
    #[serde(rename = "openid")]
    OpenId,
    #[serde(rename = "offline_access")]
    OfflineAccess,
}

impl Scope {
    pub const ALL: [Scope; 9] = [
        Scope::AgentsRead,
        Scope::AgentsWrite,
        Scope::RunsRead,
        Scope::RunsExecute,
        Scope::AppsRead,
        Scope::AppsExecute,
        Scope::AssetsWrite,
        Scope::OpenId,
        Scope::OfflineAccess,
    ];

    /// The scopes an API key may carry: all but the OAuth-only ones.
    pub fn for_keys() -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(|s| !s.is_oauth_only())
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::AgentsRead => "agents:read",
            Scope::AgentsWrite => "agents:write",
            Scope::RunsRead => "runs:read",
            Scope::RunsExecute => "runs:execute",
            Scope::AppsRead => "apps:read",
            Scope::AppsExecute => "apps:execute",
            Scope::AssetsWrite => "assets:write",
            Scope::OpenId => "openid",
            Scope::OfflineAccess => "offline_access",
        }
    }

    /// What the scope allows, in plain words.
    pub fn description(self) -> &'static str {
        match self {
            Scope::AgentsRead => "List agents, read their graphs, validate specs",
            Scope::AgentsWrite => "Create, replace, update, clone and delete agents; restore versions",
            Scope::RunsRead => "List runs, wait for runs, read gatehouse://runs/{id}",
            Scope::RunsExecute => "Trigger and cancel runs",
            Scope::AppsRead => "List apps, read app metadata",
            Scope::AppsExecute => "Trigger and publish apps",
            Scope::AssetsWrite => "Upload assets",
            Scope::OpenId => "Your identity (OAuth only)",
            Scope::OfflineAccess => "Stay connected with a refresh token (OAuth only)",
        }
    }

    pub fn parse(value: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn is_oauth_only(self) -> bool {
        matches!(self, Scope::OpenId | Scope::OfflineAccess)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-empty, sorted, duplicate-free set of scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// Parses scope names separated by commas or spaces, for an API key: every name must be in the
    /// catalog, none may be OAuth-only, and at least one is required.
    pub fn parse_for_key<S: AsRef<str>>(names: &[S]) -> CoreResult<Self> {
        let mut scopes = Vec::new();
        for name in names.iter().flat_map(|n| n.as_ref().split([',', ' '])).map(str::trim).filter(|n| !n.is_empty()) {
            let scope = Scope::parse(name).ok_or_else(|| {
                CoreError::invalid(
                    "scopes",
                    format!(
                        "'{}' is not a scope. Choose from: {}.",
                        name.chars().take(40).collect::<String>(),
                        Scope::for_keys().map(Scope::as_str).collect::<Vec<_>>().join(", ")
                    ),
                )
            })?;
            if scope.is_oauth_only() {
                return Err(CoreError::invalid(
                    "scopes",
                    format!("'{scope}' is for OAuth connections only, not for API keys."),
                ));
            }
            scopes.push(scope);
        }
        if scopes.is_empty() {
            return Err(CoreError::invalid("scopes", "Choose at least one scope."));
        }
        Ok(ScopeSet::from_scopes(scopes))
    }

    /// Parses an OAuth `scope` parameter (names separated by spaces). Every name must be in the
    /// catalog; the message names the first one that is not.
    pub fn parse_for_oauth(value: &str) -> Result<Self, String> {
        let mut scopes = Vec::new();
        for name in value.split(' ').filter(|n| !n.is_empty()) {
            let scope = Scope::parse(name).ok_or_else(|| {
                format!(
                    "scope '{}' is unknown; supported: {}",
                    name.chars().take(40).collect::<String>(),
                    Scope::ALL.map(Scope::as_str).join(" ")
                )
            })?;
            scopes.push(scope);
        }
        if scopes.is_empty() {
            return Err("scope is empty; ask for at least one scope".into());
        }
        Ok(ScopeSet::from_scopes(scopes))
    }

    /// Every scope a connection may be given when the client names none: all of the catalog.
    pub fn all() -> Self {
        ScopeSet::from_scopes(Scope::ALL.to_vec())
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset_of(&self, other: &ScopeSet) -> bool {
        self.0.iter().all(|s| other.contains(*s))
    }

    pub fn from_scopes(mut scopes: Vec<Scope>) -> Self {
        scopes.sort();
        scopes.dedup();
        ScopeSet(scopes)
    }

    /// Reads the stored form (space-separated); unknown names are dropped.
    pub fn from_stored(value: &str) -> Self {
        ScopeSet::from_scopes(value.split(' ').filter_map(Scope::parse).collect())
    }

    /// The stored form: names separated by single spaces.
    pub fn to_stored(&self) -> String {
        self.0.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.0.contains(&scope)
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|s| s.as_str().to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_key_scopes() {
        let set = ScopeSet::parse_for_key(&["runs:read,agents:read", "agents:read"]).expect("valid");
        assert_eq!(set.to_stored(), "agents:read runs:read");
        assert!(ScopeSet::parse_for_key(&["runs:fly"]).is_err());
        assert!(ScopeSet::parse_for_key(&["openid"]).is_err());
        assert!(ScopeSet::parse_for_key::<&str>(&[]).is_err());
        assert!(ScopeSet::parse_for_key(&[" , "]).is_err());
        assert_eq!(
            ScopeSet::parse_for_oauth("runs:read offline_access").map(|s| s.to_stored()).as_deref(),
            Ok("runs:read offline_access")
        );
        assert!(ScopeSet::parse_for_oauth("runs:read runs:fly").is_err());
        assert!(ScopeSet::parse_for_oauth("").is_err());
        assert_eq!(ScopeSet::from_stored("runs:read bogus"), ScopeSet::from_scopes(vec![Scope::RunsRead]));
    }
}
