//! A button that opens a small panel under it (a `<details>` element, so it works before the wasm
//! loads): for confirmations and short forms beside a list row.

use leptos::prelude::*;

#[component]
pub fn Popover(
    #[prop(into)] label: String,
    /// A destructive action: the button is red text.
    #[prop(optional)]
    danger: bool,
    /// A wider panel, for a form with several fields.
    #[prop(optional)]
    wide: bool,
    children: Children,
) -> impl IntoView {
    let summary = if danger {
        "cursor-pointer list-none rounded-lg px-3 py-1.5 text-sm text-rose-700 hover:bg-rose-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-rose-600"
    } else {
        "cursor-pointer list-none rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600"
    };
    let panel = if wide {
        "absolute right-0 z-10 mt-2 w-[22rem] max-w-[90vw] rounded-xl border border-slate-200 bg-white p-4 shadow-lg"
    } else {
        "absolute right-0 z-10 mt-2 w-72 max-w-[90vw] rounded-xl border border-slate-200 bg-white p-4 shadow-lg"
    };
    view! {
        <details class="relative">
            <summary class=summary>{label}</summary>
            <div class=panel>{children()}</div>
        </details>
    }
}
