//! Empty: this package exists only to run `gc-core/tests/loom_protocol.rs` (see Cargo.toml).
