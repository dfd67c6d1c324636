//! `Arc`: no collector at all. A node is freed the moment its last handle drops, on the
//! thread that drops it, so the loop gaps show the cost of freeing in place (a replaced
//! live tree frees 31 nodes inside one iteration) and nothing else.
//!
//! Size estimate: `ArcInner` = two counters (16 bytes) + the node (16 + 16 payload, the
//! `Option<Arc>` children use the null niche), rounded to glibc's 16-byte chunk with its
//! 8-byte header: 64 bytes.

use std::sync::Arc;

use super::handles::{self, HandleRuntime};
use super::tree::{malloc_chunk, Payload, TreeNode};
use super::Runtime;

pub(crate) const RUNTIME: Runtime = Runtime {
    name: ArcRuntime::NAME,
    multi_thread: true,
    stalls: "none: no collector (Arc frees in place)",
    run: handles::run::<ArcRuntime>,
};

#[derive(Debug)]
pub(crate) struct ArcNode {
    left: Option<Arc<ArcNode>>,
    right: Option<Arc<ArcNode>>,
    payload: Payload,
}

impl TreeNode for ArcNode {
    fn payload(&self) -> &Payload {
        &self.payload
    }
    fn left(&self) -> Option<&ArcNode> {
        self.left.as_deref()
    }
    fn right(&self) -> Option<&ArcNode> {
        self.right.as_deref()
    }
}

#[derive(Debug)]
pub(crate) struct ArcRuntime;

impl HandleRuntime for ArcRuntime {
    const NAME: &'static str = "arc";
    type Node = ArcNode;
    type Ptr = Arc<ArcNode>;

    #[inline]
    fn node(
        left: Option<Arc<ArcNode>>,
        right: Option<Arc<ArcNode>>,
        payload: Payload,
    ) -> Self::Ptr {
        Arc::new(ArcNode {
            left,
            right,
            payload,
        })
    }

    fn est_node_bytes() -> usize {
        malloc_chunk(2 * size_of::<usize>() + size_of::<ArcNode>())
    }
}
