//! The Usage page: for a range (24 hours, 7 or 30 days) of live or test traffic, charts of calls,
//! error rate and latency (p50, p95), the busiest keys, connectors and tools, the same numbers as a
//! table, and a CSV download.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::usage::{Numbers, TopView, UsageView, load_usage},
    components::{Chart, ChartKind, PageHeader, point_label},
    pages::dashboard::use_slug,
};

pub fn ms(v: Option<i64>) -> String {
    v.map(|v| format!("≤ {v} ms")).unwrap_or_else(|| "—".to_owned())
}

#[component]
pub fn UsagePage() -> impl IntoView {
    let slug = use_slug();
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (
                slug.get(),
                q.get("range").unwrap_or_default(),
                q.get("environment").unwrap_or_default(),
                q.get("from").unwrap_or_default(),
                q.get("to").unwrap_or_default(),
            )
        },
        |(slug, range, env, from, to)| load_usage(slug, range, env, from, to),
    );
    view! {
        <Title text="Usage · Gatehouse" />
        <PageHeader title="Usage" description="MCP calls of this workspace: how many, how many failed, how fast — by key, connector and tool." />
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading usage…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(usage) => view! { <Body usage=usage /> }.into_any(),
                    Err(e) => view! { <p role="alert" class="rounded-lg border border-rose-200 bg-rose-50 p-3 text-sm text-rose-800" data-testid="usage-error">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Stat(#[prop(into)] label: String, #[prop(into)] value: String, #[prop(into)] testid: String) -> impl IntoView {
    view! {
        <div class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
            <dt class="text-xs text-slate-500">{label}</dt>
            <dd class="mt-1 text-xl font-semibold text-slate-900" data-testid=testid>{value}</dd>
        </div>
    }
}

#[component]
fn TopTable(#[prop(into)] caption: String, items: Vec<TopView>, #[prop(into)] testid: String) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-xl border border-slate-200 bg-white shadow-sm">
            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid=testid>
                <caption class="px-4 py-2 text-left text-sm font-semibold text-slate-900">{caption}</caption>
                <thead class="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                    <tr><th scope="col" class="px-4 py-2">"Name"</th><th scope="col" class="px-4 py-2 text-right">"Calls"</th><th scope="col" class="px-4 py-2 text-right">"Errors"</th></tr>
                </thead>
                <tbody class="divide-y divide-slate-100">
                    {items.into_iter().map(|t| view! {
                        <tr>
                            <td class="px-4 py-2 text-slate-900">{t.name}{(t.kind != "tool" && t.kind != "server").then(|| view! { <span class="ml-2 rounded bg-slate-100 px-1.5 text-xs text-slate-600">{t.kind.clone()}</span> })}</td>
                            <td class="px-4 py-2 text-right font-mono">{t.calls}</td>
                            <td class="px-4 py-2 text-right font-mono">{t.errors}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Body(usage: UsageView) -> impl IntoView {
    let slug = use_slug();
    let select = "rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm";
    let t: Numbers = usage.total;
    let csv = if usage.range.is_empty() {
        format!(
            "/w/{}/usage.csv?from={}&to={}&environment={}",
            slug.get_untracked(),
            usage.from_day,
            usage.to_day,
            usage.environment
        )
    } else {
        format!("/w/{}/usage.csv?range={}&environment={}", slug.get_untracked(), usage.range, usage.environment)
    };
    let (from_day, to_day) = (usage.from_day.clone(), usage.to_day.clone());
    let step = usage.step;
    let empty = t.calls == 0;
    let range = usage.range.clone();
    let env = usage.environment.clone();
    view! {
        <form method="get" action=move || format!("/w/{}/usage", slug.get()) class="mb-4 flex flex-wrap items-end gap-3" data-testid="usage-filter">
            <div>
                <label for="usage-range" class="block text-xs font-medium text-slate-700">"Range"</label>
                <select id="usage-range" name="range" class=select>
                    {[("24h", "Last 24 hours"), ("7d", "Last 7 days"), ("30d", "Last 30 days")].into_iter()
                        .map(|(v, l)| view! { <option value=v selected=range == v>{l}</option> }).collect_view()}
                </select>
            </div>
            <div>
                <label for="usage-from" class="block text-xs font-medium text-slate-700">"Or from"</label>
                <input id="usage-from" name="from" type="date" value=from_day class=select />
            </div>
            <div>
                <label for="usage-to" class="block text-xs font-medium text-slate-700">"to (UTC days, at most 90)"</label>
                <input id="usage-to" name="to" type="date" value=to_day class=select />
            </div>
            <div>
                <label for="usage-env" class="block text-xs font-medium text-slate-700">"Traffic"</label>
                <select id="usage-env" name="environment" class=select>
                    <option value="live" selected=env == "live">"Live"</option>
                    <option value="test" selected=env == "test">"Test (pk_test_ keys)"</option>
                </select>
            </div>
            <button type="submit" class="rounded-lg border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-slate-50">"Show"</button>
            <a href=csv class="ml-auto text-sm font-medium text-indigo-700 hover:underline" data-testid="usage-csv" download="">"Download CSV"</a>
        </form>
        <p class="mb-3 text-sm text-slate-600">{format!("{} · {} traffic", usage.range_label, usage.environment)}</p>
        <dl class="mb-6 grid gap-3 sm:grid-cols-4">
            <Stat label="Calls" value=t.calls.to_string() testid="usage-calls" />
            <Stat label="Errors" value=format!("{} ({:.1}%)", t.errors, t.error_rate()) testid="usage-errors" />
            <Stat label="Latency p50" value=ms(t.p50_ms) testid="usage-p50" />
            <Stat label="Latency p95" value=ms(t.p95_ms) testid="usage-p95" />
        </dl>
        {if empty {
            view! {
                <div class="rounded-xl border border-dashed border-slate-300 bg-white p-8 text-center" data-testid="usage-empty">
                    <p class="font-medium text-slate-900">"No calls in this range"</p>
                    <p class="mx-auto mt-1 max-w-md text-sm text-slate-600">
                        "Call the MCP endpoint with an API key or a connected app; calls appear here within a few seconds. Test keys' calls are under Test traffic."
                    </p>
                </div>
            }.into_any()
        } else {
            let points = usage.points.clone();
            view! {
                <div class="space-y-4">
                    <Chart kind=ChartKind::Calls id="calls" title="Calls" points=points.clone() step=step />
                    <div class="grid gap-4 lg:grid-cols-2">
                        <Chart kind=ChartKind::ErrorRate id="errors" title="Error rate" points=points.clone() step=step />
                        <Chart kind=ChartKind::Latency id="latency" title="Latency (p50, p95)" points=points.clone() step=step />
                    </div>
                    <div class="grid gap-4 lg:grid-cols-2">
                        <TopTable caption="By key and connector" items=usage.callers.clone() testid="usage-by-caller" />
                        <TopTable caption="By tool" items=usage.tools.clone() testid="usage-by-tool" />
                    </div>
                    {(!usage.servers.is_empty()).then(|| view! {
                        <div class="grid gap-4 lg:grid-cols-2">
                            <TopTable caption="By server" items=usage.servers.clone() testid="usage-by-server" />
                        </div>
                    })}
                    <details class="rounded-xl border border-slate-200 bg-white p-4 shadow-sm">
                        <summary class="cursor-pointer text-sm font-medium text-slate-900">"Show the numbers as a table"</summary>
                        <div class="mt-3 overflow-x-auto">
                            <table class="min-w-full divide-y divide-slate-200 text-sm" data-testid="usage-table">
                                <caption class="sr-only">"Calls, errors and latency per period"</caption>
                                <thead class="text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
                                    <tr>
                                        <th scope="col" class="px-3 py-2">"Period (UTC)"</th>
                                        <th scope="col" class="px-3 py-2 text-right">"Calls"</th>
                                        <th scope="col" class="px-3 py-2 text-right">"Errors"</th>
                                        <th scope="col" class="px-3 py-2 text-right">"p50"</th>
                                        <th scope="col" class="px-3 py-2 text-right">"p95"</th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100 font-mono text-xs">
                                    {points.into_iter().map(|p| view! {
                                        <tr>
                                            <td class="px-3 py-1.5">{point_label(p.at, step)}</td>
                                            <td class="px-3 py-1.5 text-right">{p.numbers.calls}</td>
                                            <td class="px-3 py-1.5 text-right">{p.numbers.errors}</td>
                                            <td class="px-3 py-1.5 text-right">{ms(p.numbers.p50_ms)}</td>
                                            <td class="px-3 py-1.5 text-right">{ms(p.numbers.p95_ms)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    </details>
                </div>
            }.into_any()
        }}
    }
}
