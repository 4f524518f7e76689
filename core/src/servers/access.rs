//! Which upstream servers a key or connector may reach: none (the default), every server of its
//! workspace now and later (`*`), or a list — a server by slug (`crm`, or `crm/*`: all its tools)
//! or one tool of it (`crm/search_contacts`). Stored as `NULL`, `*` or the items joined by spaces.

use serde::{Deserialize, Serialize};

use super::ServerSlug;
use crate::error::{CoreError, CoreResult};

/// One item of a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerGrant {
    pub slug: String,
    /// `None`: every tool of the server.
    pub tool: Option<String>,
}

/// What a credential may reach beyond the built-in catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "grants", rename_all = "lowercase")]
pub enum ServerAccess {
    #[default]
    None,
    All,
    Some(Vec<ServerGrant>),
}

const MAX_GRANTS: usize = 100;
const MAX_TOOL_CHARS: usize = 128;

impl ServerAccess {
    /// Parses what a person or a script typed: empty for none, `*` for all, else items separated
    /// by commas or spaces. The slugs are checked for form here; that they exist, by the caller.
    pub fn parse(text: &str) -> CoreResult<Self> {
        let items: Vec<&str> = text.split([',', ' ', '\n']).map(str::trim).filter(|i| !i.is_empty()).collect();
        if items.is_empty() {
            return Ok(ServerAccess::None);
        }
        if items.contains(&"*") {
            if items.len() > 1 {
                return Err(CoreError::invalid("servers", "'*' already means every server; list nothing beside it."));
            }
            return Ok(ServerAccess::All);
        }
        if items.len() > MAX_GRANTS {
            return Err(CoreError::invalid("servers", format!("At most {MAX_GRANTS} servers or tools.")));
        }
        let mut grants = Vec::new();
        for item in items {
            let (slug, tool) = match item.split_once('/') {
                Some((slug, "*")) => (slug, None),
                Some((slug, tool)) => (slug, Some(tool)),
                None => (item, None),
            };
            let slug = ServerSlug::parse(slug).map_err(|_| {
                CoreError::invalid(
                    "servers",
                    format!(
                        "'{}' is not a server: use a server's slug, slug/* or slug/tool, or * for all.",
                        item.chars().take(60).collect::<String>()
                    ),
                )
            })?;
            if let Some(tool) = tool
                && (tool.is_empty() || tool.chars().count() > MAX_TOOL_CHARS || tool.chars().any(char::is_control))
            {
                return Err(CoreError::invalid(
                    "servers",
                    format!("'{}' is not a tool name.", tool.chars().take(60).collect::<String>()),
                ));
            }
            let grant = ServerGrant { slug: slug.as_str().to_owned(), tool: tool.map(str::to_owned) };
            if !grants.contains(&grant) {
                grants.push(grant);
            }
        }
        // A whole server covers its single tools.
        let whole: Vec<String> = grants.iter().filter(|g| g.tool.is_none()).map(|g| g.slug.clone()).collect();
        grants.retain(|g| g.tool.is_none() || !whole.contains(&g.slug));
        grants.sort_by(|a, b| (&a.slug, &a.tool).cmp(&(&b.slug, &b.tool)));
        Ok(ServerAccess::Some(grants))
    }

    /// The stored form; `None` for no access.
    pub fn to_stored(&self) -> Option<String> {
        match self {
            ServerAccess::None => None,
            ServerAccess::All => Some("*".into()),
            ServerAccess::Some(grants) => Some(
                grants
                    .iter()
                    .map(|g| match &g.tool {
                        None => g.slug.clone(),
                        Some(tool) => format!("{}/{tool}", g.slug),
                    })
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
        }
    }

    /// From the stored form (never fails: an unreadable item grants nothing).
    pub fn from_stored(stored: Option<&str>) -> Self {
        match stored {
            None => ServerAccess::None,
            Some(s) => ServerAccess::parse(s).unwrap_or(ServerAccess::None),
        }
    }

    /// Whether any tool of the server may be reached.
    pub fn allows_server(&self, slug: &str) -> bool {
        match self {
            ServerAccess::None => false,
            ServerAccess::All => true,
            ServerAccess::Some(grants) => grants.iter().any(|g| g.slug == slug),
        }
    }

    /// Whether this tool of the server may be called (prompts and resources follow the server).
    pub fn allows_tool(&self, slug: &str, tool: &str) -> bool {
        match self {
            ServerAccess::None => false,
            ServerAccess::All => true,
            ServerAccess::Some(grants) => {
                grants.iter().any(|g| g.slug == slug && g.tool.as_deref().is_none_or(|t| t == tool))
            }
        }
    }

    /// Whether the server is granted whole (its prompts and resources too), not tool by tool.
    pub fn allows_whole_server(&self, slug: &str) -> bool {
        match self {
            ServerAccess::None => false,
            ServerAccess::All => true,
            ServerAccess::Some(grants) => grants.iter().any(|g| g.slug == slug && g.tool.is_none()),
        }
    }

    /// The slugs named (for checking that they exist).
    pub fn slugs(&self) -> Vec<&str> {
        match self {
            ServerAccess::Some(grants) => {
                let mut slugs: Vec<&str> = grants.iter().map(|g| g.slug.as_str()).collect();
                slugs.dedup();
                slugs
            }
            _ => Vec::new(),
        }
    }

    /// A short description for lists and the audit log.
    pub fn describe(&self) -> String {
        match self {
            ServerAccess::None => "no upstream servers".into(),
            ServerAccess::All => "all upstream servers".into(),
            ServerAccess::Some(_) => self.to_stored().unwrap_or_default().replace(' ', ", "),
        }
    }

    /// Narrows to what `other` also allows (a connector's request narrowed by the person's choice).
    pub fn intersect(&self, other: &ServerAccess) -> ServerAccess {
        match (self, other) {
            (ServerAccess::None, _) | (_, ServerAccess::None) => ServerAccess::None,
            (ServerAccess::All, x) | (x, ServerAccess::All) => x.clone(),
            (ServerAccess::Some(a), ServerAccess::Some(b)) => {
                let mut out: Vec<ServerGrant> = Vec::new();
                for g in a {
                    for h in b {
                        if g.slug != h.slug {
                            continue;
                        }
                        let tool = match (&g.tool, &h.tool) {
                            (None, t) | (t, None) => t.clone(),
                            (Some(x), Some(y)) if x == y => Some(x.clone()),
                            _ => continue,
                        };
                        let grant = ServerGrant { slug: g.slug.clone(), tool };
                        if !out.contains(&grant) {
                            out.push(grant);
                        }
                    }
                }
                if out.is_empty() { ServerAccess::None } else { ServerAccess::Some(out) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing_and_checking() {
        assert_eq!(ServerAccess::parse("").expect("none"), ServerAccess::None);
        assert_eq!(ServerAccess::parse(" * ").expect("all"), ServerAccess::All);
        assert!(ServerAccess::parse("*, crm").is_err());
        let a = ServerAccess::parse("crm/search_contacts, search,crm/other").expect("list");
        assert_eq!(a.to_stored().as_deref(), Some("crm/other crm/search_contacts search"));
        assert!(a.allows_tool("crm", "search_contacts") && !a.allows_tool("crm", "delete_all"));
        assert!(
            a.allows_tool("search", "anything") && a.allows_whole_server("search") && !a.allows_whole_server("crm")
        );
        assert!(a.allows_server("crm") && !a.allows_server("billing"));
        let whole = ServerAccess::parse("crm/x crm/* crm").expect("list");
        assert_eq!(whole.to_stored().as_deref(), Some("crm"));
        assert!(ServerAccess::parse("CRM").is_err() && ServerAccess::parse("crm/").is_err());
        assert_eq!(ServerAccess::from_stored(Some("crm search")), ServerAccess::parse("search crm").expect("list"));
        assert_eq!(ServerAccess::from_stored(None), ServerAccess::None);
        assert!(!ServerAccess::None.allows_tool("crm", "x") && ServerAccess::All.allows_tool("crm", "x"));
    }

    #[test]
    fn intersections() {
        let p = |s: &str| ServerAccess::parse(s).expect("access");
        assert_eq!(p("*").intersect(&p("crm")), p("crm"));
        assert_eq!(p("crm search").intersect(&p("crm/a")), p("crm/a"));
        assert_eq!(p("crm/a").intersect(&p("crm/b")), ServerAccess::None);
        assert_eq!(p("crm").intersect(&ServerAccess::None), ServerAccess::None);
    }
}
