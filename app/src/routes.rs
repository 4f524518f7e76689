//! The HTML shell and the route table.

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    Lazy, SsrMode,
    components::{ParentRoute, Route, Router, Routes, RoutingProgress},
    path,
};

use crate::pages::{dashboard::DashboardLayout, not_found::NotFoundPage};
use split::{
    Audit, Connectors, Consent, Device, Keys, Landing, NewWorkspace, Overview, Servers, Settings, SignIn, SignUp,
    Usage, Webhooks,
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
    // A page's code arrives when it is first opened; until it does, a bar at the top says so.
    let (is_routing, set_is_routing) = signal(false);
    view! {
        <Stylesheet id="leptos" href="/pkg/gatehouse.css" />
        <Title text="Gatehouse" />
        <Router set_is_routing>
            <div
                class="pointer-events-none fixed inset-x-0 top-0 z-50 [&>progress]:block [&>progress]:h-1 [&>progress]:w-full [&>progress]:accent-indigo-600"
                role="status"
                aria-label="Loading the page"
                aria-hidden=move || (!is_routing.get()).to_string()
                data-testid="routing-progress"
            >
                <RoutingProgress is_routing max_time=std::time::Duration::from_secs(2) />
            </div>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/") view={Lazy::<Landing>::new()} ssr=SsrMode::Async />
                <Route path=path!("/signin") view={Lazy::<SignIn>::new()} ssr=SsrMode::Async />
                <Route path=path!("/signup") view={Lazy::<SignUp>::new()} ssr=SsrMode::Async />
                <Route path=path!("/workspaces/new") view={Lazy::<NewWorkspace>::new()} ssr=SsrMode::Async />
                <Route path=path!("/oauth/consent/:id") view={Lazy::<Consent>::new()} ssr=SsrMode::Async />
                <Route path=path!("/device") view={Lazy::<Device>::new()} ssr=SsrMode::Async />
                <ParentRoute path=path!("/w/:slug") view=DashboardLayout ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<Overview>::new()} ssr=SsrMode::Async />
                    <Route path=path!("keys") view={Lazy::<Keys>::new()} ssr=SsrMode::Async />
                    <Route path=path!("connectors") view={Lazy::<Connectors>::new()} ssr=SsrMode::Async />
                    <Route path=path!("servers") view={Lazy::<Servers>::new()} ssr=SsrMode::Async />
                    <Route path=path!("usage") view={Lazy::<Usage>::new()} ssr=SsrMode::Async />
                    <Route path=path!("audit") view={Lazy::<Audit>::new()} ssr=SsrMode::Async />
                    <Route path=path!("webhooks") view={Lazy::<Webhooks>::new()} ssr=SsrMode::Async />
                    <Route path=path!("settings") view={Lazy::<Settings>::new()} ssr=SsrMode::Async />
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Each page as a lazy route: in the browser its code is a wasm file of its own, fetched when the
/// page is first shown (and preloaded by the server for the page it renders), so the first
/// download holds the frame and the framework, not every page (docs/benchmarks.md, the wasm).
mod split {
    use leptos::prelude::*;
    use leptos_router::{LazyRoute, lazy_route};

    use crate::pages::{
        audit::AuditPage,
        auth::{SignInPage, SignUpPage},
        connectors::ConnectorsPage,
        consent::ConsentPage,
        device::DevicePage,
        keys::KeysPage,
        landing::LandingPage,
        overview::OverviewPage,
        servers::ServersPage,
        settings::SettingsPage,
        usage::UsagePage,
        webhooks::WebhooksPage,
        workspace_new::NewWorkspacePage,
    };

    /// A lazy route that shows one page component; the page loads its own data.
    macro_rules! lazy_page {
        ($($route:ident => $page:ident),* $(,)?) => {$(
            pub struct $route;

            #[lazy_route]
            impl LazyRoute for $route {
                fn data() -> Self {
                    Self
                }

                fn view(_this: Self) -> AnyView {
                    view! { <$page /> }.into_any()
                }
            }
        )*};
    }

    lazy_page! {
        Landing => LandingPage,
        SignIn => SignInPage,
        SignUp => SignUpPage,
        NewWorkspace => NewWorkspacePage,
        Consent => ConsentPage,
        Device => DevicePage,
        Overview => OverviewPage,
        Keys => KeysPage,
        Connectors => ConnectorsPage,
        Servers => ServersPage,
        Usage => UsagePage,
        Audit => AuditPage,
        Webhooks => WebhooksPage,
        Settings => SettingsPage,
    }
}
