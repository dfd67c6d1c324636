//! Running the built `scheme` binary from the tests.
//!
//! Every run starts from a clean environment for the interpreter and the collector
//! (`SCHEME_*` and `TRICOLOR_*` are removed, then the test's own are set), so a
//! developer's shell settings cannot change what a test sees.

#![allow(dead_code)] // each test file uses a different subset of these helpers

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The outcome of one run.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    /// The exit code (`None` if the process died from a signal).
    pub(crate) code: Option<i32>,
}

/// The path of `programs/NAME`.
pub(crate) fn program(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("programs")
        .join(name)
}

/// The expected output `programs/NAME`.
pub(crate) fn expected(name: &str) -> String {
    std::fs::read_to_string(program(name)).expect("expected-output file exists")
}

/// Runs the interpreter with `args`, extra environment `env`, and `stdin` piped in.
pub(crate) fn scheme(args: &[&str], env: &[(&str, &str)], stdin: &str) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_scheme"));
    command.args(args);
    for (key, _) in std::env::vars() {
        if key.starts_with("SCHEME_") || key.starts_with("TRICOLOR_") {
            command.env_remove(&key);
        }
    }
    command
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().expect("the scheme binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    input
        .write_all(stdin.as_bytes())
        .expect("stdin accepts the input");
    drop(input);
    let output = child
        .wait_with_output()
        .expect("the scheme binary finishes");
    Run {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code(),
    }
}

/// Runs `programs/NAME` with `args` and `env`.
pub(crate) fn run_program(name: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let path = program(name);
    let mut all = vec![path.to_str().expect("a UTF-8 path")];
    all.extend_from_slice(args);
    scheme(&all, env, "")
}

/// Writes `source` to a fresh file named after `name` and runs it.
pub(crate) fn run_source(name: &str, source: &str, env: &[(&str, &str)]) -> (Run, String) {
    let dir = std::env::temp_dir().join(format!("scheme-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("the temp dir can be made");
    let path = dir.join(format!("{name}.scm"));
    std::fs::write(&path, source).expect("the source file can be written");
    let path = path.to_str().expect("a UTF-8 path").to_string();
    let run = scheme(&[&path], env, "");
    let _ = std::fs::remove_file(&path);
    (run, path)
}
