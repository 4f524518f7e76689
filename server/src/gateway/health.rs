//! Health checks: every minute each enabled upstream server is asked what it is and which tools it
//! has (one process checks each server, by a claim in the database); the answer is recorded and a
//! change becomes `server.down` / `server.up`. The dashboard's "Test connection" is the same probe.

use std::time::Duration;

use gatehouse_core::{
    Db,
    clock::{MINUTE, SECOND},
    servers::{self, HealthReport, UpstreamServer},
};
use serde_json::Value;

use super::upstream::Upstreams;

/// What a probe found.
#[derive(Debug, Clone)]
pub struct Probe {
    pub server_name: String,
    pub server_version: String,
    pub protocol_version: String,
    pub tools: Vec<Value>,
}

/// Asks the server afresh (nothing cached): its identity and its tools.
pub async fn probe(upstreams: &Upstreams, server: &UpstreamServer) -> Result<Probe, super::GatewayError> {
    upstreams.forget(&server.id);
    let info = upstreams.info(server).await?;
    let tools = upstreams.list(server, None, "tools/list").await?;
    Ok(Probe {
        server_name: info.name.clone(),
        server_version: info.version.clone(),
        protocol_version: info.protocol_version.clone(),
        tools: tools.as_ref().clone(),
    })
}

/// Probes a server and records what it found.
pub async fn check(db: &Db, upstreams: &Upstreams, server: &UpstreamServer) -> Result<Probe, super::GatewayError> {
    let probed = probe(upstreams, server).await;
    let report = match &probed {
        Ok(p) => HealthReport::Up {
            server_name: p.server_name.clone(),
            server_version: p.server_version.clone(),
            protocol_version: p.protocol_version.clone(),
            tool_count: i64::try_from(p.tools.len()).unwrap_or(0),
        },
        Err(e) => HealthReport::Down { error: e.message.clone() },
    };
    if let Err(e) = servers::record_health(db, server, &report).await {
        tracing::warn!(error = %e, "could not record a health check");
    }
    probed
}

/// The background task: checks due servers every 15 seconds.
pub async fn run(db: Db, upstreams: Upstreams) {
    let mut every = tokio::time::interval(Duration::from_secs(15));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match servers::claim_health_checks(&db, MINUTE, 30 * SECOND).await {
            Ok(due) => {
                for server in due {
                    let (db, upstreams) = (db.clone(), upstreams.clone());
                    tokio::spawn(async move {
                        let _ = check(&db, &upstreams, &server).await;
                    });
                }
            }
            Err(e) => tracing::warn!(error = %e, "could not claim health checks; will retry"),
        }
    }
}

impl gatehouse_core::servers::Prober for Upstreams {
    fn probe(
        &self,
        server: UpstreamServer,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<gatehouse_core::servers::ProbeResult, String>> + Send + '_>> {
        Box::pin(async move {
            let found = check(self.db(), self, &server).await.map_err(|e| e.message)?;
            let flag = |tool: &Value, hint: &str| tool["annotations"][hint].as_bool();
            Ok(gatehouse_core::servers::ProbeResult {
                server_name: found.server_name,
                server_version: found.server_version,
                protocol_version: found.protocol_version,
                tools: found
                    .tools
                    .iter()
                    .map(|t| gatehouse_core::servers::ProbedTool {
                        name: t["name"].as_str().unwrap_or_default().to_owned(),
                        title: t["title"].as_str().map(str::to_owned),
                        description: t["description"].as_str().map(str::to_owned),
                        read_only: flag(t, "readOnlyHint"),
                        destructive: flag(t, "destructiveHint"),
                        idempotent: flag(t, "idempotentHint"),
                        open_world: flag(t, "openWorldHint"),
                    })
                    .collect(),
            })
        })
    }
}
