//! Integration tests live in `tests/*.rs` targets.
