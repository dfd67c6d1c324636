//! The operating-system memory layer: reserve address space, give pages back, ask what is
//! resident. Everything above this module speaks in these three verbs only, so a port to
//! another OS replaces this file and nothing else (parking_lot's `thread_parker` and
//! mimalloc's `prim/` keep the same seam).
//!
//! # Design
//! 1. `reserve_aligned(bytes, align)` maps `bytes + align` of anonymous, private,
//!    lazily-committed memory (`MAP_NORESERVE`), then unmaps the unaligned head and tail,
//!    leaving an `align`-aligned region. Linux commits a page on first touch, so a reserved
//!    arena costs no RSS until the allocator uses it.
//! 2. `release(addr, bytes)` is `madvise(MADV_DONTNEED)`: the pages stay mapped (a later
//!    touch faults in zero pages) but stop counting towards RSS at once. The scavenger
//!    uses it; the allocator never unmaps an arena, so a stale span pointer read by a
//!    racing lookup always points into mapped memory.
//! 3. `resident_pages(addr, bytes)` is `mincore`, for tests and statistics.
//!
//! Failures come back as `None` / `false`; callers turn them into allocation errors.

use core::ptr::NonNull;

/// The OS page size this layer assumes the kernel uses (checked at first use).
pub(crate) const OS_PAGE_BYTES: usize = 4096;

/// Maps `bytes` of address space aligned to `align` (a power of two, at least the OS page).
/// Returns `None` if the kernel refuses or the request overflows.
pub(crate) fn reserve_aligned(bytes: usize, align: usize) -> Option<NonNull<u8>> {
    debug_assert!(align.is_power_of_two() && align >= OS_PAGE_BYTES);
    debug_assert!(bytes % OS_PAGE_BYTES == 0);
    let padded = bytes.checked_add(align)?;
    // SAFETY: an anonymous private mapping with a null hint has no preconditions; the
    // result is checked against MAP_FAILED before use.
    let raw = unsafe {
        libc::mmap(
            core::ptr::null_mut(),
            padded,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if raw == libc::MAP_FAILED {
        return None;
    }
    let start = raw as usize;
    let aligned = (start + align - 1) & !(align - 1);
    let head = aligned - start;
    let tail = padded - head - bytes;
    if head > 0 {
        // SAFETY: [start, start+head) is the unaligned head of the mapping made above and
        // nothing has been handed out from it.
        unsafe { libc::munmap(raw, head) };
    }
    if tail > 0 {
        // SAFETY: [aligned+bytes, aligned+bytes+tail) is the unused tail of the same mapping.
        unsafe { libc::munmap((aligned + bytes) as *mut libc::c_void, tail) };
    }
    NonNull::new(aligned as *mut u8)
}

/// Tells the kernel that `[addr, addr+bytes)` holds nothing worth keeping: its frames are
/// dropped now and the range reads as zeros on next touch. Returns whether it succeeded.
///
/// # Safety
/// - The range lies inside a mapping made by [`reserve_aligned`], page-aligned.
/// - No live data is stored there (the caller owns the pages and they are free).
pub(crate) unsafe fn release(addr: NonNull<u8>, bytes: usize) -> bool {
    debug_assert!(addr.as_ptr() as usize % OS_PAGE_BYTES == 0 && bytes % OS_PAGE_BYTES == 0);
    // SAFETY: the caller guarantees the range is ours, page-aligned and holds no live data,
    // so discarding its contents cannot corrupt anything.
    unsafe { libc::madvise(addr.as_ptr().cast(), bytes, libc::MADV_DONTNEED) == 0 }
}

/// Counts the OS pages of `[addr, addr+bytes)` that are resident in RAM.
///
/// # Safety
/// The range lies inside a live mapping and is OS-page-aligned.
#[cfg_attr(not(test), allow(dead_code))] // used by tests and heap statistics checks
pub(crate) unsafe fn resident_pages(addr: NonNull<u8>, bytes: usize) -> Option<usize> {
    let pages = bytes.div_ceil(OS_PAGE_BYTES);
    let mut vec = vec![0u8; pages];
    // SAFETY: `vec` has one byte per OS page of the range, as mincore requires; the caller
    // guarantees the range is mapped and aligned.
    let rc = unsafe { libc::mincore(addr.as_ptr().cast(), bytes, vec.as_mut_ptr().cast()) };
    (rc == 0).then(|| vec.iter().filter(|b| **b & 1 != 0).count())
}

// Linux uapi `membarrier_cmd` values (stable kernel ABI, linux/membarrier.h).
const MEMBARRIER_CMD_QUERY: libc::c_long = 0;
const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_long = 1 << 3;
const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_long = 1 << 4;

/// Registers the process for expedited private memory barriers. Returns whether
/// [`membarrier`] can be used.
pub(crate) fn membarrier_register() -> bool {
    // SAFETY: the membarrier syscall takes integer arguments only and has no memory
    // effects on our address space beyond its barrier semantics.
    let query = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0) };
    if query < 0 || query & MEMBARRIER_CMD_PRIVATE_EXPEDITED == 0 {
        return false;
    }
    // SAFETY: as above.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_membarrier,
            MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED,
            0,
            0,
        )
    };
    rc == 0
}

/// Makes every running thread of this process execute a full memory barrier before this
/// returns (Linux `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`). Requires a successful
/// [`membarrier_register`]. Returns whether it succeeded.
pub(crate) fn membarrier() -> bool {
    // SAFETY: as in `membarrier_register`.
    let rc = unsafe { libc::syscall(libc::SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) };
    rc == 0
}

/// Resident set size of the whole process, from `/proc/self/statm` (Linux).
pub fn process_rss_bytes() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let resident: usize = text.split_whitespace().nth(1)?.parse().ok()?;
    Some(resident * OS_PAGE_BYTES)
}

/// Peak resident set size of the process (`VmHWM` in `/proc/self/status`, Linux).
pub fn process_peak_rss_bytes() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserve_is_aligned_and_release_drops_residency() {
        let align = 1 << 22;
        let bytes = 1 << 20;
        let base = reserve_aligned(bytes, align).expect("reserve 1 MiB");
        assert_eq!(base.as_ptr() as usize % align, 0);
        // SAFETY: the mapping is ours, 1 MiB long and writable.
        unsafe { core::ptr::write_bytes(base.as_ptr(), 0xAB, bytes) };
        // SAFETY: same mapping, aligned.
        let before = unsafe { resident_pages(base, bytes) }.expect("mincore");
        assert_eq!(before, bytes / OS_PAGE_BYTES);
        // SAFETY: same mapping; its contents are no longer needed.
        assert!(unsafe { release(base, bytes) });
        // SAFETY: same mapping.
        let after = unsafe { resident_pages(base, bytes) }.expect("mincore");
        assert_eq!(after, 0);
        // SAFETY: the range is still mapped; released pages read back as zero.
        assert_eq!(unsafe { *base.as_ptr().add(12345) }, 0);
    }

    #[test]
    fn absurd_reservation_fails_cleanly() {
        // Overflows the padding arithmetic: refused before any syscall.
        assert!(reserve_aligned(usize::MAX & !(OS_PAGE_BYTES - 1), 1 << 26).is_none());
        // Larger than any user address space: the kernel refuses.
        assert!(reserve_aligned(1 << 62, 1 << 26).is_none());
    }
}
