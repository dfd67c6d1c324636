//! Helpers shared by the bench package's integration tests (each test file includes this
//! module; both use every helper).

use std::path::{Path, PathBuf};
use std::process::Output;

/// A fresh output directory `name` under the target dir (next to `bin`, the binary run).
pub(crate) fn out_dir(bin: &str, name: &str) -> PathBuf {
    let dir = Path::new(bin)
        .parent()
        .expect("binary has a parent directory")
        .join("bench-test-out")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// The text of `path`, after checking it exists and is not empty.
pub(crate) fn non_empty(path: &Path) -> String {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{} missing: {e}", path.display()));
    assert!(!text.trim().is_empty(), "{} is empty", path.display());
    text
}

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
