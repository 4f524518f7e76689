//! Sections of the dashboard that are not built yet; each says so plainly.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::NotBuiltYet;

#[component]
pub fn UsagePage() -> impl IntoView {
    view! {
        <Title text="Usage · Gatehouse" />
        <NotBuiltYet title="Usage" what="Charts of calls, errors and latency per key, connector and tool." />
    }
}
