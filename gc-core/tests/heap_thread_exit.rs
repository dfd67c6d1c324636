//! Thread exit returns a thread cache's spans to the central lists: 8 short-lived threads
//! allocate from many size classes, keep some objects alive and exit; afterwards no span
//! is stranded in a dead cache, the registry is back to its baseline, the survivors are
//! still intact and freeable from another thread, and their memory is reused.
//!
//! One test per binary: it reads process-wide counts.

use tricolor_gc_core::heap;

const SIZES: [usize; 10] = [8, 16, 48, 100, 256, 700, 1024, 4000, 9000, 30000];

#[test]
fn exiting_threads_return_their_spans() {
    heap::flush_thread_cache();
    let baseline = heap::census();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            std::thread::spawn(move || {
                let mut kept = Vec::new();
                for (i, &size) in SIZES.iter().enumerate() {
                    for n in 0..50 {
                        let p = heap::alloc(size, 8, n % 2 == 0).expect("alloc");
                        let tag = (t * 16 + i) as u8;
                        // SAFETY: `size` writable bytes, ours.
                        unsafe { p.as_ptr().write_bytes(tag, size) };
                        if n % 5 == 0 {
                            kept.push((p.as_ptr() as usize, size, tag));
                        } else {
                            // SAFETY: allocated above, freed once.
                            unsafe { heap::free(p) };
                        }
                    }
                }
                assert!(heap::census().spans_cached_here > 0);
                kept
            })
        })
        .collect();
    let kept: Vec<(usize, usize, u8)> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("thread"))
        .collect();
    let after = heap::census();
    assert_eq!(
        after.thread_caches, baseline.thread_caches,
        "every exited thread unregistered its cache"
    );
    assert_eq!(
        after.cached_spans, 0,
        "no span is stranded in a dead thread's cache"
    );
    heap::check_invariants();
    // Survivors are intact; free them from this thread (remote frees).
    for &(addr, size, tag) in &kept {
        // SAFETY: the object is allocated and `size` bytes long.
        let bytes = unsafe { core::slice::from_raw_parts(addr as *const u8, size) };
        assert!(
            bytes.iter().all(|b| *b == tag),
            "object at {addr:#x} corrupted"
        );
        // SAFETY: allocated by an exited thread, freed once here.
        unsafe { heap::free(core::ptr::NonNull::new(addr as *mut u8).expect("non-null")) };
    }
    heap::check_invariants();
    let drained = heap::census();
    assert_eq!(
        drained.spans,
        drained.partial_spans + drained.full_spans + drained.empty_spans + drained.cached_spans
    );
    assert_eq!(
        drained.spans, drained.empty_spans,
        "every span was emptied: {drained:?}"
    );
    heap::release_empty_spans();
    assert_eq!(
        heap::census().spans,
        0,
        "every empty span went back to the page heap"
    );
    // The freed memory is reused, not grown.
    let mapped = heap::totals().mapped_bytes;
    std::thread::spawn(|| {
        for &size in &SIZES {
            for _ in 0..50 {
                heap::alloc(size, 8, true).expect("alloc");
            }
        }
    })
    .join()
    .expect("thread");
    assert_eq!(
        heap::totals().mapped_bytes,
        mapped,
        "no new arena was needed"
    );
    heap::check_invariants();
}
