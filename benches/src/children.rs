//! The one child-process runner: the harness's runs of several runtimes, the
//! binary-trees runner's runs, the Go peer's build and its run all go through [`run`].
//!
//! # Why children
//! Every measured run is a fresh process: its own peak RSS, no allocator state, collector
//! thread or leftover garbage from another runtime's run.
//!
//! # Algorithm
//! 1. Start the program with stdin closed and stdout captured (a thread drains it, so a
//!    child that writes much to both streams never blocks on a full pipe).
//! 2. Stderr is either inherited (the child's progress line reaches the terminal as it
//!    is) or read line by line and handed to a callback (the Go peer's `gctrace` lines,
//!    a compiler's messages).
//! 3. Wait for the exit; a failure to start, or a non-zero status, is an `Err` naming the
//!    program, so callers can report the run as failed and go on with the others.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// This program's own executable, to run it again as a child.
pub(crate) fn this_program() -> Result<PathBuf, String> {
    std::env::current_exe()
        .map_err(|e| format!("cannot find this program to run its children: {e}"))
}

/// Where a child's stderr goes.
pub(crate) enum Stderr<'a> {
    /// To this process's stderr, unchanged.
    Inherit,
    /// One call per line, as the lines arrive.
    Lines(&'a mut dyn FnMut(&str)),
}

/// Runs `cmd` to its end; returns its stdout, or why it failed.
pub(crate) fn run(cmd: &mut Command, stderr: Stderr<'_>) -> Result<String, String> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    cmd.stdin(Stdio::null()).stdout(Stdio::piped());
    cmd.stderr(match stderr {
        Stderr::Inherit => Stdio::inherit(),
        Stderr::Lines(_) => Stdio::piped(),
    });
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {program}: {e}"))?;
    let mut out = child.stdout.take().expect("stdout is piped");
    let drain = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        out.read_to_end(&mut bytes).map(|_| bytes)
    });
    if let (Stderr::Lines(on_line), Some(err)) = (stderr, child.stderr.take()) {
        for line in BufReader::new(err).lines() {
            match line {
                Ok(line) => on_line(&line),
                Err(_) => break,
            }
        }
    }
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
    fn captures_stdout_and_hands_over_stderr_lines() {
        let mut lines = Vec::new();
        let mut keep = |l: &str| lines.push(l.to_string());
        let out = run(
            Command::new("sh").args(["-c", "echo out; echo one >&2; echo two >&2"]),
            Stderr::Lines(&mut keep),
        )
        .unwrap();
        assert_eq!(out, "out\n");
        assert_eq!(lines, ["one", "two"]);
    }

    #[test]
    fn failures_name_the_program() {
        let e = run(Command::new("sh").args(["-c", "exit 3"]), Stderr::Inherit).unwrap_err();
        assert!(e.starts_with("sh failed"), "{e}");
        let e = run(&mut Command::new("/nonexistent/prog"), Stderr::Inherit).unwrap_err();
        assert!(e.contains("cannot start /nonexistent/prog"), "{e}");
    }
}
