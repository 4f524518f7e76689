//! OAuth by the current specifications: clients identified by a client ID metadata document
//! (served by the test over https), `private_key_jwt` client assertions (RFC 7523), and OpenID
//! Connect (ID tokens verified against `/.well-known/jwks.json`, discovery, userinfo).

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, jwk::JwkSet};
use rsa::{pkcs1::EncodeRsaPrivateKey, traits::PublicKeyParts};
use serde_json::{Value, json};

use crate::{
    both_engines,
    client_site::{self, ClientSite, Reply},
    helpers::{Engine, TestApp, spawn_app_with, unique_email},
    oauth::{REDIRECT, approve, authorize, location, pkce, query_of, register, token},
};

both_engines!(
    discovery_names_documents_signing_keys_and_userinfo,
    a_client_identified_by_its_metadata_document_connects,
    bad_metadata_documents_are_refused_and_nothing_is_stored,
    private_key_jwt_clients_prove_themselves_with_signed_assertions,
    id_tokens_verify_and_userinfo_answers,
);

async fn app_and_site(engine: Engine) -> (TestApp, ClientSite) {
    let app = spawn_app_with(engine, client_site::trust).await;
    (app, ClientSite::start().await)
}

/// A metadata document for `site`'s `/client.json`.
fn document(site: &ClientSite, extra: Value) -> (String, Value) {
    let id = site.url("/client.json");
    let mut doc = json!({
        "client_id": id,
        "client_name": "Site Host",
        "client_uri": site.base,
        "redirect_uris": [REDIRECT],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "none",
    });
    if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            doc.insert(k.clone(), v.clone());
        }
    }
    (id, doc)
}

/// The authorization request of a client; `Ok(consent id)` or `Err((status, body))`.
async fn start(
    app: &TestApp,
    client_id: &str,
    scope: &str,
    challenge: &str,
    extra: &[(&str, &str)],
) -> Result<String, (u16, String)> {
    let resource = format!("{}/mcp", app.base);
    let mut query = vec![
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("response_type", "code"),
        ("scope", scope),
        ("state", "s1"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("resource", resource.as_str()),
    ];
    query.extend_from_slice(extra);
    let res = authorize(app, &query).await;
    let status = res.status().as_u16();
    let loc = location(&res);
    match loc.strip_prefix("/oauth/consent/") {
        Some(id) if status == 303 => Ok(id.to_owned()),
        _ => Err((status, res.text().await.unwrap_or_default())),
    }
}

/// Approves and exchanges the code with `auth` (the client's authentication parameters).
async fn code_for(app: &TestApp, client_id: &str, slug: &str, scope: &str, extra: &[(&str, &str)]) -> (String, String) {
    let (verifier, challenge) = pkce();
    let id = start(app, client_id, scope, &challenge, extra).await.expect("consent");
    let back = approve(app, &id, slug, "").await;
    (query_of(&back)["code"].clone(), verifier)
}

/// Exchanges a public client's code at the token endpoint.
async fn exchange(app: &TestApp, client_id: &str, code: &str, verifier: &str) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT),
        ("client_id", client_id),
        ("code_verifier", verifier),
        ("resource", &format!("{}/mcp", app.base)),
    ];
    let (status, _, body) = token(app, &form).await;
    (status, body)
}

async fn discovery_names_documents_signing_keys_and_userinfo(engine: Engine) {
    let (app, _site) = app_and_site(engine).await;
    for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
        let res = app.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        let meta: Value = res.json().await.expect("json");
        assert_eq!(meta["client_id_metadata_document_supported"], true, "{path}");
        assert_eq!(meta["jwks_uri"], format!("{}/.well-known/jwks.json", app.base));
        assert_eq!(meta["userinfo_endpoint"], format!("{}/oauth/userinfo", app.base));
        assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(meta["id_token_signing_alg_values_supported"], json!(["RS256"]));
        assert_eq!(meta["subject_types_supported"], json!(["public"]));
        let methods = meta["token_endpoint_auth_methods_supported"].as_array().expect("methods");
        assert!(methods.contains(&json!("private_key_jwt")) && methods.contains(&json!("none")));
        assert!(!meta["token_endpoint_auth_signing_alg_values_supported"].to_string().contains("none"));
    }
    let res = app.get("/.well-known/jwks.json").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["cache-control"].to_str().expect("ascii").contains("max-age"));
    let jwks: Value = res.json().await.expect("json");
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert!(key["d"].is_null(), "no private part");
}

async fn a_client_identified_by_its_metadata_document_connects(engine: Engine) {
    let (app, site) = app_and_site(engine).await;
    let email = unique_email("cimd");
    let slug = app.sign_up(&email).await;
    let (client_id, doc) = document(&site, json!({}));
    site.set("/client.json", Reply::json(&doc).with_header("cache-control", "public, max-age=3600"));

    let (verifier, challenge) = pkce();
    let consent = start(&app, &client_id, "agents:read offline_access", &challenge, &[]).await.expect("consent");
    // The consent page names the verified host, not only the name the document gives.
    let view: Value = app.call("/api/oauth/consent", &[("id", &consent)]).await.json().await.expect("json");
    assert_eq!(view["client_name"], "Site Host");
    assert_eq!(view["verified_host"], "localhost");
    let html = app.get(&format!("/oauth/consent/{consent}")).await.text().await.expect("html");
    assert!(html.contains("consent-verified") && html.contains("localhost"), "{html}");

    let back = approve(&app, &consent, &slug, "").await;
    let code = query_of(&back)["code"].clone();
    let (status, tokens) = exchange(&app, &client_id, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().expect("access").to_owned();
    let (status, _, who) =
        crate::helpers::mcp_call(&app, &access, "tools/call", json!({"name": "whoami", "arguments": {}})).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["result"]["structuredContent"]["connector"]["client_id"], client_id.as_str());
    // Refreshing authenticates the document's client again, from the stored copy.
    let (status, _, refreshed) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().expect("refresh")),
            ("client_id", &client_id),
        ],
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(site.hits("/client.json"), 1, "cached for its max-age");

    // Its connector is listed, moved and removed like any other.
    let list: Value = app.call("/api/connectors/list", &[("slug", &slug)]).await.json().await.expect("json");
    let connector = &list["connectors"][0];
    assert_eq!(connector["client_name"], "Site Host");
    let connector_id = connector["id"].as_str().expect("id").to_owned();
    let res = app.call("/api/workspaces/create", &[("name", "Second team")]).await;
    let second = crate::helpers::slug_of(&res);
    let moved =
        app.call("/api/connectors/rebind", &[("slug", &slug), ("connector_id", &connector_id), ("to", &second)]).await;
    assert_eq!(moved.status(), 200, "{}", moved.text().await.unwrap_or_default());
    let (_, _, who) =
        crate::helpers::mcp_call(&app, &access, "tools/call", json!({"name": "whoami", "arguments": {}})).await;
    assert_eq!(who["result"]["structuredContent"]["workspace"]["slug"], second.as_str());
    let removed = app.call("/api/connectors/remove", &[("slug", &second), ("connector_id", &connector_id)]).await;
    assert_eq!(removed.status(), 200);
    let (status, _, _) = crate::helpers::mcp_call(&app, &access, "tools/list", json!({})).await;
    assert_eq!(status, 401, "a removed connector's token stops working");

    // A registered client's name is marked as its own choice.
    let (_, registered) = register(
        &app,
        json!({"client_name": "Self Named", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"}),
    )
    .await;
    let consent = start(&app, registered["client_id"].as_str().expect("id"), "agents:read", &challenge, &[])
        .await
        .expect("consent");
    let view: Value = app.call("/api/oauth/consent", &[("id", &consent)]).await.json().await.expect("json");
    assert!(view["verified_host"].is_null());
    let html = app.get(&format!("/oauth/consent/{consent}")).await.text().await.expect("html");
    assert!(html.contains("consent-unverified"), "{html}");
}

async fn bad_metadata_documents_are_refused_and_nothing_is_stored(engine: Engine) {
    let (app, site) = app_and_site(engine).await;
    app.sign_up(&unique_email("bad")).await;
    let (_, challenge) = pkce();
    let (id, good) = document(&site, json!({}));
    let app = &app;
    let requests = || app.count("SELECT COUNT(*) FROM oauth_requests");
    let clients = |id: &str| {
        let sql = format!("SELECT COUNT(*) FROM oauth_clients WHERE id = '{id}'");
        async move { app.count(&sql).await }
    };

    let one_off = {
        let mut d = good.clone();
        d["client_id"] = json!(format!("{id}x"));
        d
    };
    let with_secret = {
        let mut d = good.clone();
        d["client_secret"] = json!("shh");
        d
    };
    let cases: Vec<(&str, Reply, &str)> = vec![
        (
            "html",
            Reply {
                status: 200,
                headers: vec![("content-type".into(), "text/html".into())],
                body: b"<html>hi</html>".to_vec(),
            },
            "not JSON",
        ),
        (
            "huge",
            Reply {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: vec![b' '; 10 * 1024 * 1024],
            },
            "larger than",
        ),
        (
            "redirect",
            Reply { status: 302, headers: vec![("location".into(), site.url("/client.json"))], body: Vec::new() },
            "redirect",
        ),
        ("one-off", Reply::json(&one_off), "not the URL"),
        ("secret", Reply::json(&with_secret), "client_secret"),
        (
            "broken",
            Reply {
                status: 200,
                headers: vec![("content-type".into(), "application/json".into())],
                body: b"{\"client_id\":".to_vec(),
            },
            "not valid JSON",
        ),
        ("missing", Reply { status: 404, headers: Vec::new(), body: Vec::new() }, "HTTP 404"),
    ];
    for (name, reply, needle) in cases {
        let path = format!("/{name}.json");
        let url = site.url(&path);
        let mut reply = reply;
        if name == "one-off" || name == "secret" {
            // The document names the URL it is served at (but for the one-off case's extra x).
            let mut doc: Value = serde_json::from_slice(&reply.body).expect("json");
            let id = if name == "one-off" { format!("{url}x") } else { url.clone() };
            doc["client_id"] = json!(id);
            reply = Reply::json(&doc);
        }
        site.set(&path, reply);
        let (status, page) = start(app, &url, "agents:read", &challenge, &[]).await.expect_err(name);
        assert_eq!(status, 400, "{name}: {page}");
        assert!(page.contains(needle), "{name}: the page says why ({needle}): {page}");
        assert_eq!(clients(&url).await, 0, "{name}: no client stored");
    }
    assert_eq!(requests().await, 0, "no authorization request stored");

    // Special-use, private and plain-http ids are refused without a fetch.
    for url in
        ["https://169.254.169.254/latest/client.json", "https://10.0.0.1/client.json", "http://localhost/client.json"]
    {
        let (status, page) = start(app, url, "agents:read", &challenge, &[]).await.expect_err(url);
        assert_eq!(status, 400, "{url}: {page}");
    }

    // A redirect URI the document does not list: an error page, never a redirect there.
    site.set("/client.json", Reply::json(&good));
    let res = authorize(
        app,
        &[
            ("client_id", &id),
            ("redirect_uri", "http://127.0.0.1:9999/elsewhere"),
            ("response_type", "code"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    )
    .await;
    assert_eq!(res.status(), 400);
    assert!(res.text().await.expect("page").contains("not one that Site Host registered"));
    assert_eq!(requests().await, 0);

    // A failed fetch is not cached: once the document is fixed, the next request uses it.
    site.set("/flaky.json", Reply { status: 500, headers: Vec::new(), body: Vec::new() });
    let flaky = site.url("/flaky.json");
    assert!(start(app, &flaky, "agents:read", &challenge, &[]).await.is_err());
    let mut fixed = good.clone();
    fixed["client_id"] = json!(flaky);
    site.set("/flaky.json", Reply::json(&fixed));
    assert!(start(app, &flaky, "agents:read", &challenge, &[]).await.is_ok());
    assert_eq!(site.hits("/flaky.json"), 2);

    // A client may not authenticate with a secret it was never given.
    let (status, _, body) = token(
        app,
        &[("grant_type", "authorization_code"), ("code", "gac_x"), ("client_id", &flaky), ("client_secret", "guess")],
    )
    .await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{body}");
}

/// An RSA key a client signs its assertions with, and its public JWK.
struct ClientKey {
    encoding: EncodingKey,
    jwk: Value,
}

fn client_key(kid: &str) -> ClientKey {
    let key = rsa::PrivateKey::new(&mut rsa::rand_core::UnwrapErr(getrandom::SysRng), 2048).expect("rsa key");
    let der = key.to_pkcs1_der().expect("der");
    let public = key.to_public_key();
    let b64 = |bytes: Vec<u8>| {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(0);
        URL_SAFE_NO_PAD.encode(&bytes[start..])
    };
    ClientKey {
        encoding: EncodingKey::from_rsa_der(der.as_bytes()),
        jwk: json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": b64(public.n().to_be_bytes().to_vec()), "e": b64(public.e().to_be_bytes().to_vec())}),
    }
}

/// A client assertion: `iss` = `sub` = the client, `aud`, expiring in `exp_in` seconds.
fn assertion(key: &ClientKey, kid: &str, client_id: &str, aud: &str, exp_in: i64, jti: &str) -> String {
    let now = gatehouse_core::clock::now_ms() / 1000;
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.to_owned());
    let claims = json!({"iss": client_id, "sub": client_id, "aud": aud, "iat": now, "exp": now + exp_in, "jti": jti});
    jsonwebtoken::encode(&header, &claims, &key.encoding).expect("sign")
}

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

async fn private_key_jwt_clients_prove_themselves_with_signed_assertions(engine: Engine) {
    let (app, site) = app_and_site(engine).await;
    let slug = app.sign_up(&unique_email("pkj")).await;
    let key = client_key("k1");
    let stranger = client_key("k1");
    site.set("/jwks.json", Reply::json(&json!({"keys": [key.jwk]})));
    let (client_id, doc) =
        document(&site, json!({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": site.url("/jwks.json")}));
    site.set("/client.json", Reply::json(&doc));
    let token_endpoint = format!("{}/oauth/token", app.base);
    let (code, verifier) = code_for(&app, &client_id, &slug, "agents:read offline_access", &[]).await;
    let exchange = |assertion: String| {
        let (code, verifier, client_id) = (code.clone(), verifier.clone(), client_id.clone());
        let app = &app;
        async move {
            token(
                app,
                &[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", REDIRECT),
                    ("code_verifier", &verifier),
                    ("client_id", &client_id),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };
    // Refused, each with its reason, and the code stays unused.
    let none_alg = {
        let head = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let body = URL_SAFE_NO_PAD.encode(
            json!({"iss": client_id, "sub": client_id, "aud": token_endpoint, "exp": 9_999_999_999i64, "jti": "n"})
                .to_string(),
        );
        format!("{head}.{body}.")
    };
    for (what, bad, needle) in [
        ("expired", assertion(&key, "k1", &client_id, &token_endpoint, -120, "a1"), "expired"),
        ("wrong key", assertion(&stranger, "k1", &client_id, &token_endpoint, 60, "a2"), "signature"),
        ("alg none", none_alg, "not accepted"),
        ("wrong audience", assertion(&key, "k1", &client_id, "https://elsewhere.example", 60, "a3"), "aud"),
        ("far future", assertion(&key, "k1", &client_id, &token_endpoint, 86_400, "a4"), "too far"),
        ("unknown kid", assertion(&key, "k9", &client_id, &token_endpoint, 60, "a5"), "kid"),
    ] {
        let (status, _, body) = exchange(bad).await;
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_client")), "{what}: {body}");
        assert!(body["error_description"].as_str().unwrap_or_default().contains(needle), "{what}: {body}");
    }
    // Without any proof: refused too.
    let (status, _, body) =
        token(&app, &[("grant_type", "authorization_code"), ("code", &code), ("client_id", &client_id)]).await;
    assert_eq!(status, 401, "{body}");
    let good = assertion(&key, "k1", &client_id, &token_endpoint, 60, "good-1");
    let (status, _, tokens) = exchange(good.clone()).await;
    assert_eq!(status, 200, "{tokens}");
    let refresh = tokens["refresh_token"].as_str().expect("refresh").to_owned();
    // The same assertion again (its jti spent) is refused; a new one works.
    let refresh_with = |assertion: String| {
        let (refresh, app) = (refresh.clone(), &app);
        async move {
            token(
                app,
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &refresh),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };
    let (status, _, body) = refresh_with(good).await;
    assert_eq!(status, 401, "replayed: {body}");
    assert!(body["error_description"].as_str().unwrap_or_default().contains("already used"), "{body}");
    let (status, _, refreshed) = refresh_with(assertion(&key, "k1", &client_id, &app.base, 60, "good-2")).await;
    assert_eq!(status, 200, "the issuer is an accepted audience too: {refreshed}");
    // Revocation takes the same proof.
    let res = app
        .client
        .post(app.url("/oauth/revoke"))
        .form(&[
            ("token", refreshed["refresh_token"].as_str().expect("refresh")),
            ("client_assertion_type", JWT_BEARER),
            (
                "client_assertion",
                &assertion(&key, "k1", &client_id, &format!("{}/oauth/revoke", app.base), 60, "good-3"),
            ),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM oauth_grants WHERE revoked_at IS NOT NULL").await, 1);

    // A registered client with inline keys: no secret is handed out.
    let (status, registered) = register(
        &app,
        json!({"client_name": "Keyed", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [key.jwk]}}),
    )
    .await;
    assert_eq!(status, 201, "{registered}");
    assert!(registered["client_secret"].is_null());
    let (status, bad) = register(
        &app,
        json!({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}),
    )
    .await;
    assert_eq!(status, 400, "a symmetric key is refused: {bad}");
}

/// Verifies an ID token against the published keys.
async fn verified_id_token(app: &TestApp, token: &str, audience: &str) -> Value {
    let set: JwkSet = app.get("/.well-known/jwks.json").await.json().await.expect("jwks");
    let kid = jsonwebtoken::decode_header(token).expect("header").kid.expect("kid");
    let key = DecodingKey::from_jwk(set.find(&kid).expect("published")).expect("key");
    let mut validation = Validation::new(Algorithm::RS256);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[&app.base]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).expect("a valid ID token").claims
}

async fn id_tokens_verify_and_userinfo_answers(engine: Engine) {
    let (app, site) = app_and_site(engine).await;
    let email = unique_email("oidc");
    let slug = app.sign_up(&email).await;
    let (client_id, doc) = document(&site, json!({}));
    site.set("/client.json", Reply::json(&doc));
    let (code, verifier) =
        code_for(&app, &client_id, &slug, "openid agents:read offline_access", &[("nonce", "n-0S6_WzA2Mj")]).await;
    let (status, tokens) = exchange(&app, &client_id, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    let claims = verified_id_token(&app, tokens["id_token"].as_str().expect("id_token"), &client_id).await;
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["email"], email.as_str());
    assert!(claims["sub"].as_str().expect("sub").starts_with("usr_"));
    assert!(claims["exp"].as_i64() > claims["iat"].as_i64());

    let access = tokens["access_token"].as_str().expect("access");
    for method in [reqwest::Method::GET, reqwest::Method::POST] {
        let res =
            app.client.request(method, app.url("/oauth/userinfo")).bearer_auth(access).send().await.expect("userinfo");
        assert_eq!(res.status(), 200);
        let info: Value = res.json().await.expect("json");
        assert_eq!((info["sub"].clone(), info["email"].as_str()), (claims["sub"].clone(), Some(email.as_str())));
    }
    // A refresh brings a new ID token, for the same person.
    let (_, _, refreshed) = token(
        &app,
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", tokens["refresh_token"].as_str().expect("refresh")),
            ("client_id", &client_id),
        ],
    )
    .await;
    let again = verified_id_token(&app, refreshed["id_token"].as_str().expect("id_token"), &client_id).await;
    assert_eq!(again["sub"], claims["sub"]);

    // Without openid: no ID token, and userinfo says which scope is missing.
    let (code, verifier) = code_for(&app, &client_id, &slug, "agents:read", &[]).await;
    let (_, plain) = exchange(&app, &client_id, &code, &verifier).await;
    assert!(plain["id_token"].is_null(), "{plain}");
    let res = app
        .client
        .get(app.url("/oauth/userinfo"))
        .bearer_auth(plain["access_token"].as_str().expect("access"))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), 403);
    assert!(res.headers()["www-authenticate"].to_str().expect("ascii").contains("insufficient_scope"));
    for bad in ["gat_nope", "pk_live_x"] {
        let res = app.client.get(app.url("/oauth/userinfo")).bearer_auth(bad).send().await.expect("GET");
        assert_eq!(res.status(), 401, "{bad}");
    }
    let res = app.client.get(app.url("/oauth/userinfo")).send().await.expect("GET");
    assert_eq!(res.status(), 401);
}
