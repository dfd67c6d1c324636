// `#[gc(unsafe_drop)]` plus `unsafe impl gc::UnsafeDrop` lifts the Drop check (the user
// promises the Drop neither dereferences, clones nor moves out a `Gc`).
use gc::{Gc, Trace};

#[derive(Trace)]
#[gc(unsafe_drop)]
struct Node {
    children: Vec<Node>,
    label: String,
}

impl Drop for Node {
    fn drop(&mut self) {
        println!("{}", self.label);
    }
}

// SAFETY: `Node::drop` reads only `label`.
unsafe impl gc::UnsafeDrop for Node {}

#[derive(Trace)]
#[gc(unsafe_drop)]
struct Holder<'a, T, const N: usize> {
    handles: [Option<Gc<T>>; N],
    #[gc(skip)]
    name: &'a str,
}

impl<T, const N: usize> Drop for Holder<'_, T, N> {
    fn drop(&mut self) {
        println!("{}", self.name);
    }
}

// SAFETY: `Holder::drop` reads only `name`; the handles stay in place.
unsafe impl<T, const N: usize> gc::UnsafeDrop for Holder<'_, T, N> {}

fn main() {
    let node = Node { children: Vec::new(), label: String::new() };
    assert!(node.children.is_empty());
    assert!(!<Node as Trace>::NEEDS_TRACE);
    let holder: Holder<'_, u8, 2> = Holder { handles: [Some(Gc::new(1)), None], name: "h" };
    assert!(<Holder<'static, u8, 2> as Trace>::NEEDS_TRACE);
    drop(holder);
}
