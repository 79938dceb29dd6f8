//! `#[guard]`, put on an exported `impl` block or function of `kabinet-ffi` (before
//! `#[uniffi::export]`): every function in it that returns `Result<_, KabinetError>` has its
//! body run under `crate::guard::catch` (or `catch_async`), so a panic inside Kabinet reaches
//! Kotlin and Swift as `KabinetError::Internal` (code `internal`) instead of UniFFI's
//! internal error. Hand-written because UniFFI has no hook for it and no crate does this one
//! rewrite; it only wraps bodies and leaves signatures alone.

use proc_macro::TokenStream;
use quote::{ToTokens, quote};
use syn::{Block, ImplItem, Item, ReturnType, Signature, parse_macro_input, parse_quote};

/// Wraps the body of each function returning `Result<_, KabinetError>` in a panic guard.
#[proc_macro_attribute]
pub fn guard(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut item = parse_macro_input!(item as Item);
    match &mut item {
        Item::Impl(block) => {
            for member in &mut block.items {
                if let ImplItem::Fn(f) = member {
                    wrap(&f.sig, &mut f.block);
                }
            }
        }
        Item::Fn(f) => wrap(&f.sig, &mut f.block),
        other => {
            return syn::Error::new_spanned(other.to_token_stream(), "#[guard] goes on an impl block or a function")
                .to_compile_error()
                .into();
        }
    }
    quote!(#item).into()
}

/// Whether a signature returns `Result<…, KabinetError>`.
fn returns_kabinet_result(sig: &Signature) -> bool {
    match &sig.output {
        ReturnType::Type(_, ty) => {
            let text: String = ty.to_token_stream().to_string().chars().filter(|c| !c.is_whitespace()).collect();
            text.starts_with("Result<") && text.ends_with("KabinetError>")
        }
        ReturnType::Default => false,
    }
}

fn wrap(sig: &Signature, body: &mut Block) {
    if !returns_kabinet_result(sig) {
        return;
    }
    let inner = &*body;
    let guarded: Block = if sig.asyncness.is_some() {
        parse_quote!({ crate::guard::catch_async(async #inner).await })
    } else {
        parse_quote!({ crate::guard::catch(|| #inner) })
    };
    *body = guarded;
}
