//! `sys.audit` and `kabinet.audit`: journal verification, proofs, access history (S4, R5).

use pyo3::prelude::*;

use crate::delegate::delegate;
use crate::runtime::block_on;

pub(crate) use kabinet::AccessEntry;

fn audit_err(e: kabinet::audit::AuditError) -> PyErr {
    crate::errors::to_py(e.into(), kabinet::Locale::En)
}

/// A signed statement of the journal's size and Merkle root at a time (root and signature
/// as hex: a value a host keeps and compares).
#[pyclass(module = "kabinet", frozen, get_all, eq, hash)]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct SignedTreeHead {
    size: u64,
    root: String,
    at: time::OffsetDateTime,
    signature: String,
}

impl SignedTreeHead {
    fn from_core(h: kabinet::SignedTreeHead) -> PyResult<Self> {
        let at = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(h.at_us) * 1000)
            .map_err(|_| pyo3::exceptions::PyValueError::new_err("timestamp"))?;
        Ok(SignedTreeHead { size: h.size, root: hex(&h.root), at, signature: hex(&h.signature) })
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The result of `verify()`.
#[pyclass(module = "kabinet", frozen, get_all)]
pub(crate) struct AuditReport {
    ok: bool,
    entries: u64,
    first_bad_entry: Option<u64>,
    problem: Option<String>,
    signed_head: Option<Py<SignedTreeHead>>,
}

#[pymethods]
impl SignedTreeHead {
    fn __repr__(&self) -> String {
        format!("SignedTreeHead(size={}, root={:?}, at={:?})", self.size, self.root, self.at.to_string())
    }

    /// The fields as a `dict`.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let d = pyo3::types::PyDict::new(py);
        d.set_item("size", self.size)?;
        d.set_item("root", &self.root)?;
        d.set_item("at", self.at)?;
        d.set_item("signature", &self.signature)?;
        Ok(d)
    }
}

#[pymethods]
impl AuditReport {
    fn __repr__(&self) -> String {
        format!(
            "AuditReport(ok={}, entries={}, first_bad_entry={:?}, problem={:?})",
            self.ok, self.entries, self.first_bad_entry, self.problem
        )
    }

    /// The fields as a `dict` (the signed head as one too).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let d = pyo3::types::PyDict::new(py);
        d.set_item("ok", self.ok)?;
        d.set_item("entries", self.entries)?;
        d.set_item("first_bad_entry", self.first_bad_entry)?;
        d.set_item("problem", &self.problem)?;
        d.set_item("signed_head", self.signed_head.as_ref().map(|h| h.get().to_dict(py)).transpose()?)?;
        Ok(d)
    }
}

delegate! {
    /// The signed journal, for operator code.
    class Audit(kabinet::Audit) via |a, _l| a.clone();
    /// Who accessed the patient's data, newest first.
    #[pyo3(signature = (patient_id, since = None))]
    fn access_history(patient_id: String, since: Option<time::OffsetDateTime>) -> Vec<AccessEntry>;
    /// One page of `access_history`: at most `limit` entries after `cursor`.
    #[pyo3(signature = (patient_id, since = None, limit = None, cursor = None))]
    fn access_history_page(
        patient_id: String,
        since: Option<time::OffsetDateTime>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> kabinet::AccessPage;
    /// Entries as a FHIR R4 Bundle of AuditEvent resources (JSON).
    #[pyo3(signature = (from_seq = 0, limit = 1000))]
    fn export_fhir(from_seq: u64, limit: u64) -> String;
    extra {
    /// Recomputes the tree and checks every signed head; names the first bad entry.
    fn verify(&self, py: Python<'_>) -> PyResult<AuditReport> {
        let a = self.inner.clone();
        let r = block_on(py, self.locale, async move { a.verify().await })?;
        let signed_head =
            r.signed_head.map(|h| SignedTreeHead::from_core(h).and_then(|h| Py::new(py, h))).transpose()?;
        Ok(AuditReport {
            ok: r.ok,
            entries: r.entries,
            first_bad_entry: r.first_bad_entry,
            problem: r.problem,
            signed_head,
        })
    }

    /// The Ed25519 public key (PEM) that verifies the journal.
    fn public_key(&self) -> String {
        self.inner.public_key()
    }

    /// The latest signed tree head, or None for an empty journal.
    fn latest_head(&self, py: Python<'_>) -> PyResult<Option<SignedTreeHead>> {
        let a = self.inner.clone();
        let h = block_on(py, self.locale, async move { a.latest_head().await })?;
        h.map(SignedTreeHead::from_core).transpose()
    }

    /// Inclusion proof of entry `seq` at the latest head, as JSON.
    fn inclusion_proof(&self, py: Python<'_>, seq: u64) -> PyResult<String> {
        let a = self.inner.clone();
        Ok(block_on(py, self.locale, async move { a.inclusion_proof(seq).await })?.to_json())
    }

    /// Consistency proof from size `old_size` to the latest head, as JSON.
    fn consistency_proof(&self, py: Python<'_>, old_size: u64) -> PyResult<String> {
        let a = self.inner.clone();
        Ok(block_on(py, self.locale, async move { a.consistency_proof(old_size).await })?.to_json())
    }

    }
}

/// Verifies an inclusion proof (JSON) with only the journal's public key; raises
/// IntegrityError if it does not verify.
#[pyfunction]
fn audit_verify_inclusion_proof(public_key_pem: &str, proof_json: &str) -> PyResult<()> {
    let proof = kabinet::audit::InclusionProof::from_json(proof_json).map_err(audit_err)?;
    kabinet::audit::verify_inclusion_proof(public_key_pem, &proof).map_err(audit_err)
}

/// Verifies a consistency proof (JSON) with only the journal's public key.
#[pyfunction]
fn audit_verify_consistency_proof(public_key_pem: &str, proof_json: &str) -> PyResult<()> {
    let proof = kabinet::audit::ConsistencyProof::from_json(proof_json).map_err(audit_err)?;
    kabinet::audit::verify_consistency_proof(public_key_pem, &proof).map_err(audit_err)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::classes! { m:
        Audit, AuditReport, SignedTreeHead, AccessEntry,
    }
    m.add_function(wrap_pyfunction!(audit_verify_inclusion_proof, m)?)?;
    m.add_function(wrap_pyfunction!(audit_verify_consistency_proof, m)?)?;
    Ok(())
}
