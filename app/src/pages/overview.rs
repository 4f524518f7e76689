//! The workspace overview: who you are here, the members, and where to go next.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::workspaces::list_members,
    components::{PageHeader, format_date},
    pages::dashboard::{Dashboard, use_slug},
};

#[component]
pub fn OverviewPage() -> impl IntoView {
    let Dashboard(data) = expect_context::<Dashboard>();
    let slug = use_slug();
    let members = Resource::new(move || slug.get(), list_members);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let ctx = data.await.ok()?;
                let count = members.await.map(|m| m.len()).unwrap_or_default();
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
                    <section class="mt-8 rounded-xl border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="next-steps">
                        <h2 id="next-steps" class="text-base font-semibold text-slate-900">"Next steps"</h2>
                        <ol class="mt-3 list-decimal space-y-2 pl-5 text-sm text-slate-700">
                            <li>"Invite your team from " <a class="text-indigo-700 hover:underline" href=format!("/w/{}/settings", w.slug)>"Settings"</a> "; they need an account first."</li>
                            <li>"Create scoped API keys for scripts in " <a class="text-indigo-700 hover:underline" href=format!("/w/{}/keys", w.slug)>"API keys"</a> "."</li>
                            <li>"Connect Claude or ChatGPT through OAuth (Connectors are coming after that)."</li>
                        </ol>
                    </section>
                })
            })}
        </Suspense>
    }
}
