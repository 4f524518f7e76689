//! The frame around every workspace page: loads who is signed in and the workspace in the URL,
//! sends a signed-out visitor to sign in, and answers 404 for a workspace they are not in.

use leptos::prelude::*;
use leptos_router::{
    components::Outlet,
    hooks::{use_location, use_params_map},
};

use crate::{
    api::{types::DashboardContext, workspaces::load_dashboard},
    components::{AppHeader, GoTo, Renamed, SideNav},
    error::AppError,
    pages::not_found::NotFound,
};

/// The dashboard data of the current workspace, shared with the pages inside the frame.
#[derive(Clone, Copy)]
pub struct Dashboard(pub Resource<Result<DashboardContext, AppError>>);

/// The slug of the workspace in the URL.
pub fn use_slug() -> Memo<String> {
    let params = use_params_map();
    Memo::new(move |_| params.read().get("slug").unwrap_or_default())
}

#[component]
pub fn DashboardLayout() -> impl IntoView {
    let slug = use_slug();
    let data = Resource::new(move || slug.get(), load_dashboard);
    provide_context(Dashboard(data));
    let renamed = RwSignal::new(None::<String>);
    provide_context(Renamed(renamed));
    // A different workspace has its own name.
    Effect::new(move |_| {
        slug.track();
        renamed.set(None);
    });
    let location = use_location();
    // Only the header and the navigation wait for the frame's data. The page itself (the
    // `Outlet`) stays outside that `Suspense`, so switching workspace refetches the frame
    // without tearing down the page and its own resources.
    view! {
        <div class="min-h-screen bg-slate-50">
            <Suspense fallback=|| view! { <div class="h-14 border-b border-slate-200 bg-white"></div> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(ctx) => view! { <AppHeader ctx=ctx /> }.into_any(),
                        Err(AppError::SignedOut) => {
                            let next = location.pathname.get_untracked();
                            view! { <GoTo path=format!("/signin?next={}", urlencode(&next)) /> }.into_any()
                        }
                        Err(AppError::NotFound) => view! { <NotFound /> }.into_any(),
                        Err(e) => {
                            view! {
                                <div role="alert" class="m-8 rounded-lg border border-rose-200 bg-rose-50 p-4 text-sm text-rose-800">
                                    {e.to_string()}
                                </div>
                            }
                                .into_any()
                        }
                    }
                })}
            </Suspense>
            <div class="mx-auto max-w-7xl md:flex md:px-6">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move { data.await.ok().map(|ctx| view! { <SideNav slug=ctx.current.slug /> }) })}
                </Suspense>
                <main id="main" class="min-w-0 flex-1 px-4 py-6 sm:px-6 md:px-0">
                    <Outlet />
                </main>
            </div>
        </div>
    }
}

/// Percent-encodes a path for use as a query value.
pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
