//! The REPL: reads forms line by line, evaluates them, prints their values.
//!
//! # Design
//! - On a terminal, lines come from `rustyline` (editing, history for the session; Ctrl-C
//!   drops a half-typed form, Ctrl-D leaves). From a pipe or file, lines come from
//!   stdin as they are, with no prompt, so the REPL can be driven and tested by a program.
//! - A form may span lines: text accumulates until the reader finds complete data
//!   ([`Incomplete::Yes`] means "wait for more"); every complete form on a line is
//!   evaluated in order. Line numbers count input lines from the start of the session, so
//!   an error message points at the line it came from.
//! - Each value is printed in `write` form on stdout, on a line of its own, except the
//!   unspecified value (`define`, `display`, ...). Errors print `error: line N: ...` on stderr and the
//!   session goes on; at the end of input a half-read form is reported the same way. The
//!   exit status is 0.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use rustyline::error::ReadlineError;

use crate::builtins;
use crate::eval::Machine;
use crate::printer::{self, Mode};
use crate::reader::{Incomplete, Reader};
use crate::value::Value;
use crate::{eval_toplevel, report};

/// Runs the REPL until the end of input; returns the exit status.
pub(crate) fn run() -> u8 {
    let mut session = Session {
        machine: Machine::new(),
        pending: String::new(),
        pending_line: 1,
        next_line: 1,
    };
    if std::io::stdin().is_terminal() {
        if let Ok(editor) = rustyline::DefaultEditor::new() {
            interactive(editor, &mut session);
            session.finish();
            return 0;
        }
    }
    for line in std::io::stdin().lock().lines() {
        match line {
            Ok(line) => session.feed(&line),
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "scheme: cannot read stdin: {e}");
                break;
            }
        }
    }
    session.finish();
    0
}

fn interactive(mut editor: rustyline::DefaultEditor, session: &mut Session) {
    loop {
        let prompt = if session.pending.trim().is_empty() {
            "> "
        } else {
            "... "
        };
        // The editor redraws the prompt's line from its first column: output left
        // without a newline (`(display "x")`) would be erased.
        let _ = builtins::fresh_line();
        let _ = std::io::stdout().flush();
        match editor.readline(prompt) {
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                session.feed(&line);
            }
            Err(ReadlineError::Interrupted) => session.pending.clear(),
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                let _ = writeln!(std::io::stderr(), "scheme: cannot read the terminal: {e}");
                break;
            }
        }
    }
}

struct Session {
    machine: Machine,
    /// Input not yet read as complete data.
    pending: String,
    /// The line number of `pending`'s first character.
    pending_line: u32,
    /// The number the next input line gets.
    next_line: u32,
}

impl Session {
    /// Adds one input line and evaluates every form it completes.
    fn feed(&mut self, line: &str) {
        if self.pending.trim().is_empty() {
            self.pending.clear();
            self.pending_line = self.next_line;
        }
        self.pending.push_str(line);
        self.pending.push('\n');
        self.next_line = self.next_line.saturating_add(1);

        let mut reader = Reader::new(&self.pending, self.pending_line);
        let mut data = Vec::new();
        let mut consumed = (0, self.pending_line);
        let syntax_error = loop {
            match reader.next() {
                Ok(Some(datum)) => {
                    data.push(datum);
                    consumed = (reader.position(), reader.line());
                }
                Ok(None) => {
                    self.pending.clear();
                    break None;
                }
                Err((_, Incomplete::Yes)) => {
                    self.pending.drain(..consumed.0);
                    self.pending_line = consumed.1;
                    break None;
                }
                Err((e, Incomplete::No)) => {
                    self.pending.clear();
                    break Some(e);
                }
            }
        };
        for datum in &data {
            match eval_toplevel(&mut self.machine, datum) {
                Ok(Value::Unspecified) => {}
                Ok(value) => {
                    let mut text = printer::to_string(&value, Mode::Write);
                    text.push('\n');
                    if let Err(e) = builtins::fresh_line().and_then(|()| builtins::emit(&text)) {
                        report(None, &e);
                    }
                }
                Err(e) => report(None, &e),
            }
            // `display` without a newline stays in stdout's line buffer; the prompt is
            // written to the terminal directly, and must come after it.
            let _ = std::io::stdout().flush();
        }
        if let Some(e) = syntax_error {
            report(None, &e);
        }
    }

    /// At the end of input: reports a form left unfinished.
    fn finish(&mut self) {
        if self.pending.trim().is_empty() {
            return;
        }
        let mut reader = Reader::new(&self.pending, self.pending_line);
        loop {
            match reader.next() {
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err((e, _)) => {
                    report(None, &e);
                    break;
                }
            }
        }
        self.pending.clear();
    }
}
