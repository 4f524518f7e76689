//! The device verification page (RFC 8628): a CLI shows a code such as `BDFH-KMNP`; the person
//! opens this page (signed in), enters or checks the code, picks the workspace and approves or
//! denies. The CLI's polling then gets its answer.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::oauth::{ApproveDevice, DenyDevice, DeviceView, lookup_device},
    components::{FormAlert, GoTo, SubmitButton},
    error::AppError,
    pages::{
        consent::{ConnectionChoices, OAuthCard},
        dashboard::urlencode,
    },
};

#[component]
pub fn DevicePage() -> impl IntoView {
    let query = use_query_map();
    let code = Memo::new(move |_| query.read().get("user_code").unwrap_or_default());
    let data = Resource::new(move || code.get(), lookup_device);
    let approve = ServerAction::<ApproveDevice>::new();
    let deny = ServerAction::<DenyDevice>::new();
    view! {
        <Title text="Connect a device · Gatehouse" />
        <OAuthCard>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(None) => view! { <CodeEntry value=String::new() error=None /> }.into_any(),
                        Ok(Some(device)) => view! { <DeviceDecision device=device approve=approve deny=deny /> }.into_any(),
                        Err(AppError::SignedOut) => {
                            let code = code.get_untracked();
                            let next = if code.is_empty() { "/device".to_owned() } else { format!("/device?user_code={}", urlencode(&code)) };
                            view! { <GoTo path=format!("/signin?next={}", urlencode(&next)) /> }.into_any()
                        }
                        Err(e) => {
                            let message = match &e {
                                AppError::Field { message, .. } => message.clone(),
                                other => other.to_string(),
                            };
                            view! { <CodeEntry value=code.get_untracked() error=Some(message) /> }.into_any()
                        }
                    }
                })}
            </Suspense>
        </OAuthCard>
    }
}

/// The form for typing the code (a plain GET form: it works before the wasm loads).
#[component]
fn CodeEntry(value: String, error: Option<String>) -> impl IntoView {
    let has_error = error.is_some();
    view! {
        <h1 class="text-xl font-semibold text-slate-900">"Connect a device"</h1>
        <p class="mt-1 text-sm text-slate-600">"Enter the code your terminal or device shows."</p>
        <form method="get" action="/device" class="mt-6 space-y-4">
            <div class="space-y-1.5">
                <label for="device-code" class="block text-sm font-medium text-slate-800">"Code"</label>
                <input id="device-code" name="user_code" value=value autocomplete="off" autocapitalize="characters" spellcheck="false"
                    placeholder="BDFH-KMNP" maxlength="20" required=true autofocus=true
                    aria-invalid=has_error.then_some("true") aria-describedby=has_error.then_some("device-code-error")
                    class="block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-center font-mono text-lg uppercase tracking-[0.3em] text-slate-900 shadow-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30 aria-[invalid=true]:border-rose-400" />
                {error.map(|e| view! { <p id="device-code-error" role="alert" class="text-sm text-rose-600" data-testid="field-error">{e}</p> })}
            </div>
            <button type="submit" class="inline-flex w-full items-center justify-center rounded-lg bg-indigo-600 px-4 py-2 text-sm font-semibold text-white shadow-sm hover:bg-indigo-500">
                "Continue"
            </button>
        </form>
    }
}

#[component]
fn DeviceDecision(
    device: DeviceView,
    approve: ServerAction<ApproveDevice>,
    deny: ServerAction<DenyDevice>,
) -> impl IntoView {
    let done = Signal::derive(move || {
        approve.value().get().and_then(Result::ok).or_else(|| deny.value().get().and_then(Result::ok))
    });
    let approvable: Vec<_> = device.workspaces.iter().filter(|w| w.can_approve).cloned().collect();
    let code = device.user_code.clone();
    let lifetimes = device.lifetimes.clone();
    view! {
        <h1 class="text-xl font-semibold text-slate-900" data-testid="device-title">
            {format!("Connect {}?", device.client_name)}
        </h1>
        <p class="mt-3 text-sm text-slate-600">"Check that your device shows this code:"</p>
        <p class="mt-2 rounded-xl bg-slate-100 py-3 text-center font-mono text-2xl tracking-[0.3em] text-slate-900" data-testid="device-code">{device.user_code.clone()}</p>
        <p class="mt-4 text-sm text-slate-600">"Signed in as " <span class="font-medium text-slate-900">{device.email.clone()}</span></p>
        <h2 class="mt-5 text-sm font-semibold text-slate-900">"It asks to:"</h2>
        <ul class="mt-2 space-y-2">
            {device.scopes.iter().map(|s| view! {
                <li class="rounded-lg bg-slate-50 px-3 py-2 text-sm text-slate-900">
                    {s.description.clone()} " " <span class="font-mono text-xs text-slate-500">{s.name.clone()}</span>
                </li>
            }).collect_view()}
        </ul>
        {move || {
            let (approvable, lifetimes, code, code2) = (approvable.clone(), lifetimes.clone(), code.clone(), code.clone());
            match done.get() {
            Some(message) => view! { <p role="status" class="mt-6 rounded-lg bg-emerald-50 p-3 text-sm text-emerald-800" data-testid="device-done">{message}</p> }.into_any(),
            None if approvable.is_empty() => view! {
                <p role="alert" class="mt-6 rounded-lg border border-rose-200 bg-rose-50 p-3 text-sm text-rose-800">
                    "You are not an admin of any workspace, so you cannot connect devices. Ask an admin to do it."
                </p>
            }.into_any(),
            None => view! {
                <ActionForm action=approve attr:class="mt-6 space-y-4">
                    <FormAlert value=approve.value() />
                    <input type="hidden" name="user_code" value=code.clone() />
                    <ConnectionChoices id_prefix="device" workspaces=approvable lifetimes=lifetimes />
                    <div class="flex items-center gap-3 pt-2">
                        <SubmitButton label="Approve" pending=approve.pending() />
                        <button type="submit" form="device-deny" class="inline-flex items-center justify-center rounded-lg border border-slate-300 bg-white px-4 py-2 text-sm font-medium text-slate-700 shadow-sm hover:bg-slate-50">
                            "Deny"
                        </button>
                    </div>
                </ActionForm>
                <ActionForm action=deny attr:id="device-deny">
                    <FormAlert value=deny.value() />
                    <input type="hidden" name="user_code" value=code2.clone() />
                </ActionForm>
            }.into_any(),
        }}}
    }
}
