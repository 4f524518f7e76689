//! The API keys page: the list (filterable by status), creating a key with scopes and expiry, the
//! one-time reveal with a copy button, editing, rolling with a grace period, and revoking.
//!
//! Creating and rolling need the wasm: the new key is shown only in the page that asked for it,
//! never stored or put in a URL, so those buttons wait until the page is live.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::keys::{
        CreateKey, CreatedKey, KeyView, KeysPage, ResourceInfo, RevokeKey, RollKey, ScopeInfo, ServerChoice, UpdateKey,
        key_addresses, list_keys,
    },
    components::{
        CreateButton, ExpiryFields, FormAlert, LazyPopover, PageHeader, Popover, Reveal, SubmitButton, TextField,
        closed_after_success, field_error, format_date, format_time, used_from_text,
    },
    pages::dashboard::use_slug,
};

const STATUSES: [(&str, &str); 5] =
    [("", "All"), ("active", "Active"), ("expiring", "Expiring soon"), ("expired", "Expired"), ("revoked", "Revoked")];

#[derive(Clone, Copy)]
struct KeyActions {
    create: ServerAction<CreateKey>,
    revoke: ServerAction<RevokeKey>,
    roll: ServerAction<RollKey>,
    update: ServerAction<UpdateKey>,
    /// True once the wasm runs: creating and rolling need it to show the key.
    live: RwSignal<bool>,
    /// The key to reveal, from the latest create or roll.
    revealed: RwSignal<Option<CreatedKey>>,
}

#[component]
pub fn KeysPage() -> impl IntoView {
    let slug = use_slug();
    let actions = KeyActions {
        create: ServerAction::<CreateKey>::new(),
        revoke: ServerAction::<RevokeKey>::new(),
        roll: ServerAction::<RollKey>::new(),
        update: ServerAction::<UpdateKey>::new(),
        live: RwSignal::new(false),
        revealed: RwSignal::new(None),
    };
    Effect::new(move |_| actions.live.set(true));
    Effect::new(move |_| {
        if let Some(Ok(created)) = actions.create.value().get() {
            actions.revealed.set(Some(created));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(created)) = actions.roll.value().get() {
            actions.revealed.set(Some(created));
        }
    });
    let query = use_query_map();
    let filter = Memo::new(move |_| query.read().get("status").unwrap_or_default());
    let page_number = Memo::new(move |_| query.read().get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(1));
    let data = Resource::new(
        move || {
            (
                slug.get(),
                filter.get(),
                page_number.get(),
                actions.create.version().get(),
                actions.revoke.version().get(),
                actions.roll.version().get(),
                actions.update.version().get(),
            )
        },
        |(slug, status, page, ..)| list_keys(slug, status, page),
    );

    view! {
        <Title text="API keys · Gatehouse" />
        <PageHeader title="API keys" description="Scoped, expiring keys for scripts and custom MCP hosts. A key is shown once, when it is created." />
        <Reveal revealed=actions.revealed what="API key" />
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading keys…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <KeysBody page=page actions=actions filter=filter.get_untracked() /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-sm text-rose-700">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn KeysBody(page: KeysPage, actions: KeyActions, filter: String) -> impl IntoView {
    let slug = use_slug();
    let catalog = page.catalog.clone();
    let resources = page.resources.clone();
    let servers = page.servers.clone();
    let can_manage = page.can_manage;
    let now = page.now;
    let count = |status: &str| page.counts.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
    let total = count("all");
    let list_href = move |status: &str, page: usize| {
        let mut href = format!("/w/{}/keys", slug.get_untracked());
        let mut sep = '?';
        if !status.is_empty() {
            href.push_str(&format!("{sep}status={status}"));
            sep = '&';
        }
        if page > 1 {
            href.push_str(&format!("{sep}page={page}"));
        }
        href
    };
    let (page_no, pages) = (page.page, page.pages);
    view! {
        {can_manage.then(|| view! { <CreateKeyPanel catalog=catalog.clone() resources=resources.clone() servers=page.servers.clone() actions=actions max_days=page.max_lifetime_days /> })}
        <nav aria-label="Filter keys by status" class="mb-4 mt-6 flex flex-wrap gap-2">
            {STATUSES
                .into_iter()
                .map(|(value, label)| {
                    let n = count(if value.is_empty() { "all" } else { value });
                    view! {
                        <a
                            href=list_href(value, 1)
                            aria-current=(filter == value).then_some("page")
                            class="rounded-full border border-slate-200 bg-white px-3 py-1 text-sm text-slate-700 hover:bg-slate-50 aria-[current=page]:border-indigo-600 aria-[current=page]:bg-indigo-600 aria-[current=page]:text-white"
                        >
                            {format!("{label} ({n})")}
                        </a>
                    }
                })
                .collect_view()}
        </nav>
        {if total == 0 {
            view! {
                <div class="rounded-xl border border-dashed border-slate-300 bg-white p-8 text-center" data-testid="keys-empty">
                    <p class="font-medium text-slate-900">"No API keys yet"</p>
                    <p class="mt-1 text-sm text-slate-600">
                        {if can_manage { "Create one above to call the MCP endpoint from a script." } else { "An admin of this workspace can create keys." }}
                    </p>
                </div>
            }
                .into_any()
        } else if page.keys.is_empty() {
            view! { <p class="rounded-xl border border-slate-200 bg-white p-6 text-sm text-slate-600">"No keys with this status."</p> }.into_any()
        } else {
            view! {
                <ul class="space-y-3" data-testid="key-list">
                    {page.keys.into_iter().map(|k| view! { <KeyRow key=k catalog=catalog.clone() resources=resources.clone() servers=servers.clone() actions=actions can_manage=can_manage now=now /> }).collect_view()}
                </ul>
                {(pages > 1).then(|| view! {
                    <nav aria-label="Pages of keys" class="mt-4 flex items-center justify-between text-sm text-slate-700" data-testid="key-pages">
                        {(page_no > 1).then(|| view! { <a href=list_href(&filter, page_no - 1) rel="prev" class="rounded-lg border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50">"Newer"</a> })}
                        <span>{format!("Page {page_no} of {pages}")}</span>
                        {(page_no < pages).then(|| view! { <a href=list_href(&filter, page_no + 1) rel="next" class="rounded-lg border border-slate-300 bg-white px-3 py-1.5 hover:bg-slate-50">"Older"</a> })}
                    </nav>
                })}
            }
                .into_any()
        }}
    }
}

#[component]
fn ScopePicker(
    catalog: Vec<ScopeInfo>,
    #[prop(optional)] selected: Vec<String>,
    #[prop(into)] id_prefix: String,
) -> impl IntoView {
    view! {
        <fieldset>
            <legend class="text-sm font-medium text-slate-800">"Scopes"</legend>
            <div class="mt-2 grid gap-2 sm:grid-cols-2">
                {catalog
                    .into_iter()
                    .map(|s| {
                        let id = format!("{id_prefix}-{}", s.name.replace(':', "-"));
                        let checked = selected.contains(&s.name);
                        let label_for = id.clone();
                        view! {
                            <label for=label_for class="flex cursor-pointer items-start gap-3 rounded-lg border border-slate-200 p-3 hover:bg-slate-50 has-[:checked]:border-indigo-300 has-[:checked]:bg-indigo-50/50">
                                <input id=id type="checkbox" name="scopes[]" value=s.name.clone() checked=checked class="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" />
                                <span>
                                    <span class="block font-mono text-sm text-slate-900">{s.name.clone()}</span>
                                    <span class="block text-xs text-slate-600">{s.description.clone()}</span>
                                </span>
                            </label>
                        }
                    })
                    .collect_view()}
            </div>
        </fieldset>
    }
}

/// Which upstream servers a key reaches: ticked servers (of its environment), all of them now and
/// later, or single tools typed as `slug/tool`. Nothing ticked: none.
#[component]
fn ServerPicker(
    servers: Vec<ServerChoice>,
    #[prop(optional)] selected: Option<String>,
    #[prop(into)] id_prefix: String,
) -> impl IntoView {
    let stored = selected.unwrap_or_default();
    let items: Vec<String> = stored.split(' ').filter(|s| !s.is_empty()).map(str::to_owned).collect();
    let all = items.iter().any(|i| i == "*");
    let tools: Vec<String> = items.iter().filter(|i| i.contains('/')).cloned().collect();
    let (all_id, all_for) = (format!("{id_prefix}-all"), format!("{id_prefix}-all"));
    let (tools_id, tools_for) = (format!("{id_prefix}-tools"), format!("{id_prefix}-tools"));
    view! {
        <fieldset data-testid="server-picker">
            <legend class="text-sm font-medium text-slate-800">"Upstream servers"</legend>
            <p class="text-xs text-slate-500">"What it may reach besides the built-in tools. None ticked: no upstream server. A pk_live_ key reaches live servers, a pk_test_ key test servers."</p>
            <label for=all_for class="mt-2 flex items-center gap-2 text-sm">
                <input id=all_id type="checkbox" name="servers[]" value="*" checked=all class="h-4 w-4 rounded border-slate-300" />
                "All servers, including ones added later"
            </label>
            <div class="mt-1 grid gap-1 sm:grid-cols-2">
                {servers.into_iter().map(|srv| {
                    let id = format!("{id_prefix}-{}", srv.slug);
                    let label_for = id.clone();
                    let checked = items.contains(&srv.slug);
                    view! {
                        <label for=label_for class="flex items-center gap-2 rounded-lg px-2 py-1 text-sm hover:bg-slate-50">
                            <input id=id type="checkbox" name="servers[]" value=srv.slug.clone() checked=checked class="h-4 w-4 rounded border-slate-300" />
                            <span class="truncate">{srv.name.clone()}</span>
                            <span class="font-mono text-xs text-slate-500">{format!("{} · {}", srv.slug, srv.environment)}</span>
                        </label>
                    }
                }).collect_view()}
            </div>
            <label for=tools_for class="mt-2 block text-xs text-slate-600">"Or only some tools (slug/tool, separated by commas)"</label>
            <input id=tools_id type="text" name="servers[]" value=tools.join(", ") placeholder="crm/search_contacts"
                class="mt-1 block w-full rounded-lg border border-slate-300 px-3 py-1.5 font-mono text-sm" />
        </fieldset>
    }
}

/// Optional limit of a key to chosen agents and apps (of the key's environment).
#[component]
fn ResourcePicker(
    resources: Vec<ResourceInfo>,
    #[prop(optional)] selected: Option<Vec<String>>,
    #[prop(into)] id_prefix: String,
) -> impl IntoView {
    let selected = selected.unwrap_or_default();
    view! {
        <fieldset>
            <legend class="text-sm font-medium text-slate-800">"Limit to agents and apps (optional)"</legend>
            <p class="text-xs text-slate-500">"Tick none for every agent and app of the key's environment. A limited key cannot create agents."</p>
            {if resources.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-500">"No agents or apps yet: they are created through the MCP endpoint."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-2 grid max-h-48 gap-1 overflow-y-auto sm:grid-cols-2">
                        {resources
                            .into_iter()
                            .map(|r| {
                                let id = format!("{id_prefix}-{}", r.id);
                                let label_for = id.clone();
                                let checked = selected.contains(&r.id);
                                view! {
                                    <label for=label_for class="flex items-center gap-2 rounded-lg px-2 py-1 text-sm hover:bg-slate-50">
                                        <input id=id type="checkbox" name="resources[]" value=r.id.clone() checked=checked class="h-4 w-4 rounded border-slate-300" />
                                        <span class="truncate">{r.name.clone()}</span>
                                        <span class="text-xs text-slate-500">{format!("{} · {}", r.kind, r.environment)}</span>
                                    </label>
                                }
                            })
                            .collect_view()}
                    </div>
                }
                    .into_any()
            }}
        </fieldset>
    }
}

#[component]
fn CreateKeyPanel(
    catalog: Vec<ScopeInfo>,
    resources: Vec<ResourceInfo>,
    servers: Vec<ServerChoice>,
    actions: KeyActions,
    max_days: Option<i64>,
) -> impl IntoView {
    let slug = use_slug();
    let value = actions.create.value();
    let scope_error = field_error(value, "scopes");
    let expiry_error = field_error(value, "expiry");
    let resource_error = field_error(value, "resources");
    let server_error = field_error(value, "servers");
    // After a key is created, close and clear the form: the key is in the reveal panel above.
    let (form, panel) = closed_after_success(value);
    view! {
        <details node_ref=panel class="rounded-xl border border-slate-200 bg-white shadow-sm" data-testid="create-key">
            <summary class="flex cursor-pointer list-none items-center justify-between px-5 py-4">
                <span class="text-base font-semibold text-slate-900">"Create a key"</span>
                <span class="rounded-lg bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white">"New key"</span>
            </summary>
            <ActionForm action=actions.create node_ref=form attr:class="space-y-5 border-t border-slate-100 p-5" attr:novalidate="">
                <FormAlert value=value />
                <input type="hidden" name="slug" value=move || slug.get() />
                <TextField name="name" label="Name" required=true maxlength=200usize placeholder="Nightly export" hint="What the key is for, so you recognise it later." error=field_error(value, "name") />
                <fieldset>
                    <legend class="text-sm font-medium text-slate-800">"Environment"</legend>
                    <div class="mt-2 flex gap-4">
                        <label class="flex items-center gap-2 text-sm"><input type="radio" name="environment" value="live" checked=true />"Live "<span class="font-mono text-xs text-slate-500">"pk_live_"</span></label>
                        <label class="flex items-center gap-2 text-sm"><input type="radio" name="environment" value="test" />"Test "<span class="font-mono text-xs text-slate-500">"pk_test_ · test data only"</span></label>
                    </div>
                </fieldset>
                <div>
                    <ScopePicker catalog=catalog id_prefix="new-scope" />
                    {move || scope_error.get().map(|e| view! { <p class="mt-1 text-sm text-rose-600" data-testid="field-error">{e}</p> })}
                </div>
                <div>
                    <ResourcePicker resources=resources id_prefix="new-resource" />
                    {move || resource_error.get().map(|e| view! { <p class="mt-1 text-sm text-rose-600" data-testid="field-error">{e}</p> })}
                </div>
                {(!servers.is_empty()).then(|| view! {
                    <div>
                        <ServerPicker servers=servers.clone() id_prefix="new-server" />
                        {move || server_error.get().map(|e| view! { <p class="mt-1 text-sm text-rose-600" data-testid="field-error">{e}</p> })}
                    </div>
                })}
                <TextField name="allowed_ips" id="new-key-allowed-ips" label="Allowed networks (optional)" maxlength=4000usize
                    placeholder="203.0.113.0/24, 2001:db8::/32"
                    hint="Addresses or CIDR ranges, separated by commas. Empty: the key works from anywhere; otherwise a call from elsewhere is refused."
                    error=field_error(value, "allowed_ips") />
                <ExpiryFields id_prefix="new-key" max_days=max_days error=expiry_error />
                <CreateButton label="Create key" live=actions.live pending=actions.create.pending() />
            </ActionForm>
        </details>
    }
}

fn status_badge(status: &str) -> (&'static str, &'static str) {
    match status {
        "active" => ("Active", "bg-emerald-50 text-emerald-700 ring-emerald-600/20"),
        "expiring" => ("Expiring soon", "bg-amber-50 text-amber-800 ring-amber-600/20"),
        "expired" => ("Expired", "bg-slate-100 text-slate-600 ring-slate-500/20"),
        _ => ("Revoked", "bg-rose-50 text-rose-700 ring-rose-600/20"),
    }
}

#[component]
fn KeyRow(
    key: KeyView,
    catalog: Vec<ScopeInfo>,
    resources: Vec<ResourceInfo>,
    servers: Vec<ServerChoice>,
    actions: KeyActions,
    can_manage: bool,
    now: i64,
) -> impl IntoView {
    let slug = use_slug();
    let (label, badge) = status_badge(&key.status);
    let works = key.status == "active" || key.status == "expiring";
    let expires = match (key.revoked_at.filter(|at| *at > now), key.expires_at) {
        (Some(at), _) => format!("stops {} (rolled)", format_date(at)),
        (None, Some(at)) => format!("expires {}", format_date(at)),
        (None, None) => "never expires".to_owned(),
    };
    let last_used =
        key.last_used_at.map(|t| format!("last used {}", format_date(t))).unwrap_or_else(|| "never used".to_owned());
    let created = format!(
        "created {}{}",
        format_date(key.created_at),
        key.created_by.as_ref().map(|e| format!(" by {e}")).unwrap_or_default()
    );
    let select = "rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm";
    let (id, id2, id3) = (key.id.clone(), key.id.clone(), key.id.clone());
    let row_id = key.id.clone();
    let (edit_name, edit_scopes, edit_limit) =
        (key.name.clone(), key.scopes.clone(), key.rate_limit_per_minute.map(|n| n.to_string()).unwrap_or_default());
    let revoke_prompt = format!(
        "Revoke \u{201c}{}\u{201d}? Requests with it fail from the next one on. This cannot be undone.",
        key.name
    );
    let rolled = key.rolled_to.is_some();
    let edit_resources = key.resources.clone();
    let key_env = key.environment.clone();
    let own_servers: Vec<ServerChoice> = servers.into_iter().filter(|s| s.environment == key_env).collect();
    let edit_servers = key.servers.clone();
    let reaches = key.servers.as_ref().map(|s| match s.as_str() {
        "*" => "Reaches all upstream servers".to_owned(),
        list => format!("Reaches: {}", list.replace(' ', ", ")),
    });
    let own_resources: Vec<ResourceInfo> = resources.into_iter().filter(|r| r.environment == key_env).collect();
    let used_from = key.used_from.as_ref().map(|(latest, count)| used_from_text(latest, *count));
    let leaked = key.leaked.as_ref().map(|(at, url)| match url {
        Some(url) => format!("Reported as found in public on {} ({url}), and revoked", format_date(*at)),
        None => format!("Reported as found in public on {}, and revoked", format_date(*at)),
    });
    let seen = key.used_from.is_some();
    let edit_networks = key.allowed_ips.join(", ");
    let id4 = key.id.clone();
    let limited_to = key.resources.as_ref().map(|ids| {
        let names: Vec<String> = ids
            .iter()
            .map(|id| own_resources.iter().find(|r| &r.id == id).map(|r| r.name.clone()).unwrap_or_else(|| id.clone()))
            .collect();
        format!("Limited to: {}", names.join(", "))
    });
    view! {
        <li class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid="key-row" data-key-id=row_id>
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="min-w-0">
                    <p class="flex flex-wrap items-center gap-2">
                        <span class="font-medium text-slate-900">{key.name.clone()}</span>
                        <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {badge}") data-testid="key-status">{label}</span>
                        <span class="rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-700">{key.environment.clone()}</span>
                    </p>
                    <p class="mt-1 font-mono text-sm text-slate-700" data-testid="key-hint">{key.hint.clone()}</p>
                    <p class="mt-1 flex flex-wrap gap-1">
                        {key.scopes.iter().map(|s| view! { <span class="rounded bg-indigo-50 px-1.5 py-0.5 font-mono text-xs text-indigo-800">{s.clone()}</span> }).collect_view()}
                    </p>
                    {limited_to.map(|l| view! { <p class="mt-1 text-xs font-medium text-slate-700" data-testid="key-limited">{l}</p> })}
                    {reaches.map(|r| view! { <p class="mt-1 text-xs font-medium text-slate-700" data-testid="key-servers">{r}</p> })}
                    {(!key.allowed_ips.is_empty()).then(|| view! {
                        <p class="mt-1 text-xs font-medium text-slate-700" data-testid="key-allowed-ips">{format!("Only from: {}", key.allowed_ips.join(", "))}</p>
                    })}
                    {used_from.map(|u| view! { <p class="mt-1 text-xs text-slate-600" data-testid="key-used-from">{u}</p> })}
                    {leaked.map(|l| view! { <p class="mt-1 text-xs font-medium text-rose-700" data-testid="key-leaked">{l}</p> })}
                    <p class="mt-2 text-xs text-slate-500">{format!("{created} · {last_used} · {expires}")}</p>
                </div>
                {can_manage.then(|| view! {
                    <div class="flex flex-wrap gap-2">
                        {seen.then(|| view! {
                            <LazyPopover label="Addresses" wide=true clone:id4>
                                <KeyAddresses id=id4.clone() />
                            </LazyPopover>
                        })}
                        {works.then(|| view! {
                        <LazyPopover label="Edit" wide=true clone:id clone:catalog clone:own_resources clone:own_servers clone:edit_servers clone:edit_name clone:edit_scopes clone:edit_resources clone:edit_limit clone:edit_networks>
                            <EditKeyForm id=id.clone() catalog=catalog.clone() resources=own_resources.clone() servers=own_servers.clone() server_access=edit_servers.clone() name=edit_name.clone()
                                scopes=edit_scopes.clone() selected=edit_resources.clone().unwrap_or_default() limit=edit_limit.clone() networks=edit_networks.clone() actions=actions />
                        </LazyPopover>
                        {(!rolled).then(|| view! {
                            <Popover label="Roll">
                                    <ActionForm action=actions.roll attr:class="space-y-3">
                                        <p class="text-sm text-slate-700">"Make a new key with the same settings. The old key keeps working for:"</p>
                                        <input type="hidden" name="slug" value=move || slug.get() />
                                        <input type="hidden" name="key_id" value=id2.clone() />
                                        <label class="sr-only" for=format!("grace-{}", id2)>"Grace period"</label>
                                        <select id=format!("grace-{}", id2) name="grace" class=select>
                                            <option value="none">"No grace: stop now"</option>
                                            <option value="1h">"1 hour"</option>
                                            <option value="24h" selected=true>"24 hours"</option>
                                            <option value="7d">"7 days"</option>
                                        </select>
                                        <button type="submit" disabled=move || !actions.live.get()
                                            class="w-full rounded-lg bg-indigo-600 px-3 py-2 text-sm font-semibold text-white hover:bg-indigo-500 disabled:opacity-60">"Roll key"</button>
                                    </ActionForm>
                                </Popover>
                        })}
                        <Popover label="Revoke" danger=true>
                                <p class="text-sm text-slate-700">{revoke_prompt.clone()}</p>
                                <ActionForm action=actions.revoke attr:class="mt-3">
                                    <input type="hidden" name="slug" value=move || slug.get() />
                                    <input type="hidden" name="key_id" value=id3.clone() />
                                    <SubmitButton label="Revoke key" pending=actions.revoke.pending() tone="danger" />
                                </ActionForm>
                            </Popover>
                        })}
                    </div>
                })}
            </div>
        </li>
    }
}

/// Where a key was used from: each address with its network, first and last use and calls.
#[component]
fn KeyAddresses(id: String) -> impl IntoView {
    let slug = use_slug();
    let seen = Resource::new(move || (slug.get(), id.clone()), |(slug, id)| key_addresses(slug, id));
    view! {
        <h3 class="text-sm font-semibold text-slate-900">"Used from"</h3>
        <p class="text-xs text-slate-500">"Addresses of its calls, most recent first (written about once a minute)."</p>
        <Suspense fallback=|| view! { <p class="mt-2 text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match seen.await {
                    Ok(list) if list.is_empty() => view! { <p class="mt-2 text-sm text-slate-500">"No calls noted yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="mt-2 max-h-64 space-y-2 overflow-y-auto" data-testid="key-addresses">
                            {list.into_iter().map(|a| view! {
                                <li class="text-xs text-slate-700" data-testid="key-address">
                                    <span class="font-mono text-sm text-slate-900">{a.address}</span>
                                    <span class="ml-2 text-slate-500">{format!("network {}", a.network)}</span>
                                    <span class="block text-slate-500">{format!(
                                        "{} call{} · first {} · last {}", a.calls, if a.calls == 1 { "" } else { "s" },
                                        format_time(a.first_seen), format_time(a.last_seen)
                                    )}</span>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(e) => view! { <p role="alert" class="mt-2 text-sm text-rose-700">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A key's Edit form: name, scopes, the agents and apps it is limited to, its rate limit, its
/// allowed networks.
#[component]
fn EditKeyForm(
    id: String,
    catalog: Vec<ScopeInfo>,
    resources: Vec<ResourceInfo>,
    servers: Vec<ServerChoice>,
    server_access: Option<String>,
    name: String,
    scopes: Vec<String>,
    selected: Vec<String>,
    limit: String,
    /// Its allowed networks, comma-separated; empty: anywhere.
    networks: String,
    actions: KeyActions,
) -> impl IntoView {
    let slug = use_slug();
    view! {
        <ActionForm action=actions.update attr:class="space-y-3">
            <FormAlert value=actions.update.value() />
            <input type="hidden" name="slug" value=move || slug.get() />
            <input type="hidden" name="key_id" value=id.clone() />
            <TextField name="name" id=format!("edit-name-{id}") label="Name" value=name maxlength=200usize error=field_error(actions.update.value(), "name") />
            <ScopePicker catalog=catalog selected=scopes id_prefix=format!("edit-{id}") />
            <ResourcePicker resources=resources selected=selected id_prefix=format!("edit-res-{id}") />
            {(!servers.is_empty()).then(|| view! {
                <input type="hidden" name="servers_shown" value="1" />
                <ServerPicker servers=servers.clone() selected=server_access.clone().unwrap_or_default() id_prefix=format!("edit-srv-{id}") />
            })}
            <TextField name="rate_limit" id=format!("edit-limit-{id}") label="Requests per minute (empty: workspace default)" kind="number"
                value=limit error=field_error(actions.update.value(), "rate_limit") />
            <input type="hidden" name="allowed_ips_shown" value="1" />
            <TextField name="allowed_ips" id=format!("edit-ips-{id}") label="Allowed networks (empty: anywhere)" maxlength=4000usize
                value=networks placeholder="203.0.113.0/24, 2001:db8::/32" error=field_error(actions.update.value(), "allowed_ips") />
            <SubmitButton label="Save changes" pending=actions.update.pending() />
        </ActionForm>
    }
}
