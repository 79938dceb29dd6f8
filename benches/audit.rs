//! S4 journal primitives: raw SHA-256 on 64-byte inputs (the machine's hashing speed), leaf
//! and node hashes, frontier appends, and proof verification at 10^3…10^6 leaves.

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use kabinet::audit::merkle::{self, Frontier, Hash};
use sha2::{Digest, Sha256};
use std::hint::black_box;

fn leaves(n: usize) -> Vec<Hash> {
    (0..n as u64).map(|i| merkle::leaf_hash(&i.to_be_bytes())).collect()
}

fn hashing(c: &mut Criterion) {
    let input = [0x42u8; 64];
    c.bench_function("sha256/raw_64_bytes", |b| b.iter(|| Sha256::digest(black_box(&input))));
    let (l, r) = (merkle::leaf_hash(b"l"), merkle::leaf_hash(b"r"));
    c.bench_function("merkle/node_hash", |b| b.iter(|| merkle::node_hash(black_box(&l), black_box(&r))));
    c.bench_function("merkle/leaf_hash_160_bytes", |b| b.iter(|| merkle::leaf_hash(black_box(&[7u8; 160]))));
    let mut f = Frontier::new();
    c.bench_function("merkle/frontier_push_and_root", |b| {
        b.iter(|| {
            f.push(black_box(l));
            f.root()
        })
    });
}

fn proofs(c: &mut Criterion) {
    let mut group = c.benchmark_group("proof_verify");
    for n in [1_000usize, 10_000, 100_000, 1_000_000] {
        let all = leaves(n);
        let root = merkle::root(&all);
        let idx = n / 3;
        let path = merkle::inclusion_path(idx, &all);
        group.bench_with_input(BenchmarkId::new("inclusion", n), &path, |b, p| {
            b.iter(|| merkle::verify_inclusion(&all[idx], idx as u64, n as u64, black_box(p), &root))
        });
        let m = n / 2 + 1;
        let old_root = merkle::root(&all[..m]);
        let cons = merkle::consistency_proof(m, &all);
        group.bench_with_input(BenchmarkId::new("consistency", n), &cons, |b, p| {
            b.iter(|| merkle::verify_consistency(m as u64, n as u64, &old_root, &root, black_box(p)))
        });
        println!(
            "proof sizes at n = {n}: inclusion {} hashes ({} bytes), consistency {} hashes ({} bytes)",
            path.len(),
            path.len() * 32,
            cons.len(),
            cons.len() * 32
        );
    }
    group.finish();
}

criterion_group!(benches, hashing, proofs);
criterion_main!(benches);
