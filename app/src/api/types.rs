//! Data the server functions send to the browser. Mirrors of domain types that the wasm build
//! can compile (the domain crate is server-only).

use serde::{Deserialize, Serialize};

/// A member's role, as the dashboard shows and submits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Member => "Member",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Role::Owner => "Manages members and the workspace, and everything an admin can.",
            Role::Admin => "Manages API keys and connectors.",
            Role::Member => "Sees keys, connectors and usage; changes nothing.",
        }
    }

    pub fn can_manage_access(self) -> bool {
        self >= Role::Admin
    }

    pub fn can_manage_workspace(self) -> bool {
        self == Role::Owner
    }
}

/// The signed-in user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
}

/// A workspace with the viewer's role in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkspaceView {
    pub slug: String,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
}

/// Everything the dashboard frame needs: who is signed in, where they are, where they could go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardContext {
    pub user: UserView,
    pub current: WorkspaceView,
    pub workspaces: Vec<WorkspaceView>,
}

/// A member of a workspace, for the settings page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    pub joined_at: i64,
}

#[cfg(feature = "ssr")]
mod from_domain {
    use super::*;
    use gatehouse_core::{accounts::User, workspaces};

    impl From<workspaces::Role> for Role {
        fn from(r: workspaces::Role) -> Self {
            match r {
                workspaces::Role::Owner => Role::Owner,
                workspaces::Role::Admin => Role::Admin,
                workspaces::Role::Member => Role::Member,
            }
        }
    }

    impl From<Role> for workspaces::Role {
        fn from(r: Role) -> Self {
            match r {
                Role::Owner => workspaces::Role::Owner,
                Role::Admin => workspaces::Role::Admin,
                Role::Member => workspaces::Role::Member,
            }
        }
    }

    impl From<User> for UserView {
        fn from(u: User) -> Self {
            UserView { id: u.id, email: u.email }
        }
    }

    impl From<workspaces::Membership> for WorkspaceView {
        fn from(m: workspaces::Membership) -> Self {
            WorkspaceView {
                slug: m.workspace.slug,
                name: m.workspace.name,
                role: m.role.into(),
                created_at: m.workspace.created_at,
            }
        }
    }

    impl From<workspaces::Member> for MemberView {
        fn from(m: workspaces::Member) -> Self {
            MemberView { user_id: m.user_id, email: m.email, role: m.role.into(), joined_at: m.joined_at }
        }
    }
}
