//! The directory side of FHIR: Organization and Location (clinics), Practitioner and
//! PractitionerRole, Schedule and Slot (bookable time), Appointment (a visit on a slot).
//!
//! Kabinet's slots belong to a practitioner of a clinic, so the links FHIR spreads over
//! several resources are gathered here: a practitioner's clinic comes from a
//! PractitionerRole, a Schedule or an Appointment naming both, or the input's only clinic; a
//! Schedule whose actor is only a place (a vaccination room) becomes a bookable resource of
//! that clinic named after it. A Location managed by an Organization of the input is that
//! clinic, not another. Busy slots are taken only with their Appointment (a busy slot alone
//! would look free here), and what cannot be placed is counted as unsupported.

use std::collections::HashMap;

use serde_json::Value;
use time::OffsetDateTime;

use super::import::Writer;
use super::read::{Entry, Input, bad, parse_time, text_of};
use super::store::{self, DirectoryRecord};
use crate::directory::{Clinic, Practitioner, Slot, fold, text_field};
use crate::error::Result;

/// Organization types that are places of care (HL7 organization-type); others (insurers,
/// payers, government bodies) are not clinics.
const CARE_TYPES: &[&str] = &["prov", "dept", "other"];
/// The region of clinics whose address names none.
const NO_REGION: (&str, &str) = ("00", "—");
/// The visit type of slots that name no service type.
const DEFAULT_VISIT_TYPE: &str = "visit";

fn reference(v: &Value) -> Option<&str> {
    v["reference"].as_str()
}

fn first_text(concepts: &Value) -> Option<String> {
    concepts.as_array()?.iter().find_map(text_of)
}

fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// A clinic from an Organization or Location.
struct ClinicPlan {
    index: usize,
    region: (String, String),
    clinic: Clinic,
}

/// A practitioner (or a schedule standing for a room) and the reference of its clinic.
struct PractitionerPlan {
    index: usize,
    clinic_ref: String,
    full_name: String,
    specialization: String,
}

struct SlotPlan {
    index: usize,
    practitioner: String,
    starts: OffsetDateTime,
    ends: OffsetDateTime,
    visit_type: String,
}

struct AppointmentPlan {
    index: usize,
    patient_ref: String,
    slot_ref: Option<String>,
    practitioner: Option<String>,
    starts: OffsetDateTime,
    ends: OffsetDateTime,
    booked: bool,
    visit_type: String,
}

/// What the directory resources of an input become.
#[derive(Default)]
pub(super) struct DirectoryPlan {
    clinics: Vec<ClinicPlan>,
    /// Locations that are an Organization's clinic: (entry, the Organization's reference).
    merged: Vec<(usize, String)>,
    practitioners: Vec<PractitionerPlan>,
    /// Schedule entries → the key of the practitioner whose slots they hold.
    schedules: HashMap<usize, String>,
    slots: Vec<SlotPlan>,
    appointments: Vec<AppointmentPlan>,
    /// PractitionerRoles whose practitioner is in the input: (entry, its key).
    roles: Vec<(usize, String)>,
    /// Entries handled here but not placeable, counted as unsupported.
    unplaced: Vec<usize>,
}

const KINDS: &[&str] =
    &["Organization", "Location", "Practitioner", "PractitionerRole", "Schedule", "Slot", "Appointment"];

impl DirectoryPlan {
    /// Whether an entry is one of the directory's.
    pub fn handles(&self, e: &Entry<'_>) -> bool {
        KINDS.contains(&e.kind)
    }
}

fn address_of(r: &Value) -> &Value {
    if r["address"].is_array() { &r["address"][0] } else { &r["address"] }
}

fn clinic_plan(e: &Entry<'_>) -> Result<Option<ClinicPlan>> {
    let r = e.resource;
    if e.kind == "Organization" {
        let types: Vec<&str> = r["type"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["coding"].as_array().into_iter().flatten())
            .filter(|c| c["system"].as_str().is_some_and(|s| s.ends_with("organization-type")))
            .filter_map(|c| c["code"].as_str())
            .collect();
        if !types.is_empty() && !types.iter().any(|t| CARE_TYPES.contains(t)) {
            return Ok(None);
        }
    }
    let name = r["name"].as_str().ok_or_else(|| bad(&e.at("name"), "missing"))?;
    let code = r["identifier"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|i| i["value"].as_str())
        .or_else(|| r["id"].as_str())
        .map_or_else(|| fold(name), str::to_owned);
    let address = address_of(r);
    let address_text = address["text"].as_str().map(str::to_owned).unwrap_or_else(|| {
        let mut parts: Vec<&str> = address["line"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
        parts.extend(address["city"].as_str());
        parts.join(", ")
    });
    let hours: Vec<String> = r["hoursOfOperation"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| {
            let days: Vec<&str> = h["daysOfWeek"].as_array().into_iter().flatten().filter_map(Value::as_str).collect();
            match (h["openingTime"].as_str(), h["closingTime"].as_str(), h["allDay"].as_bool()) {
                (_, _, Some(true)) => format!("{} 0:00–24:00", days.join(",")),
                (Some(open), Some(close), _) => format!("{} {}–{}", days.join(","), clip(open, 5), clip(close, 5)),
                _ => days.join(","),
            }
        })
        .collect();
    let region = match address["state"].as_str().or_else(|| address["district"].as_str()) {
        Some(state) => (clip(&fold(state), 32), state.to_owned()),
        None => (NO_REGION.0.to_owned(), NO_REGION.1.to_owned()),
    };
    let field = |f: &'static str, v: &str, max| text_field(f, v, max).map_err(super::import::at_path(&e.path));
    let hours = if hours.is_empty() { "—".to_owned() } else { hours.join("; ") };
    Ok(Some(ClinicPlan {
        index: e.index,
        region: (field("address.state", &region.0, 32)?, field("address.state", &region.1, 300)?),
        clinic: Clinic {
            id: uuid::Uuid::new_v4().to_string(),
            region_code: region.0,
            code: field("identifier", &code, 64)?,
            name: field("name", name, 300)?,
            address: field("address", if address_text.trim().is_empty() { "—" } else { &address_text }, 500)?,
            opening_hours: field("hoursOfOperation", &hours, 300)?,
            // Shown as its region's zone once stored (a clinic's own is set by the operator).
            time_zone: crate::localtime::DEFAULT_TIME_ZONE.to_owned(),
        },
    }))
}

fn person_name(r: &Value) -> Option<String> {
    let names = r["name"].as_array()?;
    let n = names.iter().find(|n| n["use"] == "official").or_else(|| names.first())?;
    if let Some(text) = n["text"].as_str() {
        return Some(text.to_owned());
    }
    let mut parts: Vec<&str> = n["family"].as_str().into_iter().collect();
    parts.extend(n["given"].as_array().into_iter().flatten().filter_map(Value::as_str));
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// `start` and `end` of a Slot or Appointment; the end must come after the start.
fn period(e: &Entry<'_>) -> Result<(OffsetDateTime, OffsetDateTime)> {
    let starts = parse_time(&e.resource["start"], &e.at("start"))?;
    let ends = parse_time(&e.resource["end"], &e.at("end"))?;
    if ends <= starts {
        return Err(bad(&e.at("end"), "format"));
    }
    Ok((starts, ends))
}

/// The references an actor list names (`actor[]` of a Schedule, `participant[].actor` of an
/// Appointment).
fn actors(r: &Value, field: &str) -> Vec<String> {
    r[field]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| reference(a).or_else(|| reference(&a["actor"])).map(str::to_owned))
        .collect()
}

/// Whether a reference names a resource of `kind`: by its entry, or by its `Kind/` prefix
/// when it points outside the input.
fn is_kind(input: &Input<'_>, reference: &str, kind: &str) -> bool {
    input.find(reference).map_or_else(|| reference.contains(&format!("{kind}/")), |x| x.kind == kind)
}

fn is_place(input: &Input<'_>, reference: &str) -> bool {
    is_kind(input, reference, "Location") || is_kind(input, reference, "Organization")
}

/// Where each practitioner works, and as what: practitioner key → (place key, specialty),
/// from PractitionerRoles, then Schedules and Appointments that name both.
fn workplaces(input: &Input<'_>) -> HashMap<String, (String, Option<String>)> {
    let mut works_at: HashMap<String, (String, Option<String>)> = HashMap::new();
    let mut link = |practitioner: &str, place: Option<&str>, specialty: Option<String>| {
        if let Some(place) =
            place.filter(|p| input.find(p).is_none_or(|x| matches!(x.kind, "Organization" | "Location")))
        {
            let entry = works_at.entry(input.key(practitioner)).or_insert_with(|| (input.key(place), None));
            if entry.1.is_none() {
                entry.1 = specialty;
            }
        }
    };
    for e in input.of_kind("PractitionerRole") {
        if let Some(p) = reference(&e.resource["practitioner"]) {
            let place = reference(&e.resource["organization"]).or_else(|| reference(&e.resource["location"][0]));
            link(p, place, first_text(&e.resource["specialty"]).or_else(|| first_text(&e.resource["code"])));
        }
    }
    for e in input.of_kind("Schedule").chain(input.of_kind("Appointment")) {
        let all = actors(e.resource, if e.kind == "Schedule" { "actor" } else { "participant" });
        let place = all.iter().find(|a| is_place(input, a));
        for p in all.iter().filter(|a| is_kind(input, a, "Practitioner")) {
            link(p, place.map(String::as_str), first_text(&e.resource["specialty"]));
        }
    }
    works_at
}

/// Checks the directory resources of an input and links them up; writes nothing.
pub(super) fn plan(input: &Input<'_>) -> Result<DirectoryPlan> {
    let mut plan = DirectoryPlan::default();
    plan.add_clinics(input)?;
    plan.add_practitioners(input);
    plan.add_schedules(input);
    plan.add_slots(input)?;
    plan.add_appointments(input)?;
    Ok(plan)
}

impl DirectoryPlan {
    fn add_clinics(&mut self, input: &Input<'_>) -> Result<()> {
        for e in input.entries.iter().filter(|e| matches!(e.kind, "Organization" | "Location")) {
            let managed = reference(&e.resource["managingOrganization"])
                .filter(|m| input.find(m).is_some_and(|o| o.kind == "Organization"));
            match (e.kind, managed) {
                ("Location", Some(org)) => self.merged.push((e.index, input.key(org))),
                _ => match clinic_plan(e)? {
                    Some(c) => self.clinics.push(c),
                    None => self.unplaced.push(e.index),
                },
            }
        }
        Ok(())
    }

    fn add_practitioners(&mut self, input: &Input<'_>) {
        let only_clinic = match self.clinics.as_slice() {
            [one] => input.entries[one.index].key.clone(),
            _ => None,
        };
        let works_at = workplaces(input);
        for e in input.of_kind("Practitioner") {
            let key = e.key.clone().unwrap_or_default();
            let place = works_at.get(&key).cloned().or_else(|| only_clinic.clone().map(|c| (c, None)));
            let (Some(full_name), Some((clinic_ref, specialty))) = (person_name(e.resource), place) else {
                self.unplaced.push(e.index);
                continue;
            };
            let specialization = specialty
                .or_else(|| first_text(&Value::Array(vec![e.resource["qualification"][0]["code"].clone()])))
                .unwrap_or_else(|| "—".into());
            self.practitioners.push(PractitionerPlan { index: e.index, clinic_ref, full_name, specialization });
        }
        for e in input.of_kind("PractitionerRole") {
            match reference(&e.resource["practitioner"]).filter(|p| input.find(p).is_some()) {
                Some(p) => self.roles.push((e.index, input.key(p))),
                None => self.unplaced.push(e.index),
            }
        }
    }

    fn add_schedules(&mut self, input: &Input<'_>) {
        for e in input.of_kind("Schedule") {
            let all = actors(e.resource, "actor");
            if let Some(p) = all.iter().find(|a| is_kind(input, a, "Practitioner")) {
                self.schedules.insert(e.index, input.key(p));
            } else if let Some(place) = all.iter().find(|a| is_place(input, a)) {
                // A room's schedule: bookable as a resource of the clinic, named after it.
                let name = first_text(&e.resource["serviceType"])
                    .or_else(|| e.resource["actor"][0]["display"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| "—".into());
                self.practitioners.push(PractitionerPlan {
                    index: e.index,
                    clinic_ref: input.key(place),
                    full_name: name,
                    specialization: first_text(&e.resource["specialty"]).unwrap_or_else(|| "—".into()),
                });
                self.schedules.insert(e.index, e.key.clone().unwrap_or_default());
            } else {
                self.unplaced.push(e.index);
            }
        }
    }

    fn add_slots(&mut self, input: &Input<'_>) -> Result<()> {
        let booked_slots: Vec<String> = input
            .of_kind("Appointment")
            .flat_map(|a| a.resource["slot"].as_array().into_iter().flatten().filter_map(reference))
            .map(|s| input.key(s))
            .collect();
        for e in input.of_kind("Slot") {
            let r = e.resource;
            let status = r["status"].as_str().unwrap_or("free");
            let key = e.key.clone().unwrap_or_default();
            let schedule = reference(&r["schedule"]).and_then(|s| input.find(s));
            let wanted = status == "free" || (status.starts_with("busy") && booked_slots.contains(&key));
            let Some(practitioner) = schedule.and_then(|s| self.schedules.get(&s.index)).filter(|_| wanted).cloned()
            else {
                self.unplaced.push(e.index);
                continue;
            };
            let (starts, ends) = period(e)?;
            let visit_type = first_text(&r["serviceType"])
                .or_else(|| schedule.and_then(|s| first_text(&s.resource["serviceType"])))
                .unwrap_or_else(|| DEFAULT_VISIT_TYPE.into());
            self.slots.push(SlotPlan { index: e.index, practitioner, starts, ends, visit_type: clip(&visit_type, 64) });
        }
        Ok(())
    }

    fn add_appointments(&mut self, input: &Input<'_>) -> Result<()> {
        for e in input.of_kind("Appointment") {
            let r = e.resource;
            let booked = match r["status"].as_str() {
                Some("booked" | "arrived" | "fulfilled" | "checked-in" | "pending") => true,
                Some("cancelled" | "noshow") => false,
                _ => {
                    self.unplaced.push(e.index);
                    continue;
                }
            };
            let all = actors(r, "participant");
            let Some(patient_ref) = all.iter().find(|a| is_kind(input, a, "Patient")) else {
                return Err(bad(&e.at("participant"), "missing"));
            };
            let slot_ref = r["slot"][0]["reference"].as_str().map(|s| input.key(s));
            let practitioner = all.iter().find(|a| is_kind(input, a, "Practitioner")).map(|p| input.key(p));
            if slot_ref.is_none() && practitioner.is_none() {
                self.unplaced.push(e.index);
                continue;
            }
            let (starts, ends) = period(e)?;
            let visit_type = clip(&first_text(&r["serviceType"]).unwrap_or_else(|| DEFAULT_VISIT_TYPE.into()), 64);
            self.appointments.push(AppointmentPlan {
                index: e.index,
                patient_ref: input.key(patient_ref),
                slot_ref,
                practitioner,
                starts,
                ends,
                booked,
                visit_type,
            });
        }
        Ok(())
    }
}

impl DirectoryPlan {
    /// Writes clinics, practitioners and slots, each once (a second import finds them).
    pub async fn write_directory(&self, input: &Input<'_>, w: &mut Writer<'_>) -> Result<()> {
        for &i in &self.unplaced {
            w.unsupported(&input.entries[i]);
        }
        for c in &self.clinics {
            let e = &input.entries[c.index];
            if w.imported_before(e).await? {
                continue;
            }
            let own = own_record(w, DirectoryRecord::Clinic, e).await?;
            let by_code = match own {
                Some(id) => Some(id),
                None => crate::directory::clinic_by_code_in(&mut w.tx, &c.clinic.code).await?,
            };
            let (id, created) = match by_code {
                Some(id) => (id, false),
                None => {
                    crate::directory::ensure_region_in(&mut w.tx, &c.region.0, &c.region.1).await?;
                    crate::directory::insert_clinic_in(w.cab, &mut w.tx, &c.clinic, w.now).await?;
                    (c.clinic.id.clone(), true)
                }
            };
            w.remember(e.key.as_deref(), "clinic", &id, None).await?;
            w.count(e, created);
        }
        for (i, org) in &self.merged {
            let e = &input.entries[*i];
            let clinic = w.resolve(org).await?.ok_or_else(|| bad(&e.at("managingOrganization"), "reference"))?;
            w.remember(e.key.as_deref(), "clinic", &clinic, None).await?;
            w.count(e, false);
        }
        // Practitioners made by this import: their roles and schedules count as created too.
        let mut made = std::collections::HashSet::new();
        for p in &self.practitioners {
            let e = &input.entries[p.index];
            if w.imported_before(e).await? {
                continue;
            }
            if let Some(id) = own_record(w, DirectoryRecord::Practitioner, e).await? {
                w.remember(e.key.as_deref(), "practitioner", &id, None).await?;
                w.count(e, false);
                continue;
            }
            // A clinic neither in the input nor imported before: the practitioner cannot be placed.
            let Some(clinic_id) = w.resolve(&p.clinic_ref).await? else {
                w.unsupported(e);
                continue;
            };
            let at = super::import::at_path(&e.path);
            let practitioner = Practitioner {
                id: uuid::Uuid::new_v4().to_string(),
                clinic_id,
                clinic_name: String::new(),
                full_name: text_field("name", &p.full_name, 300).map_err(&at)?,
                specialization: text_field("specialty", &p.specialization, 200).map_err(&at)?,
                visit_types: Vec::new(),
            };
            crate::directory::insert_practitioner_in(w.cab, &mut w.tx, &practitioner, w.now).await?;
            w.remember(e.key.as_deref(), "practitioner", &practitioner.id, None).await?;
            w.count(e, true);
            made.extend(e.key.clone());
        }
        for (i, practitioner) in &self.roles {
            let placed = w.resolve(practitioner).await?;
            let role = &input.entries[*i];
            if let Some(id) = placed {
                w.remember(role.key.as_deref(), "practitioner", &id, None).await?;
                w.count(role, made.contains(practitioner));
            } else {
                w.unsupported(role);
            }
        }
        for (i, practitioner) in &self.schedules {
            let e = &input.entries[*i];
            if self.practitioners.iter().any(|p| p.index == *i) {
                continue; // counted as the room it stands for
            }
            // A schedule stands for its practitioner's slots: it is that practitioner here.
            if let Some(id) = w.resolve(practitioner).await? {
                w.remember(e.key.as_deref(), "practitioner", &id, None).await?;
                w.count(e, made.contains(practitioner));
            } else {
                w.unsupported(e);
            }
        }
        for s in &self.slots {
            let e = &input.entries[s.index];
            if w.imported_before(e).await? {
                continue;
            }
            let Some(practitioner_id) = w.resolve(&s.practitioner).await? else {
                w.unsupported(e);
                continue;
            };
            let id = insert_slot(w, &practitioner_id, s.starts, s.ends, &s.visit_type, &e.path).await?;
            w.remember(e.key.as_deref(), "slot", &id, None).await?;
            w.count(e, true);
        }
        Ok(())
    }

    /// Writes the appointments, after the patients: on their slot, or on a slot made for
    /// them in the practitioner's schedule.
    pub async fn write_appointments(&self, input: &Input<'_>, w: &mut Writer<'_>) -> Result<()> {
        for a in &self.appointments {
            let e = &input.entries[a.index];
            let patient_id = w.patient(input, &a.patient_ref, &e.at("participant")).await?;
            if let Some(k) = &e.key
                && w.held(k, e.resource["id"].as_str(), &patient_id, &e.path).await?
            {
                w.count(e, false);
                continue;
            }
            let slot_id = match &a.slot_ref {
                Some(s) => w.resolve(s).await?.ok_or_else(|| bad(&e.at("slot"), "reference"))?,
                None => {
                    let reference = a.practitioner.as_deref().unwrap_or_default();
                    let Some(practitioner_id) = w.resolve(reference).await? else {
                        w.unsupported(e);
                        continue;
                    };
                    insert_slot(w, &practitioner_id, a.starts, a.ends, &a.visit_type, &e.path).await?
                }
            };
            let id =
                crate::appointments::insert_imported(w.cab, &mut w.tx, &w.ctx, &patient_id, &slot_id, a.booked, w.now)
                    .await?;
            w.remember(e.key.as_deref(), "appointment", &id, Some(&patient_id)).await?;
            w.count(e, true);
        }
        Ok(())
    }
}

/// Kabinet's own record with the resource's id (an export coming back), if any.
async fn own_record(w: &mut Writer<'_>, kind: DirectoryRecord, e: &Entry<'_>) -> Result<Option<String>> {
    let Some(id) = e.resource["id"].as_str() else { return Ok(None) };
    store::own_directory_record(&mut *w.tx, kind, id).await
}

async fn insert_slot(
    w: &mut Writer<'_>,
    practitioner_id: &str,
    starts: OffsetDateTime,
    ends: OffsetDateTime,
    visit_type: &str,
    path: &str,
) -> Result<String> {
    let visit_type = text_field("serviceType", visit_type, 64).map_err(super::import::at_path(path))?;
    crate::directory::add_visit_type_in(&mut w.tx, practitioner_id, &visit_type).await?;
    let slot = Slot {
        id: uuid::Uuid::new_v4().to_string(),
        practitioner_id: practitioner_id.to_owned(),
        starts_at: starts,
        ends_at: ends,
        visit_type,
    };
    crate::directory::insert_slot_in(&mut w.tx, &slot, w.now).await?;
    crate::directory::journal_change(w.cab, &mut w.tx, "schedule", practitioner_id, w.now).await?;
    Ok(slot.id)
}
