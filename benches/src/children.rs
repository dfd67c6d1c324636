//! The one child-process runner: the harness's runs of several runtimes and the
//! binary-trees runner's runs go through [`run`].
//!
//! # Why children
//! Every measured run is a fresh process: its own peak RSS, no allocator state, collector
//! thread or leftover garbage from another runtime's run.
//!
//! # Algorithm
//! 1. Start the program with stdin closed and stdout captured (a thread drains it, so a
//!    child that writes much to both streams never blocks on a full pipe).
//! 2. Stderr is inherited: the child's progress line reaches the terminal as it is.
//! 3. Wait for the exit; a failure to start, or a non-zero status, is an `Err` naming the
//!    program, so callers can report the run as failed and go on with the others.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// This program's own executable, to run it again as a child.
pub(crate) fn this_program() -> Result<PathBuf, String> {
    std::env::current_exe()
        .map_err(|e| format!("cannot find this program to run its children: {e}"))
}

/// Runs `cmd` to its end; returns its stdout, or why it failed.
pub(crate) fn run(cmd: &mut Command) -> Result<String, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let mut out = child.stdout.take().expect("stdout is piped");
    let drain = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        out.read_to_end(&mut bytes).map(|_| bytes)
    });
    let status = child
        .wait()
        .map_err(|e| format!("cannot wait for {program}: {e}"))?;
    let stdout = drain
        .join()
        .expect("tricolor-gc-bench: the stdout reader panicked")
        .map_err(|e| format!("cannot read the output of {program}: {e}"))?;
    if !status.success() {
        return Err(format!("{program} failed ({status})"));
    }
    Ok(String::from_utf8_lossy(&stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_stdout() {
        let out = run(Command::new("sh").args(["-c", "echo out"])).unwrap();
        assert_eq!(out, "out\n");
    }

    #[test]
    fn failures_name_the_program() {
        let e = run(Command::new("sh").args(["-c", "exit 3"])).unwrap_err();
        assert!(e.starts_with("sh failed"), "{e}");
        let e = run(&mut Command::new("/nonexistent/prog")).unwrap_err();
        assert!(e.contains("cannot start /nonexistent/prog"), "{e}");
    }
}
