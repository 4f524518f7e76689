//! Workspaces: creating, renaming, switching, members and roles, and isolation between tenants.

use crate::{
    both_engines,
    helpers::{Engine, error_json, spawn_app, unique_email},
};

both_engines!(
    create_and_switch_workspaces,
    workspace_names_are_validated,
    another_users_workspace_is_not_found,
    owners_manage_members_and_roles,
    members_and_admins_cannot_manage_members,
    the_last_owner_cannot_leave_or_be_demoted,
);

async fn create_and_switch_workspaces(engine: Engine) {
    let app = spawn_app(engine).await;
    let personal = app.sign_up(&unique_email("ida")).await;
    let res = app.call("/api/workspaces/create", &[("name", "Acme Production")]).await;
    assert_eq!(res.status(), 200);
    let second = crate::helpers::slug_of(&res);
    assert!(second.starts_with("acme-production-"), "{second}");

    let page = app.get(&format!("/w/{second}")).await.text().await.expect("html");
    assert!(page.contains("Acme Production"));
    // The switcher lists both workspaces, on either page.
    assert!(page.contains(&format!("/w/{personal}")) && page.contains(&format!("/w/{second}")));
    let page = app.get(&format!("/w/{personal}/settings")).await.text().await.expect("html");
    assert!(page.contains(&format!("/w/{second}")));

    let res = app.call("/api/workspaces/rename", &[("slug", &second), ("name", "Acme Staging")]).await;
    assert_eq!(res.status(), 200);
    let page = app.get(&format!("/w/{second}")).await.text().await.expect("html");
    assert!(page.contains("Acme Staging") && !page.contains("Acme Production"));
}

async fn workspace_names_are_validated(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("jon")).await;
    let long = "n".repeat(10_000);
    for name in ["", "   ", long.as_str()] {
        let res = app.call("/api/workspaces/create", &[("name", name)]).await;
        assert_eq!(res.status(), 422);
        assert_eq!(error_json(res).await["Field"]["field"], "name");
        let res = app.call("/api/workspaces/rename", &[("slug", &slug), ("name", name)]).await;
        assert_eq!(res.status(), 422);
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM workspaces").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM workspaces WHERE name LIKE 'nnn%' OR name = ''").await, 0);
}

async fn another_users_workspace_is_not_found(engine: Engine) {
    let app = spawn_app(engine).await;
    let theirs = app.sign_up(&unique_email("kim")).await;
    let me = app.other_client();
    let mine = me.sign_up(&unique_email("lee")).await;

    for path in [format!("/w/{theirs}"), format!("/w/{theirs}/settings"), "/w/does-not-exist".to_owned()] {
        let res = me.get(&path).await;
        assert_eq!(res.status(), 404, "{path}");
        assert!(!res.text().await.expect("html").contains("kim."), "nothing of theirs leaks on {path}");
    }
    for (endpoint, form) in [
        ("/api/workspaces/members", vec![("slug", theirs.as_str())]),
        ("/api/workspaces/rename", vec![("slug", theirs.as_str()), ("name", "Mine now")]),
        ("/api/workspaces/members/add", vec![("slug", theirs.as_str()), ("email", "x@example.com"), ("role", "owner")]),
    ] {
        let res = me.call(endpoint, &form).await;
        assert_eq!(res.status(), 404, "{endpoint}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM workspaces WHERE name = 'Mine now'").await, 0);
    assert_eq!(me.get(&format!("/w/{mine}")).await.status(), 200);
}

async fn owners_manage_members_and_roles(engine: Engine) {
    let app = spawn_app(engine).await;
    let owner_slug = app.sign_up(&unique_email("max")).await;
    let member = app.other_client();
    let member_email = unique_email("ned");
    member.sign_up(&member_email).await;

    let res = app
        .call(
            "/api/workspaces/members/add",
            &[("slug", &owner_slug), ("email", "ghost@example.com"), ("role", "member")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(error_json(res).await["Field"]["message"].as_str().unwrap_or_default().contains("sign up first"));

    let res = app
        .call("/api/workspaces/members/add", &[("slug", &owner_slug), ("email", &member_email), ("role", "admin")])
        .await;
    assert_eq!(res.status(), 200);
    let added: serde_json::Value = res.json().await.expect("json");
    assert_eq!(added["role"], "admin");
    let user_id = added["user_id"].as_str().expect("id").to_owned();

    let res = app
        .call("/api/workspaces/members/add", &[("slug", &owner_slug), ("email", &member_email), ("role", "member")])
        .await;
    assert_eq!(res.status(), 422, "adding twice is refused");

    // The new member now sees the workspace.
    assert_eq!(member.get(&format!("/w/{owner_slug}")).await.status(), 200);

    let res = app
        .call("/api/workspaces/members/role", &[("slug", &owner_slug), ("user_id", &user_id), ("role", "member")])
        .await;
    assert_eq!(res.status(), 200);
    let res = app
        .call("/api/workspaces/members/role", &[("slug", &owner_slug), ("user_id", &user_id), ("role", "emperor")])
        .await;
    assert_eq!(res.status(), 422);
    let members: serde_json::Value =
        app.call("/api/workspaces/members", &[("slug", &owner_slug)]).await.json().await.expect("json");
    let roles: Vec<_> =
        members.as_array().expect("list").iter().map(|m| m["role"].as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(roles, ["owner", "member"]);

    let res = app.call("/api/workspaces/members/remove", &[("slug", &owner_slug), ("user_id", &user_id)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(member.get(&format!("/w/{owner_slug}")).await.status(), 404);
}

async fn members_and_admins_cannot_manage_members(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("oli")).await;
    let admin = app.other_client();
    let admin_email = unique_email("pam");
    admin.sign_up(&admin_email).await;
    let res =
        app.call("/api/workspaces/members/add", &[("slug", &slug), ("email", &admin_email), ("role", "admin")]).await;
    assert_eq!(res.status(), 200);
    let members: serde_json::Value =
        admin.call("/api/workspaces/members", &[("slug", &slug)]).await.json().await.expect("json");
    let owner_id = members[0]["user_id"].as_str().expect("owner id").to_owned();
    let admin_id = members[1]["user_id"].as_str().expect("admin id").to_owned();

    let res = admin
        .call("/api/workspaces/members/role", &[("slug", &slug), ("user_id", &owner_id), ("role", "member")])
        .await;
    assert_eq!(res.status(), 403);
    assert!(error_json(res).await["Forbidden"].as_str().unwrap_or_default().contains("Only an owner"));
    let res =
        admin.call("/api/workspaces/members/role", &[("slug", &slug), ("user_id", &admin_id), ("role", "owner")]).await;
    assert_eq!(res.status(), 403, "no promoting yourself");
    let res = admin.call("/api/workspaces/rename", &[("slug", &slug), ("name", "Taken over")]).await;
    assert_eq!(res.status(), 403);
    let res = admin.call("/api/workspaces/members/remove", &[("slug", &slug), ("user_id", &owner_id)]).await;
    assert_eq!(res.status(), 403);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM memberships WHERE role = 'owner'").await,
        2,
        "two personal workspaces, one owner each"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM workspaces WHERE name = 'Taken over'").await, 0);

    // The settings page shows a non-owner no controls to change roles.
    let html = admin.get(&format!("/w/{slug}/settings")).await.text().await.expect("html");
    assert!(!html.contains("Change role") && !html.contains("Add a member"));
    assert!(html.contains("Only an owner can rename"));
}

async fn the_last_owner_cannot_leave_or_be_demoted(engine: Engine) {
    let app = spawn_app(engine).await;
    let slug = app.sign_up(&unique_email("quin")).await;
    let members: serde_json::Value =
        app.call("/api/workspaces/members", &[("slug", &slug)]).await.json().await.expect("json");
    let me = members[0]["user_id"].as_str().expect("id").to_owned();

    let res = app.call("/api/workspaces/members/role", &[("slug", &slug), ("user_id", &me), ("role", "admin")]).await;
    assert_eq!(res.status(), 409);
    assert!(error_json(res).await["Conflict"].as_str().unwrap_or_default().contains("last owner"));
    let res = app.call("/api/workspaces/members/remove", &[("slug", &slug), ("user_id", &me)]).await;
    assert_eq!(res.status(), 409);
    assert_eq!(app.count("SELECT COUNT(*) FROM memberships WHERE role = 'owner'").await, 1);

    // With a second owner, the first may leave.
    let other = app.other_client();
    let other_email = unique_email("ray");
    other.sign_up(&other_email).await;
    app.call("/api/workspaces/members/add", &[("slug", &slug), ("email", &other_email), ("role", "owner")]).await;
    let res = app.call("/api/workspaces/members/remove", &[("slug", &slug), ("user_id", &me)]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["location"], "/");
    assert_eq!(app.get(&format!("/w/{slug}")).await.status(), 404);
}
