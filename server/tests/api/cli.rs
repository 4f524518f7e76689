//! The `gatehouse` binary's command line.

use std::process::Command;

fn gatehouse() -> Command {
    Command::new(env!("CARGO_BIN_EXE_gatehouse"))
}

#[test]
fn help_documents_every_subcommand_and_option() {
    let out = gatehouse().arg("--help").output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    for word in ["serve", "migrate", "--database-url", "DATABASE_URL"] {
        assert!(text.contains(word), "--help lacks {word}:\n{text}");
    }
    let out = gatehouse().args(["serve", "--help"]).output().expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    for word in ["GATEHOUSE_ADDR", "GATEHOUSE_PUBLIC_URL", "127.0.0.1:3000"] {
        assert!(text.contains(word), "serve --help lacks {word}:\n{text}");
    }
}

#[test]
fn migrate_creates_and_migrates_an_sqlite_file() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/nested/g.db", dir.path().display());
    let out = gatehouse().arg("migrate").env("DATABASE_URL", &url).output().expect("run");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(dir.path().join("nested/g.db").exists());
    // Running it again is a no-op.
    let out = gatehouse().arg("migrate").env("DATABASE_URL", &url).output().expect("run");
    assert!(out.status.success());
}

#[test]
fn bad_configuration_is_a_clear_error() {
    let out = gatehouse().args(["serve"]).env("GATEHOUSE_ADDR", "not-an-address").output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("GATEHOUSE_ADDR"));
    let out = gatehouse().arg("migrate").env("DATABASE_URL", "mysql://x/y").output().expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("sqlite: or postgres://"));
}
