//! Symbols: interned names, outside the GC heap, kept for the life of the process.
//!
//! # Design
//! A [`Symbol`] is a `u32` index into one process-wide table of names. Two symbols are
//! `eq?` exactly when their indices are equal, so comparing symbols (the compiler's
//! special-form dispatch, `eq?`, `assq`) is one integer comparison, and a `Value::Symbol`
//! is a plain word that holds no handle and costs the collector nothing.
//!
//! Interning needs a table from names to symbols. A table that frees unused symbols
//! needs weak references (the table must not keep a symbol alive), and tricolor-gc has
//! none. So symbols are not `Gc` objects at all: the table owns the names (leaked
//! `&'static str`s) and never shrinks. The cost is that a program that makes unboundedly
//! many distinct symbols grows this table forever; only the reader creates symbols (there
//! is no `string->symbol`), so the table is bounded by the source text.
//!
//! The first entries are the names the compiler and printer look for (`quote`, `define`,
//! ...), at fixed indices, so they are constants ([`Symbol::QUOTE`], ...).
//!
//! # Concurrency
//! The table sits behind a `parking_lot::RwLock`: interning (the reader, one thread) takes
//! the write lock only for a name it has not seen; reading a name (printing) takes the
//! read lock.

use std::collections::HashMap;
use std::sync::OnceLock;

use gc::Trace;
use parking_lot::RwLock;

/// An interned name (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Trace)]
pub(crate) struct Symbol(u32);

/// The names at fixed indices, in index order (must match the constants below).
const WELL_KNOWN: [&str; 17] = [
    "quote", "define", "set!", "lambda", "let", "letrec", "if", "cond", "else", "begin", "and",
    "or", "let*", "letrec*", "when", "unless", "=>",
];

impl Symbol {
    pub(crate) const QUOTE: Symbol = Symbol(0);
    pub(crate) const DEFINE: Symbol = Symbol(1);
    pub(crate) const SET: Symbol = Symbol(2);
    pub(crate) const LAMBDA: Symbol = Symbol(3);
    pub(crate) const LET: Symbol = Symbol(4);
    pub(crate) const LETREC: Symbol = Symbol(5);
    pub(crate) const IF: Symbol = Symbol(6);
    pub(crate) const COND: Symbol = Symbol(7);
    pub(crate) const ELSE: Symbol = Symbol(8);
    pub(crate) const BEGIN: Symbol = Symbol(9);
    pub(crate) const AND: Symbol = Symbol(10);
    pub(crate) const OR: Symbol = Symbol(11);
    pub(crate) const LET_STAR: Symbol = Symbol(12);
    pub(crate) const LETREC_STAR: Symbol = Symbol(13);
    pub(crate) const WHEN: Symbol = Symbol(14);
    pub(crate) const UNLESS: Symbol = Symbol(15);
    pub(crate) const ARROW: Symbol = Symbol(16);

    /// The symbol named `name`, creating it on first use.
    pub(crate) fn intern(name: &str) -> Symbol {
        let table = table();
        if let Some(symbol) = table.read().ids.get(name) {
            return *symbol;
        }
        let mut table = table.write();
        if let Some(symbol) = table.ids.get(name) {
            return *symbol;
        }
        table.insert(Box::leak(name.into()))
    }

    /// The symbol's name.
    pub(crate) fn name(self) -> &'static str {
        // Every `Symbol` was made by `intern` (or is a constant below the table's
        // well-known entries), so the index is in range.
        table()
            .read()
            .names
            .get(self.0 as usize)
            .copied()
            .unwrap_or("#<bad symbol>")
    }
}

struct Interner {
    names: Vec<&'static str>,
    ids: HashMap<&'static str, Symbol>,
}

impl Interner {
    fn insert(&mut self, name: &'static str) -> Symbol {
        // More than 4 billion distinct names cannot come from any source text this
        // process can hold in memory; saturate rather than wrap if it ever did.
        let symbol = Symbol(u32::try_from(self.names.len()).unwrap_or(u32::MAX));
        self.names.push(name);
        self.ids.insert(name, symbol);
        symbol
    }
}

fn table() -> &'static RwLock<Interner> {
    static TABLE: OnceLock<RwLock<Interner>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut interner = Interner {
            names: Vec::new(),
            ids: HashMap::new(),
        };
        for name in WELL_KNOWN {
            interner.insert(name);
        }
        RwLock::new(interner)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_symbols_are_at_their_constants() {
        assert_eq!(Symbol::intern("quote"), Symbol::QUOTE);
        assert_eq!(Symbol::intern("=>"), Symbol::ARROW);
        assert_eq!(Symbol::intern("letrec*"), Symbol::LETREC_STAR);
        assert_eq!(Symbol::ELSE.name(), "else");
    }

    #[test]
    fn interning_is_idempotent_and_distinguishes_names() {
        let a = Symbol::intern("symbol-test-a");
        assert_eq!(Symbol::intern("symbol-test-a"), a);
        assert_ne!(Symbol::intern("symbol-test-b"), a);
        assert_eq!(a.name(), "symbol-test-a");
    }
}
