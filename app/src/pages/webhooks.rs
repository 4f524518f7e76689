//! The Webhooks page: endpoints that receive signed events, each with its events, its signing
//! secret (shown on request, rolled with a day's overlap), a test event, and its delivery log with
//! response codes and redelivery.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::webhooks::{
        CreateWebhook, DeleteWebhook, EndpointView, RedeliverWebhook, RollWebhookSecret, SetUsageThreshold,
        TestWebhook, WebhooksPage as Page, list_webhooks,
    },
    components::{FormAlert, PageHeader, Popover, SubmitButton, TextField, field_error, format_time},
    pages::dashboard::use_slug,
};

#[derive(Clone, Copy)]
struct Actions {
    create: ServerAction<CreateWebhook>,
    delete: ServerAction<DeleteWebhook>,
    roll: ServerAction<RollWebhookSecret>,
    test: ServerAction<TestWebhook>,
    redeliver: ServerAction<RedeliverWebhook>,
    threshold: ServerAction<SetUsageThreshold>,
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let slug = use_slug();
    let actions = Actions {
        create: ServerAction::new(),
        delete: ServerAction::new(),
        roll: ServerAction::new(),
        test: ServerAction::new(),
        redeliver: ServerAction::new(),
        threshold: ServerAction::new(),
    };
    let data = Resource::new(
        move || {
            (
                slug.get(),
                actions.create.version().get(),
                actions.delete.version().get(),
                actions.roll.version().get(),
                actions.test.version().get(),
                actions.redeliver.version().get(),
                actions.threshold.version().get(),
            )
        },
        |(slug, ..)| list_webhooks(slug),
    );
    view! {
        <Title text="Webhooks · Gatehouse" />
        <PageHeader title="Webhooks" description="Signed HTTP notifications to your systems when keys and connectors change." />
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading webhooks…"</p> }>
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
    let events = page.events.clone();
    let now = page.now;
    view! {
        <details class="mb-6 rounded-xl border border-slate-200 bg-white p-4 shadow-sm" open=page.endpoints.is_empty()>
            <summary class="cursor-pointer text-sm font-semibold text-slate-900">"Add an endpoint"</summary>
            <ActionForm action=actions.create attr:class="mt-4 space-y-4">
                <FormAlert value=actions.create.value() />
                <input type="hidden" name="slug" value=move || slug.get() />
                <TextField name="url" label="Endpoint URL" kind="url" placeholder="https://example.com/webhooks/gatehouse" required=true error=field_error(actions.create.value(), "url") />
                <TextField name="description" label="Description (optional)" maxlength=200usize error=field_error(actions.create.value(), "description") />
                <fieldset>
                    <legend class="text-sm font-medium text-slate-800">"Events"</legend>
                    <div class="mt-2 grid gap-2 sm:grid-cols-2">
                        {events.iter().map(|(name, what)| {
                            let id = format!("event-{}", name.replace('.', "-"));
                            let label_for = id.clone();
                            view! {
                                <label for=label_for class="flex items-start gap-2 text-sm">
                                    <input id=id type="checkbox" name="events[]" value=name.clone() checked=true class="mt-0.5" />
                                    <span><span class="font-mono text-xs text-slate-900">{name.clone()}</span><span class="block text-xs text-slate-500">{what.clone()}</span></span>
                                </label>
                            }
                        }).collect_view()}
                    </div>
                    {move || field_error(actions.create.value(), "events").get().map(|e| view! { <p class="mt-1 text-sm text-rose-600" data-testid="field-error">{e}</p> })}
                </fieldset>
                <SubmitButton label="Add endpoint" pending=actions.create.pending() />
            </ActionForm>
        </details>
        <ActionForm action=actions.threshold attr:class="mb-6 flex flex-wrap items-end gap-3 rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
            <input type="hidden" name="slug" value=move || slug.get() />
            <div class="min-w-[16rem] flex-1">
                <TextField name="threshold" label="Daily usage alert (live calls; empty: off)" kind="number" value=page.usage_threshold.map(|t| t.to_string()).unwrap_or_default()
                    hint="When today's live calls reach this number, subscribed endpoints get usage.threshold (once a day)." error=field_error(actions.threshold.value(), "threshold") />
            </div>
            <SubmitButton label="Save alert" pending=actions.threshold.pending() tone="secondary" />
        </ActionForm>
        {if page.endpoints.is_empty() {
            view! {
                <div class="rounded-xl border border-dashed border-slate-300 bg-white p-8 text-center" data-testid="webhooks-empty">
                    <p class="font-medium text-slate-900">"No endpoints yet"</p>
                    <p class="mx-auto mt-1 max-w-md text-sm text-slate-600">"Add an HTTPS endpoint above; Gatehouse signs every delivery so your receiver can check it came from here."</p>
                </div>
            }.into_any()
        } else {
            view! {
                <ul class="space-y-4" data-testid="webhook-list">
                    {page.endpoints.into_iter().map(|e| view! { <EndpointCard endpoint=e actions=actions now=now /> }).collect_view()}
                </ul>
            }.into_any()
        }}
    }
}

#[component]
fn EndpointCard(endpoint: EndpointView, actions: Actions, now: i64) -> impl IntoView {
    let slug = use_slug();
    let e = endpoint;
    let (id1, id2, id3) = (e.id.clone(), e.id.clone(), e.id.clone());
    let overlap = e.previous_secret_expires_at.filter(|t| *t > now);
    let small = "rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm text-slate-700 hover:bg-slate-50";
    view! {
        <li class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm" data-testid="webhook-row">
            <div class="flex flex-wrap items-start justify-between gap-3">
                <div class="min-w-0">
                    <p class="break-all font-mono text-sm text-slate-900" data-testid="webhook-url">{e.url.clone()}</p>
                    {(!e.description.is_empty()).then(|| view! { <p class="text-sm text-slate-600">{e.description.clone()}</p> })}
                    <p class="mt-1 flex flex-wrap gap-1">
                        {e.events.iter().map(|ev| view! { <span class="rounded bg-indigo-50 px-1.5 py-0.5 font-mono text-xs text-indigo-800">{ev.clone()}</span> }).collect_view()}
                    </p>
                </div>
                <div class="flex flex-wrap gap-2">
                    <ActionForm action=actions.test>
                        <input type="hidden" name="slug" value=move || slug.get() />
                        <input type="hidden" name="endpoint_id" value=id1.clone() />
                        <button type="submit" class=small>"Send test event"</button>
                    </ActionForm>
                    <Popover label="Roll secret">
                            <p class="text-sm text-slate-700">"A new secret signs from now on; the current one also signs for 24 hours, so you can update your receiver."</p>
                            <ActionForm action=actions.roll attr:class="mt-3">
                                <input type="hidden" name="slug" value=move || slug.get() />
                                <input type="hidden" name="endpoint_id" value=id2.clone() />
                                <SubmitButton label="Roll secret" pending=actions.roll.pending() />
                            </ActionForm>
                        </Popover>
                    <Popover label="Delete" danger=true>
                            <p class="text-sm text-slate-700">"Delete this endpoint? Its pending deliveries are dropped."</p>
                            <ActionForm action=actions.delete attr:class="mt-3">
                                <input type="hidden" name="slug" value=move || slug.get() />
                                <input type="hidden" name="endpoint_id" value=id3.clone() />
                                <SubmitButton label="Delete endpoint" pending=actions.delete.pending() tone="danger" />
                            </ActionForm>
                        </Popover>
                </div>
            </div>
            <details class="mt-3">
                <summary class="cursor-pointer text-sm text-slate-700">"Signing secret"</summary>
                <p class="mt-2 break-all rounded-lg bg-slate-100 px-3 py-2 font-mono text-xs text-slate-900" data-testid="webhook-secret">{e.secret.clone()}</p>
                {overlap.map(|t| view! { <p class="mt-1 text-xs text-amber-700" data-testid="webhook-overlap">{format!("The previous secret also signs until {}.", format_time(t))}</p> })}
                <p class="mt-1 text-xs text-slate-500">"Verify the Gatehouse-Signature header with it; see docs/webhooks.md."</p>
            </details>
            <h3 class="mt-4 text-sm font-semibold text-slate-900">"Recent deliveries"</h3>
            {if e.deliveries.is_empty() {
                view! { <p class="mt-1 text-sm text-slate-500">"None yet. Send a test event to try your receiver."</p> }.into_any()
            } else {
                view! {
                    <div class="mt-2 overflow-x-auto">
                        <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="delivery-table">
                            <thead class="text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                                <tr><th class="px-3 py-2">"Event"</th><th class="px-3 py-2">"Status"</th><th class="px-3 py-2">"Response"</th><th class="px-3 py-2">"Attempts"</th><th class="px-3 py-2">"Created (UTC)"</th><th class="px-3 py-2"><span class="sr-only">"Actions"</span></th></tr>
                            </thead>
                            <tbody class="divide-y divide-slate-100">
                                {e.deliveries.into_iter().map(|d| {
                                    let badge = match d.status.as_str() {
                                        "succeeded" => "bg-emerald-50 text-emerald-700",
                                        "failed" => "bg-rose-50 text-rose-700",
                                        _ => "bg-amber-50 text-amber-800",
                                    };
                                    let response = d.last_status_code.map(|c| format!("HTTP {c}")).or(d.last_error.clone()).unwrap_or_else(|| "—".into());
                                    let retry = (d.status == "pending" && d.attempts > 0).then(|| format!(" · next try {}", format_time(d.next_attempt_at)));
                                    let id = d.id.clone();
                                    view! {
                                        <tr data-testid="delivery-row" data-status=d.status.clone()>
                                            <td class="px-3 py-2 font-mono text-xs">{d.event_type.clone()}</td>
                                            <td class="px-3 py-2"><span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {badge}")>{d.status.clone()}</span></td>
                                            <td class="px-3 py-2 text-xs text-slate-700" data-testid="delivery-response">{response}{retry}</td>
                                            <td class="px-3 py-2 text-xs">{d.attempts}</td>
                                            <td class="px-3 py-2 font-mono text-xs text-slate-600">{format_time(d.created_at)}</td>
                                            <td class="px-3 py-2">
                                                <ActionForm action=actions.redeliver>
                                                    <input type="hidden" name="slug" value=move || slug.get() />
                                                    <input type="hidden" name="delivery_id" value=id.clone() />
                                                    <button type="submit" class="text-xs font-medium text-indigo-700 hover:underline">"Redeliver"</button>
                                                </ActionForm>
                                            </td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </li>
    }
}
