//! Placeholder main job; replaced by the allocator demo in the allocator increment.
fn main() {
    println!("tricolor-gc: allocator not built yet");
}
