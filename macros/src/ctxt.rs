//! Collecting every error of one macro call, so users see all their
//! mistakes at once rather than one per build.

use std::fmt::Display;

use proc_macro2::Span;

/// Errors found so far, each with the span it points at.
#[derive(Default)]
pub struct Ctxt {
    errors: Vec<syn::Error>,
}

impl Ctxt {
    /// Records an error at `span`.
    pub fn error(&mut self, span: Span, message: impl Display) {
        self.errors.push(syn::Error::new(span, message));
    }

    /// Records an error that already has its span.
    pub fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// All errors as one, or `Ok` when there were none.
    pub fn finish(self) -> syn::Result<()> {
        let mut errors = self.errors.into_iter();
        match errors.next() {
            None => Ok(()),
            Some(mut first) => {
                first.extend(errors);
                Err(first)
            }
        }
    }

    /// All errors so far and then `last`, which ends the checking, as one.
    pub fn fail(self, last: syn::Error) -> syn::Error {
        let mut errors = self.errors.into_iter();
        match errors.next() {
            None => last,
            Some(mut first) => {
                first.extend(errors);
                first.combine(last);
                first
            }
        }
    }
}
