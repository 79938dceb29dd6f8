//! The last line against panics: every exported function returning `Result<_, KabinetError>`
//! runs its body through [`catch`] or [`catch_async`] (the `#[guard]` attribute of
//! `kabinet-ffi-guard` inserts the call), so a panic inside Kabinet — a bug, none is
//! reachable from input by design — reaches Kotlin and Swift as `KabinetError.Internal`
//! with code `internal`, not as UniFFI's internal error. The panic's text is not passed on:
//! it could hold data.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::KabinetError;

/// Runs `f`; a panic becomes [`KabinetError::Internal`].
pub(crate) fn catch<T>(f: impl FnOnce() -> Result<T, KabinetError>) -> Result<T, KabinetError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| Err(KabinetError::internal()))
}

/// Awaits `fut`; a panic while it is polled becomes [`KabinetError::Internal`].
pub(crate) async fn catch_async<T>(fut: impl Future<Output = Result<T, KabinetError>>) -> Result<T, KabinetError> {
    CatchUnwind(Box::pin(fut)).await
}

struct CatchUnwind<F>(Pin<Box<F>>);

impl<T, F: Future<Output = Result<T, KabinetError>>> Future for CatchUnwind<F> {
    type Output = Result<T, KabinetError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(poll) => poll,
            Err(_) => Poll::Ready(Err(KabinetError::internal())),
        }
    }
}

#[cfg(test)]
mod tests {
    use kabinet_ffi_guard::guard;

    use super::*;

    struct Probe;

    #[guard]
    impl Probe {
        fn sync_panics(&self, n: u32) -> Result<u32, KabinetError> {
            if n > 0 {
                panic!("secret 123-456-789 00");
            }
            Ok(n)
        }

        async fn async_panics(&self, n: u32) -> Result<u32, KabinetError> {
            tokio::task::yield_now().await;
            if n > 0 {
                panic!("secret");
            }
            Ok(n + 1)
        }

        async fn async_question_mark(&self) -> Result<u32, KabinetError> {
            let v: u32 = "7".parse().map_err(|_| KabinetError::internal())?;
            Ok(v)
        }
    }

    #[guard]
    fn free_panics() -> Result<(), KabinetError> {
        let v: Vec<u8> = Vec::new();
        let _ = v[3];
        Ok(())
    }

    fn is_internal(r: &Result<impl std::fmt::Debug, KabinetError>) -> bool {
        matches!(r, Err(KabinetError::Internal { code, detail }) if code == "internal" && !detail.contains("secret"))
    }

    #[tokio::test]
    async fn a_panic_becomes_an_internal_error_and_values_pass_through() {
        let p = Probe;
        assert_eq!(p.sync_panics(0).ok(), Some(0));
        assert!(is_internal(&p.sync_panics(1)));
        assert_eq!(p.async_panics(0).await.ok(), Some(1));
        assert!(is_internal(&p.async_panics(1).await));
        assert_eq!(p.async_question_mark().await.ok(), Some(7));
        assert!(is_internal(&free_panics()));
    }

    /// Every exported block of this crate carries `#[guard]` (directly above its
    /// `#[uniffi::export…]`; `delegate!` writes it in full), except the foreign callback traits (`with_foreign`), whose
    /// methods are implemented in Kotlin or Swift.
    #[test]
    fn every_export_is_guarded() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut unguarded = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{e}")) {
            let path = entry.unwrap_or_else(|e| panic!("{e}")).path();
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{e}"));
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                let line = line.trim();
                if line.starts_with("#[uniffi::export") && !line.contains("with_foreign") {
                    let above = if i > 0 { lines[i - 1].trim() } else { "" };
                    if above != "#[guard]" && above != "#[kabinet_ffi_guard::guard]" {
                        unguarded.push(format!("{}:{}", path.display(), i + 1));
                    }
                }
            }
        }
        assert!(unguarded.is_empty(), "exports without #[guard]: {unguarded:?}");
    }
}
