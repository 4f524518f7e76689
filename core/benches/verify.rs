//! Key verification speed: a valid key end to end on SQLite (parse, checksum, lookup, constant-time
//! compare, status, rate limit, last-used), and rejecting malformed keys with no database access.
//!
//!     cargo bench -p gatehouse-core --bench verify

use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_core::{
    Db,
    accounts::{self, Email, Password},
    keys::{self, Environment, ExpiryChoice, KeyName, KeyToken, KeyVerifier, NewKey, parse_header},
    scopes::ScopeSet,
};

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("dir");
    let (verifier, header) = rt.block_on(async {
        let db = Db::connect(&format!("sqlite://{}/bench.db", dir.path().display())).await.expect("db");
        db.migrate().await.expect("migrate");
        let (_, ws) = accounts::sign_up(
            &db,
            Email::parse("bench@example.com").expect("email"),
            Password::parse("correct horse battery").expect("pw"),
        )
        .await
        .expect("user");
        let new = NewKey {
            name: KeyName::parse("bench").expect("name"),
            environment: Environment::Live,
            scopes: ScopeSet::parse_for_key(&["runs:read"]).expect("scopes"),
            expiry: ExpiryChoice::Never,
            resources: None,
            rate_limit_per_minute: None,
            servers: gatehouse_core::servers::ServerAccess::None,
            allowed_ips: None,
        };
        let (key, token) = keys::create_in(&db, &ws.id, None, new).await.expect("key");
        // The benchmark must measure verification, not the rate limiter's refusal.
        sqlx::query("UPDATE api_keys SET rate_limit_per_minute = 1000000000000 WHERE id = $1")
            .bind(&key.id)
            .execute(db.pool())
            .await
            .expect("limit");
        (KeyVerifier::new(db.clone()), (format!("Bearer {}", token.expose()), db))
    });
    let (verifier, header, db) = (verifier, header.0, header.1);

    c.bench_function("floor: SELECT 1 through the same pool (SQLite)", |b| {
        b.to_async(&rt).iter(|| async { sqlx::query("SELECT 1").execute(db.pool()).await.expect("select") })
    });

    c.bench_function("verify a valid key (SQLite)", |b| {
        b.to_async(&rt).iter(|| async { verifier.verify_header(Some(header.as_bytes()), None).await.expect("valid") })
    });

    let mut changed: Vec<char> = header.chars().collect();
    changed[40] = if changed[40] == 'a' { 'b' } else { 'a' };
    let bad_checksum: String = changed.into_iter().collect();
    let truncated = &header[..header.len() - 5];
    c.bench_function("reject a bad-checksum key", |b| {
        b.iter(|| parse_header(Some(bad_checksum.as_bytes())).expect_err("rejected"))
    });
    c.bench_function("reject a truncated key", |b| {
        b.iter(|| parse_header(Some(truncated.as_bytes())).expect_err("rejected"))
    });
    c.bench_function("generate a key", |b| b.iter(|| KeyToken::generate(Environment::Live)));
}

criterion_group!(benches, bench);
criterion_main!(benches);
