//! Pieces of the forms that make a key (API keys, management keys): the expiry choice and the
//! submit button that waits for the wasm, since the new key is shown only in the live page.

use leptos::prelude::*;

const SELECT: &str = "block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30";

/// When the key expires: a choice (30 or 90 days, a year, a date, never unless the workspace
/// caps lifetimes) and the date for "On a date…", with the error underneath.
#[component]
pub fn ExpiryFields(
    /// Makes the fields' ids unique in the page.
    id_prefix: &'static str,
    /// The workspace's longest lifetime in days, if it has one.
    max_days: Option<i64>,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let (choice, date) = (format!("{id_prefix}-expiry"), format!("{id_prefix}-date"));
    view! {
        <div class="grid gap-4 sm:grid-cols-2">
            <div class="space-y-1.5">
                <label for=choice.clone() class="block text-sm font-medium text-slate-800">"Expires"</label>
                <select id=choice name="expiry" class=SELECT>
                    <option value="30d">"In 30 days"</option>
                    <option value="90d" selected=true>"In 90 days"</option>
                    <option value="1y">"In 1 year"</option>
                    <option value="date">"On a date…"</option>
                    {max_days.is_none().then(|| view! { <option value="never">"Never"</option> })}
                </select>
                {max_days.map(|d| view! { <p class="text-xs text-slate-500">{format!("This workspace allows keys to live at most {d} days.")}</p> })}
            </div>
            <div class="space-y-1.5">
                <label for=date.clone() class="block text-sm font-medium text-slate-800">"Date (when “On a date…”)"</label>
                <input id=date type="date" name="expiry_date" class=SELECT />
            </div>
        </div>
        {move || error.get().map(|e| view! { <p class="text-sm text-rose-600" data-testid="field-error">{e}</p> })}
    }
}

/// The submit button of a form that makes a key: disabled until the page is live (`live`) and
/// while the request runs.
#[component]
pub fn CreateButton(label: &'static str, live: RwSignal<bool>, #[prop(into)] pending: Signal<bool>) -> impl IntoView {
    view! {
        <div class="flex items-center gap-3">
            <button type="submit" disabled=move || !live.get() || pending.get()
                class="rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60">
                {move || if pending.get() { "Creating…" } else { label }}
            </button>
            {move || (!live.get()).then(|| view! { <span class="text-xs text-slate-500">"Waiting for the page to finish loading…"</span> })}
        </div>
    }
}

/// The form and the `<details>` panel that hold a key form, cleared and closed once a key is
/// made (it is in the reveal panel then): bind them with `node_ref`.
pub fn closed_after_success<T, V>(value: V) -> (NodeRef<leptos::html::Form>, NodeRef<leptos::html::Details>)
where
    T: Send + Sync + 'static,
    V: With<Value = Option<Result<T, crate::error::AppError>>> + 'static,
{
    let form = NodeRef::<leptos::html::Form>::new();
    let panel = NodeRef::<leptos::html::Details>::new();
    Effect::new(move |_| {
        if value.with(|v| matches!(v, Some(Ok(_)))) {
            if let Some(form) = form.get_untracked() {
                form.reset();
            }
            if let Some(panel) = panel.get_untracked() {
                panel.set_open(false);
            }
        }
    });
    (form, panel)
}
