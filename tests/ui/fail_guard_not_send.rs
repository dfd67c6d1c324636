// A borrow is recorded on the thread that took it (so that a conflicting borrow on that
// thread panics instead of deadlocking), so its guard must not move to another thread.
use gc::GcCell;

fn main() {
    let cell = GcCell::new(1u32);
    std::thread::scope(|s| {
        let r = cell.borrow();
        s.spawn(move || drop(r));
        let w = cell.borrow_mut();
        s.spawn(move || drop(w));
    });
}
