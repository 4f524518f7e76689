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
    let summary = if danger { SUMMARY_DANGER } else { SUMMARY };
    view! {
        <details class="relative">
            <summary class=summary>{label}</summary>
            <div class=panel(wide)>{children()}</div>
        </details>
    }
}

/// Like [`Popover`], but the panel is rendered in the browser when first opened: for a form too
/// large to repeat on every row of a long list (the keys list's Edit). It needs the page's wasm.
#[component]
pub fn LazyPopover(#[prop(into)] label: String, #[prop(optional)] wide: bool, children: ChildrenFn) -> impl IntoView {
    let opened = RwSignal::new(false);
    view! {
        <details class="relative" on:toggle=move |_| if !opened.get_untracked() { opened.set(true) }>
            <summary class=SUMMARY>{label}</summary>
            <div class=panel(wide)>
                {move || if opened.get() {
                    children().into_any()
                } else {
                    view! { <p class="text-sm text-slate-500">"Loading…"</p> }.into_any()
                }}
            </div>
        </details>
    }
}

const SUMMARY: &str = "cursor-pointer list-none rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600";
const SUMMARY_DANGER: &str = "cursor-pointer list-none rounded-lg px-3 py-1.5 text-sm text-rose-700 hover:bg-rose-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-rose-600";

fn panel(wide: bool) -> &'static str {
    if wide {
        "absolute right-0 z-10 mt-2 w-[22rem] max-w-[90vw] rounded-xl border border-slate-200 bg-white p-4 shadow-lg"
    } else {
        "absolute right-0 z-10 mt-2 w-72 max-w-[90vw] rounded-xl border border-slate-200 bg-white p-4 shadow-lg"
    }
}
