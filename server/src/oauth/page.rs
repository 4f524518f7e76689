//! The error page of the authorization endpoint, for requests that must not be sent back to the
//! client (an unknown client, a redirect URI that is not registered).

use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// A 400 page that explains the problem and sends the person nowhere.
pub fn error_page(message: &str) -> Response {
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en" class="h-full"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cannot connect · Gatehouse</title><link rel="stylesheet" href="/pkg/gatehouse.css"></head>
<body class="h-full bg-slate-50 text-slate-900 antialiased">
<main class="flex min-h-screen items-center justify-center px-4"><div class="w-full max-w-lg rounded-2xl border border-slate-200 bg-white p-8 shadow-sm">
<h1 class="text-xl font-semibold">This connection request cannot be used</h1>
<p role="alert" data-testid="oauth-error" class="mt-3 text-sm text-rose-800">{}</p>
<p class="mt-4 text-sm text-slate-600">Nothing was shared. Go back to the app you were connecting and start again; if this keeps happening, tell its developer.</p>
<p class="mt-6 text-sm"><a class="font-medium text-indigo-700 hover:underline" href="/">Go to Gatehouse</a></p>
</div></main></body></html>"#,
        escape(message)
    );
    let mut response = (StatusCode::BAD_REQUEST, Html(html)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ),
    );
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(super::escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    }
}
