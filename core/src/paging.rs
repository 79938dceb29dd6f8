//! Paging for the lists that grow (documents, lab results, access history): a page holds at
//! most `limit` items, newest first, and the cursor where the next page starts — opaque text,
//! `None` on the last page. Pages follow the list's own order by its full key (keyset paging),
//! so an item added meanwhile never shifts or repeats what was already read. A cursor only
//! positions within what the caller may read anyway: every query still filters by the patient.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ids::{Reason, ValidationError};

/// Items per page when the caller names no limit.
pub const DEFAULT_LIMIT: u32 = 100;
/// The largest page.
pub const MAX_LIMIT: u32 = 1000;

const SEPARATOR: char = '\u{1f}';

/// The page size asked for, checked (1 to [`MAX_LIMIT`]; [`DEFAULT_LIMIT`] when absent).
pub(crate) fn limit(limit: Option<u32>) -> Result<i64, ValidationError> {
    match limit.unwrap_or(DEFAULT_LIMIT) {
        0 => Err(ValidationError::new("limit", Reason::Empty)),
        n if n > MAX_LIMIT => Err(ValidationError::new("limit", Reason::TooLong)),
        n => Ok(i64::from(n)),
    }
}

/// A cursor from the sort key of the last item of a page.
pub(crate) fn encode(key: &[String]) -> String {
    let joined: String = key.join(&SEPARATOR.to_string());
    URL_SAFE_NO_PAD.encode(joined.as_bytes())
}

/// The sort key a cursor carries: `parts` fields, the first `numbers` of them integers.
pub(crate) fn decode(cursor: &str, parts: usize, numbers: usize) -> Result<Cursor, ValidationError> {
    let bad = || ValidationError::new("cursor", Reason::Format);
    if cursor.len() > 1024 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let fields: Vec<String> = text.split(SEPARATOR).map(str::to_owned).collect();
    if fields.len() != parts {
        return Err(bad());
    }
    let ints = fields[..numbers].iter().map(|f| f.parse::<i64>().map_err(|_| bad())).collect::<Result<Vec<_>, _>>()?;
    Ok(Cursor { ints, texts: fields[numbers..].to_vec() })
}

/// The rows of one page, out of the `limit + 1` fetched, and the cursor of the next page
/// (from the sort key `key` gives for the page's last row) if the extra row showed there is one.
pub(crate) fn split<R, E>(
    mut rows: Vec<R>,
    limit: i64,
    key: impl Fn(&R) -> Result<Vec<String>, E>,
) -> Result<(Vec<R>, Option<String>), E> {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = match rows.last() {
        Some(last) if more => Some(encode(&key(last)?)),
        _ => None,
    };
    Ok((rows, next))
}

/// A decoded cursor: its integer fields, then its text fields.
#[derive(Debug)]
pub(crate) struct Cursor {
    pub ints: Vec<i64>,
    pub texts: Vec<String>,
}

/// Declares a page type of `item`: the same shape in Rust, Python, Kotlin and Swift.
macro_rules! page_type {
    ($(#[$meta:meta])* $name:ident of $item:ty) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
        #[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
        #[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
        pub struct $name {
            /// At most the asked number of items, in the list's order.
            pub items: Vec<$item>,
            /// Where the next page starts; `None` on the last page.
            pub next_cursor: Option<String>,
        }
    };
}
pub(crate) use page_type;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_hostile_ones_are_validation_errors() {
        let c = encode(&["1700000000".into(), "42".into(), "doc-1".into()]);
        let d = decode(&c, 3, 2).unwrap();
        assert_eq!((d.ints, d.texts), (vec![1_700_000_000, 42], vec!["doc-1".to_owned()]));
        let long = "A".repeat(5000);
        for bad in ["", "!!!", "AAAA", &encode(&["x".into(), "1".into(), "d".into()]), &long] {
            let e = decode(bad, 3, 2).unwrap_err();
            assert_eq!((e.field, e.reason), ("cursor", Reason::Format), "{bad:?}");
        }
        assert_eq!(limit(None).unwrap(), i64::from(DEFAULT_LIMIT));
        assert_eq!(limit(Some(0)).unwrap_err().reason, Reason::Empty);
        assert_eq!(limit(Some(MAX_LIMIT + 1)).unwrap_err().reason, Reason::TooLong);
        assert_eq!(limit(Some(u32::MAX)).unwrap_err().reason, Reason::TooLong);
    }
}
