//! The policy's part for upstream servers: whether a principal may reach a server, call one of its
//! tools, or use its prompts and resources.

use super::{Denial, credential};
use crate::{
    keys::{Environment, Principal},
    servers::UpstreamServer,
};

/// May the principal reach this server at all (its workspace, environment, the server switched on,
/// and the credential's server list)?
pub fn reach(p: &Principal, server: &UpstreamServer) -> Result<(), Denial> {
    if server.workspace_id != p.workspace_id {
        return Err(Denial::forbidden(
            format!("There is no server '{}' in workspace '{}'.", server.slug, p.workspace_slug),
            "List the workspace's servers on its Servers page.".into(),
        ));
    }
    if server.environment != p.environment {
        let (server_env, key_env) = (server.environment.as_str(), p.environment.as_str());
        return Err(Denial::forbidden(
            format!(
                "'{}' is a {server_env} server; this {} is {key_env}, and reaches {key_env} servers only.",
                server.slug,
                credential(p)
            ),
            match server.environment {
                Environment::Test => "Use a pk_test_ key for test servers.".into(),
                Environment::Live => "Use a pk_live_ key (or an OAuth connection) for live servers.".into(),
            },
        ));
    }
    if !server.enabled {
        return Err(Denial::forbidden(
            format!("The server '{}' is switched off in this workspace.", server.slug),
            "Ask an admin to switch it on (Servers).".into(),
        ));
    }
    if !p.servers.allows_server(&server.slug) {
        return Err(Denial::forbidden(
            format!(
                "This {} may not reach the server '{}'; it may reach {}.",
                credential(p),
                server.slug,
                p.servers.describe()
            ),
            next_step(p, &server.slug),
        ));
    }
    Ok(())
}

/// May the principal call this tool of the server (switched on, and granted)?
pub fn call_tool(p: &Principal, server: &UpstreamServer, tool: &str) -> Result<(), Denial> {
    reach(p, server)?;
    if !server.tool_enabled(tool) {
        return Err(Denial::forbidden(
            format!("The tool '{tool}' of '{}' is switched off in this workspace.", server.slug),
            "Ask an admin to switch it on (Servers → the server's tools).".into(),
        ));
    }
    if !p.servers.allows_tool(&server.slug, tool) {
        return Err(Denial::forbidden(
            format!(
                "This {} may call only some tools of '{}', and '{tool}' is not one of them.",
                credential(p),
                server.slug
            ),
            next_step(p, &format!("{}/{tool}", server.slug)),
        ));
    }
    Ok(())
}

/// May the principal use the server's prompts and resources (the server granted whole)?
pub fn use_whole_server(p: &Principal, server: &UpstreamServer) -> Result<(), Denial> {
    reach(p, server)?;
    if !p.servers.allows_whole_server(&server.slug) {
        return Err(Denial::forbidden(
            format!(
                "This {} may call only some tools of '{}'; its prompts and resources need the whole server.",
                credential(p),
                server.slug
            ),
            next_step(p, &server.slug),
        ));
    }
    Ok(())
}

fn next_step(p: &Principal, item: &str) -> String {
    if p.is_oauth() {
        format!(
            "Connect again and allow '{item}' on the consent page, or ask an admin of workspace '{}'.",
            p.workspace_slug
        )
    } else {
        format!(
            "Ask an admin of workspace '{}' to add '{item}' to this key's servers (API keys → Edit).",
            p.workspace_slug
        )
    }
}
