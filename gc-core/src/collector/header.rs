//! The object header and per-type information (the collector's view of a `Gc` object).
//!
//! # Layout
//! Every managed object is a `GcBox<T>`: a 16-byte [`Header`] followed by the value.
//! - `info`: pointer to the static [`TypeInfo`] of `T`, or null. Null means "no object
//!   here": a fresh slot (managed spans start with null headers, see `heap`), a slot whose
//!   object the sweeper freed, or a slot being constructed. `Gc::new` stores it last, with
//!   Release, after the value; the collector loads it with Acquire and reads nothing else of
//!   a slot whose `info` is null.
//! - `handles`: the handle count, one per `Gc<T>` anywhere (DESIGN §3).
//! - `internal`: during a cycle, the handles found inside other pre-existing objects
//!   (written only by the counting pass, reset by the roots pass).
//!
//! Mark bits are not in the header: they live in the span's mark bitmap.
//!
//! # The debug heap (DESIGN §9)
//! In debug builds (`debug_assertions`) and with the `debug-heap` feature, [`DEBUG_HEAP`]
//! is true and:
//! 1. Whoever frees a managed slot (the sweep's drop pass, `reclaim_one`) nulls `info`
//!    first, as always (the allocator and the collector rely on a freed managed slot's
//!    first word being null), then [`poison_freed`] stores [`POISON_HANDLES`] into both
//!    counts and fills the rest of the object with [`POISON_BYTE`].
//! 2. `Gc`'s `Deref`, `clone` and `drop` call [`check_handle`], and `GcCell`'s borrows
//!    call [`check_cell`], before reading anything else of the object: `info` must be
//!    non-null (and, for a handle, name the handle's type and size) and `handles` must be
//!    a live count (at most `MAX_HANDLES`, so never the poison). A use after free thus
//!    panics at its first read, with a `tricolor-gc: use after free` message naming the
//!    slot's address and the type, instead of reading poison or a new object that reused
//!    the slot. (A slot reused by an object of the same type is not detected, and for a
//!    cell, whose enclosing type is unknown, a slot reused by any object.) A cell in heap
//!    memory that no in-use span owns (its object was freed and then its span, whose pages
//!    went back to the page heap, still mapped and still poisoned) panics the same way:
//!    no live object is ever there, and its flag, poison, would look like a writer
//!    forever (the borrow would wait for ever).
//!
//! In release builds without the feature `DEBUG_HEAP` is a `false` constant, and every
//! use is an `if DEBUG_HEAP` that the compiler removes: no load, no branch.
//!
//! Nothing reads a freed slot legitimately: the collector's walks skip null `info`, and a
//! handle released by the sweep's drop glue touches nothing of a target that the sweep
//! frees (`sweep.rs`, "The rule for handles released by drop glue"). So poisoning changes
//! no behaviour of a correct program.

use core::ptr::NonNull;

use crate::sync::{AtomicPtr, AtomicU32, Ordering};

/// Whether freed slots are poisoned and handles check headers (module docs, "The debug
/// heap"): debug builds, or the `debug-heap` feature.
pub(crate) const DEBUG_HEAP: bool = cfg!(any(debug_assertions, feature = "debug-heap"));

/// Both counts of a freed slot in debug-heap builds. Above `gc::MAX_HANDLES`
/// (`u32::MAX / 2`), so no live count equals it.
pub(crate) const POISON_HANDLES: u32 = 0xDEAD_DEAD;

/// Every byte of a freed slot's value in debug-heap builds: a pointer read from it is
/// `0xdede_dede_dede_dede`, not a canonical address, and easy to recognise in a debugger.
pub(crate) const POISON_BYTE: u8 = 0xDE;

/// The largest handle count a live object can have (`Gc::clone` aborts above it).
pub(crate) const MAX_HANDLES: u32 = u32::MAX / 2;
use crate::trace::{Trace, Tracer};

/// What the collector knows about a type, one static instance per `T`.
#[derive(Debug)]
pub(crate) struct TypeInfo {
    /// `core::any::type_name::<T>`, for messages.
    pub(crate) name: fn() -> &'static str,
    /// Reports the handles inside the value.
    pub(crate) trace: unsafe fn(NonNull<Header>, &mut Tracer),
    /// Drops the value in place.
    pub(crate) drop_value: unsafe fn(NonNull<Header>),
    /// `core::mem::needs_drop::<T>()`.
    pub(crate) needs_drop: bool,
    /// `size_of::<GcBox<T>>()`: the bytes the debug heap poisons, and checks a handle's
    /// type against.
    pub(crate) box_bytes: usize,
}

/// The header of every managed object.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Header {
    pub(crate) info: AtomicPtr<TypeInfo>,
    pub(crate) handles: AtomicU32,
    pub(crate) internal: AtomicU32,
}

/// A managed object: header, then value.
#[repr(C)]
pub(crate) struct GcBox<T> {
    pub(crate) header: Header,
    pub(crate) value: T,
}

impl<T: Trace + Send + 'static> GcBox<T> {
    /// The static type information of `T`.
    pub(crate) const INFO: TypeInfo = TypeInfo {
        name: core::any::type_name::<T>,
        trace: Self::trace_erased,
        drop_value: Self::drop_erased,
        needs_drop: core::mem::needs_drop::<T>(),
        box_bytes: core::mem::size_of::<GcBox<T>>(),
    };

    /// # Safety
    /// `header` heads a published `GcBox<T>` that is not being dropped.
    unsafe fn trace_erased(header: NonNull<Header>, tracer: &mut Tracer) {
        // SAFETY: per the contract, the box is live and its value initialised; tracing
        // takes `&T` (the value is only mutated through `GcCell`, which the trace of a
        // cell guards with its own lock).
        let value = unsafe { &(*header.cast::<GcBox<T>>().as_ptr()).value };
        value.trace(tracer);
    }

    /// # Safety
    /// `header` heads a published `GcBox<T>` that is unreachable and dropped only once.
    unsafe fn drop_erased(header: NonNull<Header>) {
        // SAFETY: per the contract, nobody else can reach the value and it is dropped once.
        unsafe {
            core::ptr::drop_in_place(core::ptr::addr_of_mut!(
                (*header.cast::<GcBox<T>>().as_ptr()).value
            ))
        };
    }
}

impl Header {
    /// The type information, if a published object lives here.
    #[inline]
    pub(crate) fn info(&self) -> Option<&'static TypeInfo> {
        // Acquire: pairs with the Release in `Gc::new` (module docs).
        let info = self.info.load(Ordering::Acquire);
        // SAFETY: non-null `info` pointers are `&'static TypeInfo`s stored by `Gc::new`.
        unsafe { info.as_ref() }
    }
}

/// Debug heap: poisons the freed object headed at `header` (module docs, step 1): both
/// counts become [`POISON_HANDLES`], the `info.box_bytes - 16` bytes after the header
/// [`POISON_BYTE`].
///
/// # Safety
/// - `header` heads a managed object of type `info` whose value was dropped (or never
///   needed drop) and whose `info` word is already null.
/// - Nothing reads or writes the object any more (it is unreachable; the slot is not yet
///   handed back for reuse).
pub(crate) unsafe fn poison_freed(header: &Header, info: &TypeInfo) {
    debug_assert!(header.info.load(Ordering::Relaxed).is_null());
    // Relaxed: the slot is unreachable; whoever reuses it is ordered after these stores by
    // the slot's hand-back (the central lock, or the freed bitmap's Release/Acquire).
    header.handles.store(POISON_HANDLES, Ordering::Relaxed);
    header.internal.store(POISON_HANDLES, Ordering::Relaxed);
    let header_bytes = core::mem::size_of::<Header>();
    let value = (header as *const Header).cast::<u8>().cast_mut();
    // SAFETY: per the contract, the object's `box_bytes` bytes are ours to write: the
    // value was dropped and nobody else uses the slot; `box_bytes >= header_bytes`.
    unsafe {
        value
            .add(header_bytes)
            .write_bytes(POISON_BYTE, info.box_bytes - header_bytes);
    }
}

/// Debug heap: panics unless `header` heads a live object that a `Gc<T>` may point at
/// (module docs, step 2). `what` names the operation, for the message.
///
/// Reads only the header words (atomics); a freed slot keeps its memory mapped (spans and
/// arenas are never unmapped), so the read itself is harmless.
#[inline]
pub(crate) fn check_handle<T>(header: &Header, what: &str) {
    // Acquire: pairs with the Release in `Gc::new`, so a slot reused by another object is
    // seen with that object's `info`.
    let info = header.info.load(Ordering::Acquire);
    // Relaxed: a diagnostic; any value a live count can take passes.
    let handles = header.handles.load(Ordering::Relaxed);
    // SAFETY: non-null `info` pointers are `&'static TypeInfo`s stored by `Gc::new`.
    let info = unsafe { info.as_ref() };
    let ok = match info {
        Some(info) => {
            let expected = core::any::type_name::<T>();
            let name = (info.name)();
            handles != 0
                && handles <= MAX_HANDLES
                && info.box_bytes == core::mem::size_of::<GcBox<T>>()
                && (core::ptr::eq(name, expected) || name == expected)
        }
        None => false,
    };
    if !ok {
        handle_check_failed(header, info, handles, core::any::type_name::<T>(), what);
    }
}

#[cold]
#[inline(never)]
fn handle_check_failed(
    header: &Header,
    info: Option<&TypeInfo>,
    handles: u32,
    type_name: &str,
    what: &str,
) -> ! {
    let slot = header as *const Header;
    match info {
        None => panic!(
            "tricolor-gc: use after free: {what} of a Gc<{type_name}> whose object (slot \
             {slot:p}) was freed: its header's type is null and its handle count is \
             {handles:#x}{}",
            if handles == POISON_HANDLES {
                " (the debug heap's poison)"
            } else {
                ""
            }
        ),
        Some(info) if (info.name)() != type_name => panic!(
            "tricolor-gc: use after free: {what} of a Gc<{type_name}> whose slot {slot:p} now \
             holds a {} (the object was freed and its slot reused)",
            (info.name)()
        ),
        Some(_) => panic!(
            "tricolor-gc: use after free or corrupt header: {what} of a Gc<{type_name}> at \
             slot {slot:p}, whose handle count is {handles:#x} (a live handle's object has \
             between 1 and {MAX_HANDLES:#x})"
        ),
    }
}

/// Debug heap: panics if the `GcCell<T>` at `cell` lies inside a managed slot that holds no
/// live object, or in heap memory that no span owns (module docs, step 2). A cell
/// elsewhere (a local, the Rust heap) or in an unmanaged span (the raw allocator's) is not
/// checked.
#[inline(never)]
pub(crate) fn check_cell(cell: usize, type_name: &str, what: &str) {
    let Some((span, slot)) = crate::heap::managed_object(cell).filter(|(span, _)| span.is_in_use())
    else {
        if crate::heap::in_arena(cell) {
            panic!(
                "tricolor-gc: use after free: {what} of a GcCell<{type_name}> at {cell:#x}, in \
                 heap memory that no span owns: its object was freed, and then its span"
            );
        }
        return;
    };
    if !span.is_managed() {
        return;
    }
    let start = span.slot_addr(slot);
    if cell < start + core::mem::size_of::<Header>() {
        return;
    }
    // SAFETY: `start` is the first byte of a slot of an in-use managed span: a header's
    // worth of mapped, 8-aligned memory whose words are only accessed atomically.
    let header = unsafe { &*(start as *const Header) };
    // Acquire / Relaxed: as in `check_handle`.
    let info = header.info.load(Ordering::Acquire);
    let handles = header.handles.load(Ordering::Relaxed);
    if info.is_null() || handles > MAX_HANDLES {
        panic!(
            "tricolor-gc: use after free: {what} of a GcCell<{type_name}> at {cell:#x}, inside \
             slot {start:#x}, whose object was freed (its header's type is {}, its handle \
             count {handles:#x}{})",
            if info.is_null() { "null" } else { "set" },
            if handles == POISON_HANDLES {
                ", the debug heap's poison"
            } else {
                ""
            }
        );
    }
}
