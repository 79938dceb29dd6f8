//! `kabinet-stress`: one Kabinet process for the multi-process suites in `tests/tests/`.
//! Each run opens the cabinet at `URL` with the key file `KEYS` and does one thing:
//!
//! ```text
//! kabinet-stress URL KEYS open N        # open (creating if new) and add patient N
//! kabinet-stress URL KEYS write FROM    # add patients FROM, FROM+1, … until killed;
//!                                       # prints "ack N ID" after each commit
//! kabinet-stress URL KEYS rotate        # rotate the key-encryption key
//! kabinet-stress URL KEYS verify        # verify the journal (exit 3 if it does not verify)
//! kabinet-stress URL KEYS import FILE SOURCE   # import a FHIR bundle from SOURCE
//! ```
//! Failures print the error's stable code on stderr and exit 1.

use std::io::Write;
use std::sync::Arc;

use kabinet::error::ErrorCode;
use kabinet::{Cabinet, Config, NewPatient};

/// A valid SNILS for the `n`-th test person.
pub fn snils_for(n: u32) -> String {
    let body = format!("{:09}", 3_000_000 + n);
    let sum: u32 = body.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * (9 - i as u32)).sum();
    let check = match sum % 101 {
        100 => 0,
        s => s,
    };
    format!("{body}{check:02}")
}

fn person(n: u32) -> NewPatient {
    NewPatient {
        surname: "Стрессова".into(),
        given_name: "Ольга".into(),
        patronymic: None,
        birth_date: time::macros::date!(1980 - 01 - 01),
        sex: kabinet::Sex::Female,
        snils: Some(snils_for(n)),
        inn: None,
        oms_policy: None,
        phone: None,
        email: None,
    }
}

async fn run(args: &[String]) -> Result<i32, kabinet::Error> {
    let (url, keys, role) = (&args[0], &args[1], args[2].as_str());
    let provider = kabinet::crypto::LocalFileKeyProvider::open(keys)?;
    let config = Config { key_provider: Some(Arc::new(provider)), ..Config::default() };
    let cab = Cabinet::open(url, config).await?;
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<u32>().ok()).unwrap_or(0);
    let mut out = std::io::stdout().lock();
    match role {
        "open" => {
            let id = cab.system().patients().create(person(number(3))).await?;
            let _ = writeln!(out, "ok {id}");
        }
        "write" => {
            for n in number(3).. {
                let id = cab.system().patients().create(person(n)).await?;
                // Acknowledged only after the commit returned: the parent checks each of these.
                let _ = writeln!(out, "ack {n} {id}");
                let _ = out.flush();
            }
        }
        "rotate" => {
            let r = cab.system().keys().rotate().await?;
            let _ = writeln!(out, "rotated {} {}", r.kek_id, r.rewrapped);
        }
        "verify" => {
            let r = cab.system().audit().verify().await?;
            let _ = writeln!(out, "verified {} {}", r.ok, r.entries);
            if !r.ok {
                return Ok(3);
            }
        }
        "import" => {
            let text = std::fs::read_to_string(&args[3]).unwrap_or_default();
            let r = cab.system().fhir().import_bundle_from(&text, &args[4]).await?;
            let _ = writeln!(out, "imported {}", r.created.values().sum::<u64>());
        }
        _ => return Ok(2),
    }
    Ok(0)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: kabinet-stress URL KEYS open|write|rotate|verify|import …");
        std::process::exit(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(_) => std::process::exit(1),
    };
    let code = match runtime.block_on(run(&args)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error [{}]", e.code());
            1
        }
    };
    std::process::exit(code);
}
