//! The Audit log page: who did what and when in this workspace — keys, connectors, devices,
//! members, failed sign-ins — narrowed by kind and person with a plain GET form.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::audit::{AuditPage as Page, load_audit},
    components::{PageHeader, format_time},
    pages::dashboard::use_slug,
};

#[component]
pub fn AuditPage() -> impl IntoView {
    let slug = use_slug();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (slug.get(), q.get("kind").unwrap_or_default(), q.get("actor").unwrap_or_default())
        },
        |(slug, kind, actor)| load_audit(slug, kind, actor),
    );
    view! {
        <Title text="Audit log · Gatehouse" />
        <PageHeader title="Audit log" description="Who did what and when in this workspace. Entries cannot be changed or deleted." />
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading the log…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(page) => view! { <Body page=page /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="rounded-lg border border-amber-200 bg-amber-50 p-3 text-sm text-amber-900">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Body(page: Page) -> impl IntoView {
    let slug = use_slug();
    let query = use_query_map();
    let kind = query.read_untracked().get("kind").unwrap_or_default();
    let actor = query.read_untracked().get("actor").unwrap_or_default();
    let select = "rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm";
    let empty = page.events.is_empty();
    view! {
        <form method="get" action=move || format!("/w/{}/audit", slug.get()) class="mb-4 flex flex-wrap items-end gap-3" data-testid="audit-filter">
            <div>
                <label for="audit-kind" class="block text-xs font-medium text-slate-700">"Kind"</label>
                <select id="audit-kind" name="kind" class=select>
                    <option value="" selected=kind.is_empty()>"Everything"</option>
                    {page.kinds.iter().map(|(v, l)| view! { <option value=v.clone() selected=*v == kind>{l.clone()}</option> }).collect_view()}
                </select>
            </div>
            <div>
                <label for="audit-actor" class="block text-xs font-medium text-slate-700">"Person"</label>
                <select id="audit-actor" name="actor" class=select>
                    <option value="" selected=actor.is_empty()>"Everyone"</option>
                    {page.actors.iter().map(|a| view! { <option value=a.clone() selected=*a == actor>{a.clone()}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class="rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50">"Filter"</button>
        </form>
        {if empty {
            view! {
                <div class="rounded-xl border border-dashed border-slate-300 bg-white p-8 text-center" data-testid="audit-empty">
                    <p class="font-medium text-slate-900">"Nothing here yet"</p>
                    <p class="mt-1 text-sm text-slate-600">"Creating keys, connecting apps and changing members are recorded here."</p>
                </div>
            }
                .into_any()
        } else {
            view! {
                <div class="overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm">
                    <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="audit-table">
                        <caption class="sr-only">"Audit log entries, newest first"</caption>
                        <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                            <tr>
                                <th scope="col" class="px-4 py-2">"When (UTC)"</th>
                                <th scope="col" class="px-4 py-2">"Who"</th>
                                <th scope="col" class="px-4 py-2">"What"</th>
                                <th scope="col" class="px-4 py-2">"From"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100">
                            {page.events.into_iter().map(|e| view! {
                                <tr data-testid="audit-row" data-action=e.action.clone()>
                                    <td class="whitespace-nowrap px-4 py-2 font-mono text-xs text-slate-600">{format_time(e.at)}</td>
                                    <td class="px-4 py-2 text-slate-900">{e.actor.clone().unwrap_or_else(|| "Gatehouse".into())}</td>
                                    <td class="px-4 py-2 text-slate-900">{e.summary.clone()}</td>
                                    <td class="px-4 py-2 text-xs text-slate-500" title=e.user_agent.clone()>{e.ip.clone().unwrap_or_default()}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }
                .into_any()
        }}
    }
}
