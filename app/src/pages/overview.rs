//! The workspace overview: live calls and errors over 24 hours, 7 and 30 days, the week's
//! busiest keys, connectors and tools, keys expiring soon, the week's alerts on keys (new
//! networks, error spikes, leak reports), and where to go next.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{
        usage::{NoticeView, OverviewStats, TopView, load_overview},
        workspaces::list_members,
    },
    components::{PageHeader, format_date, format_time},
    pages::dashboard::{Dashboard, use_slug},
};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let Dashboard(data) = expect_context::<Dashboard>();
    let slug = use_slug();
    let members = Resource::new(move || slug.get(), list_members);
    let stats = Resource::new(move || slug.get(), load_overview);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let ctx = data.await.ok()?;
                let count = members.await.map(|m| m.len()).unwrap_or_default();
                let stats = stats.await.ok();
                let w = ctx.current;
                Some(view! {
                    <Title text=format!("{} · Overview · Gatehouse", w.name) />
                    <PageHeader title=w.name.clone() description="An overview of this workspace." />
                    <dl class="grid gap-4 sm:grid-cols-3">
                        <div class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
                            <dt class="text-sm text-slate-500">"Your role"</dt>
                            <dd class="mt-1 text-lg font-semibold text-slate-900" data-testid="overview-role">{w.role.label()}</dd>
                            <dd class="mt-1 text-xs text-slate-500">{w.role.describe()}</dd>
                        </div>
                        <div class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
                            <dt class="text-sm text-slate-500">"Members"</dt>
                            <dd class="mt-1 text-lg font-semibold text-slate-900">{count}</dd>
                            <dd class="mt-1 text-xs text-slate-500">
                                <a class="text-indigo-700 hover:underline" href=format!("/w/{}/settings", w.slug)>"Manage members"</a>
                            </dd>
                        </div>
                        <div class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
                            <dt class="text-sm text-slate-500">"Created"</dt>
                            <dd class="mt-1 text-lg font-semibold text-slate-900">{format_date(w.created_at)}</dd>
                            <dd class="mt-1 text-xs text-slate-500">{format!("Workspace id: {}", w.slug)}</dd>
                        </div>
                    </dl>
                    {stats.map(|mut stats| {
                        let notices = std::mem::take(&mut stats.notices);
                        view! {
                            <Notices notices=notices />
                            <Activity stats=stats slug=w.slug.clone() />
                        }
                    })}
                    <section class="mt-8 rounded-xl border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="next-steps">
                        <h2 id="next-steps" class="text-base font-semibold text-slate-900">"Next steps"</h2>
                        <ol class="mt-3 list-decimal space-y-2 pl-5 text-sm text-slate-700">
                            <li>"Invite your team from " <a class="text-indigo-700 hover:underline" href=format!("/w/{}/settings", w.slug)>"Settings"</a> "; they need an account first."</li>
                            <li>"Create scoped API keys for scripts in " <a class="text-indigo-700 hover:underline" href=format!("/w/{}/keys", w.slug)>"API keys"</a> "."</li>
                            <li>"Connect Claude or ChatGPT: add this server's " <code class="rounded bg-slate-100 px-1 font-mono text-xs">"/mcp"</code> " URL as a connector in the app, then approve it here."</li>
                        </ol>
                    </section>
                })
            })}
        </Suspense>
    }
}

/// The week's alerts on keys: a new network, an error spike, a leak report (admins and owners).
#[component]
fn Notices(notices: Vec<NoticeView>) -> impl IntoView {
    (!notices.is_empty()).then(|| {
        view! {
            <section class="mt-8 rounded-xl border border-amber-300 bg-amber-50 p-5" aria-labelledby="notices" data-testid="overview-notices">
                <h2 id="notices" class="text-base font-semibold text-amber-900">"Alerts on keys this week"</h2>
                <ul class="mt-3 space-y-3">
                    {notices.into_iter().map(|n| {
                        let tone = if n.action == "key.new_network" { "text-amber-900" } else { "text-rose-800" };
                        view! {
                            <li class="text-sm" data-testid="overview-notice" data-action=n.action.clone()>
                                <p class=format!("font-medium {tone}")>{n.text}</p>
                                <p class="text-amber-900/80">
                                    {n.advice}
                                    " "
                                    <a class="text-indigo-700 hover:underline" href=n.href>"Open"</a>
                                    <span class="ml-2 text-xs text-slate-500">{format_time(n.at)}</span>
                                </p>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        }
    })
}

fn top_list(title: &'static str, items: Vec<TopView>, testid: &'static str) -> impl IntoView {
    view! {
        <div class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
            <h3 class="text-sm font-semibold text-slate-900">{title}</h3>
            {if items.is_empty() {
                view! { <p class="mt-2 text-sm text-slate-500">"No calls this week."</p> }.into_any()
            } else {
                view! {
                    <ol class="mt-2 space-y-1 text-sm" data-testid=testid>
                        {items.into_iter().map(|t| view! {
                            <li class="flex justify-between gap-3">
                                <span class="truncate text-slate-800">{t.name}</span>
                                <span class="font-mono text-slate-600">{t.calls}</span>
                            </li>
                        }).collect_view()}
                    </ol>
                }.into_any()
            }}
        </div>
    }
}

/// Calls and errors, the busiest callers and tools, and keys about to stop.
#[component]
fn Activity(stats: OverviewStats, slug: String) -> impl IntoView {
    let (keys, connectors): (Vec<TopView>, Vec<TopView>) = stats.callers.into_iter().partition(|c| c.kind == "key");
    view! {
        <section class="mt-8" aria-labelledby="activity">
            <div class="flex items-baseline justify-between">
                <h2 id="activity" class="text-base font-semibold text-slate-900">"Live calls"</h2>
                <a class="text-sm text-indigo-700 hover:underline" href=format!("/w/{slug}/usage")>"See usage"</a>
            </div>
            <dl class="mt-3 grid gap-4 sm:grid-cols-3" data-testid="overview-periods">
                {stats.periods.into_iter().map(|(label, n)| view! {
                    <div class="rounded-xl border border-slate-200 bg-white p-5 shadow-sm">
                        <dt class="text-sm text-slate-500">{label}</dt>
                        <dd class="mt-1 text-lg font-semibold text-slate-900">{format!("{} calls", n.calls)}</dd>
                        <dd class="mt-1 text-xs text-slate-500">{format!("{} errors ({:.1}%)", n.errors, n.error_rate())}</dd>
                    </div>
                }).collect_view()}
            </dl>
            <h2 class="mt-6 text-base font-semibold text-slate-900">"Busiest this week"</h2>
            <div class="mt-3 grid gap-4 sm:grid-cols-3">
                {top_list("Keys", keys, "overview-keys")}
                {top_list("Connectors", connectors, "overview-connectors")}
                {top_list("Tools", stats.tools, "overview-tools")}
            </div>
            {(!stats.servers.is_empty()).then(|| view! {
                <div class="mt-4 grid gap-4 sm:grid-cols-3">{top_list("Servers", stats.servers, "overview-servers")}</div>
            })}
            <div class="mt-6 rounded-xl border border-slate-200 bg-white p-5 shadow-sm" data-testid="overview-expiring">
                <h2 class="text-base font-semibold text-slate-900">"Keys expiring soon"</h2>
                {if stats.expiring.is_empty() {
                    view! { <p class="mt-2 text-sm text-slate-500">"No key stops working in the next 7 days."</p> }.into_any()
                } else {
                    view! {
                        <ul class="mt-2 space-y-1 text-sm">
                            {stats.expiring.into_iter().map(|(name, at)| view! {
                                <li class="flex justify-between gap-3"><span class="text-slate-800">{name}</span><span class="text-amber-700">{format!("stops {}", format_date(at))}</span></li>
                            }).collect_view()}
                        </ul>
                        <a class="mt-2 inline-block text-sm text-indigo-700 hover:underline" href=format!("/w/{slug}/keys?status=expiring")>"Roll or extend them"</a>
                    }.into_any()
                }}
            </div>
        </section>
    }
}
