// `Gc::new` needs `T: Send` (the collector may drop the value on its own thread): a value
// holding an `Rc` is rejected.
use gc::{Gc, Trace};
use std::rc::Rc;

#[derive(Trace)]
struct Local {
    #[gc(skip)]
    rc: Rc<u8>,
}

fn main() {
    let _ = Gc::new(Local { rc: Rc::new(1) });
}
