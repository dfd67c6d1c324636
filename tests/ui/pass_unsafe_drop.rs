// `#[gc(unsafe_drop)]` lifts the Drop check (the user promises the Drop reads no `Gc`).
use gc::Trace;

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

fn main() {
    let node = Node { children: Vec::new(), label: String::new() };
    assert!(node.children.is_empty());
    assert!(!<Node as Trace>::NEEDS_TRACE);
}
