//! Objects released on a thread whose cache does not own their span (issue #10's tests):
//! 4 threads in a ring, each allocating objects of several sizes, filling them with a
//! pattern of their id, and sending them to the next thread, which checks every byte and
//! drops them. So nearly every count reaches zero on another thread than the allocating
//! one, the drain frees the slot remotely into a span the allocator's cache still owns,
//! and the allocator reuses those slots while the receivers still hold later objects of
//! the same span. A slot handed out twice, or freed while held, breaks a pattern. A
//! thread collects every few milliseconds meanwhile. At the end every object is dropped
//! exactly once and `heap_objects` is back at its baseline.

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Duration;

use common::ledger::{Ledger, Token};
use common::rng::{mix, Rng};
use gc::{Gc, Trace};

const THREADS: usize = 4;
const PER_THREAD: usize = 60_000;

fn ledger() -> &'static Ledger {
    static LEDGER: std::sync::OnceLock<&'static Ledger> = std::sync::OnceLock::new();
    LEDGER.get_or_init(|| Ledger::new(1 << 20))
}

#[derive(Trace)]
struct Blob<const N: usize> {
    #[gc(skip)]
    token: Token,
    bytes: [u64; N],
}

impl<const N: usize> Blob<N> {
    fn make() -> Gc<Blob<N>> {
        let token = Token::new(ledger());
        let id = token.id;
        Gc::new(Blob {
            token,
            bytes: core::array::from_fn(|i| mix(id ^ (i as u64) << 40)),
        })
    }
}

/// A blob of any size, checked where it is received.
trait Check: Send {
    fn check(&self);
}

impl<const N: usize> Check for Gc<Blob<N>> {
    fn check(&self) {
        let id = self.token.id;
        assert!(!ledger().is_dropped(id), "blob {id} used after its drop");
        for (i, &word) in self.bytes.iter().enumerate() {
            assert_eq!(
                word,
                mix(id ^ (i as u64) << 40),
                "blob {id} ({N} words): word {i} overwritten (a slot given out twice?)"
            );
        }
    }
}

fn make(rng: &mut Rng) -> Box<dyn Check> {
    // Sizes with few slots per span (reuse after one remote free) and with many.
    match rng.below(5) {
        0 => Box::new(Blob::<2>::make()),
        1 => Box::new(Blob::<60>::make()),
        2 => Box::new(Blob::<125>::make()),
        3 => Box::new(Blob::<1100>::make()),
        _ => Box::new(Blob::<4000>::make()),
    }
}

#[test]
fn objects_freed_into_spans_other_threads_own_are_never_reused_while_held() {
    let _serial = common::serial();
    let base = common::quiet_objects();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                gc::collect();
                std::thread::sleep(Duration::from_millis(5));
            }
        });
        let (senders, receivers): (Vec<_>, Vec<_>) = (0..THREADS)
            .map(|_| mpsc::sync_channel::<Box<dyn Check>>(256))
            .unzip();
        let mut receivers: Vec<Option<_>> = receivers.into_iter().map(Some).collect();
        let handles: Vec<_> = (0..THREADS)
            .map(|t| {
                let to_next = senders[(t + 1) % THREADS].clone();
                let from_prev = receivers[t].take().expect("one receiver a thread");
                s.spawn(move || {
                    let mut rng = Rng::new(0xF4EE + t as u64);
                    // Hold a window of received objects, so that their spans' other slots
                    // are freed and reused around them.
                    let mut held: Vec<Box<dyn Check>> = Vec::new();
                    for _ in 0..PER_THREAD {
                        to_next.send(make(&mut rng)).expect("the next thread runs");
                        let got = from_prev.recv().expect("the previous thread runs");
                        got.check();
                        if held.len() < 64 {
                            held.push(got);
                        } else {
                            let at = rng.below(held.len());
                            let old = core::mem::replace(&mut held[at], got);
                            old.check();
                        }
                    }
                    for object in &held {
                        object.check();
                    }
                    drop(to_next);
                    // Drain what the previous thread still sends.
                    while let Ok(object) = from_prev.recv() {
                        object.check();
                    }
                })
            })
            .collect();
        drop(senders);
        let results: Vec<_> = handles.into_iter().map(|h| h.join()).collect();
        done.store(true, Ordering::Relaxed);
        for result in results {
            if let Err(panic) = result {
                std::panic::resume_unwind(panic);
            }
        }
    });
    gc::collect();
    gc::collect();
    ledger().assert_all_dropped_once("objects freed on other threads");
    assert_eq!(common::quiet_objects(), base);
}
