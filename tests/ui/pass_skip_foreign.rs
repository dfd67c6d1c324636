// `#[gc(skip)]` fields need no `Trace` impl, and a parameter used only in them needs no
// `Trace` bound.
use gc::Trace;
use std::cell::RefCell;
use std::sync::Mutex;

struct Foreign;

#[derive(Trace)]
struct Holder<T> {
    #[gc(skip)]
    foreign: Foreign,
    #[gc(skip)]
    cache: RefCell<Vec<u8>>,
    #[gc(skip)]
    other: Mutex<T>,
    values: Vec<u32>,
}

fn main() {
    let h = Holder { foreign: Foreign, cache: RefCell::new(Vec::new()), other: Mutex::new(Foreign), values: vec![1] };
    let Holder { foreign: Foreign, cache, other, values } = h;
    assert!(cache.borrow().is_empty() && other.lock().is_ok() && values.len() == 1);
    assert!(!<Holder<Foreign> as Trace>::NEEDS_TRACE);
}
