// Unions and packed types cannot be traced by the derive; the errors say why.
use gc::Trace;

#[derive(Trace)]
union Either {
    a: u32,
    b: f32,
}

#[derive(Trace)]
#[repr(C, packed)]
struct Packed {
    a: u8,
    b: u32,
}

#[derive(Trace)]
enum WithVariantAttr {
    #[gc(skip)]
    A(u32),
}

fn main() {}
