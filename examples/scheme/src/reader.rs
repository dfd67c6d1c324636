//! The reader: source text to [`Datum`] trees, with the line of every datum.
//!
//! # Design
//! - Syntax: integers (`-12`), floats (`1.5`, `1e3`, `.5`), strings with `\" \\ \n \t`
//!   escapes, symbols, `#t`/`#f` (`#true`/`#false`), lists, dotted pairs `(a . b)`,
//!   vector literals `#(1 2)`, quote `'x` (read as `(quote x)`), `;` comments to the end
//!   of the line.
//! - Data are not yet `Value`s: a `Datum` is plain Rust data with a line number, which the
//!   compiler (syntax.rs) needs for its error messages; `quote` turns a datum into heap
//!   values when the code is compiled.
//! - Iterative, with an explicit stack of open lists, so no input can overflow the Rust
//!   stack here. Nesting is still capped at [`MAX_NESTING`] levels, because the compiler
//!   and `Datum`'s own drop recurse over the tree; the cap is far above any real program
//!   and far below what the driver's stack can take (main.rs).
//! - [`Reader::next`] returns `Ok(None)` at the end of input, and an error of kind
//!   `Syntax` for bad input. Input that ends inside a datum is reported with
//!   [`Incomplete`], so the REPL can tell "wait for the next line" from a real error.

use crate::error::{error, Error, Result};
use crate::symbol::Symbol;

/// Deepest nesting of lists, vectors and quotes the reader accepts.
pub(crate) const MAX_NESTING: usize = 10_000;

/// A datum read from source, with the line it starts on.
#[derive(Debug)]
pub(crate) struct Datum {
    /// The 1-based line of the datum's first character.
    pub(crate) line: u32,
    /// What it is.
    pub(crate) kind: DatumKind,
}

/// The kinds of [`Datum`].
#[derive(Debug)]
pub(crate) enum DatumKind {
    /// An integer literal.
    Int(i64),
    /// A float literal.
    Float(f64),
    /// A string literal (escapes resolved).
    Str(String),
    /// A symbol.
    Symbol(Symbol),
    /// `#t` or `#f`.
    Bool(bool),
    /// A list: its elements and, for a dotted list, the final cdr. `()` has no elements.
    List(Vec<Datum>, Option<Box<Datum>>),
    /// A vector literal `#(...)`.
    Vector(Vec<Datum>),
}

/// Whether an error means the input ended inside a datum (more lines may complete it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Incomplete {
    /// The error is a real syntax error.
    No,
    /// The input ended inside an unfinished datum or string.
    Yes,
}

/// What kind of bracket opened a pending list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    List,
    Vector,
    /// A `'` waiting for its datum.
    Quote,
}

/// A list under construction.
struct Pending {
    open: Open,
    line: u32,
    items: Vec<Datum>,
    /// Set after `.`: the tail, once read.
    tail: Option<Datum>,
    /// A `.` was read and the tail is expected next (or was read).
    dotted: bool,
}

/// Reads data one at a time from a source string.
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
    line: u32,
}

impl<'a> Reader<'a> {
    /// A reader of `text`, whose first line is `first_line`.
    pub(crate) fn new(text: &'a str, first_line: u32) -> Reader<'a> {
        Reader {
            text,
            pos: 0,
            line: first_line,
        }
    }

    /// The byte offset just past the last datum read.
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The line the reader is on.
    pub(crate) fn line(&self) -> u32 {
        self.line
    }

    /// The next datum, `Ok(None)` at the end of input, or a syntax error (with
    /// [`Incomplete::Yes`] if the input ended inside a datum).
    pub(crate) fn next(&mut self) -> std::result::Result<Option<Datum>, (Error, Incomplete)> {
        let mut stack: Vec<Pending> = Vec::new();
        loop {
            self.skip_atmosphere();
            let Some(c) = self.peek() else {
                // Report the outermost open bracket: where the unfinished form starts.
                return match stack.first() {
                    None => Ok(None),
                    Some(open) => Err((
                        error!(
                            Syntax,
                            "unbalanced parentheses: the {} opened at line {} is never closed",
                            match open.open {
                                Open::Quote => "quote",
                                _ => "'('",
                            },
                            open.line
                        )
                        .at(open.line),
                        Incomplete::Yes,
                    )),
                };
            };
            let line = self.line;
            let complete = match c {
                '(' | '\'' => {
                    self.bump();
                    let open = if c == '(' { Open::List } else { Open::Quote };
                    self.open(&mut stack, open, line)?;
                    continue;
                }
                '#' if self.text[self.pos..].starts_with("#(") => {
                    self.bump();
                    self.bump();
                    self.open(&mut stack, Open::Vector, line)?;
                    continue;
                }
                ')' => {
                    self.bump();
                    match stack.pop() {
                        Some(pending) if pending.open != Open::Quote => {
                            Self::close(pending, line).map_err(|e| (e, Incomplete::No))?
                        }
                        _ => {
                            return Err((
                                error!(Syntax, "unbalanced parentheses: unexpected ')'").at(line),
                                Incomplete::No,
                            ))
                        }
                    }
                }
                '.' if self.is_lone_dot() => {
                    self.bump();
                    match stack.last_mut() {
                        Some(p) if p.open == Open::List && !p.items.is_empty() && !p.dotted => {
                            p.dotted = true;
                            continue;
                        }
                        _ => {
                            return Err((
                                error!(
                                Syntax,
                                "unexpected '.' (a dot goes between the last two items of a list)"
                            )
                                .at(line),
                                Incomplete::No,
                            ))
                        }
                    }
                }
                '"' => self.string(line)?,
                _ => self.atom(line).map_err(|e| (e, Incomplete::No))?,
            };
            // Hand the complete datum to the innermost pending list, closing quotes.
            let mut datum = complete;
            loop {
                match stack.last_mut() {
                    None => return Ok(Some(datum)),
                    Some(p) if p.open == Open::Quote => {
                        let p = stack.pop().expect("last_mut just found it");
                        let quote = Datum {
                            line: p.line,
                            kind: DatumKind::Symbol(Symbol::QUOTE),
                        };
                        datum = Datum {
                            line: p.line,
                            kind: DatumKind::List(vec![quote, datum], None),
                        };
                    }
                    Some(p) if p.dotted => {
                        if p.tail.is_some() {
                            return Err((
                                error!(Syntax, "bad dotted list: more than one datum after '.'")
                                    .at(datum.line),
                                Incomplete::No,
                            ));
                        }
                        p.tail = Some(datum);
                        break;
                    }
                    Some(p) => {
                        p.items.push(datum);
                        break;
                    }
                }
            }
        }
    }

    fn open(
        &self,
        stack: &mut Vec<Pending>,
        open: Open,
        line: u32,
    ) -> std::result::Result<(), (Error, Incomplete)> {
        if stack.len() >= MAX_NESTING {
            return Err((
                error!(
                    Syntax,
                    "expression nested more than {MAX_NESTING} levels deep"
                )
                .at(line),
                Incomplete::No,
            ));
        }
        stack.push(Pending {
            open,
            line,
            items: Vec::new(),
            tail: None,
            dotted: false,
        });
        Ok(())
    }

    fn close(pending: Pending, line: u32) -> Result<Datum> {
        let kind = match pending.open {
            Open::Vector => DatumKind::Vector(pending.items),
            _ if pending.dotted => match pending.tail {
                Some(tail) => DatumKind::List(pending.items, Some(Box::new(tail))),
                None => return Err(error!(Syntax, "bad dotted list: nothing after '.'").at(line)),
            },
            _ => DatumKind::List(pending.items, None),
        };
        Ok(Datum {
            line: pending.line,
            kind,
        })
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        if c == '\n' {
            self.line = self.line.saturating_add(1);
        }
        Some(c)
    }

    /// Skips whitespace and comments.
    fn skip_atmosphere(&mut self) {
        while let Some(c) = self.peek() {
            if c == ';' {
                while let Some(c) = self.bump() {
                    if c == '\n' {
                        break;
                    }
                }
            } else if c.is_whitespace() {
                self.bump();
            } else {
                break;
            }
        }
    }

    /// Whether the reader is at a `.` that stands alone (not `.5` or `...`).
    fn is_lone_dot(&self) -> bool {
        let rest = &self.text[self.pos + 1..];
        rest.chars().next().map_or(true, is_delimiter)
    }

    fn string(&mut self, line: u32) -> std::result::Result<Datum, (Error, Incomplete)> {
        self.bump();
        let mut text = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err((
                        error!(Syntax, "unterminated string (opened at line {line})").at(line),
                        Incomplete::Yes,
                    ))
                }
                Some('"') => break,
                Some('\\') => match self.bump() {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some('\\') => text.push('\\'),
                    Some('"') => text.push('"'),
                    None => {
                        return Err((
                            error!(Syntax, "unterminated string (opened at line {line})").at(line),
                            Incomplete::Yes,
                        ))
                    }
                    Some(other) => {
                        return Err((
                            error!(Syntax, "unknown string escape \\{other}").at(self.line),
                            Incomplete::No,
                        ))
                    }
                },
                Some(c) => text.push(c),
            }
        }
        Ok(Datum {
            line,
            kind: DatumKind::Str(text),
        })
    }

    fn atom(&mut self, line: u32) -> Result<Datum> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if is_delimiter(c) {
                break;
            }
            self.bump();
        }
        let token = &self.text[start..self.pos];
        let kind = parse_atom(token).map_err(|e| e.at(line))?;
        Ok(Datum { line, kind })
    }
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, '(' | ')' | '"' | ';' | '\'')
}

fn parse_atom(token: &str) -> Result<DatumKind> {
    match token {
        "#t" | "#true" => return Ok(DatumKind::Bool(true)),
        "#f" | "#false" => return Ok(DatumKind::Bool(false)),
        _ => {}
    }
    if token.starts_with('#') {
        return Err(error!(Syntax, "unknown syntax {token}"));
    }
    if looks_numeric(token) {
        if token
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'-' || b == b'+')
        {
            if let Ok(n) = token.parse::<i64>() {
                return Ok(DatumKind::Int(n));
            }
            if token[1..].bytes().all(|b| b.is_ascii_digit()) {
                return Err(error!(
                    Syntax,
                    "integer literal {token} does not fit in 64 bits"
                ));
            }
        }
        if let Ok(x) = token.parse::<f64>() {
            return Ok(DatumKind::Float(x));
        }
        return Err(error!(Syntax, "bad number {token}"));
    }
    Ok(DatumKind::Symbol(Symbol::intern(token)))
}

/// A digit, or a sign or dot followed by a digit (so `+`, `-`, `...` are symbols and
/// Rust's `inf` / `nan` spellings are never numbers).
fn looks_numeric(token: &str) -> bool {
    let bytes = token.as_bytes();
    match bytes {
        [first, ..] if first.is_ascii_digit() => true,
        [b'+' | b'-', b'.', second, ..] => second.is_ascii_digit(),
        [b'+' | b'-' | b'.', second, ..] => second.is_ascii_digit(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &str) -> std::result::Result<Vec<Datum>, (Error, Incomplete)> {
        let mut reader = Reader::new(text, 1);
        let mut data = Vec::new();
        while let Some(d) = reader.next()? {
            data.push(d);
        }
        Ok(data)
    }

    fn show(d: &Datum) -> String {
        match &d.kind {
            DatumKind::Int(n) => n.to_string(),
            DatumKind::Float(x) => format!("{x:?}"),
            DatumKind::Str(s) => format!("{s:?}"),
            DatumKind::Symbol(s) => s.name().to_string(),
            DatumKind::Bool(b) => if *b { "#t" } else { "#f" }.to_string(),
            DatumKind::List(items, tail) => {
                let mut out: Vec<String> = items.iter().map(show).collect();
                if let Some(t) = tail {
                    out.push(".".into());
                    out.push(show(t));
                }
                format!("({})", out.join(" "))
            }
            DatumKind::Vector(items) => {
                format!(
                    "#({})",
                    items.iter().map(show).collect::<Vec<_>>().join(" ")
                )
            }
        }
    }

    #[test]
    fn reads_every_kind_of_datum() {
        let data = read_all(
            "12 -3 1.5 .5 -2.5e1 \"a\\\"b\\n\" foo + ... #t #false (a . b) '(1 #(2)) ; c\n()",
        )
        .expect("valid input");
        let shown: Vec<String> = data.iter().map(show).collect();
        assert_eq!(
            shown,
            [
                "12",
                "-3",
                "1.5",
                "0.5",
                "-25.0",
                "\"a\\\"b\\n\"",
                "foo",
                "+",
                "...",
                "#t",
                "#f",
                "(a . b)",
                "(quote (1 #(2)))",
                "()"
            ]
        );
        assert_eq!(data.last().map(|d| d.line), Some(2));
    }

    #[test]
    fn unbalanced_input_is_an_error_with_its_line() {
        let (e, incomplete) = read_all("(define x\n  (+ 1 2)").expect_err("unclosed");
        assert_eq!(incomplete, Incomplete::Yes);
        assert_eq!(e.line, Some(1));
        let (e, incomplete) = read_all("1\n2)").expect_err("extra ')'");
        assert_eq!(incomplete, Incomplete::No);
        assert_eq!(e.line, Some(2));
        assert!(read_all("(1 . )").is_err());
        assert!(read_all("( . 1)").is_err());
        assert!(read_all("(1 . 2 3)").is_err());
        assert!(read_all("99999999999999999999").is_err());
    }

    #[test]
    fn nesting_is_capped_without_overflowing_the_stack() {
        let deep = "(".repeat(MAX_NESTING + 1);
        let (e, incomplete) = read_all(&deep).expect_err("too deep");
        assert_eq!(incomplete, Incomplete::No);
        assert!(e.message.contains("nested"));
        let ok = format!("{}{}", "(".repeat(1000), ")".repeat(1000));
        assert_eq!(read_all(&ok).expect("1000 levels are fine").len(), 1);
    }
}
