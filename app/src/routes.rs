//! The HTML shell and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};

use crate::pages::{
    audit::AuditPage,
    auth::{SignInPage, SignUpPage},
    connectors::ConnectorsPage,
    consent::ConsentPage,
    dashboard::DashboardLayout,
    device::DevicePage,
    keys::KeysPage,
    landing::LandingPage,
    not_found::NotFoundPage,
    overview::OverviewPage,
    settings::SettingsPage,
    usage::UsagePage,
    webhooks::WebhooksPage,
    workspace_new::NewWorkspacePage,
};

/// The document around the app. On the server it also sets the Content-Security-Policy with
/// this response's nonce, which the hydration script carries.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en" class="h-full">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body class="h-full bg-slate-50 text-slate-900 antialiased">
                <App />
            </body>
        </html>
    }
}

#[cfg(feature = "ssr")]
fn set_content_security_policy() {
    if let (Some(nonce), Some(options)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>()) {
        let policy = format!(
            "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
             img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
             frame-ancestors 'none'"
        );
        if let Ok(value) = http::HeaderValue::from_str(&policy) {
            options.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/gatehouse.css" />
        <Title text="Gatehouse" />
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/") view=LandingPage ssr=SsrMode::Async />
                <Route path=path!("/signin") view=SignInPage ssr=SsrMode::Async />
                <Route path=path!("/signup") view=SignUpPage ssr=SsrMode::Async />
                <Route path=path!("/workspaces/new") view=NewWorkspacePage ssr=SsrMode::Async />
                <Route path=path!("/oauth/consent/:id") view=ConsentPage ssr=SsrMode::Async />
                <Route path=path!("/device") view=DevicePage ssr=SsrMode::Async />
                <ParentRoute path=path!("/w/:slug") view=DashboardLayout ssr=SsrMode::Async>
                    <Route path=path!("") view=OverviewPage ssr=SsrMode::Async />
                    <Route path=path!("keys") view=KeysPage ssr=SsrMode::Async />
                    <Route path=path!("connectors") view=ConnectorsPage ssr=SsrMode::Async />
                    <Route path=path!("usage") view=UsagePage ssr=SsrMode::Async />
                    <Route path=path!("audit") view=AuditPage ssr=SsrMode::Async />
                    <Route path=path!("webhooks") view=WebhooksPage ssr=SsrMode::Async />
                    <Route path=path!("settings") view=SettingsPage ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
