//! Helpers shared by the bench package's integration tests (each test file includes this
//! module and may use a subset, hence the `dead_code` allowance).
#![allow(dead_code)]

use std::process::Output;

/// The run's stdout, after checking it exited 0 (the failure message shows both streams).
pub(crate) fn succeeded(o: &Output) -> String {
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    stdout
}
