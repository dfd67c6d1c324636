//! The span allocator: Go's mheap / mcentral / mcache, for Rust.
