//! Form pieces: labelled fields with their error, a general alert, a submit button that shows
//! progress. They render the same on the server, so forms work before the wasm has loaded.

use leptos::prelude::*;

use crate::error::AppError;

/// The message for `field` in the latest result of a server action, if it failed on that field.
pub fn field_error<T, V>(value: V, field: &'static str) -> Signal<Option<String>>
where
    T: Clone + Send + Sync + 'static,
    V: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(|r| r.err()).and_then(|e| e.for_field(field)))
}

/// A labelled input with an optional hint and its error underneath.
#[component]
pub fn TextField(
    #[prop(into)] name: String,
    #[prop(into)] label: String,
    /// The input's id; `field-<name>` unless a page has several fields of one name.
    #[prop(into, optional)]
    id: Option<String>,
    #[prop(into, default = "text".to_owned())] kind: String,
    #[prop(into, optional)] autocomplete: Option<String>,
    #[prop(into, optional)] hint: Option<String>,
    #[prop(into, optional)] value: Option<String>,
    #[prop(into, optional)] placeholder: Option<String>,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    #[prop(into, default = 1024)] maxlength: usize,
    #[prop(into)] error: Signal<Option<String>>,
) -> impl IntoView {
    let id = id.unwrap_or_else(|| format!("field-{name}"));
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let described_by = {
        let (hint_id, error_id) = (hint_id.clone(), error_id.clone());
        let has_hint = hint.is_some();
        move || {
            let mut ids = Vec::new();
            if has_hint {
                ids.push(hint_id.clone());
            }
            if error.get().is_some() {
                ids.push(error_id.clone());
            }
            (!ids.is_empty()).then(|| ids.join(" "))
        }
    };
    view! {
        <div class="space-y-1.5">
            <label for=id.clone() class="block text-sm font-medium text-slate-800">
                {label}
            </label>
            <input
                id=id
                name=name
                type=kind
                value=value
                placeholder=placeholder
                autocomplete=autocomplete
                required=required
                autofocus=autofocus
                maxlength=maxlength
                aria-invalid=move || error.get().is_some().then_some("true")
                aria-describedby=described_by
                class="block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm text-slate-900 shadow-sm placeholder:text-slate-400 focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30 aria-[invalid=true]:border-rose-400"
            />
            {hint.map(|h| view! { <p id=hint_id class="text-xs text-slate-500">{h}</p> })}
            {move || {
                error
                    .get()
                    .map(|e| {
                        view! {
                            <p id=error_id.clone() class="text-sm text-rose-600" data-testid="field-error">
                                {e}
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// An alert for an error that belongs to no single field (and for success notes).
#[component]
pub fn FormAlert<T, V>(value: V) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    V: Get<Value = Option<Result<T, AppError>>> + Send + Sync + 'static,
{
    move || {
        value.get().and_then(|r| r.err()).filter(AppError::is_general).map(|e| {
            view! {
                <div
                    role="alert"
                    class="rounded-lg border border-rose-200 bg-rose-50 px-3 py-2 text-sm text-rose-800"
                    data-testid="form-alert"
                >
                    {e.to_string()}
                </div>
            }
        })
    }
}

/// A primary submit button that says it is working while its action is pending.
#[component]
pub fn SubmitButton(
    #[prop(into)] label: String,
    #[prop(into)] pending: Signal<bool>,
    #[prop(into, default = "primary".to_owned())] tone: String,
) -> impl IntoView {
    let class = match tone.as_str() {
        "danger" => {
            "inline-flex items-center justify-center gap-2 rounded-lg bg-rose-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-rose-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-rose-600 disabled:opacity-60"
        }
        "secondary" => {
            "inline-flex items-center justify-center gap-2 rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60"
        }
        _ => {
            "inline-flex items-center justify-center gap-2 rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-600 disabled:opacity-60"
        }
    };
    view! {
        <button type="submit" class=class disabled=move || pending.get() aria-busy=move || pending.get().then_some("true")>
            {move || if pending.get() { "Working…".to_owned() } else { label.clone() }}
        </button>
    }
}
