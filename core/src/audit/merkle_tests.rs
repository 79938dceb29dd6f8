//! S4: RFC 6962 vectors and proof properties for the Merkle tree.

use super::merkle::*;

fn h(s: &str) -> Hash {
    hex::decode(s).unwrap().try_into().unwrap()
}

/// The leaves of the RFC 6962 / certificate-transparency test suite.
fn ct_leaves() -> Vec<Hash> {
    ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
        .iter()
        .map(|x| leaf_hash(&hex::decode(x).unwrap()))
        .collect()
}

const CT_ROOTS: [&str; 8] = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

#[test]
fn s4_rfc6962_empty_leaf_and_node_hashes() {
    assert_eq!(empty_root(), h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
    assert_eq!(root(&[]), empty_root());
    // Leaf hash of the empty string: SHA-256(0x00).
    assert_eq!(leaf_hash(b""), h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));
    // Node hash is SHA-256(0x01 || l || r), distinct from hashing the concatenation as a leaf.
    let (l, r) = (leaf_hash(b"a"), leaf_hash(b"b"));
    let mut cat = l.to_vec();
    cat.extend_from_slice(&r);
    assert_ne!(node_hash(&l, &r), leaf_hash(&cat));
}

#[test]
fn s4_rfc6962_roots_for_every_prefix_of_the_ct_leaves() {
    let leaves = ct_leaves();
    let mut frontier = Frontier::new();
    for (i, expected) in CT_ROOTS.iter().enumerate() {
        assert_eq!(root(&leaves[..=i]), h(expected), "root of {} leaves", i + 1);
        frontier.push(leaves[i]);
        assert_eq!(frontier.root(), h(expected), "frontier root of {} leaves", i + 1);
        let again = Frontier::from_bytes(&frontier.to_bytes()).unwrap();
        assert_eq!(again, frontier);
    }
    assert_eq!(root(&leaves), h("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"));
}

#[test]
fn s4_rfc6962_inclusion_vectors() {
    // Audit paths from the certificate-transparency test suite.
    let leaves = ct_leaves();
    let path = inclusion_path(0, &leaves);
    assert_eq!(
        path,
        vec![
            h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            h("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ]
    );
    let path = inclusion_path(5, &leaves);
    assert_eq!(
        path,
        vec![
            h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            h("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            h("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ]
    );
    assert!(verify_inclusion(&leaves[5], 5, 8, &path, &root(&leaves)));
}

#[test]
fn s4_every_inclusion_and_consistency_proof_verifies() {
    let leaves: Vec<Hash> = (0u32..40).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    for n in 1..=leaves.len() {
        let tree = &leaves[..n];
        let r = root(tree);
        for i in 0..n {
            let p = inclusion_path(i, tree);
            assert!(verify_inclusion(&tree[i], i as u64, n as u64, &p, &r), "inclusion {i} of {n}");
            assert!(!verify_inclusion(&tree[(i + 1) % n], i as u64, n as u64, &p, &r) || n == 1);
        }
        for m in 0..=n {
            let p = consistency_proof(m, tree);
            let r1 = root(&leaves[..m]);
            assert!(verify_consistency(m as u64, n as u64, &r1, &r, &p), "consistency {m}->{n}");
        }
    }
}

#[test]
fn s4_mutated_proofs_are_rejected() {
    let leaves: Vec<Hash> = (0u32..13).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let r = root(&leaves);
    let idx = 6;
    let path = inclusion_path(idx, &leaves);
    // Each element, each bit.
    for e in 0..path.len() {
        for bit in 0..256 {
            let mut bad = path.clone();
            bad[e][bit / 8] ^= 1 << (bit % 8);
            assert!(!verify_inclusion(&leaves[idx], idx as u64, 13, &bad, &r));
        }
    }
    // Truncated, extended, empty, wrong index, wrong size, wrong root.
    assert!(!verify_inclusion(&leaves[idx], idx as u64, 13, &path[..path.len() - 1], &r));
    let mut ext = path.clone();
    ext.push(leaves[0]);
    assert!(!verify_inclusion(&leaves[idx], idx as u64, 13, &ext, &r));
    assert!(!verify_inclusion(&leaves[idx], idx as u64, 13, &[], &r));
    assert!(!verify_inclusion(&leaves[idx], idx as u64 + 1, 13, &path, &r));
    // A size that changes the path's shape fails. (Sizes with the same shape, like 13 and
    // 14 for leaf 6, compute alike: the signed tree head is what binds size to root.)
    assert!(!verify_inclusion(&leaves[idx], idx as u64, 8, &path, &r));
    assert!(!verify_inclusion(&leaves[idx], idx as u64, 32, &path, &r));
    assert!(!verify_inclusion(&leaves[idx], 13, 13, &path, &r));

    let (m, n) = (5usize, 13usize);
    let r1 = root(&leaves[..m]);
    let proof = consistency_proof(m, &leaves);
    assert!(verify_consistency(m as u64, n as u64, &r1, &r, &proof));
    for e in 0..proof.len() {
        for bit in 0..256 {
            let mut bad = proof.clone();
            bad[e][bit / 8] ^= 1 << (bit % 8);
            assert!(!verify_consistency(m as u64, n as u64, &r1, &r, &bad));
        }
    }
    assert!(!verify_consistency(m as u64, n as u64, &r1, &r, &proof[..proof.len() - 1]));
    let mut ext = proof.clone();
    ext.push(leaves[0]);
    assert!(!verify_consistency(m as u64, n as u64, &r1, &r, &ext));
    assert!(!verify_consistency(m as u64, n as u64, &r1, &r, &[]));
    assert!(!verify_consistency(m as u64 + 1, n as u64, &r1, &r, &proof));
    assert!(!verify_consistency(n as u64, m as u64, &r, &r1, &proof));
}

/// The Ed25519 primitive that signs tree heads reproduces the RFC 8032 §7.1 vectors, and
/// `SignedTreeHead::verify` rejects a head whose fields or signature were changed.
#[test]
fn s4_ed25519_rfc8032_vectors_and_head_verification() {
    use ed25519_dalek::{Signer, SigningKey};
    #[derive(serde::Deserialize)]
    struct V {
        secret_key: String,
        public_key: String,
        message: String,
        signature: String,
    }
    #[derive(serde::Deserialize)]
    struct F {
        vectors: Vec<V>,
    }
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/rfc/rfc8032_ed25519_vectors.json"
    ))
    .unwrap();
    let file: F = serde_json::from_str(&text).unwrap();
    assert!(file.vectors.len() >= 4);
    for v in &file.vectors {
        let sk = SigningKey::from_bytes(&hex::decode(&v.secret_key).unwrap().try_into().unwrap());
        assert_eq!(hex::encode(sk.verifying_key().to_bytes()), v.public_key);
        assert_eq!(hex::encode(sk.sign(&hex::decode(&v.message).unwrap()).to_bytes()), v.signature);
    }
    let seed = crate::crypto::SecretKey::from_slice(&[7u8; 32]).unwrap();
    let signer = crate::audit::HeadSigner::new(&seed);
    let head = signer.sign(5, leaf_hash(b"x"), 1_700_000_000_000_000);
    let key = signer.verifying_key();
    assert!(head.verify(&key).is_ok());
    for tweak in 0..4 {
        let mut bad = head.clone();
        match tweak {
            0 => bad.size += 1,
            1 => bad.root[0] ^= 1,
            2 => bad.at_us += 1,
            _ => bad.signature[63] ^= 1,
        }
        assert!(bad.verify(&key).is_err(), "tweak {tweak}");
    }
}
