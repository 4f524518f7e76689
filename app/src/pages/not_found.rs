//! The 404 page, with a real 404 status when rendered on the server.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound(#[prop(optional, into)] message: Option<String>) -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(options) = use_context::<leptos_axum::ResponseOptions>() {
        options.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Not found · Gatehouse" />
        <div class="mx-auto max-w-lg px-4 py-24 text-center" data-testid="not-found">
            <p class="text-sm font-semibold text-indigo-600">"404"</p>
            <h1 class="mt-2 text-2xl font-semibold text-slate-900">"Page not found"</h1>
            <p class="mt-2 text-sm text-slate-600">
                {message.unwrap_or_else(|| "This page does not exist, or you do not have access to it.".to_owned())}
            </p>
            <a href="/" class="mt-6 inline-block rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600">
                "Go to your workspace"
            </a>
        </div>
    }
}

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <main class="min-h-screen bg-slate-50">
            <NotFound />
        </main>
    }
}
