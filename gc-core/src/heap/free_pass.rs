//! The gate of a cycle's free pass: whether threads may sweep unswept spans now, and the
//! count of sweep assists inside the gate (`sweep_state.rs` says what the pass is).
//!
//! # The straddling assist
//! A sweep assist (an allocating thread's share of the free pass) runs outside any op, so
//! no stopped world separates it from the collector: one that saw the pass open and was
//! then preempted could wake in a later cycle's `Sweep`, after mark termination made spans
//! unswept again but before that sweep's drop pass took them, and sweep a span whose dead
//! objects' drop glue never ran (a live object freed: docs/collector.md, "A sweep assist
//! that straddled cycles"). So:
//! - an assist enters ([`FreePass::assist_if_open`]): it increments `assisting`, *then*
//!   reads `open`, and sweeps only if the pass is open; it decrements `assisting` after
//!   its last span is filed;
//! - the collector closes ([`FreePass::close`]): it stores `open = false`, *then* reads
//!   `assisting` with a read-modify-write and waits until it reads zero.
//!
//! Either the assist's increment comes first in `assisting`'s modification order, and the
//! collector's read-modify-write (which reads the latest value) sees it and waits for the
//! decrement, whose Release orders the whole sweep before the collector goes on; or the
//! collector's read-modify-write comes first, the assist's increment reads from it
//! (synchronises with it, both `SeqCst`), and so the assist's load of `open` happens after
//! the store of `false`: it reads `false`, or the `true` of a later pass that the collector
//! opened only after that pass's drop glue ran. (An assist still inside when the pass
//! closes finds the unswept lists empty: the collector closes only after its own sweep
//! emptied them, and nothing is filed unswept during a free pass.) The argument needs only acquire/release
//! and the read-modify-writes' total order on `assisting`, which is also what loom checks
//! (`tests/loom_protocol.rs`, `free_pass_vs_straddling_assist`; its control drops the wait).

use crate::sync::{const_fn_unless_loom, spin_until, AtomicBool, AtomicUsize, Ordering};

/// The free pass's gate (module docs).
#[derive(Debug)]
pub(crate) struct FreePass {
    open: AtomicBool,
    /// Assists inside [`FreePass::assist_if_open`].
    assisting: AtomicUsize,
    /// Loom controls only: whether [`FreePass::close`] waits for assists (as shipped);
    /// [`FreePass::without_assist_wait`] clears it.
    #[cfg(tricolor_loom)]
    wait_for_assists: bool,
}

impl FreePass {
    const_fn_unless_loom! {
        /// A closed pass with no assist inside.
        pub(crate) fn new() -> FreePass {
            FreePass {
                open: AtomicBool::new(false),
                assisting: AtomicUsize::new(0),
                #[cfg(tricolor_loom)]
                wait_for_assists: true,
            }
        }
    }

    /// Loom controls only: a gate whose `close` does not wait for assists inside.
    #[cfg(tricolor_loom)]
    pub(crate) fn without_assist_wait() -> FreePass {
        FreePass {
            wait_for_assists: false,
            ..FreePass::new()
        }
    }

    /// Whether the pass is open (a thread cache's own sweep checks it inside an op, which
    /// no cycle's termination stop overlaps).
    #[inline]
    pub(crate) fn is_open(&self) -> bool {
        // Acquire: pairs with `open`, so a thread that sees the pass open also sees that
        // every drop glue of the sweep's first pass ran (it ran before the store).
        self.open.load(Ordering::Acquire)
    }

    /// Opens the pass (collector, in `Sweep`, after the drop pass).
    pub(crate) fn open(&self) {
        self.open.store(true, Ordering::Release);
    }

    /// Closes the pass (collector, when every span is swept) and waits until no assist is
    /// inside [`FreePass::assist_if_open`] (module docs).
    pub(crate) fn close(&self) {
        self.open.store(false, Ordering::SeqCst);
        #[cfg(tricolor_loom)]
        if !self.wait_for_assists {
            return;
        }
        // A read-modify-write first (module docs: it reads the latest increment); the
        // loads after it cannot read an older value (read-read coherence).
        if self.assisting.fetch_add(0, Ordering::SeqCst) != 0 {
            // Acquire (SeqCst): the zero read is an assist's decrement, after its sweep.
            spin_until(|| self.assisting.load(Ordering::SeqCst) == 0);
        }
    }

    /// Runs `sweep` (an assist's share of the pass, outside any op) if the pass is open,
    /// counted so that the collector does not close the pass while it runs (module docs);
    /// 0 without running it if the pass is closed.
    pub(crate) fn assist_if_open(&self, sweep: impl FnOnce() -> usize) -> usize {
        self.assisting.fetch_add(1, Ordering::SeqCst);
        let bytes = if self.open.load(Ordering::SeqCst) {
            sweep()
        } else {
            0
        };
        // Release (SeqCst): orders the sweep before the collector's read of zero.
        self.assisting.fetch_sub(1, Ordering::SeqCst);
        bytes
    }
}
