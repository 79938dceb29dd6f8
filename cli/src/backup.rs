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

/// A PostgreSQL URL without its password, and the password (percent-decoded): the password
/// goes to `pg_dump`/`pg_restore` through `PGPASSWORD`, never on a command line `ps` shows.
pub fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_owned(), None) };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else { return (url.to_owned(), None) };
    let Some((user, password)) = rest[..at].split_once(':') else { return (url.to_owned(), None) };
    (format!("{scheme}://{user}{}", &rest[at..]), Some(percent_decode(password)))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = if bytes[i] == b'%' { s.get(i + 1..i + 3) } else { None };
        match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn external(
    program: &str,
    args: &[&std::ffi::OsStr],
    password: Option<&str>,
    code: &'static str,
) -> Result<(), Failure> {
    let mut command = Command::new(program);
    command.args(args);
    if let Some(p) = password {
        command.env("PGPASSWORD", p);
    }
    let out = command.output().map_err(|e| Failure::External(code, format!("{program}: {}", e.kind())))?;
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
        // Created first, new and readable by the owner only: pg_dump keeps the file's mode, and
        // a dump is personal data (journal addresses, who saw whom) even without the keys.
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        if let Err(e) = options.open(out) {
            return Err(match e.kind() {
                std::io::ErrorKind::AlreadyExists => kabinet::Error::Conflict { code: "backup.exists" }.into(),
                _ => Failure::File(out.to_path_buf(), e),
            });
        }
        let head = cab.system().audit().latest_head().await?;
        let program = std::env::var("KABINET_PG_DUMP").unwrap_or_else(|_| "pg_dump".to_owned());
        let (url, password) = split_password(url);
        let args = ["--format=custom".as_ref(), "--file".as_ref(), out.as_os_str(), url.as_ref()];
        if let Err(e) = external(&program, &args, password.as_deref(), "backup.pg_dump") {
            let _ = std::fs::remove_file(out);
            return Err(e);
        }
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

/// Where a SQLite restore is staged and verified before it replaces anything.
pub fn staging_file(target: &Path) -> PathBuf {
    let mut name = target.as_os_str().to_owned();
    name.push(".restoring");
    PathBuf::from(name)
}

/// Copies a SQLite backup to the staging file beside `target` (which must not exist unless
/// `force`); the caller verifies it there and then [`promote`]s it.
pub fn stage_sqlite(target: &Path, from: &Path, force: bool) -> Result<PathBuf, Failure> {
    if !from.exists() {
        return Err(Failure::File(from.to_path_buf(), std::io::Error::from(std::io::ErrorKind::NotFound)));
    }
    if target.exists() && !force {
        return Err(kabinet::Error::Conflict { code: "restore.target_exists" }.into());
    }
    let staging = staging_file(target);
    let _ = std::fs::remove_file(&staging);
    std::fs::copy(from, &staging).map_err(|e| Failure::File(staging.clone(), e))?;
    Ok(staging)
}

/// Replaces `target` with the verified staging copy. Stop every process using the database
/// first (docs/operations.md): its `-wal`/`-shm` files belong to the old one.
pub fn promote(staging: &Path, target: &Path) -> Result<(), Failure> {
    for suffix in ["-wal", "-shm"] {
        let mut side = target.as_os_str().to_owned();
        side.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(side));
    }
    std::fs::rename(staging, target).map_err(|e| Failure::File(target.to_path_buf(), e))
}

/// Restores a PostgreSQL dump into `url` with `pg_restore --clean` — only into an empty
/// database unless `force` (`nonempty` says whether Kabinet's schema is there).
pub fn restore_postgres(url: &str, from: &Path, nonempty: bool, force: bool) -> Result<(), Failure> {
    if !from.exists() {
        return Err(Failure::File(from.to_path_buf(), std::io::Error::from(std::io::ErrorKind::NotFound)));
    }
    if nonempty && !force {
        return Err(kabinet::Error::Conflict { code: "restore.target_exists" }.into());
    }
    let program = std::env::var("KABINET_PG_RESTORE").unwrap_or_else(|_| "pg_restore".to_owned());
    let (url, password) = split_password(url);
    let dbname = format!("--dbname={url}");
    let args = ["--clean".as_ref(), "--if-exists".as_ref(), "--no-owner".as_ref(), dbname.as_ref(), from.as_os_str()];
    external(&program, &args, password.as_deref(), "restore.pg_restore")
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

#[cfg(test)]
mod tests {
    use super::split_password;

    #[test]
    fn the_password_leaves_the_url() {
        assert_eq!(
            split_password("postgres://kabinet:s%40cr%3At@db.example:5432/k?sslmode=require"),
            ("postgres://kabinet@db.example:5432/k?sslmode=require".to_owned(), Some("s@cr:t".to_owned()))
        );
        assert_eq!(split_password("postgres://root@%2Fvar%2Frun%2Fpostgresql/k").1, None);
        assert_eq!(split_password("postgres://db/k"), ("postgres://db/k".to_owned(), None));
    }
}
