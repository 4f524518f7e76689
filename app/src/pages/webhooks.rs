//! The Webhooks page: not built yet, and it says so plainly.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::NotBuiltYet;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    view! {
        <Title text="Webhooks · Gatehouse" />
        <NotBuiltYet title="Webhooks" what="Signed HTTP notifications when keys and connectors change or usage passes a threshold." />
    }
}
