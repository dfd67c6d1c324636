//! The main job until the pause-time harness lands: drive the span allocator through a
//! few hundred MiB of allocation on two threads and print what it did.
//!
//! Each thread keeps a live set of 32 MiB of small blocks (16..=256 bytes), then churns:
//! it allocates 384 MiB more in total while freeing a random live block for each new one,
//! so the live set stays constant while memory flows through the thread caches, the
//! central lists and the page heap. At the end everything is freed and the heap is asked
//! to give the memory back.
//!
//! Run: `cargo run --release --example alloc_stats`

use std::time::Instant;

use tricolor_gc_core::{heap, process_peak_rss_bytes, process_rss_bytes};

const MIB: usize = 1 << 20;
const LIVE_BYTES_PER_THREAD: usize = 32 * MIB;
const CHURN_BYTES_PER_THREAD: usize = 384 * MIB;

fn mib(bytes: usize) -> f64 {
    bytes as f64 / MIB as f64
}

fn worker(seed: u64) -> (usize, usize) {
    let mut rng = seed;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut live: Vec<(std::ptr::NonNull<u8>, usize)> = Vec::new();
    let mut live_bytes = 0;
    let mut allocations = 0;
    while live_bytes < LIVE_BYTES_PER_THREAD {
        let size = 16 + (next() % 241) as usize;
        let p = heap::alloc(size, 8, true).expect("alloc");
        // SAFETY: `size` writable bytes owned by this thread.
        unsafe { p.as_ptr().write_bytes(size as u8, size) };
        live.push((p, size));
        live_bytes += size;
        allocations += 1;
    }
    let mut churned = 0;
    while churned < CHURN_BYTES_PER_THREAD {
        let victim = (next() % live.len() as u64) as usize;
        let (old, old_size) = live[victim];
        // SAFETY: a live block of `old_size` bytes.
        let last = unsafe { *old.as_ptr().add(old_size - 1) };
        assert_eq!(last, old_size as u8, "block corrupted");
        // SAFETY: allocated by `heap::alloc`, freed once.
        unsafe { heap::free(old) };
        let size = 16 + (next() % 241) as usize;
        let p = heap::alloc(size, 8, true).expect("alloc");
        // SAFETY: `size` writable bytes owned by this thread.
        unsafe { p.as_ptr().write_bytes(size as u8, size) };
        live[victim] = (p, size);
        churned += size;
        allocations += 1;
    }
    let peak = heap::totals();
    for (p, _) in live {
        // SAFETY: allocated by `heap::alloc`, freed once.
        unsafe { heap::free(p) };
    }
    (allocations, peak.span_bytes)
}

fn main() {
    let rss_start = process_rss_bytes().unwrap_or(0);
    let started = Instant::now();
    let threads: Vec<_> = (0..2u64)
        .map(|t| std::thread::spawn(move || worker(0x2545_F491 + t)))
        .collect();
    let results: Vec<(usize, usize)> = threads
        .into_iter()
        .map(|t| t.join().expect("worker"))
        .collect();
    let elapsed = started.elapsed();
    let allocations: usize = results.iter().map(|r| r.0).sum();
    let peak_spans = results.iter().map(|r| r.1).max().unwrap_or(0);
    let rss_peak = process_peak_rss_bytes().unwrap_or(0);
    let after_free = heap::totals();
    let released = heap::scavenge(0);
    let end = heap::totals();
    let rss_end = process_rss_bytes().unwrap_or(0);

    println!(
        "tricolor-gc allocator demo: 2 threads, live set {} MiB each, {} MiB churn each",
        LIVE_BYTES_PER_THREAD / MIB,
        CHURN_BYTES_PER_THREAD / MIB
    );
    println!("  allocations           {allocations}");
    println!("  wall time             {:.3} s", elapsed.as_secs_f64());
    println!(
        "  rate                  {:.1} M allocs/s (alloc + free + touch)",
        allocations as f64 / elapsed.as_secs_f64() / 1e6
    );
    println!("  span bytes at peak    {:.1} MiB", mib(peak_spans));
    println!("  mapped                {:.1} MiB", mib(end.mapped_bytes));
    println!(
        "  after free: in use    {:.1} MiB, spans {:.1} MiB, free {:.1} MiB",
        mib(after_free.in_use_bytes),
        mib(after_free.span_bytes),
        mib(after_free.free_bytes)
    );
    println!(
        "  released to OS        {:.1} MiB (this call {:.1} MiB)",
        mib(end.released_bytes),
        mib(released)
    );
    println!(
        "  RSS start / peak / end {:.1} / {:.1} / {:.1} MiB",
        mib(rss_start),
        mib(rss_peak),
        mib(rss_end)
    );
    heap::check_invariants();
    println!("  heap invariants       ok");
}
