//! Workspace settings: the name (owners rename it) and the members (owners add, re-role and
//! remove them; anyone but the last owner may leave). The server enforces every rule; the page
//! only hides controls a role cannot use.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{
        keys::{SetKeyPolicy, key_policy},
        types::{MemberView, Role, WorkspaceView},
        workspaces::{AddMember, ChangeRole, RemoveMember, RenameWorkspace, list_members},
    },
    components::{FormAlert, PageHeader, Popover, Renamed, SubmitButton, TextField, field_error, format_date},
    pages::dashboard::{Dashboard, use_slug},
};

/// The members list and the actions that change it. Created outside any `Suspense`, so that
/// hydration finds the resource the server rendered.
#[derive(Clone, Copy)]
struct MembersState {
    list: Resource<Result<Vec<MemberView>, crate::error::AppError>>,
    add: ServerAction<AddMember>,
    change: ServerAction<ChangeRole>,
    remove: ServerAction<RemoveMember>,
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let Dashboard(data) = expect_context::<Dashboard>();
    let slug = use_slug();
    let add = ServerAction::<AddMember>::new();
    let change = ServerAction::<ChangeRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let list = Resource::new(
        move || (slug.get(), add.version().get(), change.version().get(), remove.version().get()),
        |(slug, ..)| list_members(slug),
    );
    let state = MembersState { list, add, change, remove };
    let rename = ServerAction::<RenameWorkspace>::new();
    let set_policy = ServerAction::<SetKeyPolicy>::new();
    let policy = Resource::new(move || (slug.get(), set_policy.version().get()), |(slug, _)| key_policy(slug));
    view! {
        <Title text="Settings · Gatehouse" />
        <PageHeader title="Settings" description="The workspace's name and who can use it." />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let ctx = data.await.ok()?;
                Some(view! {
                    <div class="space-y-8">
                        <GeneralSection workspace=ctx.current.clone() rename=rename />
                        <KeyPolicySection workspace=ctx.current.clone() policy=policy set_policy=set_policy />
                        <MembersSection workspace=ctx.current user_id=ctx.user.id state=state />
                    </div>
                })
            })}
        </Suspense>
    }
}

#[component]
fn GeneralSection(workspace: WorkspaceView, rename: ServerAction<RenameWorkspace>) -> impl IntoView {
    let renamed = expect_context::<Renamed>().0;
    let value = rename.value();
    Effect::new(move |_| {
        if let Some(Ok(name)) = value.get() {
            renamed.set(Some(name));
        }
    });
    let can_edit = workspace.role.can_manage_workspace();
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="general">
            <h2 id="general" class="text-base font-semibold text-slate-900">"General"</h2>
            {if can_edit {
                view! {
                    <ActionForm action=rename attr:class="mt-4 max-w-md space-y-4" attr:novalidate="">
                        <FormAlert value=value />
                        <input type="hidden" name="slug" value=workspace.slug.clone() />
                        <TextField name="name" label="Workspace name" value=workspace.name.clone() required=true maxlength=80usize error=field_error(value, "name") />
                        <div class="flex items-center gap-3">
                            <SubmitButton label="Save name" pending=rename.pending() />
                            {move || matches!(value.get(), Some(Ok(_))).then(|| view! { <span role="status" class="text-sm text-emerald-700">"Saved."</span> })}
                        </div>
                    </ActionForm>
                }
                    .into_any()
            } else {
                view! {
                    <p class="mt-2 text-sm text-slate-600">
                        "Name: " <span class="font-medium text-slate-900">{workspace.name.clone()}</span>
                        ". Only an owner can rename the workspace."
                    </p>
                }
                    .into_any()
            }}
        </section>
    }
}

#[component]
fn MembersSection(workspace: WorkspaceView, user_id: String, state: MembersState) -> impl IntoView {
    let MembersState { list: members, add, change, remove } = state;
    let is_owner = workspace.role.can_manage_workspace();
    let add_value = add.value();
    let change_value = change.value();
    let remove_value = remove.value();
    let ws_slug = workspace.slug.clone();
    view! {
        <section class="rounded-xl border border-slate-200 bg-white shadow-sm" aria-labelledby="members">
            <div class="p-6 pb-4">
                <h2 id="members" class="text-base font-semibold text-slate-900">"Members"</h2>
                <p class="mt-1 text-sm text-slate-600">
                    "Owners manage members and the workspace. Admins manage API keys and connectors. Members can look but not change."
                </p>
                <div class="mt-3 space-y-2">
                    <FormAlert value=change_value />
                    <FormAlert value=remove_value />
                </div>
            </div>
            <Suspense fallback=|| view! { <p class="px-6 pb-6 text-sm text-slate-500">"Loading members…"</p> }>
                {
                    let ws_slug = ws_slug.clone();
                    let user_id = user_id.clone();
                    move || {
                        let ws_slug = ws_slug.clone();
                        let user_id = user_id.clone();
                        Suspend::new(async move {
                            let list = members.await.unwrap_or_default();
                            view! {
                                <ul class="divide-y divide-slate-100 border-t border-slate-100" data-testid="member-list">
                                    {list
                                        .into_iter()
                                        .map(|m| view! { <MemberRow member=m slug=ws_slug.clone() me=user_id.clone() is_owner=is_owner change=change remove=remove /> })
                                        .collect_view()}
                                </ul>
                            }
                        })
                    }
                }
            </Suspense>
            {is_owner.then(|| view! {
                <div class="border-t border-slate-100 p-6">
                    <h3 class="text-sm font-semibold text-slate-900">"Add a member"</h3>
                    <p class="mt-1 text-sm text-slate-600">"They need a Gatehouse account already."</p>
                    <ActionForm action=add attr:class="mt-4 grid gap-4 sm:grid-cols-[1fr_10rem_auto] sm:items-start" attr:novalidate="">
                        <input type="hidden" name="slug" value=workspace.slug.clone() />
                        <TextField name="email" label="Email" kind="email" required=true maxlength=254usize error=field_error(add_value, "email") />
                        <div class="space-y-1.5">
                            <label for="new-member-role" class="block text-sm font-medium text-slate-800">"Role"</label>
                            <select id="new-member-role" name="role" class="block w-full rounded-lg border border-slate-300 bg-white px-3 py-2 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30">
                                {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == Role::Member>{r.label()}</option> }).collect_view()}
                            </select>
                        </div>
                        <div class="sm:pt-7">
                            <SubmitButton label="Add member" pending=add.pending() />
                        </div>
                        <div class="sm:col-span-3"><FormAlert value=add_value /></div>
                    </ActionForm>
                </div>
            })}
        </section>
    }
}

#[component]
fn MemberRow(
    member: MemberView,
    slug: String,
    me: String,
    is_owner: bool,
    change: ServerAction<ChangeRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    let is_me = member.user_id == me;
    let select_id = format!("role-{}", member.user_id);
    view! {
        <li class="flex flex-wrap items-center gap-3 px-6 py-3" data-testid="member-row">
            <div class="min-w-0 flex-1">
                <p class="truncate text-sm font-medium text-slate-900">
                    {member.email.clone()}
                    {is_me.then(|| view! { <span class="ml-2 rounded-full bg-slate-100 px-2 py-0.5 text-xs text-slate-600">"you"</span> })}
                </p>
                <p class="text-xs text-slate-500">{format!("Joined {}", format_date(member.joined_at))}</p>
            </div>
            {if is_owner {
                let (slug, user_id, email) = (slug.clone(), member.user_id.clone(), member.email.clone());
                view! {
                    <ActionForm action=change attr:class="flex items-center gap-2">
                        <input type="hidden" name="slug" value=slug.clone() />
                        <input type="hidden" name="user_id" value=user_id.clone() />
                        <label for=select_id.clone() class="sr-only">{format!("Role of {email}")}</label>
                        <select id=select_id name="role" class="rounded-lg border border-slate-300 bg-white px-2 py-1.5 text-sm focus:border-indigo-500 focus:outline-none focus:ring-2 focus:ring-indigo-500/30">
                            {Role::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == member.role>{r.label()}</option> }).collect_view()}
                        </select>
                        <SubmitButton label="Change role" pending=change.pending() tone="secondary" />
                    </ActionForm>
                }
                    .into_any()
            } else {
                view! { <span class="rounded-full bg-slate-100 px-2.5 py-1 text-xs font-medium text-slate-700" data-testid="member-role">{member.role.label()}</span> }.into_any()
            }}
            {(is_owner || is_me).then(|| {
                let label = if is_me { "Leave" } else { "Remove" };
                view! {
                    <Popover label=label danger=true>
                            <p class="text-sm text-slate-700">
                                {if is_me { "Leave this workspace? You lose access at once.".to_owned() } else { format!("Remove {} from this workspace?", member.email) }}
                            </p>
                            <ActionForm action=remove attr:class="mt-3">
                                <input type="hidden" name="slug" value=slug.clone() />
                                <input type="hidden" name="user_id" value=member.user_id.clone() />
                                <SubmitButton label=if is_me { "Leave workspace" } else { "Remove member" } pending=remove.pending() tone="danger" />
                            </ActionForm>
                    </Popover>
                }
            })}
        </li>
    }
}

type PolicyResource = Resource<Result<(Option<i64>, i64), crate::error::AppError>>;

/// The workspace's rules for new API keys (owners change them).
#[component]
fn KeyPolicySection(
    workspace: WorkspaceView,
    policy: PolicyResource,
    set_policy: ServerAction<SetKeyPolicy>,
) -> impl IntoView {
    let value = set_policy.value();
    let is_owner = workspace.role.can_manage_workspace();
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="key-policy">
            <h2 id="key-policy" class="text-base font-semibold text-slate-900">"API key policy"</h2>
            <p class="mt-1 text-sm text-slate-600">"Rules for keys created from now on. Existing keys keep their expiry."</p>
            <Suspense fallback=|| ()>
                {move || {
                    let slug = workspace.slug.clone();
                    Suspend::new(async move {
                        let (max_days, rate) = policy.await.ok()?;
                        Some(if is_owner {
                            view! {
                                <ActionForm action=set_policy attr:class="mt-4 grid max-w-xl gap-4 sm:grid-cols-2" attr:novalidate="">
                                    <input type="hidden" name="slug" value=slug />
                                    <TextField name="max_lifetime_days" label="Longest key lifetime (days)" kind="number"
                                        value=max_days.map(|d| d.to_string()).unwrap_or_default() hint="Empty: keys may never expire."
                                        error=field_error(value, "max_lifetime_days") />
                                    <TextField name="rate_limit" label="Requests per minute per key" kind="number" value=rate.to_string()
                                        hint="Unless a key sets its own limit." error=field_error(value, "rate_limit") />
                                    <div class="flex items-center gap-3 sm:col-span-2">
                                        <SubmitButton label="Save policy" pending=set_policy.pending() />
                                        {move || matches!(value.get(), Some(Ok(_))).then(|| view! { <span role="status" class="text-sm text-emerald-700">"Saved."</span> })}
                                    </div>
                                    <div class="sm:col-span-2"><FormAlert value=value /></div>
                                </ActionForm>
                            }
                                .into_any()
                        } else {
                            view! {
                                <p class="mt-3 text-sm text-slate-700">
                                    {match max_days { Some(d) => format!("New keys expire within {d} days."), None => "New keys may never expire.".to_owned() }}
                                    {format!(" Each key may make {rate} requests per minute unless it sets its own limit. Only an owner can change this.")}
                                </p>
                            }
                                .into_any()
                        })
                    })
                }}
            </Suspense>
        </section>
    }
}
