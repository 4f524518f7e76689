//! A member's role, and what each role may do.

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, CoreResult};

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

    pub fn parse(value: &str) -> CoreResult<Role> {
        match value {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            _ => Err(CoreError::invalid("role", "Choose owner, admin or member.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    /// Admins and owners manage keys and connectors.
    pub fn can_manage_access(self) -> bool {
        self >= Role::Admin
    }

    /// Only owners manage members and the workspace itself.
    pub fn can_manage_workspace(self) -> bool {
        self == Role::Owner
    }

    pub fn require_owner(self, action: &str) -> CoreResult<()> {
        if self.can_manage_workspace() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!("Only an owner can {action}.")))
        }
    }

    pub fn require_admin(self, action: &str) -> CoreResult<()> {
        if self.can_manage_access() {
            Ok(())
        } else {
            Err(CoreError::Forbidden(format!("Only an admin or owner can {action}.")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_follow_rank() {
        assert!(Role::Owner.can_manage_workspace() && Role::Owner.can_manage_access());
        assert!(!Role::Admin.can_manage_workspace() && Role::Admin.can_manage_access());
        assert!(!Role::Member.can_manage_access());
        assert!(Role::parse("superuser").is_err());
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()).ok(), Some(r));
        }
    }
}
