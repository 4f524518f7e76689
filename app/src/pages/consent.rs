//! The consent page: an app (an MCP host such as Claude or ChatGPT) asks to connect. The person
//! sees the app's name and, more importantly, the host it will send them back to, reads the
//! scopes in plain words, picks a workspace, may shorten how long the connection lasts, and
//! approves or denies. Signed-out visitors sign in first and come back here.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::{
    api::oauth::{ApproveConsent, ConsentView, DenyConsent, WorkspaceChoice, load_consent},
    components::{FormAlert, GoTo, SubmitButton},
    error::AppError,
    pages::dashboard::urlencode,
};

/// The card every OAuth page sits in.
#[component]
pub fn OAuthCard(children: Children) -> impl IntoView {
    view! {
        <main class="flex min-h-screen items-start justify-center bg-gradient-to-b from-slate-50 to-indigo-50/60 px-4 py-10 sm:items-center">
            <div class="w-full max-w-lg">
                <div class="mb-6 flex items-center justify-center gap-2">
                    <span aria-hidden="true" class="grid h-9 w-9 place-items-center rounded-xl bg-indigo-600 text-lg font-bold text-white">"G"</span>
                    <span class="text-xl font-semibold text-slate-900">"Gatehouse"</span>
                </div>
                <div class="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm sm:p-8">{children()}</div>
            </div>
        </main>
    }
}

/// The fields both approval forms share: the workspace (of those the person may connect apps
/// to) and how long the connection lasts.
#[component]
pub fn ConnectionChoices(
    id_prefix: &'static str,
    workspaces: Vec<WorkspaceChoice>,
    lifetimes: Vec<(String, String)>,
) -> impl IntoView {
    let select = "block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm";
    let (workspace_id, lifetime_id) = (format!("{id_prefix}-workspace"), format!("{id_prefix}-lifetime"));
    view! {
        <div class="space-y-1.5">
            <label for=workspace_id.clone() class="block text-sm font-medium text-slate-800">"Workspace it may use"</label>
            <select id=workspace_id name="workspace" class=select>
                {workspaces.into_iter().map(|w| view! { <option value=w.slug>{w.name}</option> }).collect_view()}
            </select>
            <p class="text-xs text-slate-500">"You can move it to another of your workspaces later, under Connectors."</p>
        </div>
        <div class="space-y-1.5">
            <label for=lifetime_id.clone() class="block text-sm font-medium text-slate-800">"Connected for"</label>
            <select id=lifetime_id name="lifetime" class=select>
                {lifetimes.into_iter().map(|(v, l)| view! { <option value=v>{l}</option> }).collect_view()}
            </select>
        </div>
    }
}

/// Which upstream servers the connection will reach: for an app that asked for one server's
/// address, that server; otherwise the chosen workspace's servers, all ticked, which the person can
/// narrow (only those of the workspace chosen above count).
#[component]
fn ServerChoices(servers: Vec<(String, String, String)>, only: Option<String>) -> impl IntoView {
    if let Some(slug) = only {
        return view! {
            <p class="rounded-lg bg-slate-50 px-3 py-2 text-sm text-slate-700" data-testid="consent-only-server">
                "It connects to one upstream server: "<span class="font-mono">{slug}</span>"."
            </p>
        }
        .into_any();
    }
    if servers.is_empty() {
        return ().into_any();
    }
    let mut workspaces: Vec<String> = servers.iter().map(|(w, _, _)| w.clone()).collect();
    workspaces.dedup();
    let several = workspaces.len() > 1;
    view! {
        <fieldset data-testid="consent-servers">
            <legend class="text-sm font-medium text-slate-800">"Upstream servers it may reach"</legend>
            <p class="text-xs text-slate-500">"Untick what it should not reach. It can always use the built-in tools its scopes allow."</p>
            {workspaces.into_iter().map(|w| {
                let all_id = format!("srv-all-{w}");
                let all_for = all_id.clone();
                view! {
                    <div class="mt-2 space-y-1">
                        {several.then(|| view! { <p class="text-xs font-semibold text-slate-600">{format!("In {w}:")}</p> })}
                        <label for=all_for class="flex items-center gap-2 text-sm">
                            <input id=all_id type="checkbox" name="servers[]" value=format!("*@{w}") class="h-4 w-4 rounded border-slate-300" />
                            "All servers, including ones added later"
                        </label>
                        {servers.iter().filter(|(ws, _, _)| *ws == w).map(|(ws, slug, name)| {
                            let id = format!("srv-{ws}-{slug}");
                            let label_for = id.clone();
                            view! {
                                <label for=label_for class="flex items-center gap-2 text-sm" data-testid="consent-server">
                                    <input id=id type="checkbox" name="servers[]" value=format!("{slug}@{ws}") checked=true class="h-4 w-4 rounded border-slate-300" />
                                    <span>{name.clone()}</span><span class="font-mono text-xs text-slate-500">{slug.clone()}</span>
                                </label>
                            }
                        }).collect_view()}
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
    .into_any()
}

#[component]
pub fn ConsentPage() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let data = Resource::new(move || id.get(), load_consent);
    let approve = ServerAction::<ApproveConsent>::new();
    let deny = ServerAction::<DenyConsent>::new();
    view! {
        <Title text="Connect an app · Gatehouse" />
        <OAuthCard>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the request…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(request) => view! { <Consent request=request approve=approve deny=deny /> }.into_any(),
                        Err(AppError::SignedOut) => {
                            let next = format!("/oauth/consent/{}", id.get_untracked());
                            view! { <GoTo path=format!("/signin?next={}", urlencode(&next)) /> }.into_any()
                        }
                        Err(AppError::NotFound) => view! {
                            <h1 class="text-xl font-semibold text-slate-900">"This request does not exist"</h1>
                            <p class="mt-2 text-sm text-slate-600" data-testid="consent-missing">
                                "The link may be incomplete, or the request was cleared. Start connecting again from the app."
                            </p>
                        }
                            .into_any(),
                        Err(e) => view! { <p role="alert" class="text-sm text-rose-700">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </OAuthCard>
    }
}

#[component]
fn Consent(
    request: ConsentView,
    approve: ServerAction<ApproveConsent>,
    deny: ServerAction<DenyConsent>,
) -> impl IntoView {
    let host = request.redirect_host.clone();
    let loopback = matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]" | "::1");
    let decided = match request.status.as_str() {
        "approved" => Some("This request was already approved. Go back to the app; there is nothing more to do here."),
        "denied" => Some("This request was denied. Start again from the app if that was a mistake."),
        "expired" => Some("This request has expired (they last 10 minutes). Start connecting again from the app."),
        _ => None,
    };
    let approvable: Vec<WorkspaceChoice> = request.workspaces.iter().filter(|w| w.can_approve).cloned().collect();
    let id = request.id.clone();
    let id2 = request.id.clone();
    view! {
        <h1 class="text-xl font-semibold text-slate-900" data-testid="consent-title">
            {format!("{} wants to connect to Gatehouse", request.client_name)}
        </h1>
        {match request.verified_host.clone() {
            Some(verified) => view! {
                <p class="mt-2 flex items-center gap-2 text-sm text-slate-700" data-testid="consent-identity">
                    <span class="inline-flex items-center gap-1 rounded-full bg-emerald-50 px-2 py-0.5 text-xs font-medium text-emerald-800 ring-1 ring-emerald-200" data-testid="consent-verified">
                        <span aria-hidden="true">"✓"</span>"Verified"
                    </span>
                    <span>"This app is identified by "<strong class="font-semibold">{verified.clone()}</strong>", where Gatehouse read its details."</span>
                </p>
            }
                .into_any(),
            None => view! {
                <p class="mt-2 flex items-center gap-2 text-sm text-slate-700" data-testid="consent-identity">
                    <span class="inline-flex items-center rounded-full bg-amber-50 px-2 py-0.5 text-xs font-medium text-amber-900 ring-1 ring-amber-200" data-testid="consent-unverified">
                        "Unverified"
                    </span>
                    <span>{format!("The name \u{201c}{}\u{201d} is chosen by the app itself; Gatehouse cannot confirm it.", request.client_name)}</span>
                </p>
            }
                .into_any(),
        }}
        <div class="mt-4 rounded-xl border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">
            <p>
                "After you decide, you go back to "
                <strong class="font-semibold" data-testid="consent-host">{host.clone()}</strong>
                {loopback.then_some(" (an app on this computer)")}
                "."
            </p>
            <p class="mt-1 text-xs text-amber-800">
                {if loopback {
                    "Any program on this computer can receive that answer. Approve only if you started this connection yourself, just now.".to_owned()
                } else {
                    format!("Approve only if you started this connection from {host}.")
                }}
            </p>
        </div>
        <p class="mt-4 text-sm text-slate-600">"Signed in as " <span class="font-medium text-slate-900">{request.email.clone()}</span></p>
        <h2 class="mt-5 text-sm font-semibold text-slate-900">"It asks to:"</h2>
        <ul class="mt-2 space-y-2" data-testid="consent-scopes">
            {request
                .scopes
                .iter()
                .map(|s| view! {
                    <li class="flex gap-3 rounded-lg bg-slate-50 px-3 py-2">
                        <span aria-hidden="true" class="mt-0.5 text-indigo-600">"✓"</span>
                        <span>
                            <span class="block text-sm text-slate-900">{s.description.clone()}</span>
                            <span class="block font-mono text-xs text-slate-500">{s.name.clone()}</span>
                        </span>
                    </li>
                })
                .collect_view()}
        </ul>
        {match decided {
            Some(message) => view! { <p role="status" class="mt-6 rounded-lg bg-slate-100 p-3 text-sm text-slate-700" data-testid="consent-decided">{message}</p> }.into_any(),
            None if approvable.is_empty() => view! {
                <p role="alert" class="mt-6 rounded-lg border border-rose-200 bg-rose-50 p-3 text-sm text-rose-800" data-testid="consent-no-workspace">
                    "You are not an admin of any workspace, so you cannot connect apps. Ask an admin of your workspace to connect it, or to make you an admin."
                </p>
                <ActionForm action=deny attr:class="mt-4">
                    <input type="hidden" name="id" value=id2.clone() />
                    <SubmitButton label="Deny" pending=deny.pending() tone="secondary" />
                </ActionForm>
            }
                .into_any(),
            None => view! {
                <ActionForm action=approve attr:class="mt-6 space-y-4" attr:data-testid="consent-form">
                    <FormAlert value=approve.value() />
                    <input type="hidden" name="id" value=id.clone() />
                    <ConnectionChoices id_prefix="consent" workspaces=approvable.clone() lifetimes=request.lifetimes.clone() />
                    <ServerChoices servers=request.servers.clone() only=request.only_server.clone() />
                    <div class="flex items-center gap-3 pt-2">
                        <SubmitButton label="Approve" pending=approve.pending() />
                        <button type="submit" form="consent-deny" disabled=move || deny.pending().get()
                            class="inline-flex items-center justify-center rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50 disabled:opacity-60">
                            "Deny"
                        </button>
                    </div>
                </ActionForm>
                <ActionForm action=deny attr:id="consent-deny">
                    <FormAlert value=deny.value() />
                    <input type="hidden" name="id" value=id2.clone() />
                </ActionForm>
            }
                .into_any(),
        }}
    }
}
