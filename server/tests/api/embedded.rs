//! Several servers in one process (as this test suite runs them, or a program that embeds
//! Gatehouse): starting one does not disturb the pages another is rendering.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use crate::{
    both_engines,
    helpers::{Engine, spawn_app, spawn_instance_of, unique_email},
};

both_engines!(starting_a_server_does_not_stall_pages_being_rendered);

/// How long one dashboard page may take here before it counts as stalled.
const PAGE_LIMIT: Duration = Duration::from_secs(10);

async fn starting_a_server_does_not_stall_pages_being_rendered(engine: Engine) {
    let app = spawn_app(engine).await;
    let email = unique_email("emb");
    let slug = app.sign_up(&email).await;
    let url = app.url(&format!("/w/{slug}"));
    let done = Arc::new(AtomicBool::new(false));

    // Readers load the dashboard over and over while more servers start in this process.
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let (client, url, email, done) = (app.client.clone(), url.clone(), email.clone(), Arc::clone(&done));
            tokio::spawn(async move {
                let mut served = 0_usize;
                while !done.load(Ordering::Relaxed) {
                    let page = tokio::time::timeout(PAGE_LIMIT, async {
                        let res = client.get(&url).send().await?;
                        let status = res.status();
                        res.text().await.map(|html| (status, html))
                    })
                    .await;
                    match page {
                        Ok(Ok((status, html))) if status == 200 && html.contains(&email) => served += 1,
                        Ok(Ok((status, _))) => return Err(format!("page {served} answered {status}")),
                        Ok(Err(e)) => return Err(format!("page {served} failed: {e}")),
                        Err(_) => return Err(format!("page {served} stalled for {PAGE_LIMIT:?}")),
                    }
                }
                Ok(served)
            })
        })
        .collect();

    for _ in 0..24 {
        let other = spawn_instance_of(&app, |_| {}).await;
        assert_eq!(other.get("/healthz").await.status(), 200);
    }
    done.store(true, Ordering::Relaxed);

    for reader in readers {
        let served = reader.await.expect("reader task").unwrap_or_else(|e| panic!("{e}"));
        assert!(served > 0, "each reader loaded the page at least once");
    }
}
