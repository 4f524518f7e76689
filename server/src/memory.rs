//! How the process keeps its memory small: small pages, one C allocator arena, free pages returned.
//!
//! mimalloc advises the kernel to back the regions it maps with transparent huge pages
//! (`MADV_HUGEPAGE`). A 2 MiB page stays resident while any part of it is in use, and the kernel's
//! `khugepaged` may merge partly used ranges back into huge pages, so memory the allocator has
//! handed back can stay in, or return to, the resident set. Under the ten-minute mixed load the
//! process's huge pages moved with its memory in 2 MiB steps; with them switched off it held about
//! 13 MB less at the same throughput (docs/benchmarks.md, "Session 9").
//!
//! SQLite's allocations do not go through mimalloc but through the C library's `malloc`, which
//! gives each thread that allocates its own arena, and SQLite's connections each run on a thread
//! of their own. Under the same load SQLite's live memory stays level (about 7 MB) while fourteen
//! arenas kept growing around the holes it left, about half a megabyte a minute for twenty minutes,
//! whether or not they were trimmed. With one arena for every thread ([`one_c_arena`]) they stop
//! growing within minutes, at the same throughput (docs/benchmarks.md, "Session 10"); once a
//! minute glibc is asked to return that arena's whole free pages ([`trim_periodically`]).

use std::time::Duration;

/// How often glibc is asked to return its arenas' free pages.
pub const TRIM_EVERY: Duration = Duration::from_secs(60);

/// Switches transparent huge pages off for this process (and what it starts). Call it first thing
/// in `main`, before much is allocated. Where the kernel refuses, nothing else changes.
pub fn keep_pages_small() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("warning: could not switch transparent huge pages off ({e}); memory may grow in 2 MiB steps");
    }
}

/// Makes every thread allocate from the C library's one main arena instead of an arena per
/// thread. Call it first thing in `main`, before other threads start.
pub fn one_c_arena() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if !glibc::one_arena() {
        eprintln!(
            "warning: could not limit the C library's allocator to one arena; SQLite's memory may grow slowly under load"
        );
    }
}

/// Every [`TRIM_EVERY`], returns glibc's free pages to the kernel, on a blocking thread: the call
/// holds each arena's lock while it walks that arena, and must not hold up an async worker.
pub async fn trim_periodically() {
    let mut every = tokio::time::interval_at(tokio::time::Instant::now() + TRIM_EVERY, TRIM_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        // A failed join only means the runtime is shutting down.
        let _ = tokio::task::spawn_blocking(return_free_pages).await;
    }
}

/// Asks the C library to give every whole free page of its arenas back to the kernel; true when
/// it released any. Elsewhere than glibc there is no such call, and nothing happens.
pub fn return_free_pages() -> bool {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        glibc::trim()
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        false
    }
}

/// The code base's only `unsafe` code (the workspace denies `unsafe_code` everywhere else).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod glibc {
    pub fn trim() -> bool {
        // SAFETY: `malloc_trim` takes no pointer and reads no memory of ours; glibc takes each
        // arena's own lock while it walks it, so it may run beside allocations on any thread.
        unsafe { libc::malloc_trim(0) == 1 }
    }

    pub fn one_arena() -> bool {
        // SAFETY: `mallopt` takes two integers; glibc applies the setting under its own lock.
        unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) == 1 }
    }
}

#[cfg(all(test, target_os = "linux", target_env = "gnu"))]
mod tests {
    use super::*;

    /// This process's anonymous resident memory, in KiB (`RssAnon` in `/proc/self/status`).
    fn rss_anon_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        status
            .lines()
            .find_map(|line| line.strip_prefix("RssAnon:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("RssAnon")
    }

    /// Unit tests run on glibc's allocator (mimalloc is the binary's alone). Fill an arena with
    /// small blocks, free all but one in 64, and the arena keeps the pages between them resident
    /// until it is trimmed.
    #[test]
    fn free_pages_between_live_blocks_go_back_to_the_kernel() {
        let freed = std::thread::spawn(|| {
            let mut blocks: Vec<Vec<u8>> = (0..64 * 1024).map(|i| vec![i as u8; 1000]).collect();
            let kept: Vec<Vec<u8>> = blocks.iter_mut().step_by(64).map(std::mem::take).collect();
            drop(blocks);
            let before = rss_anon_kib();
            let released = return_free_pages();
            let after = rss_anon_kib();
            drop(kept);
            (released, before.saturating_sub(after))
        })
        .join()
        .expect("the allocating thread");
        let (released, freed_kib) = freed;
        assert!(released, "glibc released nothing");
        // About 62 MiB lies free between the kept blocks; most of it must leave.
        assert!(freed_kib > 32 * 1024, "only {freed_kib} KiB left the resident set");
    }
}
