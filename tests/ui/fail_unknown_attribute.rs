// Unknown `gc(...)` keys are errors, on fields and on the type.
use gc::Trace;

#[derive(Trace)]
struct OnField {
    #[gc(bogus)]
    value: u32,
}

#[derive(Trace)]
#[gc(bogus = "x")]
struct OnType {
    value: u32,
}

#[derive(Trace)]
#[gc(skip)]
struct SkipOnType {
    value: u32,
}

#[derive(Trace)]
struct UnsafeDropOnField {
    #[gc(unsafe_drop)]
    value: u32,
}

fn main() {}
