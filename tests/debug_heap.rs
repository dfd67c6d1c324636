//! The debug heap (DESIGN §9, gc-core `collector/header.rs`): in debug builds and with the
//! `debug-heap` feature, freed slots are poisoned and every `Gc` deref, clone and drop and
//! every `GcCell` borrow checks the object's header first, so a use after free panics at
//! its first read with a `tricolor-gc: use after free` message naming the slot's address
//! and the type.
//!
//! Safe code cannot make a handle to a freed object, so each test forges one with `unsafe`
//! code that breaks a contract on purpose:
//! - the escape of issue #9: a `Drop` (opted in with `#[gc(unsafe_drop)]` and a *false*
//!   `unsafe impl UnsafeDrop`) moves a handle to its dead neighbour out of the sweep, the
//!   sweep frees the neighbour (sweep drop pass);
//! - a bitwise copy of a handle (`ptr::read`) outlives the object, which count-zero
//!   reclamation frees (`reclaim_one`);
//! - a `&GcCell` kept through a raw pointer (`Gc::as_ptr`) outlives its object.
//!
//! Each forgery runs in a child process (an `#[ignore]`d test of this binary), because it
//! leaves the heap with a dangling handle; the parent checks that the child panicked at
//! the first use, with the address the child printed and the type's name. CI runs this file
//! with `--features debug-heap` (`.ci/run`); without the feature, release builds compile
//! it to nothing.
#![cfg(any(debug_assertions, feature = "debug-heap"))]

mod common;

use std::mem::ManuallyDrop;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use gc::{Gc, GcCell, Trace};

/// Handles that `Escapes::drop` moved out of the sweep.
static ESCAPED: Mutex<Vec<Gc<Escapes>>> = Mutex::new(Vec::new());

#[derive(Trace)]
#[gc(unsafe_drop)]
struct Escapes {
    id: u64,
    next: GcCell<Option<Gc<Escapes>>>,
}

impl Drop for Escapes {
    fn drop(&mut self) {
        // Breaks the rule of `UnsafeDrop`: moves a handle out of a dead object.
        if let Some(next) = self.next.get_mut().take() {
            ESCAPED.lock().unwrap_or_else(|e| e.into_inner()).push(next);
        }
    }
}

// SAFETY: deliberately false (the test forges a use after free): `Escapes::drop` moves a
// handle out. The child process that runs it ends at the first use of that handle.
unsafe impl gc::UnsafeDrop for Escapes {}

/// Runs `child` and checks it panicked at the first use with the slot address it printed
/// (`SLOT <addr>`), `type_name`, `operation`, and the poisoned handle count; returns the
/// child's output.
fn expect_use_after_free(child: &str, type_name: &str, operation: &str) -> String {
    let (ok, text) = common::run_child(child, &[], &[]);
    assert!(!ok, "the child should have panicked:\n{text}");
    assert!(
        !text.contains("CHILD SURVIVED"),
        "the use after free went unnoticed:\n{text}"
    );
    let slot = text
        .lines()
        .find_map(|l| l.split("SLOT ").nth(1))
        .unwrap_or_else(|| panic!("the child printed no slot address:\n{text}"))
        .trim()
        .to_owned();
    let panic_line = text
        .lines()
        .find(|l| l.starts_with("tricolor-gc: use after free"))
        .unwrap_or_else(|| panic!("no `tricolor-gc: use after free` message:\n{text}"));
    for needle in [slot.as_str(), type_name, operation, "0xdeaddead"] {
        assert!(
            panic_line.contains(needle),
            "message lacks {needle:?}: {panic_line}\n{text}"
        );
    }
    text
}

/// The slot of the object behind `value`: the value sits one 16-byte header after it.
fn slot_of<T>(value: *const T) -> String {
    format!("{:#x}", value as usize - 16)
}

#[test]
#[ignore = "child process of a_handle_escaped_from_the_sweep_panics_at_its_first_deref"]
fn child_derefs_a_handle_escaped_from_the_sweep() {
    {
        let a = Gc::new(Escapes {
            id: 1,
            next: GcCell::new(None),
        });
        let b = Gc::new(Escapes {
            id: 2,
            next: GcCell::new(Some(a.clone())),
        });
        *a.next.borrow_mut() = Some(b);
    }
    // The sweep drops both nodes of the dead cycle; each `Drop` moves its handle out.
    gc::collect();
    // Never dropped: a drop would be a second use after free, during the first one's
    // unwinding.
    let escaped = ManuallyDrop::new(std::mem::take(&mut *ESCAPED.lock().expect("not poisoned")));
    assert_eq!(escaped.len(), 2, "both drops moved their handle out");
    println!("SLOT {}", slot_of(Gc::as_ptr(&escaped[0])));
    // First read of a freed object: panics here.
    let id = escaped[0].id;
    println!("CHILD SURVIVED (read id {id})");
}

#[test]
fn a_handle_escaped_from_the_sweep_panics_at_its_first_deref() {
    expect_use_after_free(
        "child_derefs_a_handle_escaped_from_the_sweep",
        "debug_heap::Escapes",
        "deref",
    );
}

#[derive(Trace)]
struct Payload {
    words: [u64; 6],
    cell: GcCell<Vec<u64>>,
}

/// A handle to a `Payload` that count-zero reclamation freed: a bitwise copy made on a
/// thread that then drops the original and exits (its exit hands its queued count-zero
/// objects to the collector, which frees them), returned once the object is reclaimed.
fn reclaimed_copy() -> Gc<Payload> {
    let before = gc::stats().reclaimed_objects;
    let copy = std::thread::spawn(|| {
        let original = Gc::new(Payload {
            words: [7; 6],
            cell: GcCell::new(vec![1, 2, 3]),
        });
        // SAFETY: deliberately broken: a second handle that the count does not know of.
        // The child process that uses it ends at that use.
        let copy: Gc<Payload> = unsafe { std::ptr::read(&original) };
        drop(original);
        copy
    })
    .join()
    .expect("the thread ran");
    let deadline = Instant::now() + Duration::from_secs(20);
    while gc::stats().reclaimed_objects == before {
        assert!(
            Instant::now() < deadline,
            "the collector never reclaimed the object"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    copy
}

#[test]
#[ignore = "child process of a_copied_handle_panics_after_reclamation"]
fn child_derefs_a_copied_handle_after_reclamation() {
    let copy = ManuallyDrop::new(reclaimed_copy());
    println!("SLOT {}", slot_of(Gc::as_ptr(&copy)));
    // SAFETY: deliberately broken: reads the freed (still mapped) slot through a raw
    // pointer, which no check can stop, to see the poison.
    let word = unsafe { std::ptr::read_volatile(&(*Gc::as_ptr(&copy)).words[3]) };
    println!("WORD {word:#x}");
    let first = copy.words[0];
    println!("CHILD SURVIVED (read {first:#x})");
}

#[test]
fn a_copied_handle_panics_after_reclamation() {
    let text = expect_use_after_free(
        "child_derefs_a_copied_handle_after_reclamation",
        "debug_heap::Payload",
        "deref",
    );
    assert!(
        text.contains("WORD 0xdededededededede"),
        "the freed value's bytes are poisoned:\n{text}"
    );
}

#[test]
#[ignore = "child process of a_clone_of_a_freed_handle_panics"]
fn child_clones_a_copied_handle_after_reclamation() {
    let copy = ManuallyDrop::new(reclaimed_copy());
    println!("SLOT {}", slot_of(Gc::as_ptr(&copy)));
    let _again = ManuallyDrop::new(Gc::clone(&copy));
    println!("CHILD SURVIVED");
}

#[test]
fn a_clone_of_a_freed_handle_panics() {
    expect_use_after_free(
        "child_clones_a_copied_handle_after_reclamation",
        "debug_heap::Payload",
        "clone",
    );
}

#[test]
#[ignore = "child process of a_borrow_of_a_cell_in_a_freed_object_panics"]
fn child_borrows_a_cell_of_a_freed_object() {
    let copy = ManuallyDrop::new(reclaimed_copy());
    // SAFETY: deliberately broken: the object behind `copy` was freed; the debug heap must
    // stop the borrow before it reads the cell's (poisoned) flag.
    let cell: &GcCell<Vec<u64>> = unsafe { &(*Gc::as_ptr(&copy)).cell };
    println!("SLOT {}", slot_of(Gc::as_ptr(&copy)));
    println!("CELL {:#x}", cell as *const GcCell<Vec<u64>> as usize);
    let len = cell.borrow().len();
    println!("CHILD SURVIVED (len {len})");
}

/// Runs a child that borrows a cell of a freed object and checks that it panicked at the
/// borrow, naming the cell's type. Which message depends on whether the freed object's
/// span is still in use (`span_freed == None` accepts both): with the span, the message
/// names the slot and its poisoned count; without it (its pages went back to the page
/// heap), the cell's address and that no span owns the memory.
fn expect_cell_use_after_free(child: &str, span_freed: Option<bool>) {
    let (ok, text) = common::run_child(child, &[], &[]);
    assert!(!ok, "the child should have panicked:\n{text}");
    assert!(
        !text.contains("CHILD SURVIVED"),
        "the use after free went unnoticed:\n{text}"
    );
    let printed = |tag: &str| {
        text.lines()
            .find_map(|l| l.split(tag).nth(1))
            .unwrap_or_else(|| panic!("the child printed no {tag:?}:\n{text}"))
            .trim()
            .to_owned()
    };
    let (slot, cell) = (printed("SLOT "), printed("CELL "));
    let panic_line = text
        .lines()
        .find(|l| l.starts_with("tricolor-gc: use after free"))
        .unwrap_or_else(|| panic!("no `tricolor-gc: use after free` message:\n{text}"));
    let without_span = panic_line.contains("no span owns");
    if let Some(expected) = span_freed {
        assert_eq!(without_span, expected, "which check fired: {panic_line}");
    }
    let needles: &[&str] = if without_span {
        &[cell.as_str(), "alloc::vec::Vec<u64>", "borrow"]
    } else {
        &[
            slot.as_str(),
            "alloc::vec::Vec<u64>",
            "borrow",
            "0xdeaddead",
        ]
    };
    for needle in needles {
        assert!(
            panic_line.contains(needle),
            "message lacks {needle:?}: {panic_line}\n{text}"
        );
    }
}

/// The freed object's span may or may not have gone back to the page heap by the borrow
/// (it does once the thread cache it belonged to lets it go; both happen): either way the
/// borrow panics instead of waiting for ever on the poisoned flag.
#[test]
fn a_borrow_of_a_cell_in_a_freed_object_panics() {
    expect_cell_use_after_free("child_borrows_a_cell_of_a_freed_object", None);
}

/// A large object has a span of its own, which goes back to the page heap when the
/// object is freed.
#[derive(Trace)]
struct LargePayload {
    words: [u64; 8192],
    cell: GcCell<Vec<u64>>,
}

#[test]
#[ignore = "child process of a_borrow_of_a_cell_in_a_freed_span_panics"]
fn child_borrows_a_cell_of_a_freed_large_object() {
    let before = gc::stats().reclaimed_objects;
    let big = Gc::new(LargePayload {
        words: [9; 8192],
        cell: GcCell::new(vec![4, 5]),
    });
    // SAFETY: deliberately broken: the reference outlives the object.
    let cell: &GcCell<Vec<u64>> = unsafe { &(*Gc::as_ptr(&big)).cell };
    println!("SLOT {}", slot_of(Gc::as_ptr(&big)));
    println!("CELL {:#x}", cell as *const GcCell<Vec<u64>> as usize);
    assert_eq!(big.words[0], 9);
    drop(big);
    let deadline = Instant::now() + Duration::from_secs(20);
    while gc::stats().reclaimed_objects == before {
        assert!(Instant::now() < deadline, "never reclaimed");
        gc::collect();
    }
    let len = cell.borrow().len();
    println!("CHILD SURVIVED (len {len})");
}

/// The span of a freed large object is freed with it: a borrow of a cell in its pages
/// finds no span and panics (it used to find nothing to check and spin on the poison).
#[test]
fn a_borrow_of_a_cell_in_a_freed_span_panics() {
    expect_cell_use_after_free("child_borrows_a_cell_of_a_freed_large_object", Some(true));
}

/// Live objects pass every check: handles, clones, drops and borrows of live objects (and
/// of cells outside the heap) never trip the debug heap, across cycles and reclamation.
#[test]
fn live_objects_pass_the_checks() {
    let local = GcCell::new(5u32);
    *local.borrow_mut() += 1;
    let mut keep = Vec::new();
    for i in 0..10_000u64 {
        let p = Gc::new(Payload {
            words: [i; 6],
            cell: GcCell::new(vec![i]),
        });
        p.cell.borrow_mut().push(i + 1);
        if i % 3 == 0 {
            keep.push(p.clone());
        }
        if i % 1_000 == 0 {
            gc::collect();
        }
    }
    gc::collect();
    for p in &keep {
        let i = p.words[0];
        assert_eq!(p.words, [i; 6]);
        assert_eq!(*p.cell.borrow(), vec![i, i + 1]);
    }
    assert_eq!(*local.borrow(), 6);
}
