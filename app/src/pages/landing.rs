//! `/`: sends the visitor to their workspace, or to sign in.

use leptos::prelude::*;

use crate::{api::workspaces::landing, components::GoTo};

#[component]
pub fn LandingPage() -> impl IntoView {
    let target = Resource::new(|| (), |_| landing());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let path = target.await.unwrap_or_else(|_| "/signin".to_owned());
                view! { <GoTo path=path /> }
            })}
        </Suspense>
    }
}
