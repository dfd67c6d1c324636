// `Gc<T>` is `Send`/`Sync` only when `T: Send + Sync`: a `Cell` inside makes the handle
// thread-bound even though `Gc::new` accepts it (`Cell<u8>: Send`).
use gc::{Gc, Trace};
use std::cell::Cell;

#[derive(Trace)]
struct Counter {
    #[gc(skip)]
    hits: Cell<u8>,
}

fn assert_send<T: Send>(_: &T) {}
fn assert_sync<T: Sync>(_: &T) {}

fn main() {
    let g = Gc::new(Counter { hits: Cell::new(0) });
    assert_send(&g);
    assert_sync(&g);
    g.hits.set(1);
}
