//! A redirect that works on both sides: a 302 when the page is rendered on the server, a
//! router navigation in the browser.

use leptos::prelude::*;
use leptos_router::components::Redirect;

#[component]
pub fn GoTo(#[prop(into)] path: String) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::api::context::redirect_page(&path);
    view! { <Redirect path=path /> }
}
