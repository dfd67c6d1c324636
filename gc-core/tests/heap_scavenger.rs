//! The background scavenger returns free pages to the OS so that resident memory follows
//! the live heap down: allocate and touch 256 MiB, free it, and wait (bounded) for the
//! scavenger thread to release everything above its retain bound. Checked three ways: the
//! heap's own released-bytes total, the retained free memory against the bound, and the
//! process RSS from /proc.
//!
//! One test per binary: it reads process-wide totals and RSS.

use std::time::{Duration, Instant};

use tricolor_gc_core::{heap, process_rss_bytes};

const MIB: usize = 1 << 20;

#[test]
fn freed_memory_is_released_in_the_background() {
    let rss_start = process_rss_bytes().expect("/proc/self/statm");
    let blocks: Vec<_> = (0..256)
        .map(|_| {
            let p = heap::alloc(MIB, 8, false).expect("1 MiB");
            // SAFETY: 1 MiB writable bytes, ours.
            unsafe { p.as_ptr().write_bytes(0xEE, MIB) };
            p
        })
        .collect();
    let rss_full = process_rss_bytes().expect("statm");
    assert!(
        rss_full >= rss_start + 200 * MIB,
        "touching 256 MiB raised RSS: {rss_start} -> {rss_full}"
    );
    for p in blocks {
        // SAFETY: allocated above, freed once.
        unsafe { heap::free(p) };
    }
    // The scavenger was woken by the frees; give it up to 20 s (it normally needs well
    // under a second). This bounds a liveness wait; it does not time the scavenger.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let t = heap::totals();
        let resident_free = t.free_bytes - t.released_bytes;
        if resident_free <= 8 * MIB + t.span_bytes / 8 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "scavenger did not release free memory: {t:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let t = heap::totals();
    assert!(
        t.released_bytes >= 240 * MIB,
        "released {} bytes",
        t.released_bytes
    );
    let rss_end = process_rss_bytes().expect("statm");
    assert!(
        rss_end < rss_start + 40 * MIB,
        "RSS follows the heap down: start {rss_start}, full {rss_full}, end {rss_end}"
    );
    heap::check_invariants();
    // Reuse: the released pages serve new allocations without mapping more.
    let mapped = t.mapped_bytes;
    let again: Vec<_> = (0..128)
        .map(|_| heap::alloc(MIB, 8, false).expect("1 MiB"))
        .collect();
    assert_eq!(heap::totals().mapped_bytes, mapped);
    assert!(
        heap::totals().released_bytes <= t.released_bytes - 100 * MIB,
        "reused pages lost their released mark"
    );
    for p in again {
        // SAFETY: allocated above, freed once.
        unsafe { heap::free(p) };
    }
    heap::check_invariants();
}
