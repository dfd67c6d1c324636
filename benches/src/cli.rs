//! What the two command lines (the harness's `config.rs` and the binary-trees runner's
//! `w1.rs`) share on top of clap: range-checked value parsers whose error names the range,
//! and help lines that show the same range.
//!
//! # Rules
//! 1. Every numeric flag has one [`Range`] constant. Its value parser ([`Range::parse`])
//!    and its `--help` line ([`with_notes`] appends [`Range::describe`]) both read that
//!    constant, so the check and the text cannot disagree.
//! 2. A bad value is a clap `ValueValidation` error: clap prints
//!    `error: invalid value 'X' for '--flag <V>': expected <what> from LO to HI` and exits
//!    with status 2, as for an unknown flag or a missing value.

use std::fmt::Display;
use std::str::FromStr;

use crate::runtimes::Runtime;

/// A number type a flag can take, with what its error calls it.
pub(crate) trait Number: FromStr + PartialOrd + Copy + Display {
    /// "a whole number" or "a number".
    const WHAT: &'static str;
    /// False for values no range admits (NaN, infinities).
    fn is_finite(self) -> bool {
        true
    }
}

impl Number for u32 {
    const WHAT: &'static str = "a whole number";
}

impl Number for u64 {
    const WHAT: &'static str = "a whole number";
}

impl Number for usize {
    const WHAT: &'static str = "a whole number";
}

impl Number for f64 {
    const WHAT: &'static str = "a number";
    fn is_finite(self) -> bool {
        f64::is_finite(self)
    }
}

/// The inclusive range of values a flag accepts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Range<T> {
    pub(crate) lo: T,
    pub(crate) hi: T,
}

impl<T: Number> Range<T> {
    /// The clap value parser: the value, or the error text clap shows after the flag.
    pub(crate) fn parse(&self, text: &str) -> Result<T, String> {
        text.parse::<T>()
            .ok()
            .filter(|v| v.is_finite() && *v >= self.lo && *v <= self.hi)
            .ok_or_else(|| format!("expected {} from {} to {}", T::WHAT, self.lo, self.hi))
    }

    /// The range as `--help` shows it.
    pub(crate) fn describe(&self) -> String {
        format!("range: {}..={}", self.lo, self.hi)
    }
}

/// Appends `[note]` to the help line of each named argument (clap ids are field names).
pub(crate) fn with_notes(mut cmd: clap::Command, notes: &[(&str, String)]) -> clap::Command {
    for (id, note) in notes {
        cmd = cmd.mut_arg(*id, |arg| {
            let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
            arg.help(format!("{help} [{note}]"))
        });
    }
    cmd
}

/// Parses `NAME[,NAME..]` against `known` (in the order given, repeats dropped); the error
/// lists the names and the `keywords` the caller also accepts.
pub(crate) fn runtime_list(
    text: &str,
    known: &[&'static Runtime],
    keywords: &str,
) -> Result<Vec<&'static Runtime>, String> {
    let mut picked: Vec<&'static Runtime> = Vec::new();
    for name in text.split(',') {
        let rt = known.iter().find(|r| r.name == name).ok_or_else(|| {
            let names: Vec<&str> = known.iter().map(|r| r.name).collect();
            format!(
                "expected a comma-separated list of {}, or {keywords}",
                names.join(", ")
            )
        })?;
        if !picked.iter().any(|p| p.name == rt.name) {
            picked.push(rt);
        }
    }
    Ok(picked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtimes::RUNTIMES;

    #[test]
    fn runtime_lists_keep_order_and_drop_repeats() {
        let known: Vec<&Runtime> = RUNTIMES.iter().collect();
        let names = |t| {
            runtime_list(t, &known, "all").map(|v| v.iter().map(|r| r.name).collect::<Vec<_>>())
        };
        assert_eq!(names("arc,tricolor,arc"), Ok(vec!["arc", "tricolor"]));
        let e = names("arc,java").unwrap_err();
        assert!(
            e.contains("list of tricolor, box") && e.ends_with("or all"),
            "{e}"
        );
        assert!(names("").is_err());
    }

    #[test]
    fn parse_checks_the_range_and_names_it() {
        let r = Range { lo: 1u64, hi: 10 };
        assert_eq!(r.parse("10"), Ok(10));
        assert_eq!(
            r.parse("0"),
            Err("expected a whole number from 1 to 10".to_string())
        );
        assert!(r.parse("x").is_err());
        let f = Range {
            lo: 0.0f64,
            hi: 1.0,
        };
        assert_eq!(f.parse("0.5"), Ok(0.5));
        assert_eq!(
            f.parse("nan"),
            Err("expected a number from 0 to 1".to_string())
        );
        assert_eq!(f.describe(), "range: 0..=1");
    }
}
