//! Proofs from stored subtree roots (issue 15, goal 5): the RFC 9162 proof recursions written
//! over index ranges instead of an in-memory leaf array, so a proof needs the roots of a few
//! dozen ranges — each the fold of at most one perfect, aligned subtree per bit of its length —
//! rather than every leaf. The roots of perfect subtrees never change in an append-only log,
//! so they can be cached forever (`audit_nodes`).

use super::merkle::{Hash, node_hash};

/// A perfect, aligned subtree: leaves `[index << level, (index + 1) << level)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Node {
    pub level: u32,
    pub index: u64,
}

impl Node {
    /// The leaves it covers.
    pub(crate) fn span(self) -> (u64, u64) {
        (self.index << self.level, (self.index + 1) << self.level)
    }

    /// Its two halves (level ≥ 1).
    pub(crate) fn children(self) -> (Node, Node) {
        let child = Node { level: self.level - 1, index: self.index * 2 };
        (child, Node { index: child.index + 1, ..child })
    }
}

/// The largest power of two strictly less than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The ranges `[lo, hi)` whose roots form PATH(index, D[n]) (RFC 9162 §2.1.3.1), in order.
pub(crate) fn inclusion_ranges(index: u64, n: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    if index < n {
        inclusion(index, 0, n, &mut out);
    }
    out
}

fn inclusion(index: u64, lo: u64, n: u64, out: &mut Vec<(u64, u64)>) {
    if n <= 1 {
        return;
    }
    let k = split(n);
    if index < k {
        inclusion(index, lo, k, out);
        out.push((lo + k, lo + n));
    } else {
        inclusion(index - k, lo + k, n - k, out);
        out.push((lo, lo + k));
    }
}

/// The ranges whose roots form PROOF(m, D[n]) (RFC 9162 §2.1.4.1), in order.
pub(crate) fn consistency_ranges(m: u64, n: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    if m > 0 && m < n {
        subproof(m, 0, n, true, &mut out);
    }
    out
}

fn subproof(m: u64, lo: u64, n: u64, complete: bool, out: &mut Vec<(u64, u64)>) {
    if m == n {
        if !complete {
            out.push((lo, lo + n));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(m, lo, k, complete, out);
        out.push((lo + k, lo + n));
    } else {
        subproof(m - k, lo + k, n - k, false, out);
        out.push((lo, lo + k));
    }
}

/// The perfect subtrees a range of the recursions is made of, left to right: one per set bit
/// of its length, largest first. (Every range the recursions produce starts at a multiple of
/// its largest part, so the parts are aligned.)
pub(crate) fn parts(lo: u64, hi: u64) -> Vec<Node> {
    let mut out = Vec::new();
    let mut start = lo;
    let len = hi.saturating_sub(lo);
    for level in (0..64u32).rev() {
        if len & (1 << level) != 0 {
            debug_assert_eq!(start & ((1u64 << level) - 1), 0, "a range of the recursions is aligned");
            out.push(Node { level, index: start >> level });
            start += 1 << level;
        }
    }
    out
}

/// The root of a range from the roots of its parts (as [`parts`] lists them).
pub(crate) fn fold(roots: &[Hash]) -> Option<Hash> {
    let (last, rest) = roots.split_last()?;
    Some(rest.iter().rev().fold(*last, |acc, left| node_hash(left, &acc)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::merkle::{consistency_proof, inclusion_path, leaf_hash, root};

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&(i as u64).to_be_bytes())).collect()
    }

    fn range_root(all: &[Hash], lo: u64, hi: u64) -> Hash {
        // The parts cover the range exactly, left to right.
        let spans: Vec<(u64, u64)> = parts(lo, hi).iter().map(|p| p.span()).collect();
        assert_eq!(spans.first().map(|s| s.0), Some(lo));
        assert_eq!(spans.last().map(|s| s.1), Some(hi));
        assert!(spans.windows(2).all(|w| w[0].1 == w[1].0), "{spans:?}");
        let roots: Vec<Hash> = parts(lo, hi)
            .into_iter()
            .map(|p| {
                let (a, b) = p.span();
                root(&all[a as usize..b as usize])
            })
            .collect();
        let folded = fold(&roots).unwrap();
        assert_eq!(folded, root(&all[lo as usize..hi as usize]), "[{lo}, {hi})");
        folded
    }

    /// S4: the ranged recursions give exactly the proofs the leaf-array ones do, for every
    /// index and size up to 70 and for older sizes of a tree of 70.
    #[test]
    fn s4_ranged_proofs_equal_the_rfc_recursions() {
        let all = leaves(70);
        for n in 1..=70u64 {
            let tree = &all[..n as usize];
            for index in 0..n {
                let ranged: Vec<Hash> =
                    inclusion_ranges(index, n).into_iter().map(|(lo, hi)| range_root(tree, lo, hi)).collect();
                assert_eq!(ranged, inclusion_path(index as usize, tree), "n={n} index={index}");
            }
            for m in 0..=n {
                let ranged: Vec<Hash> =
                    consistency_ranges(m, n).into_iter().map(|(lo, hi)| range_root(tree, lo, hi)).collect();
                assert_eq!(ranged, consistency_proof(m as usize, tree), "m={m} n={n}");
            }
        }
        assert!(inclusion_ranges(5, 5).is_empty() && consistency_ranges(0, 9).is_empty());
    }

    #[test]
    fn a_proof_at_a_million_entries_needs_few_subtrees() {
        let ranges = inclusion_ranges(333_333, 1_000_000);
        let subtrees: usize = ranges.iter().map(|(lo, hi)| parts(*lo, *hi).len()).sum();
        assert_eq!(ranges.len(), 20);
        assert!(subtrees <= 64, "{subtrees}");
        let node = Node { level: 3, index: 5 };
        assert_eq!(node.span(), (40, 48));
        assert_eq!(node.children(), (Node { level: 2, index: 10 }, Node { level: 2, index: 11 }));
        assert_eq!(split(2), 1);
        assert_eq!(split(1_000_000), 524_288);
        assert_eq!(split(u64::MAX), 1 << 63);
    }
}
