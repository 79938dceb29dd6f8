//! S4 / S6 / R5: the signed journal on both engines — every access journaled in the same
//! transaction, tampering detected and located, proofs verifiable offline, gap-free under
//! concurrency, access history, FHIR AuditEvent export.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kabinet::audit::{AuditError, verify_consistency_proof, verify_inclusion_proof};
use kabinet::{Cabinet, ErrorCode};
use support::{TestDb, anna, boris};

on_both!(
    s4_every_access_is_journaled_in_order,
    s4_failed_change_leaves_no_entry_and_no_gap,
    s4_direct_sql_edit_is_detected,
    s4_consistent_edit_of_entry_and_leaf_is_detected,
    s4_deleted_entry_is_detected,
    s4_swapped_pair_is_detected,
    s4_inserted_entry_is_detected,
    s4_forged_head_signature_is_detected,
    s4_proofs_verify_with_only_the_public_key,
    s4_proofs_from_kept_subtrees_match_and_damage_is_caught,
    s4_concurrent_appends_from_many_connections_are_gap_free,
    r5_access_history_newest_first,
    s4_integrity_failure_is_journaled,
    s4_fhir_audit_event_export,
    s4_tampered_frontier_is_detected_and_stops_appends,
    s4_accesses_at_the_same_moment_share_one_signed_head,
);

async fn journal_rows(db: &TestDb) -> Vec<(i64, String, Option<String>, String)> {
    let raw = db.raw().await;
    sqlx::query_as("SELECT seq, action, patient_id, outcome FROM audit_entries ORDER BY seq")
        .fetch_all(&raw)
        .await
        .unwrap()
}

async fn three_patients(cab: &Cabinet) -> Vec<String> {
    let p = cab.system().patients();
    let a = p.create(anna()).await.unwrap();
    let b = p.create(boris()).await.unwrap();
    p.get(&a).await.unwrap();
    vec![a, b]
}

async fn s4_every_access_is_journaled_in_order(db: TestDb) {
    let cab = db.open().await;
    let ids = three_patients(&cab).await;
    let p = cab.system().patients();
    assert_eq!(p.find_by_snils("11223344595").await.unwrap().as_deref(), Some(ids[0].as_str()));
    p.erase(&ids[1]).await.unwrap();
    cab.system().keys().rotate().await.unwrap();
    let rows = journal_rows(&db).await;
    let actions: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    assert_eq!(actions, ["create", "create", "read", "search", "delete", "key_rotation"]);
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), (0..6).collect::<Vec<i64>>());
    assert_eq!(rows[2].2.as_deref(), Some(ids[0].as_str()));
    assert_eq!(rows[4].2.as_deref(), Some(ids[1].as_str()));
    assert!(rows.iter().all(|r| r.3 == "success"));
    let report = cab.system().audit().verify().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert_eq!(report.entries, 6);
    assert_eq!(report.signed_head.as_ref().unwrap().size, 6);
    // The journal holds no personal data in clear.
    let raw = db.raw().await;
    let dump: Vec<(String, String)> =
        sqlx::query_as("SELECT action, resource_type FROM audit_entries").fetch_all(&raw).await.unwrap();
    assert!(!format!("{dump:?}").contains("Иванова"));
}

async fn s4_failed_change_leaves_no_entry_and_no_gap(db: TestDb) {
    let cab = db.open().await;
    let p = cab.system().patients();
    p.create(anna()).await.unwrap();
    // Same SNILS: the insert fails after the journal append; both roll back together.
    let mut twin = boris();
    twin.snils = anna().snils;
    assert_eq!(p.create(twin).await.unwrap_err().code(), "patient.exists");
    p.create(boris()).await.unwrap();
    let rows = journal_rows(&db).await;
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 1]);
    let report = cab.system().audit().verify().await.unwrap();
    assert!(report.ok && report.entries == 2, "{report:?}");
}

async fn s4_direct_sql_edit_is_detected(db: TestDb) {
    let cab = db.open().await;
    three_patients(&cab).await;
    let raw = db.raw().await;
    sqlx::query("UPDATE audit_entries SET action = 'search' WHERE seq = 2").execute(&raw).await.unwrap();
    let report = cab.system().audit().verify().await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_entry, Some(2));
    assert_eq!(report.problem.as_deref(), Some("entry_changed"));
    assert_eq!(report.signed_head.unwrap().size, 2, "the last good head is reported");
}

async fn s4_consistent_edit_of_entry_and_leaf_is_detected(db: TestDb) {
    let cab = db.open().await;
    three_patients(&cab).await;
    // An attacker who rewrites the entry and recomputes its stored leaf hash still cannot
    // forge the signed roots.
    let raw = db.raw().await;
    let mut forged = cab.system().audit().inclusion_proof(1).await.unwrap().entry;
    forged.action = "read".into();
    sqlx::query("UPDATE audit_entries SET action = 'read', leaf_hash = $1 WHERE seq = 1")
        .bind(forged.leaf_hash().to_vec())
        .execute(&raw)
        .await
        .unwrap();
    let report = cab.system().audit().verify().await.unwrap();
    assert!(!report.ok);
    assert_eq!((report.first_bad_entry, report.problem.as_deref()), (Some(1), Some("head_mismatch")));
}

async fn s4_deleted_entry_is_detected(db: TestDb) {
    let cab = db.open().await;
    three_patients(&cab).await;
    let raw = db.raw().await;
    sqlx::query("DELETE FROM audit_entries WHERE seq = 1").execute(&raw).await.unwrap();
    let report = cab.system().audit().verify().await.unwrap();
    assert!(!report.ok);
    assert_eq!((report.first_bad_entry, report.problem.as_deref()), (Some(1), Some("entry_missing")));
    // Deleting the tail entry and its head is caught by the state row.
    let db2 = db;
    sqlx::query("DELETE FROM audit_entries WHERE seq >= 1").execute(&raw).await.unwrap();
    sqlx::query("DELETE FROM audit_heads WHERE size >= 2").execute(&raw).await.unwrap();
    let report = cab.system().audit().verify().await.unwrap();
    assert!(!report.ok, "{report:?}");
    assert_eq!(report.first_bad_entry, Some(1));
    drop(db2);
}

async fn s4_swapped_pair_is_detected(db: TestDb) {
    let cab = db.open().await;
    three_patients(&cab).await;
    let raw = db.raw().await;
    // Swap entries 0 and 2 wholesale (content and stored leaf hash), keeping their numbers.
    sqlx::query("UPDATE audit_entries SET seq = 100 WHERE seq = 0").execute(&raw).await.unwrap();
    sqlx::query("UPDATE audit_entries SET seq = 0 WHERE seq = 2").execute(&raw).await.unwrap();
    sqlx::query("UPDATE audit_entries SET seq = 2 WHERE seq = 100").execute(&raw).await.unwrap();
    let report = cab.system().audit().verify().await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_entry, Some(0), "{report:?}");
}

async fn s4_inserted_entry_is_detected(db: TestDb) {
    let cab = db.open().await;
    three_patients(&cab).await;
    let raw = db.raw().await;
    sqlx::query(
        "INSERT INTO audit_entries (seq, at, actor_kind, action, resource_type, outcome, leaf_hash) \
         VALUES (3, 0, 'system', 'read', 'patients', 'success', $1)",
    )
    .bind(vec![0u8; 32])
    .execute(&raw)
    .await
    .unwrap();
    let report = cab.system().audit().verify().await.unwrap();
    assert!(!report.ok);
    assert_eq!(report.first_bad_entry, Some(3), "{report:?}");
}

async fn s4_forged_head_signature_is_detected(db: TestDb) {
    let cab = db.open().await;
    three_patients(&cab).await;
    let raw = db.raw().await;
    let mut sig: Vec<u8> =
        sqlx::query_scalar("SELECT signature FROM audit_heads WHERE size = 2").fetch_one(&raw).await.unwrap();
    sig[10] ^= 1;
    sqlx::query("UPDATE audit_heads SET signature = $1 WHERE size = 2").bind(sig).execute(&raw).await.unwrap();
    let report = cab.system().audit().verify().await.unwrap();
    assert_eq!((report.ok, report.first_bad_entry, report.problem.as_deref()), (false, Some(1), Some("bad_signature")));
}

/// Issue 15, goal 5: proofs are built from kept roots of perfect subtrees (256 leaves and
/// more) instead of every leaf; they verify offline, the same proof comes back once the roots
/// are kept, a damaged kept root is rebuilt from the leaves and repaired, and leaves that
/// disagree with the signed heads give `audit.bad_proof` rather than a proof.
async fn s4_proofs_from_kept_subtrees_match_and_damage_is_caught(db: TestDb) {
    let cab = db.open().await;
    let p = cab.system().patients();
    for _ in 0..700 {
        p.find_by_snils("11223344595").await.unwrap();
    }
    let audit = cab.system().audit();
    let key = audit.public_key();
    let raw = db.raw().await;
    let kept =
        async || -> i64 { sqlx::query_scalar("SELECT COUNT(*) FROM audit_nodes").fetch_one(&raw).await.unwrap() };
    assert_eq!(kept().await, 0);
    let first = audit.inclusion_proof(3).await.unwrap();
    verify_inclusion_proof(&key, &first).unwrap();
    assert!(kept().await >= 1, "a 256-leaf subtree is kept");
    let kept_before = kept().await;
    let again = audit.inclusion_proof(3).await.unwrap();
    assert_eq!(again.path, first.path);
    assert_eq!(kept().await, kept_before);
    // The jobs keep every complete subtree of the journal as it stands: here the 512-leaf
    // one and its two halves, after which a proof computes nothing new.
    sqlx::query("DELETE FROM audit_nodes").execute(&raw).await.unwrap();
    cab.run_due_jobs().await.unwrap();
    assert_eq!(kept().await, 3);
    assert_eq!(audit.inclusion_proof(3).await.unwrap().path, first.path);
    assert_eq!(kept().await, 3);
    cab.run_due_jobs().await.unwrap();
    assert_eq!(kept().await, 3, "a second pass keeps nothing more");
    for seq in [0, 255, 256, 511, 512, 640] {
        verify_inclusion_proof(&key, &audit.inclusion_proof(seq).await.unwrap()).unwrap();
    }
    for old in [1, 255, 256, 300, 512, 513, 699] {
        verify_consistency_proof(&key, &audit.consistency_proof(old).await.unwrap()).unwrap();
    }
    // Damage the kept root of leaves 256..512 (on the path of entry 0, and of the consistency
    // proof from 256): the proofs are rebuilt from the leaves, still verify, and the kept
    // root is repaired; a wrong-length root is damage like any other.
    let good: Vec<u8> =
        sqlx::query_scalar("SELECT hash FROM audit_nodes WHERE level = 8 AND idx = 1").fetch_one(&raw).await.unwrap();
    for damage in [vec![0u8; 32], vec![1u8; 3]] {
        sqlx::query("UPDATE audit_nodes SET hash = $1 WHERE level = 8 AND idx = 1")
            .bind(damage)
            .execute(&raw)
            .await
            .unwrap();
        verify_inclusion_proof(&key, &audit.inclusion_proof(0).await.unwrap()).unwrap();
        let repaired: Vec<u8> = sqlx::query_scalar("SELECT hash FROM audit_nodes WHERE level = 8 AND idx = 1")
            .fetch_one(&raw)
            .await
            .unwrap();
        assert_eq!(repaired, good);
    }
    sqlx::query("UPDATE audit_nodes SET hash = $1 WHERE level = 8 AND idx = 1")
        .bind(vec![0u8; 32])
        .execute(&raw)
        .await
        .unwrap();
    verify_consistency_proof(&key, &audit.consistency_proof(256).await.unwrap()).unwrap();
    cab.run_due_jobs().await.unwrap();
    // A leaf that disagrees with the signed heads: no proof through it is handed out, and the
    // jobs keep nothing from it.
    sqlx::query("UPDATE audit_entries SET leaf_hash = $1 WHERE seq = 300")
        .bind(vec![9u8; 32])
        .execute(&raw)
        .await
        .unwrap();
    sqlx::query("DELETE FROM audit_nodes").execute(&raw).await.unwrap();
    assert_eq!(audit.inclusion_proof(0).await.unwrap_err().code(), "audit.bad_proof");
    assert_eq!(cab.run_due_jobs().await.unwrap_err().code(), "audit.bad_proof");
    assert_eq!(kept().await, 0);
    assert!(!audit.verify().await.unwrap().ok, "verify() finds the damaged journal by itself");
}

async fn s4_proofs_verify_with_only_the_public_key(db: TestDb) {
    let cab = db.open().await;
    three_patients(&cab).await;
    let p = cab.system().patients();
    for _ in 0..4 {
        p.find_by_snils("11223344595").await.unwrap();
    }
    let audit = cab.system().audit();
    let key = audit.public_key();
    assert!(key.starts_with("-----BEGIN PUBLIC KEY-----"));
    for seq in 0..7 {
        let proof = audit.inclusion_proof(seq).await.unwrap();
        // Through JSON, as it would travel to an outside verifier.
        let json = serde_json::to_string(&proof).unwrap();
        let back: kabinet::audit::InclusionProof = serde_json::from_str(&json).unwrap();
        verify_inclusion_proof(&key, &back).unwrap();
        let mut bad = back.clone();
        bad.entry.action = "delete".into();
        assert_eq!(verify_inclusion_proof(&key, &bad), Err(AuditError::BadProof));
        if let Some(first) = bad.path.first_mut() {
            let mut good = back.clone();
            good.path[0].0[0] ^= 1;
            assert_eq!(verify_inclusion_proof(&key, &good), Err(AuditError::BadProof));
            let _ = first;
        }
    }
    for old in 1..=7 {
        let proof = audit.consistency_proof(old).await.unwrap();
        verify_consistency_proof(&key, &proof).unwrap();
        let mut bad = proof.clone();
        bad.old.size += 1;
        assert!(verify_consistency_proof(&key, &bad).is_err());
    }
    assert_eq!(audit.inclusion_proof(99).await.unwrap_err().code(), "audit.out_of_range");
    // Another deployment's key does not verify this journal's heads.
    let other = Cabinet::open_in_memory().await.unwrap().system().audit().public_key();
    let proof = audit.inclusion_proof(0).await.unwrap();
    assert_eq!(verify_inclusion_proof(&other, &proof), Err(AuditError::BadSignature));
    assert_eq!(verify_inclusion_proof("not a key", &proof), Err(AuditError::Malformed("public key")));
}

async fn s4_concurrent_appends_from_many_connections_are_gap_free(db: TestDb) {
    // Four independent cabinets (four pools, as four processes would have) append at once.
    let first = db.open().await;
    let mut cabs = vec![first];
    for _ in 0..3 {
        cabs.push(db.open().await);
    }
    let mut tasks = Vec::new();
    for (i, cab) in cabs.iter().enumerate() {
        let cab = cab.clone();
        tasks.push(tokio::spawn(async move {
            let p = cab.system().patients();
            for j in 0..10 {
                let mut person = boris();
                person.snils = None;
                person.phone = None;
                person.given_name = format!("Борис{}", ["а", "б", "в", "г"][i]);
                let id = p.create(person).await.unwrap();
                if j % 2 == 0 {
                    p.get(&id).await.unwrap();
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let rows = journal_rows(&db).await;
    assert_eq!(rows.len(), 4 * 15);
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), (0..60).collect::<Vec<i64>>());
    let report = cabs[0].system().audit().verify().await.unwrap();
    assert!(report.ok && report.entries == 60, "{report:?}");
}

async fn r5_access_history_newest_first(db: TestDb) {
    let cab = db.open().await;
    let ids = three_patients(&cab).await;
    let audit = cab.system().audit();
    let history = audit.access_history(&ids[0], None).await.unwrap();
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    // The read of the history is itself journaled (and is the newest entry).
    assert_eq!(actions, ["read", "read", "create"]);
    assert_eq!(history[0].resource_type, "access_history");
    assert!(history.iter().all(|e| e.actor_kind == "system" && e.who == "система"));
    assert!(history.windows(2).all(|w| w[0].seq > w[1].seq));
    let other = audit.access_history(&ids[1], None).await.unwrap();
    assert!(other.iter().all(|e| e.seq != history[1].seq), "histories do not mix patients");
    let future = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let later = audit.access_history(&ids[0], Some(future)).await.unwrap();
    assert!(later.is_empty());
}

async fn s4_integrity_failure_is_journaled(db: TestDb) {
    let cab = db.open().await;
    let id = cab.system().patients().create(anna()).await.unwrap();
    let raw = db.raw().await;
    let mut blob: Vec<u8> =
        sqlx::query_scalar("SELECT surname FROM patients WHERE id = $1").bind(&id).fetch_one(&raw).await.unwrap();
    blob[5] ^= 1;
    sqlx::query("UPDATE patients SET surname = $1 WHERE id = $2").bind(blob).bind(&id).execute(&raw).await.unwrap();
    assert_eq!(cab.system().patients().get(&id).await.unwrap_err().code(), "crypto.integrity");
    let rows = journal_rows(&db).await;
    let last = rows.last().unwrap();
    assert_eq!((last.1.as_str(), last.2.as_deref(), last.3.as_str()), ("read", Some(id.as_str()), "failure"));
    assert!(cab.system().audit().verify().await.unwrap().ok);
}

async fn s4_fhir_audit_event_export(db: TestDb) {
    let cab = db.open().await;
    three_patients(&cab).await;
    let json: serde_json::Value =
        serde_json::from_str(&cab.system().audit().export_fhir(0, 100).await.unwrap()).unwrap();
    assert_eq!(json["resourceType"], "Bundle");
    let entries = json["entry"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let ev = &entries[2]["resource"];
    assert_eq!(ev["resourceType"], "AuditEvent");
    assert_eq!(ev["action"], "R");
    assert_eq!(ev["outcome"], "0");
    assert!(ev["recorded"].as_str().unwrap().ends_with('Z'));
    assert!(ev["entity"][0]["what"]["reference"].as_str().unwrap().starts_with("Patient/"));
    assert_eq!(entries[0]["resource"]["action"], "C");
}

async fn s4_tampered_frontier_is_detected_and_stops_appends(db: TestDb) {
    let cab = db.open().await;
    three_patients(&cab).await;
    let raw = db.raw().await;
    // One frontier row remains after many appends: the old ones go as the new ones come.
    let rows: Vec<i64> = sqlx::query_scalar("SELECT size FROM audit_frontiers").fetch_all(&raw).await.unwrap();
    assert_eq!(rows, [3]);
    sqlx::query("UPDATE audit_frontiers SET size = 7").execute(&raw).await.unwrap();
    let report = cab.system().audit().verify().await.unwrap();
    assert_eq!((report.ok, report.problem.as_deref()), (false, Some("entry_missing")), "the state claims 7 entries");
    // An append refuses to build on a frontier that does not match its size: a typed
    // storage error, and nothing is written.
    let err = cab.system().patients().create(boris()).await.unwrap_err();
    assert_eq!(err.code(), "storage.corrupt");
    assert_eq!(journal_rows(&db).await.len(), 3);
}

/// Issue 15, goal 3 (group commit): reads that arrive while the journal is busy are appended
/// together — one transaction, one signed head for the batch — each caller answered only
/// once its entry is committed. Held here by another connection owning the journal's lock
/// (the database write lock on SQLite, the `audit_state` row on PostgreSQL): the first
/// leader waits with its batch, everyone else queues behind it and goes in the next one.
/// Tampering inside a batch is still found (the batch's head covers every entry of it), and
/// a batch whose head is gone is `unsigned_entries`.
async fn s4_accesses_at_the_same_moment_share_one_signed_head(db: TestDb) {
    let cab = db.open().await;
    let ids = three_patients(&cab).await;
    let before = cab.system().audit().latest_head().await.unwrap().unwrap().size;
    let raw = db.raw().await;
    let mut hold = raw.acquire().await.unwrap();
    let lock = match db.backend {
        kabinet::Backend::Sqlite => "BEGIN IMMEDIATE",
        kabinet::Backend::Postgres => "BEGIN",
    };
    sqlx::query(lock).execute(&mut *hold).await.unwrap();
    if db.backend == kabinet::Backend::Postgres {
        sqlx::query("SELECT id FROM audit_state WHERE id = 1 FOR UPDATE").execute(&mut *hold).await.unwrap();
    }
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let cab = cab.clone();
            let id = ids[0].clone();
            tokio::spawn(async move {
                assert_eq!(cab.system().patients().find_by_snils("112-233-445 95").await.unwrap(), Some(id));
            })
        })
        .collect();
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    // Nothing is answered while the journal cannot be written: no receipt before the entry.
    assert!(tasks.iter().all(|t| !t.is_finished()));
    assert_eq!(journal_rows(&db).await.len() as u64, before);
    sqlx::query("ROLLBACK").execute(&mut *hold).await.unwrap();
    drop(hold);
    for t in tasks {
        t.await.unwrap();
    }
    let rows = journal_rows(&db).await;
    assert_eq!(rows.len() as u64, before + 8);
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), (0..rows.len() as i64).collect::<Vec<_>>());
    let heads: Vec<i64> = sqlx::query_scalar("SELECT size FROM audit_heads WHERE size > $1 ORDER BY size")
        .bind(before as i64)
        .fetch_all(&raw)
        .await
        .unwrap();
    // The first leader's batch (whoever had queued when it took it), then everyone else.
    assert!(!heads.is_empty() && heads.len() <= 2, "{heads:?}");
    assert_eq!(heads.last().copied(), Some(before as i64 + 8));
    let audit = cab.system().audit();
    let report = audit.verify().await.unwrap();
    assert!(report.ok && report.entries == before + 8, "{report:?}");
    // Every entry of the batch has its proof, checked against the batch's head.
    for seq in before..before + 8 {
        verify_inclusion_proof(&audit.public_key(), &audit.inclusion_proof(seq).await.unwrap()).unwrap();
    }
    // An entry inside the last batch rewritten with a consistent leaf hash: the batch's head
    // no longer matches, and the report names the first entry the last good head leaves out.
    let victim = before as i64 + 7 - 1;
    let mut forged = audit.inclusion_proof(victim as u64).await.unwrap().entry;
    forged.action = "read".into();
    sqlx::query("UPDATE audit_entries SET action = 'read', leaf_hash = $1 WHERE seq = $2")
        .bind(forged.leaf_hash().to_vec())
        .bind(victim)
        .execute(&raw)
        .await
        .unwrap();
    let report = audit.verify().await.unwrap();
    let last_good = if heads.len() == 2 { heads[0] } else { before as i64 };
    assert_eq!(
        (report.ok, report.problem.as_deref(), report.first_bad_entry),
        (false, Some("head_mismatch"), Some(last_good as u64)),
        "{report:?}"
    );
    assert_eq!(report.signed_head.map(|h| h.size as i64), Some(last_good));
    // The batch's head deleted: its entries are signed by nothing.
    sqlx::query("DELETE FROM audit_heads WHERE size = $1").bind(before as i64 + 8).execute(&raw).await.unwrap();
    let report = audit.verify().await.unwrap();
    assert_eq!((report.ok, report.problem.as_deref()), (false, Some("unsigned_entries")), "{report:?}");
}
