//! `#[derive(Trace)]` for tricolor-gc. Users reach it through the facade crate (`gc::Trace`).
