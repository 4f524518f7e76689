//! The Connectors page: every app and device connected to this workspace through OAuth, with
//! the host it sends people back to, its scopes, who approved it, and when it was last used.
//! Admins and owners remove a connector (its tokens stop at once) or move it to another of
//! their workspaces (the app keeps working, there, from its next call).

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::connectors::{ConnectorView, ConnectorsPage as Page, RebindConnector, RemoveConnector, list_connectors},
    components::{FormAlert, PageHeader, Popover, SubmitButton, format_date, used_from_text},
    pages::dashboard::use_slug,
};

#[derive(Clone, Copy)]
struct Actions {
    remove: ServerAction<RemoveConnector>,
    rebind: ServerAction<RebindConnector>,
}

#[component]
pub fn ConnectorsPage() -> impl IntoView {
    let slug = use_slug();
    let actions = Actions { remove: ServerAction::new(), rebind: ServerAction::new() };
    let data = Resource::new(
        move || (slug.get(), actions.remove.version().get(), actions.rebind.version().get()),
        |(slug, ..)| list_connectors(slug),
    );
    view! {
        <Title text="Connectors · Gatehouse" />
        <PageHeader title="Connectors" description="Chat clients and CLIs connected to this workspace through OAuth. Each works with the scopes approved for it." />
        {move || actions.rebind.value().get().and_then(Result::ok).map(|m| view! {
            <p role="status" class="mb-4 rounded-lg border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800" data-testid="connector-note">{m}</p>
        })}
        <FormAlert value=actions.remove.value() />
        <FormAlert value=actions.rebind.value() />
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading connectors…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <Body page=page actions=actions /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-sm text-rose-700">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Body(page: Page, actions: Actions) -> impl IntoView {
    if page.connectors.is_empty() {
        return view! {
            <div class="rounded-xl border border-dashed border-slate-300 bg-white p-8 text-center" data-testid="connectors-empty">
                <p class="font-medium text-slate-900">"No connectors yet"</p>
                <p class="mx-auto mt-1 max-w-md text-sm text-slate-600">
                    "In Claude, ChatGPT or another MCP host, add this server's "
                    <code class="rounded bg-slate-100 px-1 font-mono text-xs">"/mcp"</code>
                    " URL as a connector. The host opens a consent screen here; once approved, it appears in this list."
                </p>
            </div>
        }
            .into_any();
    }
    let can_manage = page.can_manage;
    let targets = page.targets.clone();
    view! {
        <ul class="space-y-3" data-testid="connector-list">
            {page.connectors.into_iter().map(|c| view! { <Row connector=c actions=actions can_manage=can_manage targets=targets.clone() /> }).collect_view()}
        </ul>
    }
        .into_any()
}

#[component]
fn Row(connector: ConnectorView, actions: Actions, can_manage: bool, targets: Vec<(String, String)>) -> impl IntoView {
    let slug = use_slug();
    let c = connector;
    let kind = if c.kind == "device_code" { "CLI / device" } else { "App" };
    let host =
        c.redirect_host.clone().map(|h| format!("returns to {h}")).unwrap_or_else(|| "device sign-in".to_owned());
    let used =
        c.last_used_at.map(|t| format!("last used {}", format_date(t))).unwrap_or_else(|| "never used".to_owned());
    let created = format!(
        "approved {}{}",
        format_date(c.created_at),
        c.approved_by.as_ref().map(|e| format!(" by {e}")).unwrap_or_default()
    );
    let ends = c.expires_at.map(|t| format!("ends {}", format_date(t))).unwrap_or_else(|| "until removed".to_owned());
    let (id, id2) = (c.id.clone(), c.id.clone());
    let prompt =
        format!("Remove \u{201c}{}\u{201d}? Its access stops at once; the app must connect again.", c.client_name);
    view! {
        <li class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid="connector-row" data-connector-id=c.id.clone()>
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="min-w-0">
                    <p class="flex flex-wrap items-center gap-2">
                        <span class="font-medium text-slate-900" data-testid="connector-name">{c.client_name.clone()}</span>
                        <span class="rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-700">{kind}</span>
                        <span class="text-sm text-slate-600" data-testid="connector-host">{host}</span>
                    </p>
                    <p class="mt-1 flex flex-wrap gap-1">
                        {c.scopes.iter().map(|s| view! { <span class="rounded bg-indigo-50 px-1.5 py-0.5 font-mono text-xs text-indigo-800">{s.clone()}</span> }).collect_view()}
                    </p>
                    {c.used_from.as_ref().map(|(latest, count)| view! { <p class="mt-1 text-xs text-slate-600" data-testid="connector-used-from">{used_from_text(latest, *count)}</p> })}
                    <p class="mt-2 text-xs text-slate-500" data-testid="connector-meta">{format!("{created} · {used} · {ends}")}</p>
                </div>
                {can_manage.then(|| view! {
                    <div class="flex flex-wrap gap-2">
                        {(!targets.is_empty()).then(|| view! {
                            <Popover label="Move">
                                    <ActionForm action=actions.rebind attr:class="space-y-3">
                                        <input type="hidden" name="slug" value=move || slug.get() />
                                        <input type="hidden" name="connector_id" value=id.clone() />
                                        <label for=format!("to-{id}") class="block text-sm text-slate-700">"Move to workspace"</label>
                                        <select id=format!("to-{id}") name="to" class="block w-full rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm">
                                            {targets.iter().map(|(s, n)| view! { <option value=s.clone()>{n.clone()}</option> }).collect_view()}
                                        </select>
                                        <p class="text-xs text-slate-500">"The app keeps its connection and acts in the new workspace from its next call."</p>
                                        <SubmitButton label="Move connector" pending=actions.rebind.pending() />
                                    </ActionForm>
                                </Popover>
                        })}
                        <Popover label="Remove" danger=true>
                                <p class="text-sm text-slate-700">{prompt}</p>
                                <ActionForm action=actions.remove attr:class="mt-3">
                                    <input type="hidden" name="slug" value=move || slug.get() />
                                    <input type="hidden" name="connector_id" value=id2.clone() />
                                    <SubmitButton label="Remove connector" pending=actions.remove.pending() tone="danger" />
                                </ActionForm>
                            </Popover>
                    </div>
                })}
            </div>
        </li>
    }
}
