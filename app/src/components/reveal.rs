//! The one-time reveal of a new key (API or management), with a copy button and a plain warning.
//! The key lives only in this page's memory: never stored, never put in a URL.

use leptos::prelude::*;

use crate::api::keys::CreatedKey;

/// The one-time reveal of a new key, with a copy button and a plain warning.
#[component]
pub fn Reveal(
    revealed: RwSignal<Option<CreatedKey>>,
    /// What the key is: "API key", "management key".
    what: &'static str,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    move || {
        revealed.get().map(|created| {
            let secret = created.secret.clone();
            let copy = move |_| {
                #[cfg(feature = "hydrate")]
                {
                    let clipboard = window().navigator().clipboard();
                    let _ = clipboard.write_text(&secret);
                }
                #[cfg(not(feature = "hydrate"))]
                let _ = &secret;
                copied.set(true);
            };
            view! {
                <section role="status" aria-live="polite" class="mb-6 rounded-xl border border-amber-300 bg-amber-50 p-5" data-testid="key-reveal">
                    <h2 class="text-base font-semibold text-amber-900">{format!("Your new key \u{201c}{}\u{201d}", created.name)}</h2>
                    <p class="mt-1 text-sm text-amber-900">
                        <strong>"Copy it now. "</strong>
                        "This is the only time it is shown: Gatehouse stores only a fingerprint of it and cannot show it again."
                    </p>
                    <div class="mt-3 flex flex-col gap-2 sm:flex-row">
                        <label for="new-key" class="sr-only">{format!("New {what}")}</label>
                        <input id="new-key" readonly value=created.secret.clone() data-testid="new-key"
                            class="min-w-0 flex-1 rounded-lg border border-amber-300 bg-white px-3 py-2 font-mono text-sm text-slate-900" />
                        <button type="button" on:click=copy data-testid="copy-key"
                            class="rounded-lg bg-amber-600 px-4 py-2 text-sm font-semibold text-white hover:bg-amber-500 focus-visible:outline focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-amber-600">
                            {move || if copied.get() { "Copied" } else { "Copy" }}
                        </button>
                        <button type="button" on:click=move |_| { copied.set(false); revealed.set(None); }
                            class="rounded-lg border border-amber-300 px-4 py-2 text-sm text-amber-900 hover:bg-amber-100">
                            "I have stored it"
                        </button>
                    </div>
                </section>
            }
        })
    }
}
