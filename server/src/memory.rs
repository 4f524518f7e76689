//! How the process asks the kernel for memory: small pages only, so that freed memory can leave.
//!
//! mimalloc advises the kernel to back the regions it maps with transparent huge pages
//! (`MADV_HUGEPAGE`). A 2 MiB page stays resident while any part of it is in use, and the kernel's
//! `khugepaged` may merge partly used ranges back into huge pages, so memory the allocator has
//! handed back can stay in, or return to, the resident set. Under the ten-minute mixed load the
//! process's huge pages moved with its memory in 2 MiB steps; with them switched off it held about
//! 13 MB less at the same throughput (docs/benchmarks.md, "Session 9").

/// Switches transparent huge pages off for this process (and what it starts). Call it first thing
/// in `main`, before much is allocated. Where the kernel refuses, nothing else changes.
pub fn keep_pages_small() {
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("warning: could not switch transparent huge pages off ({e}); memory may grow in 2 MiB steps");
    }
}
