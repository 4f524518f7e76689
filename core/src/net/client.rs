//! An HTTP client for requests Gatehouse makes on its own (client metadata documents, key sets,
//! webhooks, upstream MCP servers): every address a host name resolves to is checked against the
//! request kind's [`AddressRules`] by the client's own resolver, on every connection, so a name that
//! later resolves elsewhere (DNS rebinding) is refused when it is used, not only when it was saved.
//! A URL whose host is an IP address is checked before the request is sent. Redirects are never
//! followed.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::AddressRules;

/// Why an outbound request did not get an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboundError {
    /// The URL is not http(s), or its address is not allowed.
    #[error("{0}")]
    Refused(String),
    #[error("no answer within {0} seconds")]
    Timeout(u64),
    #[error("{0}")]
    Unreachable(String),
    #[error("the answer is larger than {0} bytes")]
    TooLarge(usize),
}

/// A refusal raised inside the resolver, found again in reqwest's error chain.
#[derive(Debug)]
struct AddressRefused(String);

impl std::fmt::Display for AddressRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for AddressRefused {}

/// Resolves names with the system resolver and refuses the whole name if any address is not allowed.
struct GuardedResolver(AddressRules);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let rules = self.0;
        Box::pin(async move {
            type Failure = Box<dyn std::error::Error + Send + Sync>;
            let refuse = |m: String| -> Failure { Box::new(AddressRefused(m)) };
            let host = name.as_str().to_owned();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|_| refuse(format!("the host {host} cannot be resolved")))?
                .collect();
            if found.is_empty() {
                return Err(refuse(format!("the host {host} cannot be resolved")));
            }
            if let Some(why) = found.iter().find_map(|a| rules.refusal(a.ip())) {
                return Err(refuse(format!("the host {host} resolves to {why}")));
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Settings of an outbound client.
#[derive(Debug, Clone)]
pub struct OutboundOptions {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub user_agent: &'static str,
    /// Extra root certificates trusted for https (`GATEHOUSE_OUTBOUND_CA_FILE`), PEM.
    pub extra_roots: Option<Arc<Vec<u8>>>,
}

impl OutboundOptions {
    pub fn new(timeout: Duration, user_agent: &'static str) -> Self {
        OutboundOptions { timeout, connect_timeout: timeout.min(Duration::from_secs(5)), user_agent, extra_roots: None }
    }

    pub fn with_roots(mut self, roots: Option<Arc<Vec<u8>>>) -> Self {
        self.extra_roots = roots;
        self
    }
}

/// A guarded client: cheap to clone.
#[derive(Debug, Clone)]
pub struct Outbound {
    client: reqwest::Client,
    rules: AddressRules,
    timeout_secs: u64,
}

impl Outbound {
    pub fn new(rules: AddressRules, options: OutboundOptions) -> Result<Self, String> {
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(options.user_agent)
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver(rules)));
        if let Some(pem) = &options.extra_roots {
            let roots = reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| format!("GATEHOUSE_OUTBOUND_CA_FILE holds no usable PEM certificate: {e}"))?;
            for root in roots {
                builder = builder.add_root_certificate(root);
            }
        }
        let client = builder.build().map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(Outbound { client, rules, timeout_secs: options.timeout.as_secs().max(1) })
    }

    pub fn rules(&self) -> AddressRules {
        self.rules
    }

    /// The URL may be requested: http or https, and an IP-address host allowed by the rules (names
    /// are checked by the resolver when connecting).
    pub fn check(&self, url: &Url) -> Result<(), OutboundError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(OutboundError::Refused(format!("{} URLs cannot be fetched; use https", url.scheme())));
        }
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            Some(Host::Domain(_)) => return Ok(()),
            None => return Err(OutboundError::Refused("the URL has no host".into())),
        };
        match self.rules.refusal(ip) {
            None => Ok(()),
            Some(why) => Err(OutboundError::Refused(why)),
        }
    }

    /// The underlying client, for building a request; send it with [`Outbound::send`].
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Checks the request's URL and sends it.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, OutboundError> {
        let request = request.build().map_err(|e| OutboundError::Refused(format!("the request is not valid: {e}")))?;
        self.check(request.url())?;
        self.client.execute(request).await.map_err(|e| self.explain(&e))
    }

    /// A reqwest error in words a person can act on (never with a query string or a header).
    pub fn explain(&self, e: &reqwest::Error) -> OutboundError {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = source {
            if let Some(refused) = err.downcast_ref::<AddressRefused>() {
                return OutboundError::Refused(refused.0.clone());
            }
            source = err.source();
        }
        if e.is_timeout() {
            OutboundError::Timeout(self.timeout_secs)
        } else if e.is_connect() {
            OutboundError::Unreachable("the server could not be reached (connection refused or failed)".into())
        } else {
            OutboundError::Unreachable("the connection failed before an answer came".into())
        }
    }
}

/// Resolves the URL's host now and checks every address against `rules`: the answer a form gets
/// when a URL is saved (requests are checked again when they connect).
pub async fn check_resolves(url: &Url, rules: AddressRules) -> Result<(), OutboundError> {
    let host = url.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|_| OutboundError::Refused(format!("the host {host} cannot be resolved")))?
            .map(|a| a.ip())
            .collect(),
    };
    if addresses.is_empty() {
        return Err(OutboundError::Refused(format!("the host {host} cannot be resolved")));
    }
    match addresses.iter().find_map(|ip| rules.refusal(*ip)) {
        Some(why) => Err(OutboundError::Refused(why)),
        None => Ok(()),
    }
}

/// Reads a body of at most `max` bytes, refusing a longer one as soon as it is seen.
pub async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, OutboundError> {
    if response.content_length().is_some_and(|len| len > max as u64) {
        return Err(OutboundError::TooLarge(max));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(OutboundError::TooLarge(max));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(OutboundError::Timeout(0)),
            Err(_) => return Err(OutboundError::Unreachable("the answer broke off".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbound(rules: AddressRules) -> Outbound {
        Outbound::new(rules, OutboundOptions::new(Duration::from_secs(2), "test")).expect("client")
    }

    #[tokio::test]
    async fn literal_and_resolved_addresses_are_checked() {
        let public = outbound(AddressRules::PUBLIC);
        let url = |u: &str| Url::parse(u).expect("url");
        assert!(matches!(public.check(&url("ftp://example.com/x")), Err(OutboundError::Refused(_))));
        assert!(matches!(public.check(&url("http://169.254.169.254/latest")), Err(OutboundError::Refused(_))));
        assert!(matches!(public.check(&url("http://[::ffff:127.0.0.1]/")), Err(OutboundError::Refused(_))));
        assert!(public.check(&url("https://example.com/x")).is_ok(), "names are checked when resolved");
        // `localhost` resolves to loopback: refused by the resolver, whatever the URL looked like.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let err = public.send(public.client().get(format!("http://localhost:{port}/"))).await.expect_err("refused");
        assert!(matches!(&err, OutboundError::Refused(m) if m.contains("loopback")), "{err:?}");
        let loopback = outbound(AddressRules { loopback: true, private: false, setting: "" });
        let served = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
        });
        let res = loopback.send(loopback.client().get(format!("http://localhost:{port}/"))).await.expect("allowed");
        assert_eq!(read_capped(res, 10).await.expect("body"), b"ok");
        served.await.expect("served");
    }
}
