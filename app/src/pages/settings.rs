//! Workspace settings: the name (owners rename it), the key policy, management keys and the
//! alerts on keys (admins and owners), and the members (owners add, re-role and remove them;
//! anyone but the last owner may leave). The server enforces every rule; the page only hides
//! controls a role cannot use.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{
        keys::{CreatedKey, SetKeyPolicy, key_policy},
        management::{
            CreateManagementKey, ManagementKeyView, ManagementPage, RevokeManagementKey, SetErrorSpike,
            list_management_keys,
        },
        types::{MemberView, Role, WorkspaceView},
        workspaces::{AddMember, ChangeRole, RemoveMember, RenameWorkspace, list_members},
    },
    components::{
        CreateButton, ExpiryFields, FormAlert, PageHeader, Popover, Renamed, Reveal, SubmitButton, TextField,
        closed_after_success, field_error, format_date,
    },
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

/// The management keys and key alerts, and the actions that change them.
#[derive(Clone, Copy)]
struct ManagementState {
    create: ServerAction<CreateManagementKey>,
    revoke: ServerAction<RevokeManagementKey>,
    spike: ServerAction<SetErrorSpike>,
    /// True once the wasm runs: creating needs it to show the key.
    live: RwSignal<bool>,
    revealed: RwSignal<Option<CreatedKey>>,
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
    let manage = ManagementState {
        create: ServerAction::new(),
        revoke: ServerAction::new(),
        spike: ServerAction::new(),
        live: RwSignal::new(false),
        revealed: RwSignal::new(None),
    };
    Effect::new(move |_| manage.live.set(true));
    Effect::new(move |_| {
        if let Some(Ok(created)) = manage.create.value().get() {
            manage.revealed.set(Some(created));
        }
    });
    let management = Resource::new(
        move || {
            (slug.get(), manage.create.version().get(), manage.revoke.version().get(), manage.spike.version().get())
        },
        |(slug, ..)| list_management_keys(slug),
    );
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
                        <ManagementSections page=management state=manage />
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

type ManagementResource = Resource<Result<ManagementPage, crate::error::AppError>>;

/// Management keys and key alerts, for admins and owners; members read that they exist.
#[component]
fn ManagementSections(page: ManagementResource, state: ManagementState) -> impl IntoView {
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let page = page.await.ok()?;
                Some(if page.can_manage {
                    view! {
                        <ManagementKeysSection page=page.clone() state=state />
                        <KeyAlertsSection page=page state=state />
                    }
                        .into_any()
                } else {
                    view! {
                        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="management-keys">
                            <h2 id="management-keys" class="text-base font-semibold text-slate-900">"Management keys"</h2>
                            <p class="mt-1 text-sm text-slate-600">"Admins and owners make keys for the management API and set alerts on keys here."</p>
                        </section>
                    }
                        .into_any()
                })
            })}
        </Suspense>
    }
}

#[component]
fn ManagementKeysSection(page: ManagementPage, state: ManagementState) -> impl IntoView {
    let slug = use_slug();
    let value = state.create.value();
    let scope_error = field_error(value, "scopes");
    let expiry_error = field_error(value, "expiry");
    let (form, panel) = closed_after_success(value);
    let is_owner = page.is_owner;
    let now = page.now;
    let max_days = page.max_lifetime_days;
    view! {
        <section class="rounded-xl border border-slate-200 bg-white shadow-sm" aria-labelledby="management-keys" data-testid="management-keys">
            <div class="p-6 pb-4">
                <h2 id="management-keys" class="text-base font-semibold text-slate-900">"Management keys"</h2>
                <p class="mt-1 text-sm text-slate-600">
                    "Keys for the management API (" <code class="rounded bg-slate-100 px-1 font-mono text-xs">"/v1"</code>
                    "): scripts that create keys, rotate them, read usage and the audit log. A management key works only there, never at "
                    <code class="rounded bg-slate-100 px-1 font-mono text-xs">"/mcp"</code> ". "
                    <a class="text-indigo-700 hover:underline" href="/v1/openapi.json">"OpenAPI document"</a>
                </p>
                <div class="mt-4"><Reveal revealed=state.revealed what="management key" /></div>
                <FormAlert value=state.revoke.value() />
                <details node_ref=panel class="mt-2 rounded-lg border border-slate-200" data-testid="create-management-key">
                    <summary class="flex cursor-pointer list-none items-center justify-between px-4 py-3">
                        <span class="text-sm font-semibold text-slate-900">"Create a management key"</span>
                        <span class="rounded-lg bg-indigo-600 px-3 py-1.5 text-sm font-semibold text-white">"New management key"</span>
                    </summary>
                    <ActionForm action=state.create node_ref=form attr:class="space-y-5 border-t border-slate-100 p-4" attr:novalidate="">
                        <FormAlert value=value />
                        <input type="hidden" name="slug" value=move || slug.get() />
                        <TextField name="name" id="mgmt-name" label="Name" required=true maxlength=200usize placeholder="Billing sync"
                            hint="What the script is, so you recognise the key later." error=field_error(value, "name") />
                        <fieldset>
                            <legend class="text-sm font-medium text-slate-800">"Scopes"</legend>
                            <p class="text-xs text-slate-500">"Each endpoint needs its own scope; a write scope does not include reading."</p>
                            <div class="mt-2 grid gap-2 sm:grid-cols-2">
                                {page.scopes.iter().map(|s| {
                                    let id = format!("mgmt-scope-{}", s.name.replace(':', "-"));
                                    let label_for = id.clone();
                                    let locked = s.owner_only && !is_owner;
                                    view! {
                                        <label for=label_for class="flex cursor-pointer items-start gap-3 rounded-lg border border-slate-200 p-3 hover:bg-slate-50 has-[:checked]:border-indigo-300 has-[:checked]:bg-indigo-50/50 has-[:disabled]:cursor-not-allowed has-[:disabled]:opacity-60">
                                            <input id=id type="checkbox" name="scopes[]" value=s.name.clone() disabled=locked class="mt-0.5 h-4 w-4 rounded border-slate-300 text-indigo-600 focus:ring-indigo-500" />
                                            <span>
                                                <span class="block font-mono text-sm text-slate-900">{s.name.clone()}</span>
                                                <span class="block text-xs text-slate-600">{s.description.clone()}</span>
                                                {locked.then(|| view! { <span class="block text-xs text-slate-500">"Only an owner can give this scope."</span> })}
                                            </span>
                                        </label>
                                    }
                                }).collect_view()}
                            </div>
                            {move || scope_error.get().map(|e| view! { <p class="mt-1 text-sm text-rose-600" data-testid="field-error">{e}</p> })}
                        </fieldset>
                        <ExpiryFields id_prefix="mgmt" max_days=max_days error=expiry_error />
                        <CreateButton label="Create management key" live=state.live pending=state.create.pending() />
                    </ActionForm>
                </details>
            </div>
            {if page.keys.is_empty() {
                view! { <p class="border-t border-slate-100 px-6 py-4 text-sm text-slate-500" data-testid="management-keys-empty">"No management keys yet."</p> }.into_any()
            } else {
                view! {
                    <ul class="divide-y divide-slate-100 border-t border-slate-100" data-testid="management-key-list">
                        {page.keys.into_iter().map(|k| view! { <ManagementKeyRow key=k now=now revoke=state.revoke /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn ManagementKeyRow(key: ManagementKeyView, now: i64, revoke: ServerAction<RevokeManagementKey>) -> impl IntoView {
    let slug = use_slug();
    let works = key.works(now);
    let (label, badge) = if works {
        ("Active", "bg-emerald-50 text-emerald-700 ring-emerald-600/20")
    } else if key.revoked_at.is_some() {
        ("Revoked", "bg-rose-50 text-rose-700 ring-rose-600/20")
    } else {
        ("Expired", "bg-slate-100 text-slate-600 ring-slate-500/20")
    };
    let facts = format!(
        "created {}{} · {} · {}",
        format_date(key.created_at),
        key.created_by.as_ref().map(|e| format!(" by {e}")).unwrap_or_else(|| " from the command line".to_owned()),
        key.last_used_at.map(|t| format!("last used {}", format_date(t))).unwrap_or_else(|| "never used".to_owned()),
        match (key.revoked_at, key.expires_at) {
            (Some(at), _) => format!("revoked {}", format_date(at)),
            (None, Some(at)) => format!("expires {}", format_date(at)),
            (None, None) => "never expires".to_owned(),
        }
    );
    let id = key.id.clone();
    let prompt = format!(
        "Revoke \u{201c}{}\u{201d}? Scripts using it fail from their next request. This cannot be undone.",
        key.name
    );
    view! {
        <li class="flex flex-wrap items-start justify-between gap-3 px-6 py-4" data-testid="management-key-row" data-key-id=key.id.clone()>
            <div class="min-w-0">
                <p class="flex flex-wrap items-center gap-2">
                    <span class="font-medium text-slate-900">{key.name.clone()}</span>
                    <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset {badge}") data-testid="management-key-status">{label}</span>
                </p>
                <p class="mt-1 font-mono text-sm text-slate-700" data-testid="management-key-hint">{key.hint.clone()}</p>
                <p class="mt-1 flex flex-wrap gap-1">
                    {key.scopes.iter().map(|s| view! { <span class="rounded bg-indigo-50 px-1.5 py-0.5 font-mono text-xs text-indigo-800">{s.clone()}</span> }).collect_view()}
                </p>
                <p class="mt-2 text-xs text-slate-500">{facts}</p>
            </div>
            {works.then(|| view! {
                <Popover label="Revoke" danger=true>
                    <p class="text-sm text-slate-700">{prompt.clone()}</p>
                    <ActionForm action=revoke attr:class="mt-3">
                        <input type="hidden" name="slug" value=move || slug.get() />
                        <input type="hidden" name="key_id" value=id.clone() />
                        <SubmitButton label="Revoke management key" pending=revoke.pending() tone="danger" />
                    </ActionForm>
                </Popover>
            })}
        </li>
    }
}

/// The alerts on keys: what each one is, and the workspace's error-spike setting.
#[component]
fn KeyAlertsSection(page: ManagementPage, state: ManagementState) -> impl IntoView {
    let slug = use_slug();
    let value = state.spike.value();
    let spike = page.error_spike;
    view! {
        <section class="rounded-xl border border-slate-200 bg-white p-6 shadow-sm" aria-labelledby="key-alerts" data-testid="key-alerts">
            <h2 id="key-alerts" class="text-base font-semibold text-slate-900">"Alerts on keys"</h2>
            <p class="mt-1 text-sm text-slate-600">
                "Each alert is an audit entry, a notice on the Overview and a webhook event. "
                <span class="font-mono text-xs">"key.new_network"</span> ": a key or connector is used from a network (an IPv4 /24, an IPv6 /48) it had not used before, at most once an hour per key. "
                <span class="font-mono text-xs">"key.leaked"</span> ": a key was reported as found in public and revoked. "
                <span class="font-mono text-xs">"key.error_spike"</span> ": more of a key's calls failed than you allow below, at most once per window."
            </p>
            <ActionForm action=state.spike attr:class="mt-4 grid max-w-2xl gap-4 sm:grid-cols-3" attr:novalidate="">
                <input type="hidden" name="slug" value=move || slug.get() />
                <TextField name="percent" id="spike-percent" label="Failing calls above (%)" kind="number"
                    value=spike.percent.map(|p| p.to_string()).unwrap_or_default() hint="Empty: no error-spike alert."
                    error=field_error(value, "error_spike_percent") />
                <TextField name="window_minutes" id="spike-window" label="Over (minutes)" kind="number"
                    value=spike.window_minutes.to_string() hint="5 to 1440." error=field_error(value, "error_spike_window_minutes") />
                <TextField name="min_calls" id="spike-min-calls" label="Once it made (calls)" kind="number"
                    value=spike.min_calls.to_string() hint="So a single failed call is not a spike." error=field_error(value, "error_spike_min_calls") />
                <div class="flex items-center gap-3 sm:col-span-3">
                    <SubmitButton label="Save alert" pending=state.spike.pending() />
                    {move || matches!(value.get(), Some(Ok(_))).then(|| view! { <span role="status" class="text-sm text-emerald-700">"Saved."</span> })}
                </div>
                <div class="sm:col-span-3"><FormAlert value=value /></div>
            </ActionForm>
        </section>
    }
}
