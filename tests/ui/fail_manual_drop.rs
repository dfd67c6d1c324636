// A type that traces fields may not implement `Drop`: the sweeper could run it after a
// `Gc` it reads was freed.
use gc::Trace;

#[derive(Trace)]
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
    let _ = Node { children: Vec::new(), label: String::new() };
}
