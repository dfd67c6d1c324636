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

use core::ptr::NonNull;

use crate::sync::{AtomicPtr, AtomicU32, Ordering};
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
