//! S2 crypto costs: envelope seal/open at 1 KiB and 1 MiB, next to the raw AES-256-GCM
//! primitive on the same machine, and blind-index computation.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use kabinet::crypto::{Aad, BlindIndexKind, BlindIndexer, SecretKey, open, seal};
use std::hint::black_box;

fn envelope(c: &mut Criterion) {
    let key = SecretKey::generate();
    let aad = Aad {
        table: "documents",
        record_id: "8c1f3a2e-0000-4000-8000-000000000001",
        field: "content",
        patient_id: "p-1",
    };
    let mut group = c.benchmark_group("envelope");
    for size in [1024usize, 1024 * 1024] {
        let data = vec![0x5au8; size];
        let sealed = seal(&key, &aad, &data).unwrap_or_default();
        group.throughput(Throughput::Bytes(size as u64));
        group.bench_with_input(BenchmarkId::new("seal", size), &data, |b, d| b.iter(|| seal(&key, &aad, black_box(d))));
        group.bench_with_input(BenchmarkId::new("open", size), &sealed, |b, s| {
            b.iter(|| open(&key, &aad, black_box(s)))
        });
        let raw = aes_gcm::Aes256Gcm::new_from_slice(key.expose()).ok();
        if let Some(raw) = raw {
            let nonce = [7u8; 12];
            group.bench_with_input(BenchmarkId::new("raw_aes256gcm_encrypt", size), &data, |b, d| {
                b.iter(|| raw.encrypt(&nonce.into(), Payload { msg: black_box(d), aad: b"x" }))
            });
        }
    }
    group.finish();
}

fn blind_index(c: &mut Criterion) {
    let idx = BlindIndexer::new(SecretKey::generate());
    c.bench_function("blind_index/snils", |b| b.iter(|| idx.index(BlindIndexKind::Snils, black_box("11223344595"))));
    c.bench_function("blind_index/email", |b| {
        b.iter(|| idx.index(BlindIndexKind::Email, black_box("anna.ivanova@example.ru")))
    });
}

criterion_group!(benches, envelope, blind_index);
criterion_main!(benches);
