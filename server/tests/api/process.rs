//! The real `gatehouse` binary in a process of its own, for what only a process can show: what a
//! `kill -9` leaves behind, and resident memory under load.

use std::{
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::Duration,
};

use crate::helpers::{Engine, TestApp};

pub struct Process {
    child: Child,
    pub app: TestApp,
    log: PathBuf,
    _log_dir: tempfile::TempDir,
}

impl Process {
    /// Starts `gatehouse serve` on a free port against `database_url`, with extra environment.
    pub async fn start(engine: Engine, database_url: &str, env: &[(&str, &str)]) -> Process {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
        Process::start_on(port, engine, database_url, env).await
    }

    /// The same on a given port (a restart keeps its public URL, which access tokens name).
    pub async fn start_on(port: u16, engine: Engine, database_url: &str, env: &[(&str, &str)]) -> Process {
        let log_dir = tempfile::tempdir().expect("log dir");
        let log = log_dir.path().join("gatehouse.log");
        // GATEHOUSE_TEST_BINARY runs another build (the release one, for the long mixed load).
        let binary = std::env::var("GATEHOUSE_TEST_BINARY").unwrap_or_else(|_| env!("CARGO_BIN_EXE_gatehouse").into());
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("GATEHOUSE_ADDR", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"));
        let child = command.spawn().expect("start gatehouse");
        let base = format!("http://127.0.0.1:{port}");
        let app = TestApp::running_at(base, engine, database_url).await;
        let mut process = Process { child, app, log, _log_dir: log_dir };
        for _ in 0..300 {
            if let Ok(res) = process.app.client.get(process.app.url("/healthz")).send().await
                && res.status() == 200
            {
                return process;
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                panic!("gatehouse exited ({status}) at start:\n{}", process.log());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("gatehouse did not answer within 30 s:\n{}", process.log());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn port(&self) -> u16 {
        self.app.base.rsplit(':').next().and_then(|p| p.parse().ok()).unwrap_or(0)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Resident memory in KiB, from /proc.
    pub fn rss_kib(&self) -> u64 {
        self.status_field("VmRSS").and_then(|n| n.parse().ok()).unwrap_or(0)
    }

    /// The process's memory mappings (`/proc/<pid>/maps`), empty if it cannot be read.
    pub fn maps(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/maps", self.child.id())).unwrap_or_default()
    }

    /// The first word of a field of `/proc/<pid>/status`, such as `VmRSS` or `THP_enabled`.
    pub fn status_field(&self, name: &str) -> Option<String> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next())
            .map(str::to_owned)
    }

    /// `kill -9`: no shutdown, no flush.
    pub fn kill_hard(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// SIGTERM, then waits for the graceful shutdown (requests finished, counts flushed).
    pub fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().expect("kill -TERM");
        self.child.wait().expect("wait for the shutdown")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
