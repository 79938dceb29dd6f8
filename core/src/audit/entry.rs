//! Journal entries and their canonical encoding (the Merkle leaf data).

use time::OffsetDateTime;

crate::sets::closed_set! {
    /// Kind of actor.
    pub enum ActorKind in "actor_kind" {
        /// The patient themself.
        Patient = "patient",
        /// Clinic staff.
        Staff = "staff",
        /// A parent or legal representative acting for a ward (R20).
        Proxy = "proxy",
        /// The operator or a background job.
        System = "system",
        /// Someone not (yet) authenticated, e.g. a failed login.
        Anonymous = "anonymous",
    }
}

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// Kind.
    pub kind: ActorKind,
    /// Account id of the patient, staff member or proxy; `None` for the system.
    pub id: Option<String>,
    /// For a proxy: the ward the proxy acts for.
    pub on_behalf_of: Option<String>,
}

impl Actor {
    /// The operator.
    pub fn system() -> Self {
        Actor { kind: ActorKind::System, id: None, on_behalf_of: None }
    }
}

crate::sets::closed_set! {
    /// What was done.
    pub enum Action in "action" {
        /// Read personal or medical data.
        Read = "read",
        /// Search (a lookup that reveals whether a record exists).
        Search = "search",
        /// Create.
        Create = "create",
        /// Update.
        Update = "update",
        /// Delete or erase.
        Delete = "delete",
        /// Export (PDF, FHIR).
        Export = "export",
        /// Share with a third party.
        Share = "share",
        /// Successful login.
        Login = "login",
        /// Failed login.
        LoginFailed = "login_failed",
        /// Logout.
        Logout = "logout",
        /// Key management.
        KeyRotation = "key_rotation",
    }
}

crate::sets::closed_set! {
    /// How it ended.
    pub enum Outcome in "outcome" {
        /// Done.
        Success = "success",
        /// Refused by authorization.
        Denied = "denied",
        /// Failed (e.g. an integrity error).
        Failure = "failure",
    }
}

/// One journal entry as stored: no medical content, only who, when, what and where.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditEntry {
    /// Position in the journal, from 0, gap-free.
    pub seq: u64,
    /// Time (UTC) in microseconds since the Unix epoch.
    pub at_us: i64,
    /// `patient`, `staff`, `proxy`, `system` or `anonymous`.
    pub actor_kind: String,
    /// Actor's account id.
    pub actor_id: Option<String>,
    /// Ward a proxy acted for.
    pub on_behalf_of: Option<String>,
    /// Patient the data belongs to.
    pub patient_id: Option<String>,
    /// Action name (`read`, `create`, …).
    pub action: String,
    /// Kind of data (`patient`, `document`, …).
    pub resource_type: String,
    /// Record id.
    pub resource_id: Option<String>,
    /// `success`, `denied` or `failure`.
    pub outcome: String,
    /// Client IP.
    pub ip: Option<String>,
    /// Client device id.
    pub device_id: Option<String>,
}

impl AuditEntry {
    /// The time as a date-time.
    pub fn at(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.at_us) * 1000).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }

    /// The canonical leaf data: a domain tag, then every field in a fixed order, each
    /// length-prefixed, with a presence byte for optional ones. Two different entries never
    /// encode alike.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        fn put(out: &mut Vec<u8>, s: &str) {
            let len = u32::try_from(s.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        fn put_opt(out: &mut Vec<u8>, s: &Option<String>) {
            match s {
                None => out.push(0),
                Some(v) => {
                    out.push(1);
                    put(out, v);
                }
            }
        }
        let mut out = Vec::with_capacity(160);
        out.extend_from_slice(b"kabinet/audit-entry/v1");
        out.extend_from_slice(&self.seq.to_be_bytes());
        out.extend_from_slice(&self.at_us.to_be_bytes());
        put(&mut out, &self.actor_kind);
        put_opt(&mut out, &self.actor_id);
        put_opt(&mut out, &self.on_behalf_of);
        put_opt(&mut out, &self.patient_id);
        put(&mut out, &self.action);
        put(&mut out, &self.resource_type);
        put_opt(&mut out, &self.resource_id);
        put(&mut out, &self.outcome);
        put_opt(&mut out, &self.ip);
        put_opt(&mut out, &self.device_id);
        out
    }

    /// The Merkle leaf hash of this entry.
    pub fn leaf_hash(&self) -> super::merkle::Hash {
        super::merkle::leaf_hash(&self.canonical_bytes())
    }
}
