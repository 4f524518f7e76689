//! The sign-in and sign-up pages. Both are plain forms that post to server functions, so they
//! work before the wasm has loaded; the error comes back beside the field either way.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::auth::{SignIn, SignUp},
    components::{FormAlert, SubmitButton, TextField, field_error},
};

/// The centred card both pages sit in.
#[component]
fn AuthCard(#[prop(into)] title: String, #[prop(into)] subtitle: String, children: Children) -> impl IntoView {
    view! {
        <main class="flex min-h-screen items-center justify-center bg-gradient-to-b from-slate-50 to-indigo-50/60 px-4 py-12">
            <div class="w-full max-w-md">
                <div class="mb-8 flex items-center justify-center gap-2">
                    <span aria-hidden="true" class="grid h-9 w-9 place-items-center rounded-xl bg-indigo-600 text-lg font-bold text-white">"G"</span>
                    <span class="text-xl font-semibold text-slate-900">"Gatehouse"</span>
                </div>
                <div class="rounded-2xl border border-slate-200 bg-white p-6 shadow-sm sm:p-8">
                    <h1 class="text-xl font-semibold text-slate-900">{title}</h1>
                    <p class="mt-1 text-sm text-slate-600">{subtitle}</p>
                    <div class="mt-6">{children()}</div>
                </div>
            </div>
        </main>
    }
}

#[component]
pub fn SignInPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    let value = action.value();
    let query = use_query_map();
    let next = move || query.read().get("next");
    view! {
        <Title text="Sign in · Gatehouse" />
        <AuthCard title="Sign in" subtitle="Welcome back. Sign in to manage keys, connectors and usage.">
            <ActionForm action=action attr:class="space-y-4" attr:novalidate="">
                <FormAlert value=value />
                <input type="hidden" name="next" value=next />
                <TextField name="email" label="Email" kind="email" autocomplete="email" required=true autofocus=true maxlength=254usize error=field_error(value, "email") />
                <TextField name="password" label="Password" kind="password" autocomplete="current-password" required=true error=field_error(value, "password") />
                <div class="pt-2">
                    <SubmitButton label="Sign in" pending=action.pending() />
                </div>
            </ActionForm>
            <p class="mt-6 text-sm text-slate-600">
                "New to Gatehouse? " <a href=move || next().map(|n| format!("/signup?next={}", crate::pages::dashboard::urlencode(&n))).unwrap_or_else(|| "/signup".into()) class="font-medium text-indigo-700 underline-offset-2 hover:underline">"Create an account"</a>
            </p>
        </AuthCard>
    }
}

#[component]
pub fn SignUpPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let value = action.value();
    let query = use_query_map();
    let next = move || query.read().get("next");
    view! {
        <Title text="Create your account · Gatehouse" />
        <AuthCard title="Create your account" subtitle="You get a personal workspace right away; invite your team later.">
            <ActionForm action=action attr:class="space-y-4" attr:novalidate="">
                <FormAlert value=value />
                <input type="hidden" name="next" value=next />
                <TextField name="email" label="Email" kind="email" autocomplete="email" required=true autofocus=true maxlength=254usize error=field_error(value, "email") />
                <TextField name="password" label="Password" kind="password" autocomplete="new-password" required=true hint="At least 12 characters. A few unrelated words make a strong one." error=field_error(value, "password") />
                <div class="pt-2">
                    <SubmitButton label="Create account" pending=action.pending() />
                </div>
            </ActionForm>
            <p class="mt-6 text-sm text-slate-600">
                "Already have an account? " <a href="/signin" class="font-medium text-indigo-700 underline-offset-2 hover:underline">"Sign in"</a>
            </p>
        </AuthCard>
    }
}
