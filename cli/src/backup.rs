//! `kabinet backup` and `kabinet restore`. SQLite: a consistent online copy through the
//! core (`Cabinet::backup`, `VACUUM INTO`); restore copies it into place. PostgreSQL:
//! `pg_dump --format=custom` and `pg_restore --clean` (the programs from PATH, or
//! `KABINET_PG_DUMP` / `KABINET_PG_RESTORE`). Either way the journal head signed before the
//! copy is written beside it (`<file>.head.json`) — keep a copy of it elsewhere — and a
//! restore verifies the whole journal and checks it against that head.

use std::path::{Path, PathBuf};
use std::process::Command;

use kabinet::Cabinet;
use kabinet::audit::SignedTreeHead;

use crate::Failure;
use crate::report::{Report, head_json};

/// Where the head of a backup is kept beside it.
pub fn head_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".head.json");
    PathBuf::from(name)
}

/// The file of a `sqlite://` URL, if it is one.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn external(program: &str, args: &[&std::ffi::OsStr], code: &'static str) -> Result<(), Failure> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| Failure::External(code, format!("{program}: {}", e.kind())))?;
    if out.status.success() {
        return Ok(());
    }
    let reason: String = String::from_utf8_lossy(&out.stderr).chars().take(500).collect();
    Err(Failure::External(code, format!("{program} failed ({}): {}", out.status, reason.trim())))
}

/// Copies the database to `out` and writes the head beside it.
pub async fn backup(cab: &Cabinet, url: &str, out: &Path, report: &mut Report) -> Result<(), Failure> {
    let (bytes, head) = if cab.backend() == kabinet::Backend::Sqlite {
        let b = cab.backup(out).await?;
        (b.bytes, b.head)
    } else {
        if out.exists() {
            return Err(kabinet::Error::Conflict { code: "backup.exists" }.into());
        }
        let head = cab.system().audit().latest_head().await?;
        let program = std::env::var("KABINET_PG_DUMP").unwrap_or_else(|_| "pg_dump".to_owned());
        let args = ["--format=custom".as_ref(), "--file".as_ref(), out.as_os_str(), url.as_ref()];
        external(&program, &args, "backup.pg_dump")?;
        (std::fs::metadata(out).map_err(|e| Failure::File(out.to_path_buf(), e))?.len(), head)
    };
    let head_file = head_path(out);
    if let Some(head) = &head {
        let text = serde_json::to_string_pretty(&head_json(head)).unwrap_or_default();
        std::fs::write(&head_file, text).map_err(|e| Failure::File(head_file.clone(), e))?;
    }
    report.line(format!("ok: backup written to {} ({bytes} bytes)", out.display()));
    if head.is_some() {
        report.line(format!("journal head written to {} — keep a copy apart from the backup", head_file.display()));
    }
    report.set("file", out.display().to_string());
    report.set("bytes", bytes);
    report.set("head", head.as_ref().map(head_json).unwrap_or_default());
    report.set("head_file", head.as_ref().map(|_| head_file.display().to_string()));
    Ok(())
}

/// Puts a backup in place of the database at `url` (SQLite: only when it does not exist,
/// unless `force`).
pub fn restore_files(url: &str, from: &Path, force: bool) -> Result<(), Failure> {
    if !from.exists() {
        return Err(Failure::File(from.to_path_buf(), std::io::Error::from(std::io::ErrorKind::NotFound)));
    }
    match sqlite_file(url) {
        Some(target) => {
            if target.exists() && !force {
                return Err(kabinet::Error::Conflict { code: "restore.target_exists" }.into());
            }
            let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
            let staging = dir.join(format!(".kabinet-restore-{}", std::process::id()));
            std::fs::copy(from, &staging).map_err(|e| Failure::File(staging.clone(), e))?;
            for suffix in ["-wal", "-shm"] {
                let mut side = target.as_os_str().to_owned();
                side.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(side));
            }
            std::fs::rename(&staging, &target).map_err(|e| Failure::File(target.clone(), e))
        }
        None => {
            let program = std::env::var("KABINET_PG_RESTORE").unwrap_or_else(|_| "pg_restore".to_owned());
            let dbname = format!("--dbname={url}");
            let args =
                ["--clean".as_ref(), "--if-exists".as_ref(), "--no-owner".as_ref(), dbname.as_ref(), from.as_os_str()];
            external(&program, &args, "restore.pg_restore")
        }
    }
}

/// Reads a head written by [`backup`].
pub fn read_head(path: &Path) -> Result<SignedTreeHead, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| Failure::File(path.to_path_buf(), e))?;
    let bad = || Failure::External("restore.head", format!("{} is not a journal head", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| bad())?;
    let bytes = |key: &str| v[key].as_str().and_then(|h| hex::decode(h).ok());
    Ok(SignedTreeHead {
        size: v["size"].as_u64().ok_or_else(bad)?,
        root: bytes("root").and_then(|b| <[u8; 32]>::try_from(b).ok()).ok_or_else(bad)?,
        at_us: v["at_us"].as_i64().ok_or_else(bad)?,
        signature: bytes("signature").and_then(|b| <[u8; 64]>::try_from(b).ok()).ok_or_else(bad)?,
    })
}

/// Verifies a restored journal, and against `head` when given.
pub async fn verify_restored(cab: &Cabinet, head: Option<&SignedTreeHead>, report: &mut Report) -> Result<(), Failure> {
    let verified = cab.system().audit().verify().await?;
    report.set("journal_entries", verified.entries);
    report.set("journal_ok", verified.ok);
    if !verified.ok {
        report.line(format!("FAILED: {}", verified.problem.as_deref().unwrap_or("journal")));
        return Err(Failure::Tampered);
    }
    report.line(format!("journal verified: {} entries", verified.entries));
    if let Some(head) = head {
        cab.system().audit().verify_against(head).await?;
        report.line(format!("journal holds the kept head (size {})", head.size));
        report.set("matches_kept_head", true);
    }
    Ok(())
}
