//! `asm!`: eBPF assembly, assembled and checked at compile time.
//!
//! The input is the text form of `ebpf_skeleton_asm`, written as Rust
//! tokens: one instruction per line (or `;` between them), labels, map
//! names. The tokens are put back into lines of text at their columns, the
//! text is assembled by the same parser as at run time, and each error is
//! reported at the tokens of the line it is about. The expansion is the
//! encoded program and its names, which one runtime function turns into
//! `Instructions`.

use ebpf_skeleton_asm::{Endian, Instructions, ParseError};
use proc_macro2::{Delimiter, Literal, Punct, Spacing, Span, TokenStream, TokenTree};
use quote::quote;

use crate::ctxt::Ctxt;

/// A token's text and where it is: in the source, and in its line's text.
struct Piece {
    text: String,
    span: Span,
    line: usize,
    column: usize,
    end_column: usize,
    /// The byte range of `text` in its line's text.
    range: std::ops::Range<usize>,
}

/// One line of the input, as text.
#[derive(Default)]
struct Line {
    text: String,
    pieces: Vec<Piece>,
}

/// The expansion: an expression of type `Instructions`, or the errors.
pub(crate) fn asm(input: TokenStream) -> TokenStream {
    match assemble(input) {
        Ok(program) => expand(&program),
        // An expression still, so that no type error follows the real ones.
        Err(errors) => {
            let errors = errors.to_compile_error();
            quote!({ #errors ::ebpf_skeleton::asm::Instructions::new() })
        }
    }
}

fn assemble(input: TokenStream) -> syn::Result<Instructions> {
    let mut pieces = Vec::new();
    flatten(input, &mut pieces);
    let lines = lines(pieces);
    let text: Vec<&str> = lines.iter().map(|line| line.text.as_str()).collect();
    Instructions::parse(&text.join("\n")).map_err(|errors| {
        let mut ctxt = Ctxt::default();
        for error in errors.0 {
            ctxt.push(error_at(&lines, &error));
        }
        match ctxt.finish() {
            Err(error) => error,
            Ok(()) => syn::Error::new(Span::call_site(), "asm!: the assembler failed"),
        }
    })
}

/// The leaf tokens of `input`, delimiters included, in order.
fn flatten(input: TokenStream, pieces: &mut Vec<Piece>) {
    for tree in input {
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                push(pieces, open, group.span_open());
                flatten(group.stream(), pieces);
                push(pieces, close, group.span_close());
            }
            TokenTree::Ident(ident) => push(pieces, &ident.to_string(), ident.span()),
            TokenTree::Punct(punct) => push(pieces, &punct.as_char().to_string(), punct.span()),
            TokenTree::Literal(literal) => push(pieces, &literal.to_string(), literal.span()),
        }
    }
}

fn push(pieces: &mut Vec<Piece>, text: &str, span: Span) {
    if text.is_empty() {
        return;
    }
    let (start, end) = (span.start(), span.end());
    pieces.push(Piece {
        text: text.to_owned(),
        span,
        line: start.line,
        column: start.column,
        end_column: if end.line == start.line {
            end.column
        } else {
            start.column + text.chars().count()
        },
        range: 0..0,
    });
}

/// The pieces grouped by source line, each line's text with every piece at
/// its column, so that `s>>=` stays one operator and `r10 - 0x8` keeps its
/// spaces.
fn lines(pieces: Vec<Piece>) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    let mut column = 0;
    for mut piece in pieces {
        let same_line = lines
            .last()
            .and_then(|line| line.pieces.last())
            .is_some_and(|last| last.line == piece.line);
        if !same_line {
            lines.push(Line::default());
            column = piece.column;
        }
        let line = lines.last_mut().expect("a line was pushed");
        if piece.column > column {
            line.text
                .extend(std::iter::repeat_n(' ', piece.column - column));
        } else if piece.column < column && !line.text.is_empty() {
            // Tokens out of order (from another macro): keep them apart.
            line.text.push(' ');
        }
        let start = line.text.len();
        line.text.push_str(&piece.text);
        piece.range = start..line.text.len();
        column = piece.end_column.max(piece.column);
        line.pieces.push(piece);
    }
    lines
}

/// The error at the tokens it is about.
fn error_at(lines: &[Line], error: &ParseError) -> syn::Error {
    let Some(line) = lines.get(error.line - 1) else {
        return syn::Error::new(Span::call_site(), &error.message);
    };
    let columns = &error.columns;
    let touched: Vec<&Piece> = line
        .pieces
        .iter()
        .filter(|p| {
            p.range.start < columns.end.max(columns.start + 1) && p.range.end > columns.start
        })
        .collect();
    let (first, last) = match (touched.first(), touched.last()) {
        (Some(first), Some(last)) => (first.span, last.span),
        // Past the end of the line: its last token.
        _ => match line.pieces.last() {
            Some(piece) => (piece.span, piece.span),
            None => (Span::call_site(), Span::call_site()),
        },
    };
    // Two tokens with the first and last spans make the error cover both.
    let mut ends = TokenStream::new();
    for span in [first, last] {
        let mut punct = Punct::new('*', Spacing::Alone);
        punct.set_span(span);
        ends.extend([TokenTree::Punct(punct)]);
    }
    syn::Error::new_spanned(ends, &error.message)
}

/// The program's little-endian bytes, labels and references, for
/// `__private::assembled`.
fn expand(program: &Instructions) -> TokenStream {
    let code = Literal::byte_string(&program.encode_endian(Endian::Little));
    let labels = program
        .labels()
        .map(|(index, name)| quote!((#index, #name)));
    let references = program
        .references()
        .map(|(index, _, name)| quote!((#index, #name)));
    quote! {
        ::ebpf_skeleton::asm::__private::assembled(
            #code,
            &[#(#labels),*],
            &[#(#references),*],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outside a compiler, proc-macro2's spans carry their real lines and
    /// columns, as they do in a macro with the `span-locations` feature.
    fn text_of(source: &str) -> Vec<String> {
        let mut pieces = Vec::new();
        flatten(source.parse().unwrap(), &mut pieces);
        lines(pieces).into_iter().map(|line| line.text).collect()
    }

    #[test]
    fn tokens_back_into_lines() {
        let source = "
            r1 = *(u32 *)(r10 - 0x4)
            w1 s>>= w2 // a comment
          out:
            if r1 s<= 0x3 goto out; exit
        ";
        assert_eq!(
            text_of(source),
            [
                "r1 = *(u32 *)(r10 - 0x4)",
                "w1 s>>= w2",
                "out:",
                "if r1 s<= 0x3 goto out; exit"
            ]
        );
    }

    #[test]
    fn errors_cover_their_tokens() {
        let source: TokenStream = "r0 = 0\nr1 = frob(r2)\ngoto nowhere".parse().unwrap();
        let error = assemble(source).unwrap_err();
        let messages: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(
            messages,
            [
                "`frob` is not a register, a number or an operation (le16, map(...), ...)",
                "no instruction has the label `nowhere`"
            ]
        );
    }
}
