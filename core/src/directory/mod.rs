//! The clinic directory (R8, R11): regions, clinics with address and opening hours,
//! practitioners with specialization and visit types, and the slots of their schedules.
//! Directory data is public reference data, stored in clear; operator changes are journaled.

mod store;

use time::OffsetDateTime;

use crate::audit::{Access, Action, AuditContext, Outcome};
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::ids::{Reason, ValidationError};
use crate::store::{Conn, StorageError};
use crate::timeutil::{from_micros, to_micros};

/// Documents a visit needs when its visit type configures none (R8).
pub const DEFAULT_REQUIRED_DOCUMENTS: &[&str] = &["oms_policy", "passport"];
/// Slot lengths allowed, in minutes.
pub const SLOT_MINUTES: std::ops::RangeInclusive<i64> = 5..=480;
/// At most this many slots are opened by one call.
pub const MAX_SLOTS_PER_CALL: usize = 2000;

/// A trimmed, non-empty text of at most `max` characters. Control characters other than
/// line breaks and tabs (which become single spaces) and bidirectional overrides are
/// refused (`format`): they hide or reorder what a person reads.
pub(crate) fn text_field(field: &'static str, value: &str, max: usize) -> Result<String> {
    if value.chars().any(|c| (c.is_control() && !matches!(c, '\n' | '\t' | '\r')) || crate::ids::is_bidi_control(c)) {
        return Err(ValidationError::new(field, Reason::Format).into());
    }
    let v = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if v.is_empty() {
        return Err(ValidationError::new(field, Reason::Empty).into());
    }
    if v.chars().count() > max {
        return Err(ValidationError::new(field, Reason::TooLong).into());
    }
    Ok(v)
}

/// The key names are matched on: lower case, `ё` as `е`, single spaces, no quotes — so
/// "ГБУЗ «Поликлиника №1»" is found as "гбуз поликлиника №1" and "Семёновская" as "семеновская".
pub fn fold(text: &str) -> String {
    let lowered: String = text
        .chars()
        .flat_map(char::to_lowercase)
        .map(|c| if c == 'ё' { 'е' } else { c })
        .filter(|c| !matches!(c, '«' | '»' | '"' | '\'' | '„' | '“' | '”'))
        .collect();
    lowered.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Region {
    /// Code (e.g. "77").
    pub code: String,
    /// Name.
    pub name: String,
    /// IANA time zone its clinics keep by default (`"Europe/Moscow"`).
    pub time_zone: String,
}

/// A clinic (medical organization).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Clinic {
    /// Id.
    pub id: String,
    /// Region code.
    pub region_code: String,
    /// Registry code of the clinic.
    pub code: String,
    /// Name.
    pub name: String,
    /// Address.
    pub address: String,
    /// Opening hours as published ("пн–пт 8:00–20:00").
    pub opening_hours: String,
    /// The IANA time zone times are shown in: the clinic's own, else its region's.
    pub time_zone: String,
}

/// A practitioner.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Practitioner {
    /// Id.
    pub id: String,
    /// Clinic id.
    pub clinic_id: String,
    /// Clinic name.
    pub clinic_name: String,
    /// Full name.
    pub full_name: String,
    /// Specialization ("терапевт").
    pub specialization: String,
    /// Visit types they take ("first", "repeat", …).
    pub visit_types: Vec<String>,
}

/// A slot of a practitioner's schedule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Slot {
    /// Id.
    pub id: String,
    /// Practitioner id.
    pub practitioner_id: String,
    /// Start.
    pub starts_at: OffsetDateTime,
    /// End.
    pub ends_at: OffsetDateTime,
    /// Visit type.
    pub visit_type: String,
}

fn clinic_from(r: store::ClinicRow) -> Clinic {
    Clinic {
        id: r.id,
        region_code: r.region_code,
        code: r.code,
        name: r.name,
        address: r.address,
        opening_hours: r.opening_hours,
        time_zone: r.time_zone,
    }
}

fn slot_from(r: store::SlotRow) -> Result<Slot> {
    Ok(Slot {
        id: r.id,
        practitioner_id: r.practitioner_id,
        starts_at: from_micros(r.starts_at)?,
        ends_at: from_micros(r.ends_at)?,
        visit_type: r.visit_type,
    })
}

/// Reading the directory: for patients, staff and the operator.
#[derive(Debug, Clone)]
pub struct Directory {
    cab: Cabinet,
    /// The session it was reached through, re-checked on every call (`None` for the
    /// operator's own use).
    me: Option<crate::me::Me>,
}

impl Directory {
    pub(crate) fn new(cab: Cabinet) -> Self {
        Directory { cab, me: None }
    }

    /// The directory as seen through a signed-in session.
    pub(crate) fn for_session(me: crate::me::Me) -> Self {
        Directory { cab: me.cabinet().clone(), me: Some(me) }
    }

    async fn check(&self) -> Result<()> {
        match &self.me {
            Some(me) => me.check_session().await,
            None => Ok(()),
        }
    }

    /// Every region, by code.
    pub async fn regions(&self) -> Result<Vec<Region>> {
        self.check().await?;
        let rows = store::regions(self.cab.store().pool()).await?;
        Ok(rows.into_iter().map(|r| Region { code: r.code, name: r.name, time_zone: r.time_zone }).collect())
    }

    /// Clinics of a region, by name.
    pub async fn clinics(&self, region_code: &str) -> Result<Vec<Clinic>> {
        self.check().await?;
        let rows = store::clinics_of_region(self.cab.store().pool(), region_code.trim()).await?;
        Ok(rows.into_iter().map(clinic_from).collect())
    }

    /// A clinic by id.
    pub async fn clinic(&self, clinic_id: &str) -> Result<Clinic> {
        self.check().await?;
        let row = store::clinic_by_id(self.cab.store().pool(), clinic_id)
            .await?
            .ok_or(Error::NotFound { entity: "clinic" })?;
        Ok(clinic_from(row))
    }

    /// A clinic by id, read on the caller's connection (inside its transaction).
    pub(crate) async fn clinic_in(conn: &mut Conn, clinic_id: &str) -> Result<Clinic> {
        let row = store::clinic_by_id(conn, clinic_id).await?.ok_or(Error::NotFound { entity: "clinic" })?;
        Ok(clinic_from(row))
    }

    /// A clinic by its code, or by its name matched without regard to case, `ё`/`е` and
    /// quotes. A name that fits several clinics is a `clinic.ambiguous` conflict.
    pub async fn find_clinic(&self, code_or_name: &str) -> Result<Clinic> {
        self.check().await?;
        let pool = self.cab.store().pool();
        if let Some(row) = store::clinic_by_code(pool, code_or_name.trim()).await? {
            return Ok(clinic_from(row));
        }
        let mut rows = store::clinics_named(pool, &fold(code_or_name)).await?;
        match rows.len() {
            0 => Err(Error::NotFound { entity: "clinic" }),
            1 => Ok(clinic_from(rows.remove(0))),
            _ => Err(Error::Conflict { code: "clinic.ambiguous" }),
        }
    }

    /// Practitioners filtered by specialization (case- and ё-insensitive), clinic and visit
    /// type; by name.
    pub async fn practitioners(
        &self,
        specialization: Option<&str>,
        clinic_id: Option<&str>,
        visit_type: Option<&str>,
    ) -> Result<Vec<Practitioner>> {
        self.check().await?;
        let pool = self.cab.store().pool();
        let specialization_key = specialization.map(fold);
        let filter = store::PractitionerFilter {
            specialization_key: specialization_key.as_deref(),
            clinic_id,
            visit_type: visit_type.map(str::trim),
        };
        let rows = store::practitioners(pool, filter).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(Practitioner {
                visit_types: store::visit_types(pool, &r.id).await?,
                id: r.id,
                clinic_id: r.clinic_id,
                clinic_name: r.clinic_name,
                full_name: r.full_name,
                specialization: r.specialization,
            });
        }
        Ok(out)
    }

    /// Free slots of a practitioner starting in `[since, until)`, earliest first.
    pub async fn free_slots(
        &self,
        practitioner_id: &str,
        since: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<Slot>> {
        self.check().await?;
        let rows =
            store::free_slots(self.cab.store().pool(), practitioner_id, to_micros(since), to_micros(until)).await?;
        rows.into_iter().map(slot_from).collect()
    }

    /// Documents a visit of `visit_type` needs.
    pub async fn required_documents(&self, visit_type: &str) -> Result<Vec<String>> {
        self.check().await?;
        required_documents(self.cab.store().pool(), visit_type).await
    }
}

/// Documents a visit of `visit_type` needs, from any connection.
pub(crate) async fn required_documents<'c, E>(conn: E, visit_type: &str) -> Result<Vec<String>>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    Ok(match store::required_documents(conn, visit_type).await? {
        Some(list) => list.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect(),
        None => DEFAULT_REQUIRED_DOCUMENTS.iter().map(|s| (*s).to_owned()).collect(),
    })
}

/// Operator changes to the directory and schedules.
#[derive(Debug, Clone)]
pub struct DirectoryAdmin {
    cab: Cabinet,
}

async fn journal(cab: &Cabinet, tx: &mut Conn, resource_type: &'static str, id: &str, now: i64) -> Result<()> {
    let what = Access { patient_id: None, action: Action::Create, resource_type, resource_id: Some(id) };
    cab.journal().record(tx, &AuditContext::system(), what, Outcome::Success, now).await?;
    Ok(())
}

fn unique_to(code: &'static str) -> impl Fn(StorageError) -> Error {
    move |e| if e.unique_violation() { Error::Conflict { code } } else { e.into() }
}

/// Inserts a region unless one with the code exists (used by imports).
pub(crate) async fn ensure_region_in(tx: &mut Conn, code: &str, name: &str) -> Result<()> {
    store::ensure_region(&mut *tx, code, name).await
}

/// The clinic with a registry code, if any.
pub(crate) async fn clinic_by_code_in(tx: &mut Conn, code: &str) -> Result<Option<String>> {
    store::clinic_id_by_code(&mut *tx, code).await
}

/// Inserts a checked clinic (its region must exist) and journals it.
pub(crate) async fn insert_clinic_in(cab: &Cabinet, tx: &mut Conn, clinic: &Clinic, now: i64) -> Result<()> {
    let row = store::NewClinicRow {
        id: &clinic.id,
        region_code: &clinic.region_code,
        code: &clinic.code,
        name: &clinic.name,
        name_key: &fold(&clinic.name),
        address: &clinic.address,
        opening_hours: &clinic.opening_hours,
        now,
    };
    store::insert_clinic(&mut *tx, row).await.map_err(unique_to("clinic.exists"))?;
    journal(cab, tx, "clinic", &clinic.id, now).await
}

/// Inserts a checked practitioner with their visit types and journals it.
pub(crate) async fn insert_practitioner_in(cab: &Cabinet, tx: &mut Conn, p: &Practitioner, now: i64) -> Result<()> {
    let row = store::NewPractitionerRow {
        id: &p.id,
        clinic_id: &p.clinic_id,
        full_name: &p.full_name,
        specialization: &p.specialization,
        specialization_key: &fold(&p.specialization),
        now,
    };
    store::insert_practitioner(&mut *tx, row).await?;
    for t in &p.visit_types {
        add_visit_type_in(tx, &p.id, t).await?;
    }
    journal(cab, tx, "practitioner", &p.id, now).await
}

/// Lets a practitioner take one more visit type (no change if they already do).
pub(crate) async fn add_visit_type_in(tx: &mut Conn, practitioner_id: &str, visit_type: &str) -> Result<()> {
    store::add_visit_type(&mut *tx, practitioner_id, visit_type).await
}

/// Inserts one slot; the same practitioner and start twice is a `slot.exists` conflict.
pub(crate) async fn insert_slot_in(tx: &mut Conn, s: &Slot, now: i64) -> Result<()> {
    let row = store::NewSlotRow {
        id: &s.id,
        practitioner_id: &s.practitioner_id,
        starts_at: to_micros(s.starts_at),
        ends_at: to_micros(s.ends_at),
        visit_type: &s.visit_type,
        now,
    };
    store::insert_slot(&mut *tx, row).await.map_err(unique_to("slot.exists"))
}

/// Journals an operator change to the directory.
pub(crate) async fn journal_change(
    cab: &Cabinet,
    tx: &mut Conn,
    resource_type: &'static str,
    id: &str,
    now: i64,
) -> Result<()> {
    journal(cab, tx, resource_type, id, now).await
}

impl DirectoryAdmin {
    pub(crate) fn new(cab: Cabinet) -> Self {
        DirectoryAdmin { cab }
    }

    /// Adds a region with its IANA time zone (`None`: `"Europe/Moscow"`); an unknown zone is
    /// `validation` on `time_zone`.
    pub async fn add_region(&self, code: &str, name: &str, time_zone: Option<&str>) -> Result<Region> {
        let code = text_field("region_code", code, 32)?;
        let name = text_field("name", name, 300)?;
        let time_zone = crate::localtime::check_zone(time_zone.unwrap_or(crate::localtime::DEFAULT_TIME_ZONE))?;
        let now = to_micros(self.cab.now());
        let mut tx = self.cab.store().begin().await?;
        store::insert_region(&mut *tx, &code, &name, &time_zone).await.map_err(unique_to("region.exists"))?;
        journal(&self.cab, &mut tx, "region", &code, now).await?;
        tx.commit().await?;
        Ok(Region { code, name, time_zone })
    }

    /// Gives a clinic its own IANA time zone, or (`None`) lets it keep its region's again.
    /// Journaled.
    pub async fn set_clinic_time_zone(&self, clinic_id: &str, time_zone: Option<&str>) -> Result<Clinic> {
        let zone = time_zone.map(crate::localtime::check_zone).transpose()?;
        let now = to_micros(self.cab.now());
        let mut tx = self.cab.store().begin().await?;
        if !store::set_clinic_zone(&mut *tx, clinic_id, zone.as_deref()).await? {
            return Err(Error::NotFound { entity: "clinic" });
        }
        let what =
            Access { patient_id: None, action: Action::Update, resource_type: "clinic", resource_id: Some(clinic_id) };
        self.cab.journal().record(&mut tx, &AuditContext::system(), what, Outcome::Success, now).await?;
        tx.commit().await?;
        Directory::new(self.cab.clone()).clinic(clinic_id).await
    }

    /// Adds a clinic to a region.
    pub async fn add_clinic(
        &self,
        region_code: &str,
        code: &str,
        name: &str,
        address: &str,
        opening_hours: &str,
    ) -> Result<Clinic> {
        let clinic = Clinic {
            id: uuid::Uuid::new_v4().to_string(),
            region_code: text_field("region_code", region_code, 32)?,
            code: text_field("code", code, 64)?,
            name: text_field("name", name, 300)?,
            address: text_field("address", address, 500)?,
            opening_hours: text_field("opening_hours", opening_hours, 300)?,
            time_zone: String::new(), // the region's, read below
        };
        let now = to_micros(self.cab.now());
        let mut tx = self.cab.store().begin().await?;
        let Some(zone) = store::region_zone(&mut *tx, &clinic.region_code).await? else {
            return Err(Error::NotFound { entity: "region" });
        };
        let clinic = Clinic { time_zone: zone, ..clinic };
        insert_clinic_in(&self.cab, &mut tx, &clinic, now).await?;
        tx.commit().await?;
        Ok(clinic)
    }

    /// Adds a practitioner to a clinic with the visit types they take.
    pub async fn add_practitioner(
        &self,
        clinic_id: &str,
        full_name: &str,
        specialization: &str,
        visit_types: &[String],
    ) -> Result<Practitioner> {
        let full_name = text_field("full_name", full_name, 300)?;
        let specialization = text_field("specialization", specialization, 200)?;
        let mut types = Vec::new();
        for t in visit_types {
            let t = text_field("visit_types", t, 64)?;
            if !types.contains(&t) {
                types.push(t);
            }
        }
        if types.is_empty() {
            return Err(ValidationError::new("visit_types", Reason::Empty).into());
        }
        types.sort();
        let clinic = Directory::new(self.cab.clone()).clinic(clinic_id).await?;
        let id = uuid::Uuid::new_v4().to_string();
        let now = to_micros(self.cab.now());
        let mut tx = self.cab.store().begin().await?;
        let practitioner = Practitioner {
            id,
            clinic_id: clinic.id,
            clinic_name: clinic.name,
            full_name,
            specialization,
            visit_types: types,
        };
        insert_practitioner_in(&self.cab, &mut tx, &practitioner, now).await?;
        tx.commit().await?;
        Ok(practitioner)
    }

    /// Sets the documents a visit type needs (e.g. `["oms_policy", "passport", "test_results"]`).
    pub async fn set_required_documents(&self, visit_type: &str, documents: &[String]) -> Result<()> {
        let visit_type = text_field("visit_type", visit_type, 64)?;
        let mut docs = Vec::new();
        for d in documents {
            let d = text_field("documents", d, 64)?;
            if d.contains(',') {
                return Err(ValidationError::new("documents", Reason::Format).into());
            }
            docs.push(d);
        }
        let now = to_micros(self.cab.now());
        let mut tx = self.cab.store().begin().await?;
        store::set_required_documents(&mut tx, &visit_type, &docs.join(",")).await?;
        journal(&self.cab, &mut tx, "visit_type", &visit_type, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Opens slots of `minutes` for a practitioner from `start` until `end` (a last piece
    /// shorter than `minutes` is not opened). Slots that already exist at the same start
    /// are a `slot.exists` conflict, and nothing is opened.
    pub async fn open_slots(
        &self,
        practitioner_id: &str,
        start: OffsetDateTime,
        end: OffsetDateTime,
        minutes: i64,
        visit_type: &str,
    ) -> Result<Vec<Slot>> {
        if !SLOT_MINUTES.contains(&minutes) {
            return Err(ValidationError::new("minutes", Reason::UnknownValue).into());
        }
        if end <= start {
            return Err(ValidationError::new("end", Reason::Format).into());
        }
        let visit_type = text_field("visit_type", visit_type, 64)?;
        let pool = self.cab.store().pool();
        if !store::takes_visit_type(pool, practitioner_id, &visit_type).await? {
            if !store::practitioner_exists(pool, practitioner_id).await? {
                return Err(Error::NotFound { entity: "practitioner" });
            }
            return Err(ValidationError::new("visit_type", Reason::UnknownValue).into());
        }
        let step = time::Duration::minutes(minutes);
        let mut slots = Vec::new();
        let mut at = start;
        // Checked: a slot at the very end of the calendar (9999-12-31 23:50) has no end.
        while let Some(ends) = at.checked_add(step).filter(|e| *e <= end) {
            if slots.len() == MAX_SLOTS_PER_CALL {
                return Err(ValidationError::new("end", Reason::TooLong).into());
            }
            slots.push(Slot {
                id: uuid::Uuid::new_v4().to_string(),
                practitioner_id: practitioner_id.to_owned(),
                starts_at: at,
                ends_at: ends,
                visit_type: visit_type.clone(),
            });
            at = ends;
        }
        let now = to_micros(self.cab.now());
        let mut tx = self.cab.store().begin().await?;
        for s in &slots {
            insert_slot_in(&mut tx, s, now).await?;
        }
        journal(&self.cab, &mut tx, "schedule", practitioner_id, now).await?;
        tx.commit().await?;
        Ok(slots)
    }
}
