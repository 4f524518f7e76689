//! The browser entry point: hydrates the server-rendered dashboard.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // The pages are lazy routes whose code is fetched on demand, so hydration waits for the
    // shown page's module (which the server asked the browser to preload) before it finishes.
    wasm_bindgen_futures::spawn_local(async {
        let root = leptos::mount::hydrate_from_async(leptos::tachys::dom::body(), gatehouse_app::App).await;
        root.forget();
        // Lets browser tests (and curious people) see that the page is live.
        if let Some(html) = leptos::prelude::document().document_element() {
            let _ = html.set_attribute("data-hydrated", "true");
        }
    });
}
