//! A dashboard page whose client goes away mid-render leaves nothing behind: every task the
//! render started ends, so memory does not grow with dropped connections (a reload, a closed tab,
//! a load generator stopping). Counted in tasks of the runtime the server runs on, which is
//! exact where resident memory is not.

use std::time::Duration;

use tokio::{io::AsyncWriteExt, net::TcpStream};

use crate::{
    both_engines,
    helpers::{Engine, PASSWORD, session_cookie, slug_of, spawn_app, unique_email},
    keys::create_key,
};

both_engines!(pages_abandoned_mid_render_leave_no_task_behind);

fn alive_tasks() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Waits until the number of live tasks stops changing for half a second; returns it.
async fn settled_tasks() -> usize {
    let mut last = alive_tasks();
    for _ in 0..40 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = alive_tasks();
        if now == last {
            return now;
        }
        last = now;
    }
    last
}

async fn pages_abandoned_mid_render_leave_no_task_behind(engine: Engine) {
    let app = spawn_app(engine).await;
    let res = app.call("/api/auth/sign_up", &[("email", &unique_email("leave")), ("password", PASSWORD)]).await;
    assert_eq!(res.status(), 200);
    let cookie = session_cookie(&res).expect("a session cookie");
    let slug = slug_of(&res);
    for i in 0..5 {
        create_key(&app, &slug, &format!("Key {i}"), &["agents:read"], "live", "30d").await;
    }
    let pages = [format!("/w/{slug}/keys"), format!("/w/{slug}"), format!("/w/{slug}/usage")];
    // Whole renders first, so that whatever starts once (pools, the client's connections) has.
    for page in &pages {
        for _ in 0..3 {
            let res = app.get(page).await;
            assert_eq!(res.status(), 200, "{page}");
            assert!(res.text().await.expect("html").contains("</html>"));
        }
    }
    let before = settled_tasks().await;

    // Ask for a page and hang up before the answer, at a few points of the render.
    let addr = app.base.trim_start_matches("http://").to_owned();
    for i in 0..150u64 {
        let page = &pages[i as usize % pages.len()];
        let mut conn = TcpStream::connect(&addr).await.expect("connect");
        let request = format!("GET {page} HTTP/1.1\r\nhost: {addr}\r\ncookie: {cookie}\r\n\r\n");
        conn.write_all(request.as_bytes()).await.expect("send the request");
        tokio::time::sleep(Duration::from_micros(200 * (i % 10))).await;
        drop(conn);
    }

    // The renders end as the server notices each hang-up; give them twenty seconds.
    let mut after = alive_tasks();
    for _ in 0..40 {
        if after <= before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        after = alive_tasks();
    }
    assert!(
        after <= before,
        "{} tasks were still running after 150 renders whose clients went away ({before} before, {after} after)",
        after - before
    );
    // And the server still answers whole pages.
    let res = app.get(&pages[0]).await;
    assert_eq!(res.status(), 200);
}
