//! A client's own website, served by the test over https on loopback: client ID metadata
//! documents and JWK Sets, with whatever status, headers and body a test sets, and a count of the
//! requests each path got. Its certificate comes from a certificate authority made for the run,
//! which the Gatehouse under test trusts (`outbound_roots`), so the https-only rule is exercised
//! for real.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, OnceLock},
};

use axum::{
    Router,
    body::Body,
    extract::{Request, State},
    response::Response,
};
use gatehouse::Config;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, server::TlsStream};

/// What a path answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(value: &serde_json::Value) -> Self {
        Reply {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

#[derive(Default)]
struct Site {
    replies: HashMap<String, Reply>,
    hits: HashMap<String, usize>,
}

/// The running site.
pub struct ClientSite {
    pub base: String,
    state: Arc<Mutex<Site>>,
}

/// The run's certificate authority and the certificate it issued for `localhost` / `127.0.0.1`.
struct TestTls {
    ca_pem: String,
    chain: Vec<rustls::pki_types::CertificateDer<'static>>,
    key_der: Vec<u8>,
}

fn tls() -> &'static TestTls {
    static TLS: OnceLock<TestTls> = OnceLock::new();
    TLS.get_or_init(|| {
        let ca_key = KeyPair::generate().expect("CA key");
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "Gatehouse test CA (tests only)");
        let ca_cert = ca.self_signed(&ca_key).expect("CA certificate");
        let issuer = Issuer::new(ca, ca_key);
        let leaf_key = KeyPair::generate().expect("leaf key");
        let leaf = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).expect("leaf params");
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).expect("leaf certificate");
        TestTls {
            ca_pem: ca_cert.pem(),
            chain: vec![leaf_cert.der().clone(), ca_cert.der().clone()],
            key_der: leaf_key.serialize_der(),
        }
    })
}

/// Makes the Gatehouse under test trust the run's certificate authority and fetch from loopback.
pub fn trust(config: &mut Config) {
    config.outbound_roots = Some(Arc::new(tls().ca_pem.clone().into_bytes()));
    config.metadata_allow_loopback = true;
}

struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else { continue };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

async fn answer(State(state): State<Arc<Mutex<Site>>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let reply = {
        let mut site = state.lock().expect("site");
        *site.hits.entry(path.clone()).or_default() += 1;
        site.replies.get(&path).cloned()
    };
    let reply = reply.unwrap_or(Reply { status: 404, headers: Vec::new(), body: b"not found".to_vec() });
    let mut response = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        response = response.header(name, value);
    }
    response.body(Body::from(reply.body)).expect("response")
}

impl ClientSite {
    /// Starts the site on `https://localhost:<port>`.
    pub async fn start() -> ClientSite {
        let tls = tls();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(tls.key_der.clone().into());
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("protocols")
            .with_no_client_auth()
            .with_single_cert(tls.chain.clone(), key)
            .expect("server certificate");
        let tcp = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = tcp.local_addr().expect("addr").port();
        let state = Arc::new(Mutex::new(Site::default()));
        let app = Router::new().fallback(answer).with_state(state.clone());
        let listener = TlsListener { tcp, acceptor: TlsAcceptor::from(Arc::new(config)) };
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        ClientSite { base: format!("https://localhost:{port}"), state }
    }

    /// The full URL of a path on the site.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn set(&self, path: &str, reply: Reply) {
        self.state.lock().expect("site").replies.insert(path.to_owned(), reply);
    }

    /// How many requests a path got.
    pub fn hits(&self, path: &str) -> usize {
        self.state.lock().expect("site").hits.get(path).copied().unwrap_or(0)
    }
}
