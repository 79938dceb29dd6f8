//! `kabinet demo`: a demo region, clinic and doctors with a week of free slots, through the
//! same operator API a deployment uses (every step journaled). Running it twice changes
//! nothing: the second run finds the region and stops.

use kabinet::{Cabinet, Error};
use time::{Duration, OffsetDateTime, Weekday};

const REGION: (&str, &str) = ("77", "Москва");
const CLINIC: [&str; 4] = ["0101", "ГБУЗ «Городская поликлиника № 1»", "ул. Ленина, 1", "пн–пт 8:00–20:00"];
const DOCTORS: [(&str, &str, &str); 3] = [
    ("Петров Пётр Петрович", "терапевт", "first"),
    ("Смирнова Елена Викторовна", "кардиолог", "first"),
    ("Ёлкина Анна Сергеевна", "педиатр", "first"),
];

/// Seeds the demo data; returns what it made, a line each.
pub async fn seed(cab: &Cabinet) -> Result<Vec<String>, Error> {
    let mut lines = Vec::new();
    let admin = cab.system().directory();
    match admin.add_region(REGION.0, REGION.1, None).await {
        Ok(_) => {}
        Err(Error::Conflict { code: "region.exists" }) => {
            lines.push(format!("ok: demo data already present (region {})", REGION.0));
            return Ok(lines);
        }
        Err(e) => return Err(e),
    }
    let clinic = admin.add_clinic(REGION.0, CLINIC[0], CLINIC[1], CLINIC[2], CLINIC[3]).await?;
    lines.push(format!("clinic {} {} ({})", clinic.id, clinic.name, clinic.code));
    // Working days of the coming week, 09:00–13:00 Moscow time, 20-minute slots.
    let msk = time::macros::offset!(+3);
    let today = OffsetDateTime::now_utc().to_offset(msk).date();
    let mut opened = 0;
    for (name, specialization, visit_type) in DOCTORS {
        let doctor = admin.add_practitioner(&clinic.id, name, specialization, &[visit_type.to_owned()]).await?;
        lines.push(format!("practitioner {} {} ({})", doctor.id, doctor.full_name, doctor.specialization));
        for day in 1..=7 {
            let date = today + Duration::days(day);
            if matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) {
                continue;
            }
            let start = OffsetDateTime::new_in_offset(date, time::macros::time!(09:00), msk);
            opened += admin.open_slots(&doctor.id, start, start + Duration::hours(4), 20, visit_type).await?.len();
        }
    }
    lines.push(format!("ok: {opened} free slots opened"));
    Ok(lines)
}
