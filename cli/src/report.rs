//! What a command reports: lines for a person on stdout, or with `--json` one JSON document
//! on stdout for a script (progress and errors always go to stderr).

use serde_json::{Map, Value};

/// The output of one command, printed once at the end.
#[derive(Default)]
pub struct Report {
    lines: Vec<String>,
    fields: Map<String, Value>,
}

impl Report {
    /// A line for the text output.
    pub fn line(&mut self, text: impl Into<String>) {
        self.lines.push(text.into());
    }

    /// A field of the JSON output.
    pub fn set(&mut self, key: &str, value: impl Into<Value>) {
        self.fields.insert(key.to_owned(), value.into());
    }

    /// Prints the lines, or the fields as one JSON object.
    #[allow(clippy::print_stdout)]
    pub fn print(self, json: bool) {
        if json {
            println!("{}", Value::Object(self.fields));
        } else {
            for line in self.lines {
                println!("{line}");
            }
        }
    }
}

/// RFC 3339 text of a time (or its Unix seconds if it cannot be formatted).
pub fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// [`rfc3339`] of microseconds since the Unix epoch.
pub fn rfc3339_us(at_us: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_us) * 1000)
        .map_or_else(|_| at_us.to_string(), rfc3339)
}

/// A signed journal head as JSON (the form `backup` writes beside a copy).
pub fn head_json(head: &kabinet::audit::SignedTreeHead) -> Value {
    serde_json::json!({
        "size": head.size,
        "root": hex::encode(head.root),
        "at": rfc3339_us(head.at_us),
        "at_us": head.at_us,
        "signature": hex::encode(head.signature),
    })
}
