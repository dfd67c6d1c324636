// `Rc` has no `Trace` impl (and is not `Send`): `Gc::new(Rc::new(1))` does not compile.
use gc::Gc;
use std::rc::Rc;

fn main() {
    let _ = Gc::new(Rc::new(1u8));
}
