//! Journal entries as FHIR R4 `AuditEvent` resources.

use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;

use super::entry::AuditEntry;

fn fhir_action(action: &str) -> &'static str {
    match action {
        "create" => "C",
        "read" | "search" | "export" | "share" => "R",
        "update" => "U",
        "delete" => "D",
        _ => "E",
    }
}

fn fhir_outcome(outcome: &str) -> &'static str {
    match outcome {
        "success" => "0",
        "denied" => "4",
        _ => "8",
    }
}

/// One entry as an `AuditEvent` (R4).
pub(crate) fn audit_event(e: &AuditEntry) -> Value {
    let recorded = e.at().format(&Rfc3339).unwrap_or_default();
    let mut agent = json!({
        "type": {"coding": [{"system": "https://kabinet.invalid/fhir/actor-kind", "code": e.actor_kind}]},
        "requestor": true,
    });
    if let Some(id) = &e.actor_id {
        agent["who"] = json!({"identifier": {"system": "https://kabinet.invalid/fhir/account", "value": id}});
    }
    if let Some(ip) = &e.ip {
        agent["network"] = json!({"address": ip, "type": "2"});
    }
    if let Some(device) = &e.device_id {
        agent["altId"] = json!(device);
    }
    let mut agents = vec![agent];
    if let Some(ward) = &e.on_behalf_of {
        agents.push(json!({
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-RoleClass", "code": "PAT"}]},
            "who": {"reference": format!("Patient/{ward}")},
            "requestor": false,
        }));
    }
    let mut entities = Vec::new();
    if let Some(p) = &e.patient_id {
        entities.push(json!({
            "what": {"reference": format!("Patient/{p}")},
            "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"},
            "role": {"system": "http://terminology.hl7.org/CodeSystem/object-role", "code": "1"},
        }));
    }
    entities.push(json!({
        "what": {"identifier": {"system": "https://kabinet.invalid/fhir/resource", "value": format!("{}/{}", e.resource_type, e.resource_id.as_deref().unwrap_or(""))}},
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"},
    }));
    json!({
        "resourceType": "AuditEvent",
        "id": format!("kabinet-audit-{}", e.seq),
        "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-event-type", "code": "rest", "display": "RESTful Operation"},
        "subtype": [{"system": "https://kabinet.invalid/fhir/audit-action", "code": e.action}],
        "action": fhir_action(&e.action),
        "recorded": recorded,
        "outcome": fhir_outcome(&e.outcome),
        "agent": agents,
        "source": {"observer": {"display": "Kabinet"}, "type": [{"system": "http://terminology.hl7.org/CodeSystem/security-source-type", "code": "4"}]},
        "entity": entities,
    })
}

/// Entries as a FHIR `Bundle` of type `collection`.
pub(crate) fn bundle(entries: &[AuditEntry]) -> Value {
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "total": entries.len(),
        "entry": entries.iter().map(|e| json!({"fullUrl": format!("urn:kabinet:audit:{}", e.seq), "resource": audit_event(e)})).collect::<Vec<_>>(),
    })
}
