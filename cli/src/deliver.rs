//! `--deliver-command`: the operator's delivery hook for `jobs run`. Each message is handed
//! to the command (run with `sh -c`) as one JSON object on its standard input — id,
//! channel, recipient, kind, subject, text, code, patient id — never in its arguments or
//! environment, where other users of the machine could read it. Exit status 0 means
//! delivered; anything else is a failure Kabinet retries with back-off (the command's
//! standard error, cut to 500 characters, is kept sealed as the reason).

use std::io::Write;
use std::process::{Command, Stdio};

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
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(&self.command)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| DeliveryError(format!("cannot start the delivery command: {}", e.kind())))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A command that exits without reading its input fails below by its status.
            let _ = stdin.write_all(payload.to_string().as_bytes());
        }
        let out = child.wait_with_output().map_err(|e| DeliveryError(format!("delivery command: {}", e.kind())))?;
        if out.status.success() {
            Ok(())
        } else {
            let reason: String = String::from_utf8_lossy(&out.stderr).chars().take(500).collect();
            Err(DeliveryError(format!("delivery command failed ({}): {}", out.status, reason.trim())))
        }
    }
}
