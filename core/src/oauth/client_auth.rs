//! Which client is asking, and its proof: the one door for clients at the authorization, token,
//! revocation and device endpoints.
//!
//! A `client_id` is either one of our registrations (`gcl_…`) or an https URL naming a client ID
//! metadata document (fetched and checked by [`ClientDocuments`]). A client then proves itself by
//! the method it registered: `none` (a public client names itself and sends nothing else), a
//! shared secret (`client_secret_basic` / `client_secret_post`, compared in constant time), or a
//! signed assertion (`private_key_jwt`, [`super::assertion`]). Any other proof is refused.

use subtle::ConstantTimeEq;

use super::{
    ErrorCode, OAuthError,
    assertion::{self, ASSERTION_TYPE, KeySets},
    clients::{Client, find_client},
    metadata_document::{ClientDocuments, is_document_id},
    secret,
};
use crate::Db;

/// How a client identified itself at the token, revocation or device endpoint.
#[derive(Debug, Clone, Default)]
pub struct ClientCredentials {
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// The credentials came in an `Authorization: Basic` header.
    pub basic: bool,
    /// `client_assertion_type` and `client_assertion` (RFC 7523).
    pub assertion_type: Option<String>,
    pub assertion: Option<String>,
}

/// Finds and authenticates clients. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ClientDirectory {
    documents: ClientDocuments,
    key_sets: KeySets,
    /// The issuer (public URL): an assertion's audience.
    issuer: String,
}

fn invalid_client(description: impl Into<String>) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidClient, description)
}

impl ClientDirectory {
    pub fn new(documents: ClientDocuments, issuer: &str) -> Self {
        ClientDirectory { documents, key_sets: KeySets::default(), issuer: issuer.to_owned() }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The client a `client_id` names: a registration, or a metadata document (fetched when the
    /// stored copy is stale). `Ok(None)` for an unknown registration; a document that cannot be
    /// used is an `invalid_client` error that says why.
    pub async fn find(&self, db: &Db, client_id: &str) -> Result<Option<Client>, OAuthError> {
        if is_document_id(client_id) {
            return self.documents.resolve(db, client_id).await.map(Some);
        }
        find_client(db, client_id).await
    }

    /// The client, if its credentials hold, at the endpoint `endpoint` (a path such as
    /// `/oauth/token`, which an assertion's audience may name).
    pub async fn authenticate(
        &self,
        db: &Db,
        credentials: &ClientCredentials,
        endpoint: &str,
    ) -> Result<Client, OAuthError> {
        let assertion = match (&credentials.assertion_type, &credentials.assertion) {
            (None, None) => None,
            (Some(t), Some(a)) if t == ASSERTION_TYPE => Some(a.as_str()),
            (Some(_), Some(_)) => {
                return Err(invalid_client(format!("client_assertion_type must be {ASSERTION_TYPE}")));
            }
            _ => {
                return Err(OAuthError::invalid_request("send client_assertion_type and client_assertion together"));
            }
        };
        let id = match (&credentials.client_id, assertion) {
            (Some(id), Some(a)) => {
                if assertion::claimed_client(a).is_some_and(|iss| &iss != id) {
                    return Err(invalid_client("client_id differs from the client_assertion's iss"));
                }
                id.clone()
            }
            (Some(id), None) => id.clone(),
            (None, Some(a)) => {
                assertion::claimed_client(a).ok_or_else(|| invalid_client("client_assertion names no client (iss)"))?
            }
            (None, None) => return Err(invalid_client("client_id is missing")),
        };
        let client = self.find(db, &id).await?.ok_or_else(|| invalid_client("client_id is not registered here"))?;
        match (client.auth_method.as_str(), assertion) {
            ("private_key_jwt", Some(assertion)) => {
                if credentials.client_secret.is_some() {
                    return Err(invalid_client("use one client authentication method: an assertion or a secret"));
                }
                let audiences =
                    [self.issuer.clone(), format!("{}{endpoint}", self.issuer), format!("{}/oauth/token", self.issuer)];
                assertion::verify(db, self.documents.http(), &self.key_sets, &client, assertion, &audiences).await?;
                Ok(client)
            }
            ("private_key_jwt", None) => Err(invalid_client(
                "this client authenticates with private_key_jwt: send client_assertion_type and client_assertion",
            )),
            (_, Some(_)) => Err(invalid_client(format!(
                "this client registered {}, not private_key_jwt; it cannot send an assertion",
                client.auth_method
            ))),
            ("none", None) if credentials.client_secret.is_none() => Ok(client),
            ("none", None) => {
                Err(invalid_client("this client is public (token_endpoint_auth_method none); send no secret"))
            }
            (method, None) => check_secret(client.clone(), method, credentials),
        }
    }
}

/// `client_secret_basic` / `client_secret_post`: the secret, by the method registered.
fn check_secret(client: Client, method: &str, credentials: &ClientCredentials) -> Result<Client, OAuthError> {
    let (Some(given), Some(digest)) = (&credentials.client_secret, &client.secret_digest) else {
        return Err(invalid_client("this client is confidential; authenticate with its client secret"));
    };
    if !bool::from(secret::digest(given).as_bytes().ct_eq(digest.as_bytes())) {
        return Err(invalid_client("the client secret is wrong"));
    }
    if (method == "client_secret_basic") != credentials.basic {
        return Err(invalid_client(if credentials.basic {
            "this client registered client_secret_post; send the secret in the body"
        } else {
            "this client registered client_secret_basic; send the secret in an Authorization: Basic header"
        }));
    }
    Ok(client)
}
