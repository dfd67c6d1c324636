// `#[gc(unsafe_drop)]` alone is not enough: without `unsafe impl gc::UnsafeDrop`, safe code
// could write this `Drop` (issue #9), which moves a handle to a dead neighbour out of the
// sweep into a static, where it later reads a dropped value and aliases new objects.
use gc::{Gc, GcCell, Trace};
use std::sync::Mutex;

static ESCAPED: Mutex<Vec<Gc<Node>>> = Mutex::new(Vec::new());

#[derive(Trace)]
#[gc(unsafe_drop)]
struct Node {
    next: GcCell<Option<Gc<Node>>>,
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(next) = self.next.get_mut().take() {
            ESCAPED.lock().unwrap().push(next);
        }
    }
}

// Generic types are checked where they are defined, not only where they are used.
#[derive(Trace)]
#[gc(unsafe_drop)]
struct Wrapper<T> {
    items: Vec<T>,
}

impl<T> Drop for Wrapper<T> {
    fn drop(&mut self) {
        self.items.clear();
    }
}

fn main() {
    let _ = Node { next: GcCell::new(None) };
}
