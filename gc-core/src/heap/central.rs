//! Central span lists: one `Central` per span class (mirrors Go's `mcentral.go`).
//!
//! # Algorithm
//! 1. `cache_span` (a thread cache needs a span): pop a partial span of the swept half,
//!    merging its pending explicit frees first; if the list is empty, sweep an unswept span
//!    (while the sweep's free pass is open), else take an empty span, else grow: ask the
//!    page heap for a fresh span (noting a growth during the sweep's drop pass past the
//!    heap goal, after which the thread helps that pass and waits for its end, for a
//!    bounded time: `heap::note_growth`).
//!    The span is marked `Cached`: from now on its owner is the thread cache.
//! 2. `uncache_span` (a thread cache hands a span back, because it is full or because the
//!    thread exits): merge pending frees; an empty span goes back to the page heap, a span
//!    with free slots to the partial list, a full one to the full list.
//! 3. `note_free` (an explicit free hit a span that is not cached): a span on the full list
//!    whose free plus pending slots reach its reuse threshold (an eighth of its slots)
//!    moves to the partial list; a listed span whose every slot is now freed is swept and
//!    its pages go back to the page heap, so idle memory reaches the scavenger without
//!    waiting for a thread to allocate. The threshold keeps a span with one free slot from
//!    bouncing between a cache and the lists once per allocation.
//!
//! 4. Empty small-object spans wait on an empty list, in two ages: a span emptied since the
//!    scavenger's last period is new; the scavenger returns old ones to the page heap and
//!    ages the new ones (`release_empty`). `cache_span` takes empty spans (old first)
//!    before growing the heap, so a thread that frees and reallocates a batch does not
//!    round-trip its spans through the page heap (and its lock) every time.
//!
//! Spans are kept on intrusive doubly linked lists (`Span::links`), so moving a span
//! between lists is O(1). Each list exists twice, indexed by sweep-generation parity like
//! Go's `partial[2]` / `full[2]`: the *swept* half is `sweep_gen / 2 % 2`, the other half
//! holds spans not yet swept this cycle. Until the collector advances sweep generations
//! (the sweeper increment), every span lives in the swept half and the unswept half stays
//! empty (checked by `check_invariants`).
//!
//! # Invariants
//! - A span is on at most one list, and `Span::list()` names it (`Partial` / `Full`), or is
//!   `Cached` while a thread cache owns it.
//! - A span on a partial list has at least one free slot (it had `reuse_threshold` when
//!   listed; "full" means "not worth caching", and may hold a few free slots).
//!
//! # Locking
//! The `Mutex` is taken on refill and hand-back (once per span's worth of allocations),
//! and on the rare frees that change a span's list. Lock order: central -> page heap.
//!
//! The sweep's walk of the unswept lists (`unswept_spans`, once per cycle) is the one long
//! holder: on W3 at 64 MiB, 16,000 spans of one class took 70-700 us, and every thread
//! cache that needed a span waited for it, stalling its mutator. The walk
//! lets waiters in every `WALK_CHUNK` spans (`MutexGuard::bump`) and goes on only if
//! neither list it walks changed meanwhile: each list counts its pushes and removals
//! (`SpanList::version`), and a span's links change only through those. So the spans it
//! returns are those of one instant, as with one hold. A list that changed restarts the
//! walk, at most `WALK_RESTARTS` times, after which it holds the lock to the end.

use core::ptr::NonNull;

use parking_lot::{Mutex, MutexGuard};

use super::size_class::SpanClass;
use super::span::{ListId, Span};
use super::{accounting, page_heap, AllocError};
use crate::collector::phase::{phase_in_op, Phase};

/// Spans `unswept_spans` walks per hold of the lock.
const WALK_CHUNK: usize = 256;
/// Restarts after which `unswept_spans` walks to the end in one hold.
const WALK_RESTARTS: usize = 3;

/// Unswept spans `cache_span` sweeps before it gives up on them (each one it cannot use
/// is filed: full, or empty and on the empty list, which it then takes).
const LAZY_SWEEP_TRIES: usize = 4;

/// What sweeping a set of spans did.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct SweepTotals {
    /// Objects freed.
    pub(crate) freed_objects: usize,
    /// Spans swept.
    pub(crate) spans: usize,
    /// Bytes of the objects that survived (the marked heap: Go's `heapMarked`).
    pub(crate) live_bytes: usize,
    /// Of those, the bytes of objects allocated black during the cycle's `Mark`.
    pub(crate) born_live_bytes: usize,
}

/// An intrusive list head.
#[derive(Debug, Default)]
struct SpanList {
    head: Option<NonNull<Span>>,
    len: usize,
    /// Pushes and removals so far: unchanged means the same spans in the same order.
    version: u64,
}

/// A span pointer plus the lock token that allows touching its `links`.
fn links(span: NonNull<Span>, _lists: &mut Lists) -> &mut super::span::Links {
    // SAFETY: `links` is protected by the central lock of the span's class; holding
    // `&mut Lists` proves the caller holds that lock (the only way to get one).
    unsafe { &mut *(*span.as_ptr()).links.get() }
}

#[derive(Debug, Default)]
struct Lists {
    partial: [SpanList; 2],
    full: [SpanList; 2],
    /// Empty spans by age: `[0]` emptied since the scavenger's last period, `[1]` before.
    empty: [SpanList; 2],
}

/// Age index of spans that became empty since the last scavenger period.
const EMPTY_NEW: usize = 0;
/// Age index of spans that have been empty for at least one whole period.
const EMPTY_OLD: usize = 1;

impl Lists {
    fn list_mut(&mut self, id: ListId, half: usize) -> &mut SpanList {
        match id {
            ListId::Partial => &mut self.partial[half],
            ListId::Full => &mut self.full[half],
            ListId::Empty => &mut self.empty[half],
            other => unreachable!("tricolor-gc: span list {other:?} has no central list"),
        }
    }

    fn push(&mut self, span: NonNull<Span>, id: ListId, half: usize) {
        let old_head = self.list_mut(id, half).head;
        {
            let l = links(span, self);
            l.prev = None;
            l.next = old_head;
            l.half = half as u8;
        }
        if let Some(head) = old_head {
            links(head, self).prev = Some(span);
        }
        let list = self.list_mut(id, half);
        list.head = Some(span);
        list.len += 1;
        list.version += 1;
        // SAFETY: span structs live for the process; list id is lock-protected state.
        unsafe { span.as_ref() }.set_list(id);
    }

    fn remove(&mut self, span: NonNull<Span>) {
        // SAFETY: as in `push`.
        let id = unsafe { span.as_ref() }.list();
        let (prev, next, half) = {
            let l = links(span, self);
            (l.prev.take(), l.next.take(), l.half as usize)
        };
        match prev {
            Some(p) => links(p, self).next = next,
            None => self.list_mut(id, half).head = next,
        }
        if let Some(n) = next {
            links(n, self).prev = prev;
        }
        let list = self.list_mut(id, half);
        list.len -= 1;
        list.version += 1;
        // SAFETY: as in `push`.
        unsafe { span.as_ref() }.set_list(ListId::Nowhere);
    }

    fn pop(&mut self, id: ListId, half: usize) -> Option<NonNull<Span>> {
        let head = self.list_mut(id, half).head?;
        self.remove(head);
        Some(head)
    }
}

/// The central free lists of one span class.
#[derive(Debug)]
pub(crate) struct Central {
    class: SpanClass,
    /// Whether this central holds collector-managed spans (swept by cycles, so its lists
    /// follow the heap's sweep generation) or raw ones (explicit frees; always "swept").
    managed: bool,
    lists: Mutex<Lists>,
}

// SAFETY: the raw span pointers inside `Lists` are only followed under the mutex, and span
// structs are process-lifetime metadata.
unsafe impl Send for Central {}
// SAFETY: as above.
unsafe impl Sync for Central {}

/// Which half of each managed list holds swept spans.
fn managed_swept_half() -> usize {
    (super::sweep_gen() / 2 % 2) as usize
}

impl Central {
    pub(crate) fn new(class: SpanClass, managed: bool) -> Central {
        Central {
            class,
            managed,
            lists: Mutex::new(Lists::default()),
        }
    }

    /// Which half of each list holds swept spans.
    fn swept_half(&self) -> usize {
        if self.managed {
            managed_swept_half()
        } else {
            0
        }
    }

    /// Sweeps explicit frees out of a span the caller owns exclusively and updates the
    /// in-use accounting (the span is uncached, so it is counted by `alloc_count`).
    fn merge_frees(span: &Span) {
        if span.pending_frees() > 0 {
            let before = span.alloc_count();
            // SAFETY: the caller owns the span (central lock held, span not cached).
            unsafe { span.sweep(false, 0, |_| {}) };
            accounting::sub_in_use((before - span.alloc_count()) * span.elem_bytes());
        }
    }

    /// A span with at least one free slot, now owned by the caller's thread cache.
    pub(crate) fn cache_span(&self) -> Result<NonNull<Span>, AllocError> {
        let half = self.swept_half();
        {
            let mut lists = self.lists.lock();
            while let Some(span) = lists.pop(ListId::Partial, half) {
                // SAFETY: span structs live for the process; we own it under the lock.
                let span_ref = unsafe { span.as_ref() };
                span_ref.check_unchanged_since_filed("cache_span");
                Self::merge_frees(span_ref);
                if span_ref.free_slots() > 0 {
                    span_ref.set_list(ListId::Cached);
                    accounting::add_in_use(span_ref.free_slots() * span_ref.elem_bytes());
                    drop(lists);
                    super::check_trigger();
                    return Ok(span);
                }
                span_ref.note_filed();
                lists.push(span, ListId::Full, half);
            }
        }
        // Go's `mcentral.cacheSpan`: while the sweep's free pass is open, sweep an unswept
        // span of this class before taking an empty one or growing the heap, and use it if
        // the sweep left a free slot (allocator rule 6). A thread that allocates during
        // the sweep so reuses the memory the cycle freed instead of growing the heap.
        if self.managed && super::sweep_state::free_pass_open() {
            for _ in 0..LAZY_SWEEP_TRIES {
                let Some(span) = self.pop_unswept() else {
                    break;
                };
                // SAFETY: popped under the lock: the span is ours alone until filed or
                // cached.
                let span_ref = unsafe { span.as_ref() };
                let _ = Self::sweep_popped(span_ref);
                let mut lists = self.lists.lock();
                if span_ref.free_slots() > 0 {
                    span_ref.set_list(ListId::Cached);
                    accounting::add_in_use(span_ref.free_slots() * span_ref.elem_bytes());
                    drop(lists);
                    super::sweep_state::end_one();
                    super::check_trigger();
                    return Ok(span);
                }
                self.file(&mut lists, span, span_ref);
                drop(lists);
                super::sweep_state::end_one();
            }
        }
        {
            let mut lists = self.lists.lock();
            for age in [EMPTY_OLD, EMPTY_NEW] {
                if let Some(span) = lists.pop(ListId::Empty, age) {
                    // SAFETY: span structs live for the process; we own it under the lock.
                    let span_ref = unsafe { span.as_ref() };
                    span_ref.check_unchanged_since_filed("cache_span (empty)");
                    if self.managed && phase_in_op() != Phase::Mark {
                        // SAFETY: ours under the lock, and empty (it was on the empty list).
                        unsafe { span_ref.clear_marks_of_empty() };
                    }
                    span_ref.set_list(ListId::Cached);
                    accounting::add_in_use(span_ref.free_slots() * span_ref.elem_bytes());
                    drop(lists);
                    super::check_trigger();
                    return Ok(span);
                }
            }
        }
        let size = self.class.size_class();
        if self.managed {
            super::note_growth(size.span_pages());
        }
        let span = page_heap().alloc_span(size.span_pages(), 1, self.class)?;
        // SAFETY: fresh span, exclusively ours until published in a cache.
        let span_ref = unsafe { span.as_ref() };
        span_ref.set_managed(self.managed);
        span_ref.set_list(ListId::Cached);
        accounting::add_in_use(span_ref.elem_count() * span_ref.elem_bytes());
        super::check_trigger();
        Ok(span)
    }

    /// Takes back a span from a thread cache.
    ///
    /// # Safety
    /// `span` belongs to this class and is cached by the calling thread's cache, which
    /// gives up ownership.
    pub(crate) unsafe fn uncache_span(&self, span: NonNull<Span>) {
        // SAFETY: span structs live for the process.
        let span_ref = unsafe { span.as_ref() };
        debug_assert_eq!(span_ref.list(), ListId::Cached);
        let mut lists = self.lists.lock();
        // While cached, every slot counted as in use; from now on only allocated ones do.
        accounting::sub_in_use(span_ref.free_slots() * span_ref.elem_bytes());
        span_ref.set_list(ListId::Nowhere);
        Self::merge_frees(span_ref);
        self.file(&mut lists, span, span_ref);
    }

    /// Puts an owned, merged span where it belongs: an empty small-object span on the
    /// empty list (reused before the heap grows; released by the scavenger after a
    /// period), an empty large-object span straight back to the page heap, else a list.
    fn file(&self, lists: &mut Lists, span: NonNull<Span>, span_ref: &Span) {
        span_ref.note_filed();
        if span_ref.alloc_count() == 0 {
            if self.class.size_class().is_large() {
                // SAFETY: we own the span (on no list, not cached) and it holds no object.
                unsafe { page_heap().free_span(span) };
            } else {
                lists.push(span, ListId::Empty, EMPTY_NEW);
            }
            super::scavenger::note_pages_freed();
        } else if span_ref.free_slots() >= span_ref.reuse_threshold() {
            lists.push(span, ListId::Partial, self.swept_half());
        } else {
            lists.push(span, ListId::Full, self.swept_half());
        }
    }

    /// Registers a large-object span (one slot, already allocated) on the full list, so
    /// that it is enumerable like every other span.
    pub(crate) fn list_large(&self, span: NonNull<Span>) {
        let mut lists = self.lists.lock();
        // SAFETY: span structs live for the process.
        unsafe { span.as_ref() }.note_filed();
        lists.push(span, ListId::Full, self.swept_half());
    }

    /// Called after an explicit free on a span that may not be cached (see module docs,
    /// step 3). The caller calls it only when the free may have changed the span's list:
    /// the first pending free, or one that may have freed the span's last object.
    pub(crate) fn note_free(&self, span: NonNull<Span>) {
        let mut lists = self.lists.lock();
        // SAFETY: span structs live for the process; its list state is read under the lock.
        let span_ref = unsafe { span.as_ref() };
        match span_ref.list() {
            ListId::Cached | ListId::Nowhere | ListId::Empty => {}
            list @ (ListId::Full | ListId::Partial) => {
                let half = links(span, &mut lists).half as usize;
                if half != self.swept_half() {
                    // Unswept (phase `Sweep`): only the sweeper may merge and file it, and
                    // its sweep takes this free with the mark bits (allocator rule 5).
                    return;
                }
                let pending = span_ref.pending_frees();
                let all_freed = pending >= span_ref.alloc_count();
                let worth_reuse = span_ref.free_slots() + pending >= span_ref.reuse_threshold();
                if all_freed || (list == ListId::Full && worth_reuse) {
                    span_ref.check_unchanged_since_filed("note_free");
                    lists.remove(span);
                    Self::merge_frees(span_ref);
                    self.file(&mut lists, span, span_ref);
                }
            }
        }
    }

    /// Returns empty spans to the page heap: those that were already old, and, if `all`,
    /// the new ones too; otherwise new ones become old. Returns the spans released.
    pub(crate) fn release_empty(&self, all: bool) -> usize {
        let mut lists = self.lists.lock();
        let mut released = 0;
        let ages: &[usize] = if all {
            &[EMPTY_OLD, EMPTY_NEW]
        } else {
            &[EMPTY_OLD]
        };
        for &age in ages {
            while let Some(span) = lists.pop(ListId::Empty, age) {
                // SAFETY: we own the span (popped under the lock) and it holds no object.
                unsafe { page_heap().free_span(span) };
                released += 1;
            }
        }
        while let Some(span) = lists.pop(ListId::Empty, EMPTY_NEW) {
            lists.push(span, ListId::Empty, EMPTY_OLD);
        }
        released
    }

    /// The spans on the unswept halves of the partial and full lists (pointers taken under
    /// the lock; the spans stay listed). Unswept spans are taken only to be swept: by the
    /// sweep's free pass, and by `cache_span` once that pass is open.
    ///
    /// Lets waiting threads take the lock every `WALK_CHUNK` spans (module docs, "Locking").
    pub(crate) fn unswept_spans(&self, out: &mut Vec<NonNull<Span>>) {
        debug_assert!(self.managed);
        self.walk_unswept(out, |lists| MutexGuard::bump(lists));
    }

    /// [`Central::unswept_spans`], with `between_holds` in place of letting waiters in (the
    /// tests change the lists there).
    fn walk_unswept(
        &self,
        out: &mut Vec<NonNull<Span>>,
        mut between_holds: impl FnMut(&mut MutexGuard<'_, Lists>),
    ) {
        let unswept = 1 - self.swept_half();
        let versions =
            |lists: &Lists| [lists.partial[unswept].version, lists.full[unswept].version];
        let first = out.len();
        let mut restarts = 0;
        'walk: loop {
            out.truncate(first);
            let mut lists = self.lists.lock();
            let walked = versions(&lists);
            for id in [ListId::Partial, ListId::Full] {
                let mut cursor = lists.list_mut(id, unswept).head;
                let mut in_hold = 0;
                while let Some(span) = cursor {
                    out.push(span);
                    cursor = links(span, &mut lists).next;
                    in_hold += 1;
                    if in_hold == WALK_CHUNK && restarts < WALK_RESTARTS {
                        in_hold = 0;
                        between_holds(&mut lists);
                        // `cursor` is the link of a span still on the list only if neither
                        // list changed while the lock was let go.
                        if versions(&lists) != walked {
                            restarts += 1;
                            continue 'walk;
                        }
                    }
                }
            }
            return;
        }
    }

    /// Sweeps up to `max_spans` unswept spans with the collector's mark bits and files each
    /// in the swept half (or returns it to the heap when empty). Returns the spans swept
    /// (fewer than `max_spans`: none is left) and the bytes their objects held before. Any
    /// thread may call it while the sweep's free pass is open (`super::sweep_state`); the
    /// totals go to the sweep's counters.
    pub(crate) fn sweep_unswept(&self, max_spans: usize) -> (usize, usize) {
        debug_assert!(self.managed);
        let (mut swept, mut bytes) = (0, 0);
        while swept < max_spans {
            let Some(span) = self.pop_unswept() else {
                break;
            };
            // SAFETY: popped under the lock: the span is ours alone until filed.
            let span_ref = unsafe { span.as_ref() };
            bytes += Self::sweep_popped(span_ref);
            let mut lists = self.lists.lock();
            self.file(&mut lists, span, span_ref);
            drop(lists);
            super::sweep_state::end_one();
            swept += 1;
        }
        (swept, bytes)
    }

    /// Pops an unswept span (counted as being swept, `sweep_state::begin_one`), if any.
    fn pop_unswept(&self) -> Option<NonNull<Span>> {
        let mut lists = self.lists.lock();
        let unswept = 1 - self.swept_half();
        let span = lists
            .pop(ListId::Partial, unswept)
            .or_else(|| lists.pop(ListId::Full, unswept))?;
        super::sweep_state::begin_one();
        Some(span)
    }

    /// Sweeps a span popped from an unswept list with the mark bits and counts it; returns
    /// the bytes its objects held before.
    fn sweep_popped(span_ref: &Span) -> usize {
        span_ref.check_unchanged_since_filed("the sweeper");
        let before = span_ref.alloc_count();
        // SAFETY: the caller popped the span under the lock (exclusive ownership), and
        // marking of this cycle has terminated.
        let outcome = unsafe { span_ref.sweep(true, 0, |_| {}) };
        // Only the slots that died now: explicitly freed ones (count-zero reclamation)
        // were counted when they were freed.
        super::sweep_state::add(SweepTotals {
            freed_objects: outcome.dead_slots,
            spans: 1,
            live_bytes: outcome.live_slots * span_ref.elem_bytes(),
            born_live_bytes: outcome.born_live_slots * span_ref.elem_bytes(),
        });
        accounting::sub_in_use((before - outcome.live_slots) * span_ref.elem_bytes());
        before * span_ref.elem_bytes()
    }

    /// Spans on this class's lists: (partial, full, empty).
    pub(crate) fn census(&self) -> (usize, usize, usize) {
        let lists = self.lists.lock();
        (
            lists.partial.iter().map(|l| l.len).sum(),
            lists.full.iter().map(|l| l.len).sum(),
            lists.empty.iter().map(|l| l.len).sum(),
        )
    }

    /// Walks every list and checks the invariants in the module docs.
    pub(crate) fn check_invariants(&self) {
        let mut lists = self.lists.lock();
        let half = self.swept_half();
        for (id, which) in [
            (ListId::Partial, 0),
            (ListId::Partial, 1),
            (ListId::Full, 0),
            (ListId::Full, 1),
        ] {
            let mut count = 0;
            let mut cursor = lists.list_mut(id, which).head;
            let mut prev = None;
            while let Some(span) = cursor {
                // SAFETY: listed spans are live span structs; links read under the lock.
                let span_ref = unsafe { span.as_ref() };
                assert_eq!(
                    span_ref.list(),
                    id,
                    "tricolor-gc: span {:#x} on the wrong list",
                    span_ref.start()
                );
                assert_eq!(
                    span_ref.span_class(),
                    self.class,
                    "tricolor-gc: span {:#x} in the wrong class",
                    span_ref.start()
                );
                let l = links(span, &mut lists);
                assert_eq!(l.prev, prev, "tricolor-gc: broken back link at span");
                assert_eq!(l.half as usize, which, "tricolor-gc: span list half");
                prev = Some(span);
                cursor = l.next;
                count += 1;
                span_ref.check_invariants();
                if id == ListId::Empty {
                    assert_eq!(
                        span_ref.alloc_count(),
                        0,
                        "tricolor-gc: span {:#x} on the empty list holds objects",
                        span_ref.start()
                    );
                }
                if id == ListId::Partial {
                    assert!(
                        span_ref.free_slots() > 0,
                        "tricolor-gc: partial span {:#x} has no free slot",
                        span_ref.start()
                    );
                }
            }
            assert_eq!(
                count,
                lists.list_mut(id, which).len,
                "tricolor-gc: list length"
            );
            if which != half {
                assert_eq!(
                    count, 0,
                    "tricolor-gc: unswept half is used before sweep generations advance"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::size_class::SizeClass;

    /// A managed central (not one of the heap's) with `n` fresh spans on its unswept full
    /// list, in list order.
    fn central_with_unswept(n: usize) -> (Central, Vec<NonNull<Span>>) {
        let class = SpanClass::new(SizeClass::for_request(64, 8).expect("a small class"), false);
        let central = Central::new(class, true);
        let unswept = 1 - central.swept_half();
        let mut lists = central.lists.lock();
        let mut spans: Vec<NonNull<Span>> = (0..n)
            .map(|_| {
                let span = page_heap()
                    .alloc_span(class.size_class().span_pages(), 1, class)
                    .expect("a span");
                lists.push(span, ListId::Full, unswept);
                span
            })
            .collect();
        drop(lists);
        spans.reverse(); // pushed at the head
        (central, spans)
    }

    fn release(central: Central, spans: Vec<NonNull<Span>>) {
        let mut lists = central.lists.lock();
        for span in spans {
            lists.remove(span);
            // SAFETY: the span came from the page heap above and holds no object.
            unsafe { page_heap().free_span(span) };
        }
    }

    fn assert_each_once(walked: &[NonNull<Span>], spans: &[NonNull<Span>]) {
        let mut walked: Vec<usize> = walked.iter().map(|s| s.as_ptr() as usize).collect();
        let mut expected: Vec<usize> = spans.iter().map(|s| s.as_ptr() as usize).collect();
        walked.sort_unstable();
        expected.sort_unstable();
        assert_eq!(walked, expected, "every span exactly once");
    }

    #[test]
    fn a_walk_in_chunks_sees_the_list_in_order() {
        let (central, spans) = central_with_unswept(3 * WALK_CHUNK + 17);
        let mut holds = 0;
        let mut walked = Vec::new();
        central.walk_unswept(&mut walked, |_| holds += 1);
        assert_eq!(walked, spans);
        assert_eq!(holds, 3, "let go once per chunk");
        release(central, spans);
    }

    #[test]
    fn a_list_that_changes_between_holds_restarts_the_walk() {
        let (central, spans) = central_with_unswept(2 * WALK_CHUNK + 5);
        let unswept = 1 - central.swept_half();
        // Between the first two holds, move a span not walked yet to the unswept partial
        // list (as a free that makes room does), which the walk has passed: a walk that
        // went on would never see it.
        let moved = spans[WALK_CHUNK + 10];
        let mut holds = 0;
        let mut walked = vec![NonNull::dangling()]; // what the caller had stays
        central.walk_unswept(&mut walked, |lists| {
            holds += 1;
            if holds == 1 {
                lists.remove(moved);
                lists.push(moved, ListId::Partial, unswept);
            }
        });
        assert_eq!(walked[0], NonNull::dangling());
        assert_each_once(&walked[1..], &spans);
        assert_eq!(walked[1], moved, "the partial list is walked first");
        release(central, spans);
    }

    #[test]
    fn a_list_that_keeps_changing_is_walked_in_one_hold_at_last() {
        let (central, spans) = central_with_unswept(2 * WALK_CHUNK + 5);
        let unswept = 1 - central.swept_half();
        let mut holds = 0;
        let mut walked = Vec::new();
        central.walk_unswept(&mut walked, |lists| {
            holds += 1;
            // Take the head off and put it back: the same spans, but a changed list.
            let head = spans[0];
            lists.remove(head);
            lists.push(head, ListId::Full, unswept);
        });
        assert_eq!(holds, WALK_RESTARTS, "one let-go per restart, then none");
        assert_each_once(&walked, &spans);
        release(central, spans);
    }
}
