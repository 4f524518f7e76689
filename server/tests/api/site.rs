//! The browser's files under `/pkg`: a release build's precompressed copies are sent to browsers
//! that accept them, the plain file to the others.

use crate::helpers::{Engine, new_client, spawn_app_with, within_limit};

#[tokio::test]
async fn precompressed_files_are_served_to_browsers_that_accept_them() {
    within_limit(async {
        let site = tempfile::tempdir().expect("temp dir");
        let pkg = site.path().join("pkg");
        std::fs::create_dir_all(&pkg).expect("pkg dir");
        std::fs::write(pkg.join("gatehouse.js"), "console.log('plain');").expect("js");
        std::fs::write(pkg.join("gatehouse.js.br"), b"brotli bytes").expect("br");
        let root = site.path().display().to_string();
        let app = spawn_app_with(Engine::Sqlite, |c| c.site_root = root).await;

        let br = new_client()
            .get(app.url("/pkg/gatehouse.js"))
            .header("accept-encoding", "gzip, deflate, br")
            .send()
            .await
            .expect("GET br");
        assert_eq!(br.status(), 200);
        assert_eq!(br.headers().get("content-encoding").and_then(|v| v.to_str().ok()), Some("br"));
        assert!(br.headers()["content-type"].to_str().unwrap_or_default().contains("javascript"));
        assert_eq!(br.bytes().await.expect("body").as_ref(), b"brotli bytes");

        let plain = new_client().get(app.url("/pkg/gatehouse.js")).header("accept-encoding", "identity").send().await;
        let plain = plain.expect("GET plain");
        assert_eq!(plain.status(), 200);
        assert!(plain.headers().get("content-encoding").is_none());
        assert_eq!(plain.text().await.expect("body"), "console.log('plain');");

        let missing = new_client().get(app.url("/pkg/nothing.wasm")).send().await.expect("GET missing");
        assert_eq!(missing.status(), 404);
    })
    .await;
}
