//! `/mcp` as the whole of what a credential may reach: the built-in catalog and every reachable
//! upstream server's tools and prompts (named `{slug}__{name}`) and resources
//! (`gatehouse://upstream/{slug}/{uri}`). Lists are filtered by the same policy a call meets; a
//! server that does not answer is left out of a list (and logged), never mistaken for an empty
//! one by a call, which gets its typed error.

use gatehouse_core::{
    keys::Principal,
    policy,
    servers::{self, UpstreamServer},
};
use serde_json::{Value, json};

use super::{GatewayError, naming, upstream::Upstreams};

/// The enabled servers of the principal's workspace and environment that it may reach.
pub async fn reachable(upstreams: &Upstreams, p: &Principal) -> Vec<UpstreamServer> {
    if p.servers == servers::ServerAccess::None {
        return Vec::new();
    }
    match upstreams.registry().list(&p.workspace_id).await {
        Ok(list) => list.value.iter().filter(|s| policy::reach(p, s).is_ok()).cloned().collect(),
        Err(e) => {
            tracing::warn!(error = %e, "cannot list upstream servers");
            Vec::new()
        }
    }
}

/// Every reachable tool, renamed for `/mcp`.
pub async fn tools(upstreams: &Upstreams, p: &Principal) -> Vec<Value> {
    let mut out = Vec::new();
    for server in reachable(upstreams, p).await {
        match upstreams.list(&server, Some(p), "tools/list").await {
            Ok(tools) => {
                for tool in tools.iter() {
                    let Some(name) = tool["name"].as_str() else { continue };
                    if policy::call_tool(p, &server, name).is_ok() {
                        let mut renamed = tool.clone();
                        renamed["name"] = json!(naming::exposed(&server.slug, name));
                        if renamed.get("title").is_none() {
                            renamed["title"] = json!(format!("{}: {name}", server.name));
                        }
                        out.push(renamed);
                    }
                }
            }
            Err(e) => tracing::info!(server = %server.slug, error = %e.message, "upstream left out of tools/list"),
        }
    }
    out
}

/// Every reachable prompt, renamed.
pub async fn prompts(upstreams: &Upstreams, p: &Principal) -> Vec<Value> {
    let mut out = Vec::new();
    for server in reachable(upstreams, p).await.into_iter().filter(|s| policy::use_whole_server(p, s).is_ok()) {
        if let Ok(prompts) = upstreams.list(&server, Some(p), "prompts/list").await {
            for prompt in prompts.iter() {
                if let Some(name) = prompt["name"].as_str() {
                    let mut renamed = prompt.clone();
                    renamed["name"] = json!(naming::exposed(&server.slug, name));
                    out.push(renamed);
                }
            }
        }
    }
    out
}

/// Every reachable resource (`resources/list`) or template (`resources/templates/list`), with its
/// URI under `gatehouse://upstream/{slug}/`.
pub async fn resources(upstreams: &Upstreams, p: &Principal, method: &'static str) -> Vec<Value> {
    let field = if method == "resources/list" { "uri" } else { "uriTemplate" };
    let mut out = Vec::new();
    for server in reachable(upstreams, p).await.into_iter().filter(|s| policy::use_whole_server(p, s).is_ok()) {
        if let Ok(items) = upstreams.list(&server, Some(p), method).await {
            for item in items.iter() {
                if let Some(uri) = item[field].as_str() {
                    let mut renamed = item.clone();
                    renamed[field] = json!(naming::exposed_uri(&server.slug, uri));
                    out.push(renamed);
                }
            }
        }
    }
    out
}

/// Whether any reachable server offers prompts (for `/mcp`'s capabilities).
pub async fn any_prompts(upstreams: &Upstreams, p: &Principal) -> bool {
    for server in reachable(upstreams, p).await {
        if let Ok(info) = upstreams.info(&server).await
            && info.capabilities.get("prompts").is_some()
        {
            return true;
        }
    }
    false
}

/// The server and original name behind an exposed name; `None` when the name is not an upstream's
/// (a built-in tool). A name of a server the principal may not reach is refused here.
pub async fn resolve(
    upstreams: &Upstreams,
    p: &Principal,
    exposed: &str,
    list: &'static str,
) -> Option<Result<(UpstreamServer, String), GatewayError>> {
    let (slug, rest) = naming::split(exposed)?;
    let server = match upstreams.registry().get(&p.workspace_id, slug).await {
        Ok(s) => s,
        Err(_) => return None,
    };
    if let Err(denial) = policy::reach(p, &server) {
        return Some(Err(denial.into()));
    }
    // The name it came from, by the server's (cached) list: a kept name and a shortened one with
    // its hash can look alike, so the list decides.
    let items = match upstreams.list(&server, Some(p), list).await {
        Ok(items) => items,
        Err(e) => {
            return Some(match naming::unchanged_original(slug, rest) {
                Some(original) => Ok((server, original.to_owned())),
                None => Err(e),
            });
        }
    };
    let original = items.iter().filter_map(|t| t["name"].as_str()).find(|name| naming::exposed(slug, name) == exposed);
    Some(match original {
        Some(name) => Ok((server, name.to_owned())),
        // Not listed (it may have just appeared): a kept name is tried as it is.
        None => match naming::unchanged_original(slug, rest) {
            Some(original) => Ok((server, original.to_owned())),
            None => {
                Err(GatewayError::not_found(format!("The server '{slug}' has no tool or prompt named like {exposed}.")))
            }
        },
    })
}
