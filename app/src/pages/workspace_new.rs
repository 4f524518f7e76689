//! Creating a workspace.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::{auth::me, workspaces::CreateWorkspace},
    components::{FormAlert, GoTo, SubmitButton, TextField, field_error},
};

#[component]
pub fn NewWorkspacePage() -> impl IntoView {
    let user = Resource::new(|| (), |_| me());
    let action = ServerAction::<CreateWorkspace>::new();
    let value = action.value();
    view! {
        <Title text="Create a workspace · Gatehouse" />
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(_)) => view! {
                        <main class="flex min-h-screen items-start justify-center bg-slate-50 px-4 py-16">
                            <div class="w-full max-w-lg rounded-2xl border border-slate-200 bg-white p-6 shadow-sm sm:p-8">
                                <h1 class="text-xl font-semibold text-slate-900">"Create a workspace"</h1>
                                <p class="mt-1 text-sm text-slate-600">"A workspace holds its own keys, connectors, usage and members. You will be its owner."</p>
                                <ActionForm action=action attr:class="mt-6 space-y-4" attr:novalidate="">
                                    <FormAlert value=value />
                                    <TextField name="name" label="Workspace name" required=true autofocus=true maxlength=80usize placeholder="Acme production" error=field_error(value, "name") />
                                    <div class="flex items-center gap-3 pt-2">
                                        <SubmitButton label="Create workspace" pending=action.pending() />
                                        <a href="/" class="text-sm text-slate-600 hover:underline">"Cancel"</a>
                                    </div>
                                </ActionForm>
                            </div>
                        </main>
                    }
                        .into_any(),
                    _ => view! { <GoTo path="/signin?next=/workspaces/new" /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
