//! Size classes: which slot size a small object gets, and how a span is cut into slots
//! (plays the role of Go's `sizeclasses.go`, but the table is computed here, at compile
//! time, by the `const fn`s below instead of being a checked-in generated file).
//!
//! This module owns the class table and the lookups over it: [`SizeClass`] (request size
//! to slot size, span pages, objects per span, offset to object index) and [`SpanClass`]
//! (a size class plus the no-scan bit, the key of a central list). It holds no mutable
//! state.
//!
//! # What the classes are
//! A request of at most [`MAX_SMALL_BYTES`] (32 KiB) is rounded up to a *class size*, and
//! lives in a slot of a span that holds only slots of that size. Class 0 ([`SizeClass::LARGE`])
//! is reserved: a larger request gets a span of its own, rounded up to whole pages. The
//! real classes run from 8 bytes to exactly 32 768 bytes; there are 64 of them, so
//! [`NUM_SIZE_CLASSES`] is 65 and [`NUM_SPAN_CLASSES`] 130.
//!
//! # Algorithm (the generator, `class_sizes` and `ClassTable::generate`)
//! Two waste rules drive everything:
//!
//! * **Rounding rule.** A request of `s` bytes placed in a class of `c` bytes wastes
//!   `c - s`; we require `c - s < 8` (the unavoidable 8-byte rounding of tiny requests)
//!   or `8 * (c - s) <= c` (at most 12.5% of the slot).
//! * **Tail rule.** A span of `n` pages cut into `c`-byte slots leaves `(n * 8192) % c`
//!   bytes unused at its end; we require that tail to be at most `n * 8192 / 8`.
//!
//! The steps:
//!
//! 1. Start with the class 8. Given the largest class so far, `p`, the next class `c` is
//!    the **largest** size that still meets the rounding rule for request `p + 1`. Since
//!    the waste `c - s` only shrinks as `s` grows, meeting it for `p + 1` meets it for
//!    every request in `p + 1 ..= c`, so each request's nearest class above it obeys the
//!    rule. `c` is searched in steps of the lookup granule of its range (below): 8 bytes
//!    up to 1024, 128 bytes above.
//! 2. `c` is then capped at the next power of two above `p`, so every power of two from
//!    16 to 32 768 is a class. Spans start on 8 KiB boundaries, so object `i` of a class
//!    of size `S` sits at `base + i * S` and is aligned to the largest power of two that
//!    divides `S`, up to 8192: the powers of two make every alignment up to a page
//!    reachable (see [`SizeClass::for_request`]).
//! 3. Stop at 32 768. Taking the largest step gives the fewest classes the rounding rule
//!    allows (plus the power-of-two classes); fewer classes means fewer partly filled
//!    spans parked in thread caches. The sizes step by 8 bytes up to 104, then grow by
//!    about one seventh per class (120, 128, 144, 160, 184, ...).
//! 4. Pages per span: the smallest `n >= 1` for which the tail rule holds. 43 classes use
//!    one page, the largest spans have 8 pages (64 KiB, class 21 248). Objects per span is
//!    `n * 8192 / c`, at most 1024 (the 8-byte class fills one page exactly).
//! 5. Together the two rules bound the memory charged to a request of `s >= 56` bytes
//!    (its share `span / objects` of its span) by `(8/7)^2 * s`, i.e. at most
//!    `1 - (7/8)^2 = 23.4%` of it is waste.
//!
//! A side effect worth knowing: the class just below each power of two from 1024 up
//! (984, 1792, 3584, 7552, 15 616, 31 488) fits as many objects into the same number of
//! pages as that power of two, so its span share equals the next class's. The classes
//! exist because the rounding rule is stated per slot, and dropping them would break it.
//!
//! # Lookup
//! * Size to class is O(1), with two byte arrays: `SIZE_TO_CLASS8[ceil(s / 8)]` for
//!   `s <= 1024` and `SIZE_TO_CLASS128[ceil((s - 1024) / 128)]` for `1024 < s <= 32768`.
//!   This is why classes above 1024 are multiples of 128: every request in one 128-byte
//!   bucket must map to the same class. Alignments above 8 scan upward from the table's
//!   answer to the first class that is a multiple of the alignment.
//! * Offset to object index uses no division: `object_index(off) = (off * magic) >> 32`
//!   with `magic = floor((2^32 - 1) / c) + 1` (which is `ceil(2^32 / c)`, or exactly
//!   `2^32 / c` for a power of two). Writing `magic = (2^32 + e) / c` with `0 <= e < c`
//!   and `off = q * c + r` with `r <= c - 1`, the product is
//!   `2^32 * (q + (r + off * e / 2^32) / c)`, whose floor is `q` as long as
//!   `off * e < 2^32`; that holds because `off < 64 KiB` and `e < c <= 32 KiB`. A
//!   compile-time assertion below checks the bound; the unit tests check every offset.
//!
//! # What Go does differently (`mksizeclasses.go`)
//! * Go steps its sizes by an alignment that grows with the size, then widens each class
//!   to the largest size that keeps the same objects per span and drops classes that
//!   would duplicate a neighbour's pages and object count. Its rounding waste is not
//!   bounded by 12.5% for small sizes: a 33-byte request gets Go's 48-byte class (31%).
//!   Go has 67 real classes; this generator, with the stricter rounding rule but larger
//!   steps above 128 bytes, has 64.
//! * Go runs its generator with `go generate` and checks the output in; here the
//!   `const fn`s run on every build, so the table cannot drift from its description.
//! * Go's first lookup array stops at 1016 bytes; ours covers sizes up to 1024.
//! * Go adds its malloc header (8 bytes for scannable objects over 512 bytes) before the
//!   lookup; this module knows nothing of headers, the caller adds them.
//!
//! # Invariants (asserted at compile time where cheap, exhaustively in the unit tests)
//! 1. Class 0 is `LARGE`; classes `1..NUM_SIZE_CLASSES` have strictly increasing sizes,
//!    all multiples of 8, the first 8 and the last [`MAX_SMALL_BYTES`].
//! 2. Every request `1..=MAX_SMALL_BYTES` maps to the smallest class that holds it, and
//!    that class meets the rounding rule.
//! 3. Every class meets the tail rule with the fewest pages, and holds at most
//!    [`MAX_OBJECTS_PER_SPAN`] objects.
//! 4. `object_index(off) == off / object_bytes()` for every `off` in the span.
//!
//! # Memory ordering
//! None: the tables are immutable statics computed at compile time.

/// log2 of [`PAGE_BYTES`].
pub const PAGE_SHIFT: u32 = 13;

/// The heap's page: the unit spans are made of. Ours, not the OS's (8 KiB, as in Go).
pub const PAGE_BYTES: usize = 1 << PAGE_SHIFT;

/// The largest object size served from a size class; larger objects get their own span.
pub const MAX_SMALL_BYTES: usize = 32768;

/// Number of size classes, including class 0 ([`SizeClass::LARGE`]). Computed by the
/// generator (see the module docs).
pub const NUM_SIZE_CLASSES: usize = GENERATED_SIZES.len;

/// Number of span classes: every size class twice, with and without the no-scan bit.
pub const NUM_SPAN_CLASSES: usize = NUM_SIZE_CLASSES * 2;

/// Upper bound on the objects in one span of any size class (8-byte objects fill one page
/// with exactly this many).
pub const MAX_OBJECTS_PER_SPAN: usize = 1024;

/// Requests up to this size use `SIZE_TO_CLASS8`, larger ones `SIZE_TO_CLASS128`.
const SMALL_LOOKUP_MAX: usize = 1024;
/// Granule of `SIZE_TO_CLASS8`: class sizes up to `SMALL_LOOKUP_MAX` are multiples of it.
const SMALL_GRANULE: usize = 8;
/// Granule of `SIZE_TO_CLASS128`: class sizes above `SMALL_LOOKUP_MAX` are multiples of it.
const LARGE_GRANULE: usize = 128;
/// Entries of `SIZE_TO_CLASS8`: indices `0..=1024 / 8`.
const CLASS8_LEN: usize = SMALL_LOOKUP_MAX / SMALL_GRANULE + 1;
/// Entries of `SIZE_TO_CLASS128`: indices `0..=(32768 - 1024) / 128`.
const CLASS128_LEN: usize = (MAX_SMALL_BYTES - SMALL_LOOKUP_MAX) / LARGE_GRANULE + 1;

/// Room in the generator's scratch array; the generator stops the build if it needs more.
const GEN_CAPACITY: usize = 128;
/// Bound on pages per span that the generator will try before stopping the build.
const GEN_MAX_PAGES: usize = 64;

/// The rounding rule: may a request of `request` bytes go into a `class`-byte slot?
const fn rounding_ok(request: usize, class: usize) -> bool {
    class >= request && (class - request < 8 || (class - request) * 8 <= class)
}

/// The tail rule: may a span of `pages` pages be cut into `class`-byte slots?
const fn tail_ok(pages: usize, class: usize) -> bool {
    let span = pages * PAGE_BYTES;
    span % class <= span / 8
}

/// The smallest page count meeting the tail rule for `class` (step 4 of the module docs).
const fn pages_for(class: usize) -> usize {
    let mut pages = 1;
    while !tail_ok(pages, class) {
        pages += 1;
        assert!(
            pages <= GEN_MAX_PAGES,
            "tricolor-gc: size class needs too many pages"
        );
    }
    pages
}

/// `floor((2^32 - 1) / class) + 1`: the reciprocal used by [`SizeClass::object_index`].
const fn div_magic(class: usize) -> u32 {
    (u32::MAX / class as u32) + 1
}

/// Output of step 1-3: class sizes, index 0 being `LARGE` (size 0).
struct GeneratedSizes {
    object_bytes: [u32; GEN_CAPACITY],
    len: usize,
}

/// Steps 1-3 of the module docs: the class sizes.
const fn class_sizes() -> GeneratedSizes {
    let mut object_bytes = [0u32; GEN_CAPACITY];
    object_bytes[1] = SMALL_GRANULE as u32;
    let mut len = 2;
    let mut prev = SMALL_GRANULE;
    while prev < MAX_SMALL_BYTES {
        let granule = if prev < SMALL_LOOKUP_MAX {
            SMALL_GRANULE
        } else {
            LARGE_GRANULE
        };
        // Every class stays on its granule (prev is on it: the powers of two and the
        // 1024 boundary are), and prev + granule always meets the rule: at 8 bytes the
        // waste is under 8, and past 1024 a 127-byte waste is under an eighth.
        let mut next = prev + granule;
        assert!(
            rounding_ok(prev + 1, next),
            "tricolor-gc: size class step too small"
        );
        while rounding_ok(prev + 1, next + granule) {
            next += granule;
        }
        let pow2 = (prev + 1).next_power_of_two();
        if next > pow2 {
            next = pow2;
        }
        assert!(
            len < GEN_CAPACITY,
            "tricolor-gc: too many size classes for GEN_CAPACITY"
        );
        object_bytes[len] = next as u32;
        len += 1;
        prev = next;
    }
    GeneratedSizes { object_bytes, len }
}

const GENERATED_SIZES: GeneratedSizes = class_sizes();

/// Everything derived from the class sizes, indexed by class (or by request bucket).
struct ClassTable {
    object_bytes: [u32; NUM_SIZE_CLASSES],
    span_pages: [u8; NUM_SIZE_CLASSES],
    objects_per_span: [u16; NUM_SIZE_CLASSES],
    div_magic: [u32; NUM_SIZE_CLASSES],
    /// Class for a request `s <= 1024`, at index `ceil(s / 8)` (index 0: as for 1 byte).
    size_to_class8: [u8; CLASS8_LEN],
    /// Class for a request `1024 < s <= 32768`, at index `ceil((s - 1024) / 128)`.
    size_to_class128: [u8; CLASS128_LEN],
}

impl ClassTable {
    /// Step 4 and the lookup arrays.
    const fn generate() -> ClassTable {
        let mut t = ClassTable {
            object_bytes: [0; NUM_SIZE_CLASSES],
            span_pages: [0; NUM_SIZE_CLASSES],
            // LARGE: one object per span, and magic 0 makes every offset index 0.
            objects_per_span: [1; NUM_SIZE_CLASSES],
            div_magic: [0; NUM_SIZE_CLASSES],
            size_to_class8: [0; CLASS8_LEN],
            size_to_class128: [0; CLASS128_LEN],
        };
        let mut class = 1;
        while class < NUM_SIZE_CLASSES {
            let bytes = GENERATED_SIZES.object_bytes[class] as usize;
            let pages = pages_for(bytes);
            let objects = pages * PAGE_BYTES / bytes;
            assert!(
                objects <= MAX_OBJECTS_PER_SPAN,
                "tricolor-gc: too many objects per span"
            );
            t.object_bytes[class] = bytes as u32;
            t.span_pages[class] = pages as u8;
            t.objects_per_span[class] = objects as u16;
            t.div_magic[class] = div_magic(bytes);
            class += 1;
        }
        // Each bucket's largest request decides it; every request in the bucket maps to
        // the same class because class sizes sit on bucket boundaries.
        let mut class = 1;
        let mut index = 0;
        while index < CLASS8_LEN {
            let request = if index == 0 { 1 } else { index * SMALL_GRANULE };
            while (t.object_bytes[class] as usize) < request {
                class += 1;
            }
            t.size_to_class8[index] = class as u8;
            index += 1;
        }
        let mut index = 0;
        while index < CLASS128_LEN {
            let request = SMALL_LOOKUP_MAX + index * LARGE_GRANULE;
            while (t.object_bytes[class] as usize) < request {
                class += 1;
            }
            t.size_to_class128[index] = class as u8;
            index += 1;
        }
        t
    }

    /// The largest span any class uses, in bytes.
    const fn max_span_bytes(&self) -> usize {
        let mut max = 0;
        let mut class = 1;
        while class < NUM_SIZE_CLASSES {
            let bytes = self.span_pages[class] as usize * PAGE_BYTES;
            if bytes > max {
                max = bytes;
            }
            class += 1;
        }
        max
    }
}

static TABLE: ClassTable = ClassTable::generate();

// Cheap compile-time checks of the generator's output; the unit tests check the rest.
const _: () = {
    let t = ClassTable::generate();
    assert!(
        NUM_SPAN_CLASSES <= 256,
        "span classes must fit SpanClass(u8)"
    );
    assert!(t.object_bytes[1] as usize == SMALL_GRANULE);
    assert!(t.object_bytes[NUM_SIZE_CLASSES - 1] as usize == MAX_SMALL_BYTES);
    // The exactness bound of `object_index` (module docs, "Lookup").
    assert!((t.max_span_bytes() as u64) * (MAX_SMALL_BYTES as u64) <= 1u64 << 32);
};

/// A size class: the slot size of a small object and the shape of its spans, or
/// [`SizeClass::LARGE`] for an object that gets a span of its own.
///
/// Invariant: the index is below [`NUM_SIZE_CLASSES`].
#[doc(alias = "sizeclass")]
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub struct SizeClass(u8);

impl SizeClass {
    /// Class 0: objects larger than [`MAX_SMALL_BYTES`] (or more aligned than a page),
    /// each in a span of its own.
    pub const LARGE: SizeClass = SizeClass(0);

    /// The smallest class whose object size is at least `bytes` and a multiple of
    /// `align`, so a slot of it holds the request and, in a page-aligned span, is aligned
    /// to `align`. `bytes == 0` is treated as 1.
    ///
    /// Returns `None` when no small class fits: `bytes > MAX_SMALL_BYTES`, or
    /// `align > PAGE_BYTES`. The caller then allocates a large span.
    ///
    /// Cost: for `align <= 8` two comparisons and one table load; larger alignments scan
    /// upward from the table's answer (at most a few classes, since every power of two
    /// from 16 bytes is a class).
    ///
    /// # Panics
    /// In debug builds, if `align` is not a power of two (as `Layout::align` always is).
    #[inline]
    pub fn for_request(bytes: usize, align: usize) -> Option<SizeClass> {
        debug_assert!(
            align.is_power_of_two(),
            "tricolor-gc: SizeClass::for_request with alignment {align}, not a power of two"
        );
        if align <= SMALL_GRANULE {
            Self::for_size(bytes)
        } else {
            Self::for_request_aligned(bytes, align)
        }
    }

    /// Size-only lookup: every class is a multiple of 8, so this serves `align <= 8`.
    #[inline]
    fn for_size(bytes: usize) -> Option<SizeClass> {
        if bytes <= SMALL_LOOKUP_MAX {
            // bytes == 0 reads index 0, which holds the class of a 1-byte request.
            Some(SizeClass(
                TABLE.size_to_class8[bytes.div_ceil(SMALL_GRANULE)],
            ))
        } else if bytes <= MAX_SMALL_BYTES {
            let index = (bytes - SMALL_LOOKUP_MAX).div_ceil(LARGE_GRANULE);
            Some(SizeClass(TABLE.size_to_class128[index]))
        } else {
            None
        }
    }

    /// [`SizeClass::for_request`] for `align > 8`.
    fn for_request_aligned(bytes: usize, align: usize) -> Option<SizeClass> {
        if align > PAGE_BYTES {
            return None;
        }
        // A nonzero multiple of `align` is at least `align`, so start there.
        let SizeClass(first) = Self::for_size(bytes.max(align))?;
        let mut index = first as usize;
        while index < NUM_SIZE_CLASSES {
            if TABLE.object_bytes[index] as usize & (align - 1) == 0 {
                return Some(SizeClass(index as u8));
            }
            index += 1;
        }
        None
    }

    /// The class's index in `0..NUM_SIZE_CLASSES` (0 is [`SizeClass::LARGE`]).
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The class with the given index.
    ///
    /// # Panics
    /// If `index >= NUM_SIZE_CLASSES`.
    #[inline]
    pub fn from_index(index: usize) -> SizeClass {
        assert!(
            index < NUM_SIZE_CLASSES,
            "tricolor-gc: size class index {index} out of range (NUM_SIZE_CLASSES = {NUM_SIZE_CLASSES})"
        );
        SizeClass(index as u8)
    }

    /// Whether this is [`SizeClass::LARGE`].
    #[inline]
    pub fn is_large(self) -> bool {
        self.0 == 0
    }

    /// The slot size in bytes; 0 for [`SizeClass::LARGE`].
    #[inline]
    pub fn object_bytes(self) -> usize {
        TABLE.object_bytes[self.index()] as usize
    }

    /// Pages in one span of this class; 0 for [`SizeClass::LARGE`] (a large span has as
    /// many pages as its object needs).
    #[inline]
    pub fn span_pages(self) -> usize {
        TABLE.span_pages[self.index()] as usize
    }

    /// Slots in one span of this class (`span_pages * PAGE_BYTES / object_bytes`, at most
    /// [`MAX_OBJECTS_PER_SPAN`]); 1 for [`SizeClass::LARGE`].
    #[inline]
    pub fn objects_per_span(self) -> usize {
        TABLE.objects_per_span[self.index()] as usize
    }

    /// The reciprocal [`object_index`](SizeClass::object_index) multiplies by: 0 for
    /// [`SizeClass::LARGE`], so that the product gives its one slot, index 0. Spans keep a
    /// copy (`Span::slot_of` multiplies by it the same way), so the exhaustive test of
    /// `object_index` checks what they use.
    #[inline]
    pub(crate) fn div_magic(self) -> u32 {
        if self.is_large() {
            0
        } else {
            TABLE.div_magic[self.index()]
        }
    }

    /// The index of the slot containing byte `offset` of a span of this class, i.e.
    /// `offset / object_bytes()`, computed by multiplying with a reciprocal (see the
    /// module docs for why it is exact). Always 0 for [`SizeClass::LARGE`].
    ///
    /// `offset` must be below the span's size (`span_pages() * PAGE_BYTES`) for a small
    /// class; debug builds assert it.
    #[inline]
    pub fn object_index(self, offset: usize) -> usize {
        debug_assert!(
            self.is_large() || offset < self.span_pages() * PAGE_BYTES,
            "tricolor-gc: offset {offset} outside a span of size class {}",
            self.0
        );
        ((offset as u64 * self.div_magic() as u64) >> 32) as usize
    }
}

/// A size class plus the no-scan bit (`size_class << 1 | noscan`): objects without
/// pointers live in their own spans, which the collector never scans. One central list
/// exists per span class.
///
/// Invariant: the index is below [`NUM_SPAN_CLASSES`].
#[doc(alias = "spanClass")]
#[derive(Copy, Clone, PartialEq, Eq, Debug, Hash)]
pub struct SpanClass(u8);

impl SpanClass {
    /// The span class for objects of `class`, without pointers if `noscan`.
    #[inline]
    pub const fn new(class: SizeClass, noscan: bool) -> SpanClass {
        SpanClass((class.0 << 1) | noscan as u8)
    }

    /// The size class of this span class's objects.
    #[inline]
    pub fn size_class(self) -> SizeClass {
        SizeClass(self.0 >> 1)
    }

    /// Whether objects of this span class hold no pointers (and are never scanned).
    #[inline]
    pub fn is_noscan(self) -> bool {
        self.0 & 1 != 0
    }

    /// The span class's index in `0..NUM_SPAN_CLASSES`.
    #[inline]
    pub const fn index(self) -> usize {
        self.0 as usize
    }

    /// The span class with the given index.
    ///
    /// # Panics
    /// If `index >= NUM_SPAN_CLASSES`.
    #[inline]
    pub fn from_index(index: usize) -> SpanClass {
        assert!(
            index < NUM_SPAN_CLASSES,
            "tricolor-gc: span class index {index} out of range (NUM_SPAN_CLASSES = {NUM_SPAN_CLASSES})"
        );
        SpanClass(index as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// All real classes, smallest first.
    fn small_classes() -> impl Iterator<Item = SizeClass> {
        (1..NUM_SIZE_CLASSES).map(SizeClass::from_index)
    }

    /// The reference answer for `for_request`, by linear search.
    fn linear_for_request(bytes: usize, align: usize) -> Option<SizeClass> {
        let bytes = bytes.max(1);
        small_classes().find(|c| c.object_bytes() >= bytes && c.object_bytes() % align == 0)
    }

    fn span_bytes(class: SizeClass) -> usize {
        class.span_pages() * PAGE_BYTES
    }

    #[test]
    fn class_count_and_bounds() {
        assert!(
            (61..=81).contains(&NUM_SIZE_CLASSES),
            "NUM_SIZE_CLASSES = {NUM_SIZE_CLASSES}"
        );
        assert_eq!(NUM_SPAN_CLASSES, 2 * NUM_SIZE_CLASSES);
        assert_eq!(SizeClass::from_index(1).object_bytes(), 8);
        assert_eq!(
            SizeClass::from_index(NUM_SIZE_CLASSES - 1).object_bytes(),
            MAX_SMALL_BYTES
        );
        for class in small_classes() {
            assert!(!class.is_large());
            assert_eq!(class.object_bytes() % 8, 0, "{class:?}");
        }
    }

    #[test]
    fn classes_strictly_increasing() {
        let sizes: Vec<usize> = small_classes().map(SizeClass::object_bytes).collect();
        for pair in sizes.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
    }

    #[test]
    fn every_power_of_two_is_a_class() {
        let mut pow2 = 16;
        while pow2 <= MAX_SMALL_BYTES {
            assert!(
                small_classes().any(|c| c.object_bytes() == pow2),
                "{pow2} is not a class"
            );
            pow2 *= 2;
        }
    }

    #[test]
    fn large_class() {
        let large = SizeClass::LARGE;
        assert!(large.is_large());
        assert_eq!(large.index(), 0);
        assert_eq!(SizeClass::from_index(0), large);
        assert_eq!(large.object_bytes(), 0);
        assert_eq!(large.span_pages(), 0);
        assert_eq!(large.objects_per_span(), 1);
        assert_eq!(large.object_index(0), 0);
        assert_eq!(large.object_index(1 << 20), 0);
    }

    #[test]
    fn rounding_waste_every_request() {
        for s in 1..=MAX_SMALL_BYTES {
            let class = SizeClass::for_request(s, 1).expect("small request has a class");
            let c = class.object_bytes();
            assert!(c >= s, "request {s} in class {c}");
            assert!(
                c - s < 8 || (c - s) * 8 <= c,
                "request {s} wastes {} of {c}",
                c - s
            );
        }
    }

    #[test]
    fn span_tail_waste_every_class() {
        for class in small_classes() {
            let size = class.object_bytes();
            let pages = class.span_pages();
            assert!(pages >= 1);
            let fits = |n: usize| (n * PAGE_BYTES) % size <= (n * PAGE_BYTES) / 8;
            assert!(
                fits(pages),
                "{class:?} ({size} B) tail too big with {pages} pages"
            );
            for fewer in 1..pages {
                assert!(
                    !fits(fewer),
                    "{class:?} ({size} B) would fit in {fewer} pages"
                );
            }
            assert_eq!(class.objects_per_span(), span_bytes(class) / size);
            assert!(class.objects_per_span() >= 1);
            assert!(class.objects_per_span() <= MAX_OBJECTS_PER_SPAN);
        }
    }

    #[test]
    fn lookup_matches_linear_search_every_size() {
        for bytes in 0..=MAX_SMALL_BYTES {
            let fast = SizeClass::for_request(bytes, 8);
            assert_eq!(fast, linear_for_request(bytes, 8), "request {bytes}");
            assert_eq!(fast, SizeClass::for_request(bytes, 1), "request {bytes}");
        }
        assert_eq!(SizeClass::for_request(MAX_SMALL_BYTES + 1, 8), None);
        assert_eq!(SizeClass::for_request(usize::MAX, 1), None);
    }

    #[test]
    fn aligned_lookup_matches_linear_search() {
        for shift in 0..=PAGE_SHIFT {
            let align = 1usize << shift;
            for bytes in 0..=MAX_SMALL_BYTES {
                let class = SizeClass::for_request(bytes, align);
                assert_eq!(
                    class,
                    linear_for_request(bytes, align),
                    "{bytes} B align {align}"
                );
                let class = class.expect("a power-of-two class always fits");
                for i in 0..class.objects_per_span() {
                    assert_eq!((i * class.object_bytes()) % align, 0);
                }
            }
        }
        assert_eq!(SizeClass::for_request(8, PAGE_BYTES * 2), None);
        assert_eq!(SizeClass::for_request(MAX_SMALL_BYTES + 1, 16), None);
    }

    #[test]
    fn object_index_exact_every_offset() {
        for class in small_classes() {
            let size = class.object_bytes();
            for offset in 0..span_bytes(class) {
                assert_eq!(
                    class.object_index(offset),
                    offset / size,
                    "{class:?} offset {offset}"
                );
            }
        }
    }

    #[test]
    fn size_class_index_round_trip() {
        for index in 0..NUM_SIZE_CLASSES {
            assert_eq!(SizeClass::from_index(index).index(), index);
        }
    }

    #[test]
    #[should_panic(expected = "tricolor-gc: size class index")]
    fn size_class_from_index_out_of_range() {
        SizeClass::from_index(NUM_SIZE_CLASSES);
    }

    #[test]
    fn span_class_round_trip() {
        let mut seen = [false; NUM_SPAN_CLASSES];
        for class in (0..NUM_SIZE_CLASSES).map(SizeClass::from_index) {
            for noscan in [false, true] {
                let span_class = SpanClass::new(class, noscan);
                assert_eq!(span_class.size_class(), class);
                assert_eq!(span_class.is_noscan(), noscan);
                assert_eq!(span_class.index(), class.index() * 2 + noscan as usize);
                assert_eq!(SpanClass::from_index(span_class.index()), span_class);
                assert!(!seen[span_class.index()]);
                seen[span_class.index()] = true;
            }
        }
        assert!(seen.iter().all(|&s| s));
    }

    #[test]
    #[should_panic(expected = "tricolor-gc: span class index")]
    fn span_class_from_index_out_of_range() {
        SpanClass::from_index(NUM_SPAN_CLASSES);
    }

    /// Worked examples of the API (kept as unit tests: the module is crate-internal).
    #[test]
    fn examples() {
        // A 100-byte request rounds up to the 104-byte class (4 bytes of waste).
        let class = SizeClass::for_request(100, 8).expect("small");
        assert_eq!(class.object_bytes(), 104);
        assert_eq!((class.span_pages(), class.objects_per_span()), (1, 78));
        // The same size with 16-byte alignment skips to the next multiple of 16.
        assert_eq!(
            SizeClass::for_request(100, 16).map(SizeClass::object_bytes),
            Some(128)
        );
        // Zero-sized requests take the smallest class.
        assert_eq!(
            SizeClass::for_request(0, 1).map(SizeClass::object_bytes),
            Some(8)
        );
        // Page-aligned requests get a page-multiple class; larger alignments go large.
        assert_eq!(
            SizeClass::for_request(100, 8192).map(SizeClass::object_bytes),
            Some(8192)
        );
        assert_eq!(SizeClass::for_request(32769, 8), None);
        // Byte 1000 of a 104-byte-class span is in object 9.
        assert_eq!(class.object_index(1000), 9);
        // A pointer-free 104-byte object goes to the odd-numbered span class.
        let span_class = SpanClass::new(class, true);
        assert_eq!(span_class.index(), class.index() * 2 + 1);
    }

    /// Pins the generator's output, so a change to it shows up as a reviewed diff here.
    #[test]
    fn table_snapshot() {
        let table: Vec<(usize, usize)> = small_classes()
            .map(|c| (c.object_bytes(), c.span_pages()))
            .collect();
        // Several classes per row, so a changed class is easy to spot in review.
        #[rustfmt::skip]
        let expected: &[(usize, usize)] = &[
            (8, 1), (16, 1), (24, 1), (32, 1), (40, 1), (48, 1), (56, 1), (64, 1), (72, 1), (80, 1),
            (88, 1), (96, 1), (104, 1), (120, 1), (128, 1), (144, 1), (160, 1), (184, 1), (208, 1),
            (232, 1), (256, 1), (288, 1), (328, 1), (376, 1), (424, 1), (480, 1), (512, 1),
            (584, 1), (664, 1), (760, 1), (864, 1), (984, 1), (1024, 1), (1152, 1), (1280, 1),
            (1408, 2), (1536, 1), (1664, 2), (1792, 1), (2048, 1), (2304, 2), (2560, 1), (2816, 3),
            (3200, 2), (3584, 1), (4096, 1), (4608, 3), (5248, 2), (5888, 3), (6656, 5), (7552, 1),
            (8192, 1), (9344, 5), (10624, 4), (12032, 3), (13696, 7), (15616, 2), (16384, 2),
            (18688, 5), (21248, 8), (24192, 3), (27648, 7), (31488, 4), (32768, 4),
        ];
        assert_eq!(table, expected);
    }
}
