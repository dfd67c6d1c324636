//! `GcCell<T>` (DESIGN §2, row `GcCell<T>`): `borrow` / `borrow_mut` / `try_borrow` /
//! `try_borrow_mut` semantics; same-thread conflicts panic with the cell's type name;
//! `try_*` errors name the type; across threads a conflicting borrow waits (both
//! directions); the collector's read path (`trace_edges`) racing a mutator leaves the
//! cell's state consistent; guards moved to another thread; `get_mut`, `into_inner`,
//! `Default`, `Debug`, `Send`/`Sync`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use gc::{Gc, GcCell, Trace};

/// A distinctive type name to look for in messages.
#[derive(Trace, Debug, Default, PartialEq)]
struct Payload {
    items: Vec<u32>,
}

fn panic_message(result: std::thread::Result<()>) -> String {
    let payload = result.expect_err("expected a panic");
    if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else {
        String::from("<non-string panic>")
    }
}

#[test]
fn shared_and_exclusive_borrows() {
    let cell = GcCell::new(Payload { items: vec![1, 2] });
    {
        let a = cell.borrow();
        let b = cell.borrow();
        let c = cell.try_borrow().expect("readers share");
        assert_eq!(a.items.len() + b.items.len() + c.items.len(), 6);
        assert!(cell.try_borrow_mut().is_err(), "readers exclude a writer");
    }
    cell.borrow_mut().items.push(3);
    assert_eq!(cell.borrow().items, [1, 2, 3]);
    {
        let mut w = cell.try_borrow_mut().expect("no borrows left");
        w.items.push(4);
        assert!(cell.try_borrow().is_err(), "a writer excludes readers");
        assert!(cell.try_borrow_mut().is_err(), "a writer excludes writers");
    }
    assert_eq!(cell.try_borrow().unwrap().items, [1, 2, 3, 4]);
    // All guards are gone: both kinds succeed again, repeatedly.
    for _ in 0..3 {
        drop(cell.try_borrow_mut().expect("free"));
        drop(cell.try_borrow().expect("free"));
    }
}

#[test]
fn try_errors_name_the_type() {
    let cell = GcCell::new(Payload::default());
    let w = cell.borrow_mut();
    let err = cell.try_borrow().expect_err("mutably borrowed");
    assert!(err.type_name.ends_with("Payload"), "{}", err.type_name);
    let text = err.to_string();
    assert!(
        text.contains("Payload") && text.contains("mutably borrowed"),
        "{text}"
    );
    drop(w);
    let r = cell.borrow();
    let err = cell.try_borrow_mut().expect_err("borrowed");
    let text = err.to_string();
    assert!(
        text.contains("Payload") && text.contains("borrowed"),
        "{text}"
    );
    let _: &dyn std::error::Error = &err;
    drop(r);
}

#[test]
fn same_thread_conflicts_panic_with_the_type_name() {
    let cell = GcCell::new(Payload::default());

    let w = cell.borrow_mut();
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| drop(cell.borrow()))));
    assert!(
        msg.contains("Payload") && msg.contains("mutably borrowed"),
        "{msg}"
    );
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| drop(cell.borrow_mut()))));
    assert!(
        msg.contains("Payload") && msg.contains("mutably borrowed"),
        "{msg}"
    );
    drop(w);

    let r = cell.borrow();
    let msg = panic_message(catch_unwind(AssertUnwindSafe(|| drop(cell.borrow_mut()))));
    assert!(msg.contains("Payload") && msg.contains("borrowed"), "{msg}");
    drop(r);

    // The panics left the cell usable.
    cell.borrow_mut().items.push(9);
    assert_eq!(cell.borrow().items, [9]);
}

#[test]
fn borrow_mut_waits_for_another_threads_borrow() {
    let cell = GcCell::new(Payload { items: vec![1] });
    let held = Barrier::new(2);
    let released = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let r = cell.borrow();
            held.wait();
            // Give the main thread a chance to start waiting; not needed for correctness.
            std::thread::sleep(Duration::from_millis(50));
            assert_eq!(r.items, [1]);
            released.store(true, Ordering::SeqCst);
            drop(r);
        });
        held.wait();
        let mut w = cell.borrow_mut();
        assert!(
            released.load(Ordering::SeqCst),
            "borrow_mut returned while another thread held a borrow"
        );
        w.items.push(2);
    });
    assert_eq!(cell.borrow().items, [1, 2]);
}

#[test]
fn borrow_waits_for_another_threads_borrow_mut() {
    let cell = GcCell::new(Payload { items: vec![1] });
    let held = Barrier::new(2);
    let released = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut w = cell.borrow_mut();
            held.wait();
            std::thread::sleep(Duration::from_millis(50));
            w.items.push(2);
            released.store(true, Ordering::SeqCst);
            drop(w);
        });
        held.wait();
        assert!(cell.try_borrow().is_err(), "try_borrow never waits");
        let r = cell.borrow();
        assert!(released.load(Ordering::SeqCst));
        assert_eq!(r.items, [1, 2], "the reader sees the finished write");
    });
}

/// The collector's read (`trace_edges` on the cell holds the cell against writers for one
/// trace, or skips a mutably borrowed cell) races a mutator that rotates the contents under
/// `borrow_mut` and readers that check no writer is active. Two collector reads run at
/// once, so one takes the flag's fast path and the other falls back to a reader
/// (gc_cell/flag.rs). A failed collector read must not release a reader it never added (a
/// bug exactly like this existed).
#[test]
fn collector_reads_race_mutator_borrows() {
    const N: usize = 16;
    let targets: Vec<Gc<u64>> = (0..N as u64).map(Gc::new).collect();
    let cell = Gc::new(GcCell::new(targets.clone()));
    let addrs: std::collections::HashSet<usize> = targets
        .iter()
        .map(|t| gc::__private::trace_edges(t)[0].as_ptr() as usize)
        .collect();
    assert_eq!(addrs.len(), N);
    let writing = AtomicBool::new(false);
    let stop = AtomicBool::new(false);
    let (full_reads, skipped_reads, writes, reads) = (
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
        AtomicUsize::new(0),
    );
    let deadline = Instant::now() + Duration::from_millis(1500);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let edges = gc::__private::trace_edges(&*cell);
                    match edges.len() {
                        0 => skipped_reads.fetch_add(1, Ordering::Relaxed),
                        N => {
                            for e in &edges {
                                assert!(addrs.contains(&(e.as_ptr() as usize)), "foreign edge");
                            }
                            full_reads.fetch_add(1, Ordering::Relaxed)
                        }
                        n => panic!("collector read saw a half-written value: {n} edges"),
                    };
                }
            });
        }
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                let r = cell.borrow();
                assert!(
                    !writing.load(Ordering::SeqCst),
                    "reader overlapped a writer"
                );
                assert_eq!(r.len(), N);
                drop(r);
                reads.fetch_add(1, Ordering::Relaxed);
            }
        });
        s.spawn(|| {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let mut w = if i % 2 == 0 {
                    cell.borrow_mut()
                } else {
                    match cell.try_borrow_mut() {
                        Ok(w) => w,
                        Err(_) => {
                            i += 1;
                            continue;
                        }
                    }
                };
                assert!(!writing.swap(true, Ordering::SeqCst), "two writers");
                let last = w.pop().expect("N elements");
                assert_eq!(w.len(), N - 1);
                w.insert(0, last);
                writing.store(false, Ordering::SeqCst);
                drop(w);
                writes.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        });
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        stop.store(true, Ordering::Relaxed);
    });
    assert!(writes.load(Ordering::Relaxed) > 0 && reads.load(Ordering::Relaxed) > 0);
    assert!(
        full_reads.load(Ordering::Relaxed) > 0,
        "the collector read never succeeded"
    );
    eprintln!(
        "race: {} writes, {} reads, {} collector reads ({} skipped)",
        writes.load(Ordering::Relaxed),
        reads.load(Ordering::Relaxed),
        full_reads.load(Ordering::Relaxed),
        skipped_reads.load(Ordering::Relaxed)
    );
    // The state is back to "free": exclusive and shared borrows succeed without waiting.
    drop(
        cell.try_borrow_mut()
            .expect("state consistent after the race"),
    );
    let (a, b) = (cell.try_borrow().unwrap(), cell.try_borrow().unwrap());
    assert!(cell.try_borrow_mut().is_err());
    drop((a, b));
    drop(cell.try_borrow_mut().expect("readers released"));
    let mut values: Vec<u64> = cell.borrow().iter().map(|g| **g).collect();
    values.sort_unstable();
    assert_eq!(values, (0..N as u64).collect::<Vec<_>>());
    gc::collect();
    assert_eq!(cell.borrow().len(), N);
}

#[test]
fn get_mut_into_inner_default_and_debug() {
    let mut cell = GcCell::new(Payload { items: vec![5] });
    cell.get_mut().items.push(6);
    assert_eq!(cell.borrow().items, [5, 6]);
    assert_eq!(
        format!("{cell:?}"),
        "GcCell { value: Payload { items: [5, 6] } }"
    );
    {
        let r = cell.borrow();
        assert_eq!(format!("{r:?}"), "Payload { items: [5, 6] }");
        assert_eq!(
            format!("{cell:?}"),
            "GcCell { value: Payload { items: [5, 6] } }",
            "Debug reads through a shared borrow"
        );
    }
    {
        let w = cell.borrow_mut();
        assert_eq!(format!("{w:?}"), "Payload { items: [5, 6] }");
        assert_eq!(
            format!("{cell:?}"),
            "GcCell { value: \"<borrowed>\" }",
            "Debug of a mutably borrowed cell neither panics nor waits"
        );
    }
    assert_eq!(cell.into_inner(), Payload { items: vec![5, 6] });
    let d: GcCell<Payload> = GcCell::default();
    assert!(d.borrow().items.is_empty());
    assert_eq!(GcCell::<u32>::default().into_inner(), 0);
}

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn cell_in_gc_is_shared_across_threads() {
    assert_send_sync::<GcCell<Vec<Gc<String>>>>();
    let shared = Gc::new(GcCell::new(Vec::<u32>::new()));
    std::thread::scope(|s| {
        for t in 0..4u32 {
            let mine = shared.clone();
            s.spawn(move || {
                for i in 0..1000 {
                    mine.borrow_mut().push(t * 1000 + i);
                }
            });
        }
    });
    let mut all = shared.borrow().clone();
    all.sort_unstable();
    assert_eq!(all, (0..4000).collect::<Vec<_>>(), "no lost update");
}
