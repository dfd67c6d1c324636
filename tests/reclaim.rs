//! Prompt reclamation of count-zero objects (DESIGN §3b, `gc-core/src/reclaim/`): objects
//! whose last handle is dropped while no cycle runs are freed by the collector thread
//! without any cycle; their drop glue runs once, iteratively (a long list or a deep tree
//! frees without recursion); a panicking destructor is caught and counted; objects whose
//! count reaches zero during a cycle are left to the cycles and freed once;
//! `TRICOLOR_PROMPT_RECLAIM=0` leaves every count-zero object to the cycles, still freed
//! once with `heap_objects` exact, and `=1` is the default behaviour; the trace line
//! reports what was reclaimed since the previous cycle.
//!
//! Every test turns automatic cycles off (`set_gc_percent(-1)`) and compares counters, so
//! they serialise on `LOCK`. Objects are dropped on a thread that then exits: a thread's
//! zero buffer goes to the collector when it holds 256 objects or at thread exit.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gc::{Gc, GcCell, Trace};

mod common;

static LOCK: Mutex<()> = Mutex::new(());

/// Records the drop of node `id`: counts it, and counts a second drop of the same id.
struct Once {
    id: usize,
    seen: &'static [AtomicBool],
    drops: &'static AtomicUsize,
    twice: &'static AtomicUsize,
}

impl Drop for Once {
    fn drop(&mut self) {
        if self.seen[self.id].swap(true, Ordering::SeqCst) {
            self.twice.fetch_add(1, Ordering::SeqCst);
        }
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// Per-test drop bookkeeping for `n` nodes (leaked: a test process is short-lived).
struct Book {
    seen: &'static [AtomicBool],
    drops: &'static AtomicUsize,
    twice: &'static AtomicUsize,
}

impl Book {
    fn new(n: usize) -> Book {
        Book {
            seen: Box::leak((0..n).map(|_| AtomicBool::new(false)).collect()),
            drops: Box::leak(Box::new(AtomicUsize::new(0))),
            twice: Box::leak(Box::new(AtomicUsize::new(0))),
        }
    }
    fn tag(&self, id: usize) -> Once {
        Once {
            id,
            seen: self.seen,
            drops: self.drops,
            twice: self.twice,
        }
    }
    fn drops(&self) -> usize {
        self.drops.load(Ordering::SeqCst)
    }
    fn assert_each_dropped_once(&self) {
        assert_eq!(
            self.twice.load(Ordering::SeqCst),
            0,
            "a node was dropped twice"
        );
        assert_eq!(self.drops(), self.seen.len(), "not every node was dropped");
        assert!(self.seen.iter().all(|s| s.load(Ordering::SeqCst)));
    }
}

/// Runs `body` with automatic cycles off, under `LOCK`; restores the GC percent.
fn quiet(body: impl FnOnce()) {
    let _g = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let old = gc::set_gc_percent(-1);
    body();
    gc::set_gc_percent(old);
}

/// Runs `f` on a fresh thread and waits for it (its zero buffer is published at exit).
fn on_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
    std::thread::spawn(f).join().expect("the thread panicked")
}

/// Polls `done` for up to 60 s.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[derive(Trace)]
struct ListNode {
    next: Option<Gc<ListNode>>,
    #[gc(skip)]
    _once: Once,
}

#[derive(Trace)]
struct TreeNode {
    left: Option<Gc<TreeNode>>,
    right: Option<Gc<TreeNode>>,
    #[gc(skip)]
    _once: Once,
}

fn tree(depth: u32, next_id: &mut usize, book: &Book) -> Gc<TreeNode> {
    let (left, right) = if depth == 0 {
        (None, None)
    } else {
        (
            Some(tree(depth - 1, next_id, book)),
            Some(tree(depth - 1, next_id, book)),
        )
    };
    let id = *next_id;
    *next_id += 1;
    Gc::new(TreeNode {
        left,
        right,
        _once: book.tag(id),
    })
}

/// A `list`-node list and a `depth` tree, each node tagged in its book.
fn list_and_tree(
    list: usize,
    depth: u32,
    list_book: &'static Book,
    tree_book: &'static Book,
) -> (Gc<ListNode>, Gc<TreeNode>) {
    let mut head: Option<Gc<ListNode>> = None;
    for id in 0..list {
        head = Some(Gc::new(ListNode {
            next: head.take(),
            _once: list_book.tag(id),
        }));
    }
    let mut next_id = 0;
    (
        head.expect("a list of at least one node"),
        tree(depth, &mut next_id, tree_book),
    )
}

#[test]
fn a_long_list_and_a_deep_tree_are_freed_without_a_cycle() {
    quiet(|| {
        const LIST: usize = 200_000;
        const DEPTH: u32 = 15; // 65,535 nodes
        let tree_nodes = (1usize << (DEPTH + 1)) - 1;
        gc::collect();
        gc::collect();
        let before = gc::stats();

        let list_book: &'static Book = Box::leak(Box::new(Book::new(LIST)));
        let tree_book: &'static Book = Box::leak(Box::new(Book::new(tree_nodes)));
        let (head, root) = on_thread(move || list_and_tree(LIST, DEPTH, list_book, tree_book));
        assert_eq!(
            gc::stats().heap_objects,
            before.heap_objects + LIST + tree_nodes
        );
        // The last handles go on a thread that exits, which publishes its zero buffer.
        on_thread(move || drop((head, root)));

        let total = (LIST + tree_nodes) as u64;
        wait_for("the list and the tree to be reclaimed", || {
            gc::stats().reclaimed_objects >= before.reclaimed_objects + total
        });
        let after = gc::stats();
        list_book.assert_each_dropped_once();
        tree_book.assert_each_dropped_once();
        assert_eq!(after.cycles, before.cycles, "a cycle ran");
        assert_eq!(after.reclaimed_objects, before.reclaimed_objects + total);
        assert_eq!(
            after.heap_objects, before.heap_objects,
            "heap_objects baseline"
        );
        assert_eq!(after.reclaim_drop_panics, before.reclaim_drop_panics);
    });
}

/// A field whose destructor panics when armed.
struct Fuse(bool);

impl Drop for Fuse {
    fn drop(&mut self) {
        if self.0 {
            panic!("a destructor that panics (expected by the test)");
        }
    }
}

#[derive(Trace)]
struct Bomb {
    child: Option<Gc<Bomb>>,
    #[gc(skip)]
    _explode: Fuse,
    #[gc(skip)]
    _once: Once,
}

#[test]
fn a_panicking_destructor_during_reclamation_is_caught_and_counted() {
    quiet(|| {
        const N: usize = 1000;
        gc::collect();
        gc::collect();
        let before = gc::stats();
        let book: &'static Book = Box::leak(Box::new(Book::new(2 * N)));
        on_thread(move || {
            // N parents whose drop glue panics (in a field), each with a child that must
            // still be released (the other fields are dropped while the panic unwinds).
            let parents: Vec<Gc<Bomb>> = (0..N)
                .map(|i| {
                    let child = Gc::new(Bomb {
                        child: None,
                        _explode: Fuse(false),
                        _once: book.tag(2 * i + 1),
                    });
                    Gc::new(Bomb {
                        child: Some(child),
                        _explode: Fuse(true),
                        _once: book.tag(2 * i),
                    })
                })
                .collect();
            drop(parents);
        });
        wait_for("the bombs to be reclaimed", || {
            gc::stats().reclaimed_objects >= before.reclaimed_objects + 2 * N as u64
        });
        let after = gc::stats();
        assert_eq!(
            after.reclaim_drop_panics,
            before.reclaim_drop_panics + N as u64
        );
        book.assert_each_dropped_once();
        assert_eq!(after.cycles, before.cycles, "a cycle ran");
        assert_eq!(
            after.heap_objects, before.heap_objects,
            "heap_objects baseline"
        );
    });
}

#[derive(Trace)]
struct Leaf {
    cell: GcCell<Option<Gc<Leaf>>>,
    #[gc(skip)]
    _once: Once,
}

/// A `Leaf` tagged `id` in `book`.
fn leaf(book: &Book, id: usize) -> Gc<Leaf> {
    Gc::new(Leaf {
        cell: GcCell::new(None),
        _once: book.tag(id),
    })
}

/// Leaves tagged with each of `ids`.
fn leaves(book: &Book, ids: core::ops::Range<usize>) -> Vec<Gc<Leaf>> {
    ids.map(|id| leaf(book, id)).collect()
}

#[test]
fn objects_reaching_zero_during_a_held_mark_are_freed_once_the_marked_ones_by_the_drain() {
    quiet(|| {
        const N: usize = 2000;
        gc::collect();
        gc::collect();
        let before = gc::stats();
        let book: &'static Book = Box::leak(Box::new(Book::new(N)));
        // Pairs that point at each other (a cycle for the tracing collector) and lone
        // objects (plain count-zero garbage).
        let objects = leaves(book, 0..N);
        for pair in objects.chunks(4) {
            *pair[0].cell.borrow_mut() = Some(pair[1].clone());
            *pair[1].cell.borrow_mut() = Some(pair[0].clone());
        }
        let lone = N / 2;

        gc::__private::hold_marking(true);
        let cycle = std::thread::spawn(gc::collect);
        wait_for("the cycle to be held in Mark", gc::__private::marking_held);
        // Every lone object's count reaches zero while the cycle marks (R1 queues them);
        // the pairs keep a count of one each. Nothing is freed during the cycle.
        on_thread(move || drop(objects));
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            gc::stats().reclaimed_objects,
            before.reclaimed_objects,
            "an object was reclaimed while its cycle marked"
        );
        gc::__private::hold_marking(false);
        cycle.join().expect("collect");
        // The held cycle found them all as roots (its roots pass ran before the drops), so
        // it marked them: mark termination kept the lone ones for the drain (R1b), which
        // frees them after the sweep, without another cycle.
        wait_for("the drain to free the lone objects", || {
            gc::stats().reclaimed_objects >= before.reclaimed_objects + lone as u64
        });
        assert_eq!(
            gc::stats().reclaimed_objects,
            before.reclaimed_objects + lone as u64,
            "exactly the lone objects were reclaimed by counts"
        );
        // The pairs are cyclic garbage the held cycle kept (marked): the next frees them.
        gc::collect();
        let after = gc::stats();
        book.assert_each_dropped_once();
        assert_eq!(
            after.heap_objects, before.heap_objects,
            "heap_objects baseline"
        );
    });
}

/// A list and a tree dropped on a thread that exits, then `collect()`: each node dropped
/// once and `heap_objects` back at its baseline, whether count-zero reclamation is on
/// (`prompt`: the drain frees them all, with no cycle) or off (nothing is reclaimed
/// promptly; the cycle frees them).
fn drop_once_with_exact_heap_objects(prompt: bool) {
    quiet(|| {
        const LIST: usize = 20_000;
        const DEPTH: u32 = 12; // 8,191 nodes
        let tree_nodes = (1usize << (DEPTH + 1)) - 1;
        gc::collect();
        let before = gc::stats();
        let list_book: &'static Book = Box::leak(Box::new(Book::new(LIST)));
        let tree_book: &'static Book = Box::leak(Box::new(Book::new(tree_nodes)));
        on_thread(move || {
            let (head, root) = list_and_tree(LIST, DEPTH, list_book, tree_book);
            assert_eq!(
                gc::stats().heap_objects,
                before.heap_objects + LIST + tree_nodes
            );
            drop((head, root));
        });
        let total = (LIST + tree_nodes) as u64;
        if prompt {
            wait_for("the list and the tree to be reclaimed", || {
                gc::stats().reclaimed_objects >= before.reclaimed_objects + total
            });
            assert_eq!(gc::stats().cycles, before.cycles, "a cycle ran");
        } else {
            // Give a (wrongly enabled) drain the time to show itself.
            std::thread::sleep(Duration::from_millis(200));
            assert_eq!(
                list_book.drops() + tree_book.drops(),
                0,
                "reclaimed while off"
            );
        }
        gc::collect();
        let after = gc::stats();
        list_book.assert_each_dropped_once();
        tree_book.assert_each_dropped_once();
        assert_eq!(
            after.heap_objects, before.heap_objects,
            "heap_objects baseline"
        );
        let reclaimed = after.reclaimed_objects - before.reclaimed_objects;
        assert_eq!(reclaimed, if prompt { total } else { 0 });
        if !prompt {
            assert_eq!(after.reclaimed_bytes, before.reclaimed_bytes);
        }
    });
}

const SWITCH: &str = "TRICOLOR_PROMPT_RECLAIM";

#[test]
fn prompt_reclaim_switch_off_and_on_keeps_drops_once_and_heap_objects_exact() {
    for (value, child) in [
        ("0", "child_prompt_reclaim_off"),
        ("1", "child_prompt_reclaim_on"),
    ] {
        let (ok, text) = common::run_child(child, &[], &[(SWITCH, value)]);
        assert!(ok, "{SWITCH}={value}:\n{text}");
    }
}

#[test]
#[ignore = "child process of prompt_reclaim_switch_off_and_on_keeps_drops_once_and_heap_objects_exact"]
fn child_prompt_reclaim_off() {
    drop_once_with_exact_heap_objects(false);
}

#[test]
#[ignore = "child process of prompt_reclaim_switch_off_and_on_keeps_drops_once_and_heap_objects_exact"]
fn child_prompt_reclaim_on() {
    drop_once_with_exact_heap_objects(true);
}

#[test]
fn trace_line_reports_what_was_reclaimed_since_the_previous_cycle() {
    let (ok, text) = common::run_child(
        "child_reclaims_then_collects_twice",
        &[SWITCH],
        &[("TRICOLOR_TRACE", "1")],
    );
    assert!(ok, "{text}");
    let expect = text
        .lines()
        .find_map(|l| l.split_once("expect: ").map(|(_, e)| e))
        .unwrap_or_else(|| panic!("the child printed no expectation:\n{text}"));
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("gc ")).collect();
    assert_eq!(lines.len(), 2, "want two trace lines:\n{text}");
    assert!(lines[0].contains(expect), "want {expect:?}:\n{text}");
    assert!(
        lines[1].contains("reclaimed since the last cycle 0 objects, 0 KiB ("),
        "the second cycle reports the first one's reclamation again:\n{text}"
    );
}

#[test]
#[ignore = "child process of trace_line_reports_what_was_reclaimed_since_the_previous_cycle"]
fn child_reclaims_then_collects_twice() {
    const N: usize = 3000;
    gc::set_gc_percent(-1);
    let bytes: u64 = on_thread(|| {
        let objects: Vec<Gc<[u64; 40]>> = (0..N).map(|_| Gc::new([5; 40])).collect();
        objects
            .iter()
            .map(|g| {
                tricolor_gc_core::heap::lookup(Gc::as_ptr(g) as usize)
                    .expect("allocated")
                    .slot_bytes() as u64
            })
            .sum()
    });
    wait_for("the objects to be reclaimed", || {
        gc::stats().reclaimed_objects >= N as u64
    });
    println!(
        "expect: reclaimed since the last cycle {N} objects, {} KiB (",
        bytes / 1024
    );
    gc::collect();
    gc::collect();
}

/// Drops `N` tagged objects on a thread that then parks (it neither drops more nor exits),
/// so they sit in its partial zero buffer; returns the book and a sender that lets the
/// thread end.
fn drop_ten_then_park() -> (
    &'static Book,
    std::sync::mpsc::Sender<()>,
    std::thread::JoinHandle<()>,
) {
    const N: usize = 10;
    let book: &'static Book = Box::leak(Box::new(Book::new(N)));
    let (parked_tx, parked_rx) = std::sync::mpsc::channel();
    let (wake_tx, wake_rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        let objects = leaves(book, 0..N);
        drop(objects);
        parked_tx.send(()).expect("the test waits");
        // Parked: no drop, no op, no exit until the test lets it go.
        let _ = wake_rx.recv();
    });
    parked_rx.recv().expect("the thread dropped its objects");
    (book, wake_tx, thread)
}

#[test]
fn a_parked_threads_partial_buffer_is_reclaimed_without_a_cycle() {
    quiet(|| {
        gc::collect();
        let before = gc::stats();
        let (book, wake, thread) = drop_ten_then_park();
        // Bounded by the stale-buffer flush (reclaim/queue.rs, step 4: about 50 ms plus
        // one idle poll); the deadline is generous, not a speed assertion.
        wait_for("the parked thread's ten objects to be reclaimed", || {
            book.drops() == 10
        });
        let after = gc::stats();
        book.assert_each_dropped_once();
        assert_eq!(after.cycles, before.cycles, "a cycle ran");
        assert_eq!(after.reclaimed_objects, before.reclaimed_objects + 10);
        assert_eq!(after.heap_objects, before.heap_objects);
        wake.send(()).expect("the thread is parked");
        thread.join().expect("the parked thread");
    });
}

#[test]
fn collect_frees_a_parked_threads_partial_buffer() {
    quiet(|| {
        gc::collect();
        let before = gc::stats();
        let (book, wake, thread) = drop_ten_then_park();
        // The cycle's starting stop discards the buffer and its sweep frees the objects
        // (unless the stale-buffer flush got there first): either way, all ten are
        // dropped once by the time collect() returns.
        gc::collect();
        book.assert_each_dropped_once();
        assert_eq!(gc::stats().heap_objects, before.heap_objects);
        wake.send(()).expect("the thread is parked");
        thread.join().expect("the parked thread");
    });
}

/// Holds a drop counter; cyclic, so only tracing frees it.
#[derive(Trace)]
struct Holder {
    cell: GcCell<Option<Gc<Holder>>>,
    survivor: GcCell<Option<Gc<Survivor>>>,
}

#[derive(Trace)]
struct Survivor {
    #[gc(skip)]
    _tick: common::Tick,
}

/// R1 queues a count that reaches zero during `Sweep` (issue #10: reclamation in every
/// phase). A survivor of a cycle (a root when counted) whose last handle sits in cyclic
/// garbage reaches zero when the sweep's drop glue releases that handle; the drain frees it
/// right after the cycle. Before, it waited for the next cycle (automatic cycles are off
/// here, so it waited for the 2-minute forced one).
#[test]
fn a_survivor_released_by_sweep_drop_glue_is_reclaimed_after_that_sweep() {
    quiet(|| {
        let drops = common::counter();
        let percent = gc::set_gc_percent(-1);
        gc::collect();
        let before = gc::stats();
        let survivor = Gc::new(Survivor {
            _tick: common::Tick(drops),
        });
        // `a <-> b`, cyclic garbage once the locals go; `a` holds the survivor too.
        let a = Gc::new(Holder {
            cell: GcCell::new(None),
            survivor: GcCell::new(Some(survivor.clone())),
        });
        let b = Gc::new(Holder {
            cell: GcCell::new(Some(a.clone())),
            survivor: GcCell::new(None),
        });
        *a.cell.borrow_mut() = Some(b.clone());
        drop((a, b));
        gc::__private::hold_marking(true);
        let cycle = std::thread::spawn(gc::collect);
        wait_for("the cycle to be held in Mark", gc::__private::marking_held);
        // The roots pass counted the survivor's local handle: it is marked. Its last
        // handle is now the one inside `a`, which this cycle sweeps.
        drop(survivor);
        gc::__private::hold_marking(false);
        cycle.join().expect("collect");
        wait_for(
            "the survivor released during the sweep to be reclaimed",
            || common::drops(drops) > 0,
        );
        assert_eq!(common::drops(drops), 1);
        let after = gc::stats();
        assert_eq!(after.cycles, before.cycles + 1, "no second cycle freed it");
        assert!(after.reclaimed_objects > before.reclaimed_objects);
        gc::set_gc_percent(percent);
        gc::collect();
        assert_eq!(gc::stats().heap_objects, before.heap_objects);
    });
}

/// Rule M1: objects allocated during a cycle's `Mark` (born black) and dropped during it
/// are freed before the cycle ends, by the dropping thread, while older objects dropped
/// then wait for mark termination. Each is dropped exactly once either way.
#[test]
fn objects_born_during_a_held_mark_are_freed_during_it() {
    quiet(|| {
        const N: usize = 4096;
        gc::collect();
        let before = gc::stats();
        let book: &'static Book = Box::leak(Box::new(Book::new(2 * N)));
        let older = leaves(book, 0..N);
        common::while_marking(|| {
            // Born in this `Mark`, dropped in it: the buffer fills, and the batches M1
            // allows are freed at once by this thread.
            for id in N..2 * N {
                drop(leaf(book, id));
            }
            let during = gc::stats().reclaimed_objects - before.reclaimed_objects;
            assert!(
                during >= (N - 256) as u64,
                "only {during} of {N} objects born and dropped during Mark were reclaimed \
                 during it"
            );
            // Older than the cycle: they wait for its termination (R1b).
            drop(older);
            assert!(gc::stats().reclaimed_objects - before.reclaimed_objects <= N as u64);
        });
        gc::collect();
        wait_for("every object dropped", || book.drops() == 2 * N);
        book.assert_each_dropped_once();
        assert_eq!(
            gc::stats().heap_objects,
            before.heap_objects,
            "heap_objects baseline"
        );
    });
}

/// Calls `collect()` from its destructor.
#[derive(Trace)]
#[gc(unsafe_drop)]
struct CollectsOnDrop {
    #[gc(skip)]
    _once: Once,
}

impl Drop for CollectsOnDrop {
    fn drop(&mut self) {
        gc::collect();
    }
}

// SAFETY: the `Drop` above touches no handle (it calls `collect()`).
unsafe impl gc::UnsafeDrop for CollectsOnDrop {}

/// A destructor that count-zero reclamation runs on the dropping thread may call
/// `collect()`: a cycle never waits for a batch in flight (R5 claims it instead), so this
/// returns, and every value is dropped once.
#[test]
fn collect_from_a_destructor_that_a_reclaim_batch_runs_returns() {
    quiet(|| {
        const N: usize = 600;
        let book: &'static Book = Box::leak(Box::new(Book::new(N)));
        let cycles = gc::stats().cycles;
        on_thread(move || {
            let objects: Vec<Gc<CollectsOnDrop>> = (0..N)
                .map(|id| {
                    Gc::new(CollectsOnDrop {
                        _once: book.tag(id),
                    })
                })
                .collect();
            // More than one buffer's worth: this thread runs batches of their drops.
            drop(objects);
        });
        gc::collect();
        wait_for("every object dropped", || book.drops() == N);
        book.assert_each_dropped_once();
        assert!(
            gc::stats().cycles > cycles + 256,
            "the destructors' collect() calls ran cycles"
        );
    });
}
