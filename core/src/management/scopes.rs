//! Management scopes: what a management key may do on the `/v1` management API. Each endpoint
//! needs one; a write scope does not imply its read scope.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};

macro_rules! scopes {
    ($($variant:ident => $name:literal, $description:literal;)*) => {
        /// One management scope.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum ManagementScope {
            $(#[serde(rename = $name)] $variant,)*
        }

        impl ManagementScope {
            pub const ALL: &'static [ManagementScope] = &[$(ManagementScope::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self { $(ManagementScope::$variant => $name,)* }
            }

            /// What it allows, in the words the Settings page shows.
            pub fn description(self) -> &'static str {
                match self { $(ManagementScope::$variant => $description,)* }
            }

            pub fn parse(value: &str) -> Option<Self> {
                match value { $($name => Some(ManagementScope::$variant),)* _ => None }
            }

            /// Whether only an owner can give it: what it allows, only an owner does in the
            /// dashboard (admins do everything else).
            pub fn owner_only(self) -> bool {
                matches!(self, ManagementScope::MembersWrite)
            }
        }
    };
}

scopes! {
    KeysRead => "keys:read", "list API keys and read one";
    KeysWrite => "keys:write", "create, edit, roll and revoke API keys";
    ConnectorsRead => "connectors:read", "list connectors";
    ConnectorsWrite => "connectors:write", "remove and move connectors";
    ServersRead => "servers:read", "list upstream servers";
    ServersWrite => "servers:write", "add, edit and remove upstream servers";
    UsageRead => "usage:read", "read the usage report (JSON and CSV)";
    AuditRead => "audit:read", "read the audit log";
    WebhooksRead => "webhooks:read", "list webhook endpoints and their deliveries";
    WebhooksWrite => "webhooks:write", "add and remove webhook endpoints, roll their secrets, redeliver";
    MembersRead => "members:read", "list the workspace's members";
    MembersWrite => "members:write", "add members, change their roles, remove them";
}

impl fmt::Display for ManagementScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The scopes of one management key: at least one, each known, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ManagementScopes(Vec<ManagementScope>);

impl ManagementScopes {
    /// Names as a form, the CLI or the API sends them; an unknown one is an error naming it.
    pub fn parse<S: AsRef<str>>(names: &[S]) -> CoreResult<Self> {
        let mut scopes = Vec::new();
        for name in names.iter().map(|n| n.as_ref().trim()).filter(|n| !n.is_empty()) {
            let scope = ManagementScope::parse(name).ok_or_else(|| {
                let known: Vec<&str> = ManagementScope::ALL.iter().map(|s| s.as_str()).collect();
                CoreError::invalid("scopes", format!("Unknown scope '{name}'. Choose from: {}.", known.join(", ")))
            })?;
            scopes.push(scope);
        }
        if scopes.is_empty() {
            return Err(CoreError::invalid("scopes", "Choose at least one scope."));
        }
        scopes.sort();
        scopes.dedup();
        Ok(ManagementScopes(scopes))
    }

    pub fn from_stored(value: &str) -> Self {
        let mut scopes: Vec<ManagementScope> = value.split(' ').filter_map(ManagementScope::parse).collect();
        scopes.sort();
        scopes.dedup();
        ManagementScopes(scopes)
    }

    pub fn to_stored(&self) -> String {
        self.names().join(" ")
    }

    pub fn contains(&self, scope: ManagementScope) -> bool {
        self.0.contains(&scope)
    }

    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|s| s.as_str().to_owned()).collect()
    }

    pub fn iter(&self) -> impl Iterator<Item = ManagementScope> + '_ {
        self.0.iter().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_store() {
        let scopes = ManagementScopes::parse(&["keys:write", "keys:read", "keys:read"]).expect("valid");
        assert_eq!(scopes.to_stored(), "keys:read keys:write");
        assert_eq!(ManagementScopes::from_stored(&scopes.to_stored()), scopes);
        assert!(scopes.contains(ManagementScope::KeysWrite) && !scopes.contains(ManagementScope::AuditRead));
        assert!(ManagementScopes::parse(&["keys:fly"]).is_err());
        assert!(ManagementScopes::parse::<&str>(&[]).is_err());
        assert_eq!(ManagementScope::ALL.len(), 12);
        for scope in ManagementScope::ALL {
            assert_eq!(ManagementScope::parse(scope.as_str()), Some(*scope));
        }
    }
}
