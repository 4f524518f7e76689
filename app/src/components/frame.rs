//! The dashboard frame: the header (workspace switcher, account menu), the navigation, and
//! page headings. Menus are `<details>` elements, so they open by keyboard and without the wasm.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::api::{auth::SignOut, types::DashboardContext};

/// A new name for the current workspace, set by the settings page after a rename, so the header
/// shows it without reloading the frame.
#[derive(Clone, Copy)]
pub struct Renamed(pub RwSignal<Option<String>>);

/// The top bar of every dashboard page.
#[component]
pub fn AppHeader(ctx: DashboardContext) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    let current_slug = ctx.current.slug.clone();
    let current_name = ctx.current.name.clone();
    let renamed = expect_context::<Renamed>().0;
    let initial = ctx.user.email.chars().next().unwrap_or('?').to_ascii_uppercase();
    view! {
        <header class="sticky top-0 z-30 border-b border-slate-200 bg-white/90 backdrop-blur">
            <div class="mx-auto flex h-14 max-w-7xl items-center gap-3 px-4 sm:px-6">
                <a href="/" class="flex items-center gap-2 rounded-md font-semibold text-slate-900 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600">
                    <span aria-hidden="true" class="grid h-7 w-7 place-items-center rounded-lg bg-indigo-600 text-sm font-bold text-white">"G"</span>
                    <span class="hidden sm:inline">"Gatehouse"</span>
                </a>
                <span aria-hidden="true" class="hidden text-slate-300 sm:inline">"/"</span>
                <details class="group relative min-w-0" data-testid="workspace-switcher">
                    <summary class="flex cursor-pointer list-none items-center gap-2 rounded-lg px-2 py-1.5 text-sm font-medium text-slate-800 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600">
                        <span class="sr-only">"Current workspace: "</span>
                        <span class="max-w-[9rem] truncate sm:max-w-xs" data-testid="current-workspace">{move || renamed.get().unwrap_or_else(|| current_name.clone())}</span>
                        <span class="hidden rounded-full bg-slate-100 px-2 py-0.5 text-xs font-normal text-slate-600 sm:inline-block">{ctx.current.role.label()}</span>
                        <svg aria-hidden="true" class="h-4 w-4 text-slate-500" viewBox="0 0 20 20" fill="currentColor"><path d="M5.3 7.3a1 1 0 0 1 1.4 0L10 10.6l3.3-3.3a1 1 0 1 1 1.4 1.4l-4 4a1 1 0 0 1-1.4 0l-4-4a1 1 0 0 1 0-1.4z"/></svg>
                    </summary>
                    <div class="absolute left-0 mt-2 w-72 rounded-xl border border-slate-200 bg-white p-1 shadow-lg">
                        <p class="px-3 pb-1 pt-2 text-xs font-semibold uppercase tracking-wide text-slate-500">"Switch workspace"</p>
                        <ul>
                            {ctx
                                .workspaces
                                .iter()
                                .map(|w| {
                                    let current = w.slug == current_slug;
                                    view! {
                                        <li>
                                            <a
                                                href=format!("/w/{}", w.slug)
                                                aria-current=current.then_some("page")
                                                class="flex items-center justify-between rounded-lg px-3 py-2 text-sm text-slate-700 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700"
                                            >
                                                <span class="truncate">{w.name.clone()}</span>
                                                <span class="text-xs text-slate-500">{w.role.label()}</span>
                                            </a>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                        <div class="mt-1 border-t border-slate-100 pt-1">
                            <a href="/workspaces/new" class="block rounded-lg px-3 py-2 text-sm font-medium text-indigo-700 hover:bg-indigo-50 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600">
                                "+ Create workspace"
                            </a>
                        </div>
                    </div>
                </details>
                <div class="ml-auto">
                    <details class="relative" data-testid="account-menu">
                        <summary class="flex cursor-pointer list-none items-center gap-2 rounded-full p-1 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600">
                            <span class="sr-only">"Account menu"</span>
                            <span aria-hidden="true" class="grid h-8 w-8 place-items-center rounded-full bg-slate-800 text-sm font-semibold text-white">{initial.to_string()}</span>
                        </summary>
                        <div class="absolute right-0 mt-2 w-64 rounded-xl border border-slate-200 bg-white p-1 shadow-lg">
                            <p class="truncate px-3 py-2 text-sm text-slate-600">
                                "Signed in as " <span class="font-medium text-slate-900" data-testid="signed-in-email">{ctx.user.email.clone()}</span>
                            </p>
                            <ActionForm action=sign_out attr:class="border-t border-slate-100 pt-1">
                                <button type="submit" class="w-full rounded-lg px-3 py-2 text-left text-sm text-slate-700 hover:bg-slate-100 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600">
                                    "Sign out"
                                </button>
                            </ActionForm>
                        </div>
                    </details>
                </div>
            </div>
        </header>
    }
}

/// The sections of a workspace, as a sidebar on wide screens and a scrolling tab bar on phones.
#[component]
pub fn SideNav(slug: String) -> impl IntoView {
    let items = [
        ("", "Overview"),
        ("/keys", "API keys"),
        ("/connectors", "Connectors"),
        ("/servers", "Servers"),
        ("/usage", "Usage"),
        ("/audit", "Audit log"),
        ("/webhooks", "Webhooks"),
        ("/settings", "Settings"),
    ];
    let links = move |mobile: bool| {
        items
            .into_iter()
            .map(|(suffix, label)| {
                let href = format!("/w/{slug}{suffix}");
                let class = if mobile {
                    "whitespace-nowrap rounded-lg px-3 py-1.5 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700"
                } else {
                    "block rounded-lg px-3 py-2 text-sm font-medium text-slate-600 hover:bg-slate-100 hover:text-slate-900 focus-visible:outline focus-visible:outline-2 focus-visible:outline-indigo-600 aria-[current=page]:bg-indigo-50 aria-[current=page]:text-indigo-700"
                };
                view! {
                    <li>
                        <A href=href exact=true attr:class=class>
                            {label}
                        </A>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <nav aria-label="Workspace" class="md:hidden border-b border-slate-200 bg-white">
            <ul class="flex gap-1 overflow-x-auto px-4 py-2">{links(true)}</ul>
        </nav>
        <nav aria-label="Workspace sections" class="hidden md:block w-52 shrink-0 py-6 pr-6">
            <ul class="space-y-1">{links(false)}</ul>
        </nav>
    }
}

/// A page's title and one-line description.
#[component]
pub fn PageHeader(
    #[prop(into)] title: String,
    #[prop(into)] description: String,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="mb-6 flex flex-wrap items-end justify-between gap-4">
            <div>
                <h1 class="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
                <p class="mt-1 text-sm text-slate-600">{description}</p>
            </div>
            {children.map(|c| c())}
        </div>
    }
}
