// `Gc::new` needs `T: 'static`: a value borrowing a local is rejected.
use gc::{Gc, Trace};

#[derive(Trace)]
struct Borrowed<'a> {
    #[gc(skip)]
    name: &'a str,
}

fn main() {
    let local = String::from("short-lived");
    let g = Gc::new(Borrowed { name: &local });
    assert_eq!(g.name, "short-lived");
}
