//! The Servers page: the workspace's own MCP servers behind Gatehouse — each with its health, tools
//! and calls in the last 24 hours, its last error; "Test connection" shows what the server says it
//! is and its tools with their annotations, each of which an admin can switch off; a server can be
//! switched off or removed. Adding one takes its URL and the credential headers it expects, which
//! are sealed and never shown again.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::servers::{
        AddServer, RemoveServer, ServerView, ServersPage as Page, SetServerEnabled, SetServerTool, TestServer,
        list_servers,
    },
    components::{FormAlert, PageHeader, Popover, SubmitButton, TextField, field_error, format_time},
    pages::dashboard::use_slug,
};

#[derive(Clone, Copy)]
struct Actions {
    add: ServerAction<AddServer>,
    test: ServerAction<TestServer>,
    tool: ServerAction<SetServerTool>,
    enable: ServerAction<SetServerEnabled>,
    remove: ServerAction<RemoveServer>,
}

#[component]
pub fn ServersPage() -> impl IntoView {
    let slug = use_slug();
    let actions = Actions {
        add: ServerAction::new(),
        test: ServerAction::new(),
        tool: ServerAction::new(),
        enable: ServerAction::new(),
        remove: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                slug.get(),
                actions.add.version().get(),
                actions.test.version().get(),
                actions.tool.version().get(),
                actions.enable.version().get(),
                actions.remove.version().get(),
            )
        },
        |(slug, ..)| list_servers(slug),
    );
    view! {
        <Title text="Servers · Gatehouse" />
        <PageHeader title="Servers" description="Your own MCP servers behind Gatehouse: one set of keys, connectors, scopes and usage for all of them." />
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading servers…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <Body page=page actions=actions /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="rounded-lg border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Body(page: Page, actions: Actions) -> impl IntoView {
    let slug = use_slug();
    let select = "block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm";
    let empty = page.servers.is_empty();
    let base = page.public_url.clone();
    view! {
        {page.can_manage.then(|| view! {
            <details class="mb-6 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" open=empty data-testid="server-add">
                <summary class="cursor-pointer text-sm font-semibold text-slate-900">"Add a server"</summary>
                <ActionForm action=actions.add attr:class="mt-4 grid gap-4 sm:grid-cols-2">
                    <div class="sm:col-span-2"><FormAlert value=actions.add.value() /></div>
                    <input type="hidden" name="slug" value=move || slug.get() />
                    <TextField name="name" label="Name" placeholder="CRM" required=true maxlength=100usize error=field_error(actions.add.value(), "name") />
                    <TextField name="server_slug" label="Slug (optional)" placeholder="crm" maxlength=40usize
                        hint="Lowercase letters, digits and dashes: /mcp/crm, and tools named crm__…; made from the name if empty."
                        error=field_error(actions.add.value(), "slug") />
                    <div class="sm:col-span-2">
                        <TextField name="url" label="MCP URL" kind="url" placeholder="https://crm.internal.example/mcp" required=true maxlength=2000usize error=field_error(actions.add.value(), "url") />
                    </div>
                    <div class="space-y-1.5">
                        <label for="server-env" class="block text-sm font-medium text-slate-800">"Environment"</label>
                        <select id="server-env" name="environment" class=select>
                            <option value="live">"Live — for pk_live_ keys and connectors"</option>
                            <option value="test">"Test — for pk_test_ keys"</option>
                        </select>
                    </div>
                    <TextField name="timeout" label="Timeout" placeholder="60s" maxlength=10usize hint="1s to 300s." error=field_error(actions.add.value(), "timeout") />
                    <div class="space-y-1.5 sm:col-span-2">
                        <label for="server-headers" class="block text-sm font-medium text-slate-800">"Credential headers (optional)"</label>
                        <textarea id="server-headers" name="headers" rows="2" autocomplete="off" spellcheck="false" placeholder="Authorization: Bearer …"
                            class="block w-full rounded-lg border border-slate-300 px-3 py-2 font-mono text-sm"></textarea>
                        <p class="text-xs text-slate-500">"One Name: value per line. Gatehouse sends these to the server instead of the caller's token; they are sealed and never shown again."</p>
                        {move || field_error(actions.add.value(), "headers").get().map(|e| view! { <p class="text-sm text-rose-600" data-testid="field-error">{e}</p> })}
                    </div>
                    <label class="flex items-start gap-2 text-sm sm:col-span-2">
                        <input type="checkbox" name="send_identity" value="on" class="mt-0.5" />
                        <span>"Also send who is calling, as a signed JWT in a Gatehouse-Identity header (verify it with /.well-known/jwks.json)."</span>
                    </label>
                    <div class="sm:col-span-2"><SubmitButton label="Add server" pending=actions.add.pending() /></div>
                </ActionForm>
            </details>
        })}
        <TestResult actions=actions />
        {if empty {
            view! {
                <div class="rounded-xl border border-dashed border-slate-300 bg-white p-8 text-center" data-testid="servers-empty">
                    <p class="font-medium text-slate-900">"No servers yet"</p>
                    <p class="mx-auto mt-1 max-w-md text-sm text-slate-600">"Add an MCP server your team runs; keys and connectors that may reach it then call it through Gatehouse, and never see its credential."</p>
                </div>
            }.into_any()
        } else {
            view! {
                <ul class="space-y-4" data-testid="server-list">
                    {page.servers.into_iter().map(|s| view! { <ServerCard server=s actions=actions can_manage=page.can_manage base=base.clone() /> }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

#[component]
fn TestResult(actions: Actions) -> impl IntoView {
    let slug = use_slug();
    move || {
        actions.test.value().get().map(|result| match result {
            Ok(found) => {
                let server = found.server_slug.clone();
                view! {
                    <section class="mb-6 rounded-xl border border-emerald-200 bg-emerald-50/50 p-4" data-testid="server-test">
                        <p class="text-sm text-emerald-900" data-testid="server-test-identity">
                            {format!("Connected: {} {} (protocol {})", found.server_name, found.server_version, found.protocol_version)}
                        </p>
                        <ul class="mt-3 divide-y divide-emerald-100 rounded-lg bg-white text-sm">
                            {found.tools.into_iter().map(|t| {
                                let (server, tool, on) = (server.clone(), t.name.clone(), t.enabled);
                                view! {
                                    <li class="flex flex-wrap items-start justify-between gap-2 px-3 py-2" data-testid="server-tool">
                                        <span class="min-w-0">
                                            <span class="font-mono text-xs text-slate-900" data-testid="server-tool-name">{t.name.clone()}</span>
                                            {t.title.clone().map(|title| view! { <span class="ml-2 text-slate-700">{title}</span> })}
                                            {t.description.clone().map(|d| view! { <span class="block text-xs text-slate-500">{d}</span> })}
                                            <span class="mt-1 flex flex-wrap gap-1">
                                                {t.annotations.iter().map(|a| view! { <span class="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700" data-testid="server-tool-annotation">{a.clone()}</span> }).collect_view()}
                                            </span>
                                        </span>
                                        <ActionForm action=actions.tool>
                                            <input type="hidden" name="slug" value=move || slug.get() />
                                            <input type="hidden" name="server_slug" value=server.clone() />
                                            <input type="hidden" name="tool" value=tool.clone() />
                                            <input type="hidden" name="enabled" value=if on { "false" } else { "true" } />
                                            <button type="submit" class="text-xs font-medium text-indigo-700 hover:underline">{if on { "Switch off" } else { "Switch on" }}</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    </section>
                }.into_any()
            }
            Err(e) => view! { <p role="alert" class="mb-6 rounded-lg border border-rose-200 bg-rose-50 p-3 text-sm text-rose-800" data-testid="server-test-error">{e.to_string()}</p> }.into_any(),
        })
    }
}

#[component]
fn ServerCard(server: ServerView, actions: Actions, can_manage: bool, base: String) -> impl IntoView {
    let slug = use_slug();
    let s = server;
    let (badge, label) = match (s.enabled, s.health.as_str()) {
        (false, _) => ("bg-slate-100 text-slate-700", "off"),
        (_, "up") => ("bg-emerald-50 text-emerald-700", "up"),
        (_, "down") => ("bg-rose-50 text-rose-700", "down"),
        _ => ("bg-amber-50 text-amber-800", "not checked yet"),
    };
    let small = "rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-50";
    let (slug1, slug2, slug3) = (s.slug.clone(), s.slug.clone(), s.slug.clone());
    let enabled = s.enabled;
    view! {
        <li class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid="server-row" data-slug=s.slug.clone()>
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="min-w-0">
                    <p class="flex items-center gap-2">
                        <span class="font-semibold text-slate-900" data-testid="server-name">{s.name.clone()}</span>
                        <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {badge}") data-testid="server-health">{label}</span>
                        <span class="rounded bg-indigo-50 px-1.5 py-0.5 text-xs text-indigo-800">{s.environment.clone()}</span>
                    </p>
                    <p class="break-all font-mono text-xs text-slate-600">{s.url.clone()}</p>
                    <p class="mt-1 font-mono text-xs text-slate-500" data-testid="server-endpoint">{format!("{base}/mcp/{}", s.slug)}</p>
                    <p class="mt-1 text-xs text-slate-600" data-testid="server-meta">
                        {format!(
                            "{} · {} calls in 24 h · {}",
                            s.tool_count.map(|n| format!("{n} tools")).unwrap_or_else(|| "tools not read yet".into()),
                            s.calls_24h,
                            if s.credential_names.is_empty() { "no credential headers".to_owned() } else { format!("sends {}", s.credential_names.join(", ")) },
                        )}
                        {s.checked_at.map(|t| format!(" · checked {}", format_time(t)))}
                    </p>
                    {s.last_error.clone().filter(|_| s.health == "down").map(|e| view! { <p class="mt-1 text-xs text-rose-700" data-testid="server-error">{e}</p> })}
                    {(!s.disabled_tools.is_empty()).then(|| view! { <p class="mt-1 text-xs text-slate-600">{format!("Switched off: {}", s.disabled_tools.join(", "))}</p> })}
                </div>
                <div class="flex flex-wrap gap-2">
                    <ActionForm action=actions.test>
                        <input type="hidden" name="slug" value=move || slug.get() />
                        <input type="hidden" name="server_slug" value=slug1.clone() />
                        <SubmitButton label="Test connection" pending=actions.test.pending() tone="secondary" />
                    </ActionForm>
                    {can_manage.then(|| view! {
                        <ActionForm action=actions.enable>
                            <input type="hidden" name="slug" value=move || slug.get() />
                            <input type="hidden" name="server_slug" value=slug2.clone() />
                            <input type="hidden" name="enabled" value=if enabled { "false" } else { "true" } />
                            <button type="submit" class=small>{if enabled { "Switch off" } else { "Switch on" }}</button>
                        </ActionForm>
                        <Popover label="Remove" danger=true>
                            <p class="text-sm text-slate-700">"Remove this server? Keys and connectors that name it reach it no more; its sessions end."</p>
                            <ActionForm action=actions.remove attr:class="mt-3">
                                <input type="hidden" name="slug" value=move || slug.get() />
                                <input type="hidden" name="server_slug" value=slug3.clone() />
                                <SubmitButton label="Remove server" pending=actions.remove.pending() tone="danger" />
                            </ActionForm>
                        </Popover>
                    })}
                </div>
            </div>
        </li>
    }
}
