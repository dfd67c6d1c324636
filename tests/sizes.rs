//! Every size class, and large objects, through `Gc::new` on several threads while cycles
//! and count-zero reclamation run (issue #9, DESIGN §9).
//!
//! Workload: 3 mutator threads, 2 threads that only spin (so that more threads are busy
//! than the machine has cores: races hide on an idle machine), and one thread that calls
//! `gc::collect()` every 20 ms; automatic cycles run too (GC percent 50), and the collector
//! thread frees count-zero objects between cycles. Each mutator walks every size class a
//! `Gc` can land in (16 B to 32 KiB) plus three large sizes, in three type shapes:
//! - `Plain`: bytes only (a noscan span, no drop glue);
//! - `Noisy`: bytes and a drop token (noscan, with drop glue);
//! - `Linked`: bytes, a drop token and a `GcCell` handle (scanned; pairs of them form
//!   cycles, which only tracing can free).
//!
//! Per size it allocates short-lived objects (dropped at once: most die by their count
//! reaching zero, the cyclic pairs by tracing) and replaces entries of a per-thread set of
//! long-lived ones, some of which move to another thread through a shared exchange (so
//! they are dropped, and their slots freed, on a thread whose cache does not own the
//! span). Every object's bytes are a pattern of its id, checked byte for byte whenever it
//! is read and before it is dropped. At the end every drop token must have been dropped
//! exactly once, every size class must have been seen, and `stats().heap_objects` must be
//! back at its baseline.
//!
//! On the main of 2026-12-01 this aborted within a second ("a span with free slots had no
//! free slot") or died of SIGSEGV in the count pass (docs/allocator.md, "Span lifecycle").
//!
//! `TRICOLOR_SIZES_ROUNDS` sets the number of passes over the sizes (default 4).

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Barrier, Mutex};
use std::time::Duration;

use common::ledger::{Ledger, Token};
use common::rng::{mix, Rng};
use gc::{Gc, GcCell, Trace};

const MUTATORS: usize = 3;
const SPINNERS: usize = 2;
/// Long-lived objects each mutator keeps.
const KEEP: usize = 48;

/// The byte at `index` of object `id`'s pattern.
#[inline]
fn pattern(id: u64, index: usize) -> u8 {
    (mix(id) >> ((index % 8) * 8)) as u8 ^ (index / 8) as u8
}

fn fill<const N: usize>(id: u64) -> [u8; N] {
    core::array::from_fn(|i| pattern(id, i))
}

fn check_bytes(id: u64, bytes: &[u8], what: &str) {
    for (i, &b) in bytes.iter().enumerate() {
        assert_eq!(
            b,
            pattern(id, i),
            "{what} {id}: byte {i} of {} corrupted",
            bytes.len()
        );
    }
}

/// Bytes only: no `Gc` inside (a noscan span), no drop glue.
#[derive(Trace)]
struct Plain<const N: usize> {
    id: u64,
    bytes: [u8; N],
}

/// Bytes and a drop token: noscan, with drop glue.
#[derive(Trace)]
struct Noisy<const N: usize> {
    #[gc(skip)]
    token: Token,
    bytes: [u8; N],
}

/// Bytes, a drop token and a handle: scanned, with drop glue, can form cycles.
#[derive(Trace)]
struct Linked<const N: usize> {
    #[gc(skip)]
    token: Token,
    next: GcCell<Option<Gc<Linked<N>>>>,
    bytes: [u8; N],
}

/// Payload bytes that make `GcBox<Plain<N>>` exactly `class` bytes (header 16, id 8).
const fn plain_n(class: usize) -> usize {
    class.saturating_sub(16 + core::mem::size_of::<Plain<0>>())
}
const fn noisy_n(class: usize) -> usize {
    class.saturating_sub(16 + core::mem::size_of::<Noisy<0>>())
}
const fn linked_n(class: usize) -> usize {
    class.saturating_sub(16 + core::mem::size_of::<Linked<0>>())
}

/// A long-lived object of any shape and size, checked on demand.
trait Check: Send {
    fn verify(&self);
}

impl<const N: usize> Check for Gc<Plain<N>> {
    fn verify(&self) {
        check_bytes(self.id, &self.bytes, "Plain");
    }
}

impl<const N: usize> Check for Gc<Noisy<N>> {
    fn verify(&self) {
        let id = self.token.id;
        assert!(!ledger().is_dropped(id), "Noisy {id} used after its drop");
        check_bytes(id, &self.bytes, "Noisy");
    }
}

impl<const N: usize> Check for Gc<Linked<N>> {
    fn verify(&self) {
        verify_linked(self);
        if let Some(next) = self.next.borrow().as_ref() {
            verify_linked(next);
        }
    }
}

fn verify_linked<const N: usize>(node: &Linked<N>) {
    let id = node.token.id;
    assert!(!ledger().is_dropped(id), "Linked {id} used after its drop");
    check_bytes(id, &node.bytes, "Linked");
}

fn ledger() -> &'static Ledger {
    static LEDGER: std::sync::OnceLock<&'static Ledger> = std::sync::OnceLock::new();
    LEDGER.get_or_init(|| Ledger::new(1 << 26))
}

/// Ids of `Plain` objects (which have no drop token).
static PLAIN_IDS: AtomicU64 = AtomicU64::new(0);
/// Slot sizes seen, per shape (0 Plain, 1 Noisy, 2 Linked, 3 unit).
static SEEN: Mutex<[Vec<usize>; 4]> = Mutex::new([Vec::new(), Vec::new(), Vec::new(), Vec::new()]);
/// Objects that moved between threads.
static EXCHANGE: Mutex<Vec<Box<dyn Check>>> = Mutex::new(Vec::new());

fn slot_bytes<T>(object: &Gc<T>) -> usize {
    // One byte before the value is inside the header, so inside the slot even for a
    // zero-sized value (which ends its slot).
    gc::__core::heap::lookup(Gc::as_ptr(object) as usize - 1)
        .expect("a live Gc is inside an allocated heap object")
        .slot_bytes()
}

struct Mutator {
    rng: Rng,
    /// Which short-lived round `short` is in.
    round: usize,
    keep: Vec<Box<dyn Check>>,
    seen: [Vec<usize>; 4],
}

impl Mutator {
    fn note<T>(&mut self, shape: usize, object: &Gc<T>) {
        let bytes = slot_bytes(object);
        if !self.seen[shape].contains(&bytes) {
            self.seen[shape].push(bytes);
        }
    }

    /// Replaces a random long-lived object (checked before it is dropped) with `fresh`;
    /// sometimes trades one with another thread instead.
    fn keep(&mut self, fresh: Box<dyn Check>) {
        if self.keep.len() < KEEP {
            self.keep.push(fresh);
            return;
        }
        let at = self.rng.below(self.keep.len());
        let old = core::mem::replace(&mut self.keep[at], fresh);
        old.verify();
        if self.rng.chance(250) {
            let mut exchange = EXCHANGE.lock().expect("no test thread panicked");
            exchange.push(old);
            if exchange.len() > 2 * KEEP {
                let pick = self.rng.below(exchange.len());
                let theirs = exchange.swap_remove(pick);
                drop(exchange);
                theirs.verify();
                self.keep[at] = theirs;
            }
        }
    }

    /// One short-lived object of each shape of one size (and, every 16th time, a cyclic
    /// pair): dropped at once, so count-zero reclamation frees most of them on the
    /// collector thread while this thread goes on allocating the same classes (remote
    /// frees into spans this thread's cache owns), and tracing frees the pairs.
    fn short<const P: usize, const Q: usize, const L: usize>(&mut self, _class: usize) {
        let i = self.round;
        // Plain has no drop glue: only its bytes and `heap_objects` observe it.
        let id = PLAIN_IDS.fetch_add(1, Ordering::Relaxed);
        let plain = Gc::new(Plain::<P> {
            id,
            bytes: fill(id),
        });
        let again = plain.clone();
        self.note(0, &plain);
        drop(plain);
        again.verify();
        drop(again);

        let token = Token::new(ledger());
        let id = token.id;
        let noisy = Gc::new(Noisy::<Q> {
            bytes: fill(id),
            token,
        });
        self.note(1, &noisy);
        noisy.verify();
        drop(noisy);

        if i % 16 == 0 {
            let (a, b) = (self.linked::<L>(), self.linked::<L>());
            *a.next.borrow_mut() = Some(b.clone());
            *b.next.borrow_mut() = Some(a.clone());
            a.verify();
            b.verify();
        }
    }

    /// A long run of one size that die at once: the collector thread frees them (in
    /// batches of 256, from its own thread) while this thread is still allocating the
    /// same class, so remote frees land in spans this thread's cache owns and is about to
    /// reuse. (The race of issue #9 sits exactly there.)
    fn burst<const P: usize, const Q: usize, const L: usize>(&mut self, class: usize) {
        // Cheap objects (a memset, and a check of both ends), so that this thread
        // allocates about as fast as the collector thread frees: the two then chase each
        // other through the same spans.
        let count = ((32 << 20) / class).clamp(64, 8192);
        for i in 0..count {
            let id = PLAIN_IDS.fetch_add(1, Ordering::Relaxed);
            let plain = Gc::new(Plain::<P> {
                id,
                bytes: [id as u8; P],
            });
            let again = plain.clone();
            drop(plain);
            assert_eq!(again.id, id, "Plain {id} corrupted");
            if P > 0 {
                assert!(
                    again.bytes[0] == id as u8 && again.bytes[P - 1] == id as u8,
                    "Plain {id} corrupted"
                );
            }
            if i % 8 == 0 {
                self.note(0, &again);
                let token = Token::new(ledger());
                let id = token.id;
                let noisy = Gc::new(Noisy::<Q> {
                    bytes: [id as u8; Q],
                    token,
                });
                self.note(1, &noisy);
            }
        }
    }

    /// Long-lived objects of each shape of one size, replacing older ones.
    fn long<const P: usize, const Q: usize, const L: usize>(&mut self, _class: usize) {
        let plain_id = PLAIN_IDS.fetch_add(1, Ordering::Relaxed);
        let plain = Gc::new(Plain::<P> {
            id: plain_id,
            bytes: fill(plain_id),
        });
        self.keep(Box::new(plain));
        let token = Token::new(ledger());
        let id = token.id;
        self.keep(Box::new(Gc::new(Noisy::<Q> {
            bytes: fill(id),
            token,
        })));
        let head = self.linked::<L>();
        *head.next.borrow_mut() = Some(self.linked::<L>());
        self.keep(Box::new(head));
    }

    fn linked<const L: usize>(&mut self) -> Gc<Linked<L>> {
        let token = Token::new(ledger());
        let id = token.id;
        let node = Gc::new(Linked::<L> {
            bytes: fill(id),
            token,
            next: GcCell::new(None),
        });
        self.note(2, &node);
        node
    }

    fn unit(&mut self) {
        let unit = Gc::new(());
        self.note(3, &unit);
        let _twice = unit.clone();
    }
}

/// Runs `$m.$call(class)` (a method of `Mutator`, generic over the three shapes' payload
/// sizes) for every size class a `Gc` can land in, and three large sizes.
macro_rules! every_class {
    ($m:ident . $call:ident) => {
        every_class!(@each $m $call;
            16 24 32 40 48 56 64 72 80 88 96 104 120 128 144 160 184 208 232 256 288 328 376
            424 480 512 584 664 760 864 984 1024 1152 1280 1408 1536 1664 1792 2048 2304 2560
            2816 3200 3584 4096 4608 5248 5888 6656 7552 8192 9344 10624 12032 13696 15616
            16384 18688 21248 24192 27648 31488 32768
            // Large objects: a span of their own.
            40000 100000 300000)
    };
    (@each $m:ident $call:ident; $($class:literal)*) => {
        $( $m.$call::<{ plain_n($class) }, { noisy_n($class) }, { linked_n($class) }>($class); )*
    };
}

/// Allocations of each size per pass: the classes are interleaved, so that every class is
/// being allocated all the time while reclamation frees its earlier objects.
const SHORT_PER_PASS: usize = 300;

/// Every class interleaved: short-lived objects of each size in turn, then long-lived ones.
fn interleaved_pass(m: &mut Mutator) {
    m.unit();
    for round in 0..SHORT_PER_PASS {
        m.round = round;
        every_class!(m.short);
    }
    every_class!(m.long);
}

/// Every class in a long burst of its own, then long-lived ones.
fn burst_pass(m: &mut Mutator) {
    m.unit();
    every_class!(m.burst);
    every_class!(m.long);
}

fn rounds() -> usize {
    match std::env::var("TRICOLOR_SIZES_ROUNDS") {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("TRICOLOR_SIZES_ROUNDS must be a whole number, got {v:?}")),
        Err(_) => 4,
    }
}

/// Tests here share the ledger, the exchange and the `heap_objects` baseline.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `pass` `rounds()` times on `mutators` threads beside `spinners` busy threads and a
/// thread that collects every `collect_every` (if set); then checks drops, the baseline and the coverage.
fn run(mutators: usize, spinners: usize, collect_every: Option<Duration>, pass: fn(&mut Mutator)) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    gc::collect();
    let baseline = gc::stats();
    if collect_every.is_some() {
        gc::set_gc_percent(50);
    }
    let rounds = rounds();
    let done = AtomicBool::new(false);
    let start = Barrier::new(mutators + 1);
    std::thread::scope(|s| {
        for _ in 0..spinners {
            s.spawn(|| {
                while !done.load(Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            });
        }
        s.spawn(|| {
            start.wait();
            while let Some(period) = collect_every {
                if done.load(Ordering::Relaxed) {
                    break;
                }
                gc::collect();
                std::thread::sleep(period);
            }
        });
        let mutators: Vec<_> = (0..mutators)
            .map(|t| {
                let start = &start;
                std::thread::Builder::new()
                    .stack_size(16 << 20)
                    .spawn_scoped(s, move || {
                        let mut m = Mutator {
                            rng: Rng::new(0x51_2E5 + t as u64),
                            round: 0,
                            keep: Vec::new(),
                            seen: Default::default(),
                        };
                        start.wait();
                        for _ in 0..rounds {
                            pass(&mut m);
                        }
                        for object in &m.keep {
                            object.verify();
                        }
                        let mut seen = SEEN.lock().expect("no test thread panicked");
                        for (all, mine) in seen.iter_mut().zip(&m.seen) {
                            all.extend(mine);
                        }
                    })
                    .expect("spawn a mutator")
            })
            .collect();
        let results: Vec<_> = mutators.into_iter().map(|m| m.join()).collect();
        // Before any assertion: the spinners and the collecting thread stop on it.
        done.store(true, Ordering::Relaxed);
        for result in results {
            if let Err(panic) = result {
                std::panic::resume_unwind(panic);
            }
        }
    });
    for object in EXCHANGE.lock().expect("no test thread panicked").drain(..) {
        object.verify();
    }
    gc::set_gc_percent(100);
    for _ in 0..3 {
        gc::collect();
    }

    let ledger = ledger();
    ledger.assert_all_dropped_once("every size class");
    let after = gc::stats();
    assert_eq!(
        after.heap_objects, baseline.heap_objects,
        "heap_objects is back at its baseline once everything is dropped"
    );
    assert!(
        after.cycles > baseline.cycles + 3,
        "cycles ran during the test"
    );
    assert!(
        after.reclaimed_objects > baseline.reclaimed_objects,
        "count-zero reclamation ran during the test"
    );

    let mut seen = SEEN.lock().expect("no test thread panicked");
    let mut all: Vec<usize> = seen.iter().flatten().copied().collect();
    all.sort_unstable();
    all.dedup();
    for index in 1..gc::__core::heap::NUM_SIZE_CLASSES {
        let class = gc::__core::heap::SizeClass::from_index(index).object_bytes();
        if class < 16 {
            continue; // below the 16-byte header: no `Gc` lands there
        }
        assert!(
            all.contains(&class),
            "size class {class} was never allocated"
        );
    }
    assert!(
        all.iter().filter(|&&b| b > 32768).count() >= 3,
        "three large sizes were allocated"
    );
    for (shape, sizes) in seen.iter().take(3).enumerate() {
        assert!(
            sizes.len() >= 40,
            "shape {shape} covered only {} classes",
            sizes.len()
        );
    }
    *seen = Default::default();
}

#[test]
fn every_size_class_in_long_bursts_while_reclamation_frees_them() {
    // Automatic cycles only: between them the collector thread frees count-zero objects
    // while the mutators allocate.
    run(2, 0, None, burst_pass);
}

#[test]
fn every_size_class_and_shape_interleaved_on_an_oversubscribed_machine() {
    run(
        MUTATORS,
        SPINNERS,
        Some(Duration::from_millis(20)),
        interleaved_pass,
    );
}
