// Every traced field needs a `Trace` impl; `Rc` deliberately has none (a handle reached
// through a shared owner would be counted once per owner).
use gc::Trace;
use std::rc::Rc;

#[derive(Trace)]
struct Shared {
    inner: Rc<u32>,
}

fn main() {}
