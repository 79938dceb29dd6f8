//! `--deliver-command`: the operator's delivery hook for `jobs run`. Each message is handed
//! to the command (run with `sh -c`) as one JSON object on its standard input — id,
//! channel, recipient, kind, subject, text, code, patient id — never in its arguments or
//! environment, where other users of the machine could read it. The command gets a clean
//! environment (`PATH`, `HOME`, `LANG`, `TMPDIR` only): never the key passphrase or the
//! database URL. Exit status 0 means delivered; anything else, or no answer within
//! [`TIMEOUT`], is a failure Kabinet retries with back-off (the command's standard error, cut
//! to 500 characters, is kept sealed as the reason).

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one delivery may take before it is killed and counted as failed.
pub const TIMEOUT: Duration = Duration::from_secs(30);

use kabinet::integrations::{DeliveryError, Message, Notifier};

/// Runs the operator's command for each message.
pub struct CommandNotifier {
    /// The shell command.
    pub command: String,
}

impl Notifier for CommandNotifier {
    fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        let payload = serde_json::json!({
            "id": m.id,
            "channel": m.channel.as_str(),
            "recipient": m.recipient,
            "kind": m.kind,
            "subject": m.subject,
            "text": m.text,
            "code": m.code,
            "patient_id": m.patient_id,
        });
        let mut command = Command::new("sh");
        command.arg("-c").arg(&self.command).env_clear();
        for keep in ["PATH", "HOME", "LANG", "TMPDIR"] {
            if let Some(value) = std::env::var_os(keep) {
                command.env(keep, value);
            }
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| DeliveryError(format!("cannot start the delivery command: {}", e.kind())))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A command that exits without reading its input fails below by its status.
            let _ = stdin.write_all(payload.to_string().as_bytes());
        }
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if started.elapsed() >= TIMEOUT => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(DeliveryError(format!("delivery command gave no answer in {} s", TIMEOUT.as_secs())));
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(e) => return Err(DeliveryError(format!("delivery command: {}", e.kind()))),
            }
        };
        if status.success() {
            return Ok(());
        }
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            let _ = err.read_to_string(&mut stderr);
        }
        let reason: String = stderr.chars().take(500).collect();
        Err(DeliveryError(format!("delivery command failed ({status}): {}", reason.trim())))
    }
}
