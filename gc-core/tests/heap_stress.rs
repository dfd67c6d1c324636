//! Multi-threaded allocator stress test.
//!
//! Workload: 4 threads run a seeded random mix of operations on blocks of random sizes
//! (mostly small classes, some multi-page and some large spans, random alignments):
//! - allocate: fill the block with a pattern derived from (thread, sequence number) and
//!   record its byte range in a global interval map, which must not already contain any
//!   overlapping range (two live blocks never share a byte);
//! - free: check the block's pattern is intact, remove its range, free it;
//! - hand off: send a block to the next thread, which checks and frees it later (remote
//!   frees into spans that another thread's cache may be allocating from).
//!
//! At the end every block is freed, the heap's structural invariants are rechecked, and
//! every span has been returned to the page heap. Set `TRICOLOR_STRESS_OPS` for a longer run.

use std::collections::BTreeMap;
use std::ptr::NonNull;
use std::sync::mpsc;
use std::sync::Mutex;

use tricolor_gc_core::heap;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[derive(Debug)]
struct Block {
    addr: usize,
    size: usize,
    tag: u64,
}

static LIVE: Mutex<BTreeMap<usize, usize>> = Mutex::new(BTreeMap::new());

fn pattern(tag: u64, i: usize) -> u8 {
    (tag.wrapping_mul(31).wrapping_add(i as u64 * 7) >> 3) as u8
}

fn record(addr: usize, size: usize) {
    let mut live = LIVE.lock().expect("live map");
    if let Some((&start, &end)) = live.range(..addr + size).next_back() {
        assert!(
            end <= addr,
            "block [{addr:#x}, +{size}) overlaps live block [{start:#x}, {end:#x})"
        );
    }
    live.insert(addr, addr + size);
}

fn fill(block: &Block) {
    // SAFETY: the block is `size` writable bytes owned by this test.
    let bytes = unsafe { std::slice::from_raw_parts_mut(block.addr as *mut u8, block.size) };
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = pattern(block.tag, i);
    }
}

fn check_and_free(block: Block) {
    // SAFETY: the block is live and `size` bytes long.
    let bytes = unsafe { std::slice::from_raw_parts(block.addr as *const u8, block.size) };
    for (i, b) in bytes.iter().enumerate() {
        assert_eq!(
            *b,
            pattern(block.tag, i),
            "block {block:?} corrupted at byte {i}"
        );
    }
    assert_eq!(
        LIVE.lock().expect("live map").remove(&block.addr),
        Some(block.addr + block.size)
    );
    // SAFETY: allocated by `heap::alloc`, freed exactly once.
    unsafe { heap::free(NonNull::new(block.addr as *mut u8).expect("non-null")) };
}

fn random_size(rng: &mut Rng) -> (usize, usize) {
    let size = match rng.below(100) {
        0..=59 => 1 + rng.below(128) as usize,
        60..=89 => 1 + rng.below(2048) as usize,
        90..=97 => 1 + rng.below(32 * 1024) as usize,
        _ => 32 * 1024 + rng.below(200 * 1024) as usize,
    };
    let align = 1usize << rng.below(5); // 1..16
    (size, align)
}

#[test]
fn threads_allocate_and_free_random_sizes_without_overlap() {
    let ops: usize = std::env::var("TRICOLOR_STRESS_OPS")
        .ok()
        .map(|v| {
            v.parse()
                .expect("TRICOLOR_STRESS_OPS must be a positive integer")
        })
        .unwrap_or(60_000);
    const THREADS: usize = 4;
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..THREADS).map(|_| mpsc::channel::<Block>()).unzip();
    let handles: Vec<_> = receivers
        .into_iter()
        .enumerate()
        .map(|(t, inbox)| {
            let next = senders[(t + 1) % THREADS].clone();
            std::thread::spawn(move || {
                let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ ((t as u64 + 1) * 0x1234_5678));
                let mut mine: Vec<Block> = Vec::new();
                for seq in 0..ops {
                    match rng.below(10) {
                        0..=4 => {
                            let (size, align) = random_size(&mut rng);
                            let p = heap::alloc(size, align, rng.below(2) == 0).expect("alloc");
                            assert_eq!(p.as_ptr() as usize % align, 0);
                            let block = Block {
                                addr: p.as_ptr() as usize,
                                size,
                                tag: (t as u64) << 48 | seq as u64,
                            };
                            record(block.addr, block.size);
                            fill(&block);
                            mine.push(block);
                        }
                        5..=7 if !mine.is_empty() => {
                            let i = rng.below(mine.len() as u64) as usize;
                            check_and_free(mine.swap_remove(i));
                        }
                        8 if !mine.is_empty() => {
                            let i = rng.below(mine.len() as u64) as usize;
                            next.send(mine.swap_remove(i)).expect("neighbour alive");
                        }
                        _ => {
                            while let Ok(block) = inbox.try_recv() {
                                check_and_free(block);
                            }
                        }
                    }
                }
                drop(next);
                (mine, inbox)
            })
        })
        .collect();
    drop(senders);
    let results: Vec<_> = handles
        .into_iter()
        .map(|h| h.join().expect("stress thread"))
        .collect();
    for (mine, inbox) in results {
        for block in mine {
            check_and_free(block);
        }
        for block in inbox.try_iter() {
            check_and_free(block);
        }
    }
    assert!(LIVE.lock().expect("live map").is_empty());
    heap::flush_thread_cache();
    heap::check_invariants();
    // Only empty spans remain. (Not as `spans == empty_spans`: the census reads the
    // central lists and then the page map, and the background scavenger may return aged
    // empty spans in between, which made that form flaky. No span can become partial,
    // full or cached meanwhile, and the check below, after releasing every empty span,
    // finds any span that was not empty.)
    let census = heap::census();
    assert_eq!(
        (census.partial_spans, census.full_spans, census.cached_spans),
        (0, 0, 0),
        "only empty spans remain: {census:?}"
    );
    heap::release_empty_spans();
    let census = heap::census();
    assert_eq!(
        census.spans, 0,
        "every span returned to the page heap: {census:?}"
    );
    let totals = heap::totals();
    assert_eq!(totals.span_bytes, 0);
    assert_eq!(
        totals.in_use_bytes, 0,
        "in-use accounting returns to zero: {totals:?}"
    );
}
