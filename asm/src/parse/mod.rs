//! The assembler: the text form back into [`Instructions`], with every
//! error in the text reported at once, by line and column.
//!
//! A line holds labels (`name:`) and at most one instruction; `;` separates
//! more statements on one line, `//` and `#` start a comment.

mod grammar;
mod lex;

use std::collections::HashMap;
use std::fmt;
use std::ops::Range;

use crate::builder::{is_name, BuildErrorKind, Builder, Item};
use crate::display::write_lines;
use crate::helper::Helper;
use crate::instructions::Instructions;
use crate::op::{Call, Op};
use lex::{Tok, Token};

/// A mistake in assembly text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// The line, counting from 1.
    pub line: usize,
    /// The byte range in the line the error is about.
    pub columns: Range<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line,
            self.columns.start + 1,
            self.message
        )
    }
}

/// Every mistake in a text, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseErrors(pub Vec<ParseError>);

impl fmt::Display for ParseErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_lines(f, &self.0)
    }
}

impl std::error::Error for ParseErrors {}

/// Where an item came from, to place the errors about it.
struct Origin {
    line: usize,
    span: Range<usize>,
    reference: Option<Range<usize>>,
    /// The item stands in for an instruction that did not parse.
    placeholder: bool,
    maybe_helper: bool,
}

#[derive(Default)]
struct Assembler {
    builder: Builder,
    origins: Vec<Origin>,
    /// Each label's item index, line and span, in order of definition.
    labels: HashMap<String, (usize, usize, Range<usize>)>,
    errors: Vec<ParseError>,
}

/// Assembles `text`.
pub(crate) fn parse(text: &str) -> Result<Instructions, ParseErrors> {
    let mut asm = Assembler::default();
    for (index, line) in text.lines().enumerate() {
        asm.line(index + 1, line);
    }
    asm.finish()
}

impl Assembler {
    fn error(&mut self, line: usize, columns: Range<usize>, message: impl Into<String>) {
        self.errors.push(ParseError {
            line,
            columns,
            message: message.into(),
        });
    }

    fn line(&mut self, line: usize, text: &str) {
        let tokens = match lex::lex(text) {
            Ok(tokens) => tokens,
            Err((message, columns)) => return self.error(line, columns, message),
        };
        for statement in tokens.split(|t| t.tok == Tok::Punct(";")) {
            self.statement(line, statement);
        }
    }

    fn statement(&mut self, line: usize, mut tokens: &[Token<'_>]) {
        while let [Token {
            tok: Tok::Ident(name),
            span,
        }, Token {
            tok: Tok::Punct(":"),
            ..
        }, rest @ ..] = tokens
        {
            self.label(line, name, span.clone());
            tokens = rest;
        }
        let (Some(first), Some(last)) = (tokens.first(), tokens.last()) else {
            return;
        };
        let span = first.span.start..last.span.end;
        let (item, reference, placeholder, maybe_helper) =
            match grammar::instruction(tokens, span.end) {
                Ok(parsed) => (
                    parsed.item,
                    parsed.reference_span,
                    false,
                    parsed.maybe_helper,
                ),
                Err((message, columns)) => {
                    self.error(line, columns, message);
                    // Keeps the item indices of the labels that follow.
                    (Item::new(Op::Exit), None, true, false)
                }
            };
        self.builder.push(item);
        self.origins.push(Origin {
            line,
            span,
            reference,
            placeholder,
            maybe_helper,
        });
    }

    fn label(&mut self, line: usize, name: &str, span: Range<usize>) {
        if !is_name(name) {
            let message = BuildErrorKind::BadName(name.to_owned()).to_string();
            return self.error(line, span, message);
        }
        if self.labels.contains_key(name) {
            let message = BuildErrorKind::DuplicateLabel(name.to_owned()).to_string();
            return self.error(line, span, message);
        }
        let index = self.origins.len();
        self.labels.insert(name.to_owned(), (index, line, span));
        self.builder.label(name);
    }

    /// Turns `call name` into a helper call where no label has the name,
    /// checks labels and builds.
    fn finish(mut self) -> Result<Instructions, ParseErrors> {
        let end = self.origins.len();
        let mut at_end: Vec<_> = self
            .labels
            .iter()
            .filter(|(_, (index, _, _))| *index == end)
            .map(|(name, (_, line, span))| (name.clone(), *line, span.clone()))
            .collect();
        at_end.sort_by_key(|(_, line, span)| (*line, span.start));
        for (name, line, span) in at_end {
            let message = BuildErrorKind::LabelAtEnd(name).to_string();
            self.error(line, span, message);
        }
        for (index, helper) in self.helper_calls() {
            self.builder.replace(index, helper.call());
        }
        match self.builder.build() {
            Ok(instructions) if self.errors.is_empty() => return Ok(instructions),
            Ok(_) => {}
            Err(errors) => {
                for error in errors.0 {
                    self.build_error(error.index, error.kind);
                }
            }
        }
        self.errors
            .sort_by_key(|e| (e.line, e.columns.start, e.columns.end));
        self.errors.dedup();
        Err(ParseErrors(self.errors))
    }

    /// The items that are `call bpf_name` of a helper, with no label of
    /// that name in the program.
    fn helper_calls(&self) -> HashMap<usize, Helper> {
        let mut helpers = HashMap::new();
        for (index, item) in self.builder.items().iter().enumerate() {
            let Some(name) = item.reference() else {
                continue;
            };
            if !self.origins[index].maybe_helper || self.labels.contains_key(name) {
                continue;
            }
            if let Some(helper) = name.strip_prefix("bpf_").and_then(Helper::from_name) {
                helpers.insert(index, helper);
            }
        }
        helpers
    }

    fn build_error(&mut self, index: usize, kind: BuildErrorKind) {
        let Some(origin) = self.origins.get(index) else {
            return;
        };
        if origin.placeholder || matches!(kind, BuildErrorKind::LabelAtEnd(_)) {
            return;
        }
        let (line, span) = match (&kind, &origin.reference) {
            (
                BuildErrorKind::MissingLabel(_)
                | BuildErrorKind::OutOfRange { .. }
                | BuildErrorKind::BadName(_),
                Some(reference),
            ) => (origin.line, reference.clone()),
            _ => (origin.line, origin.span.clone()),
        };
        let mut message = kind.to_string();
        if let BuildErrorKind::MissingLabel(name) = &kind {
            let is_call = matches!(self.builder.items()[index].op(), Op::Call(Call::Local(_)));
            if is_call && Helper::from_name(name).is_some() {
                message = format!("{message}; to call the helper, write `call bpf_{name}`");
            } else if is_call {
                message = format!("no subprogram label or helper is named `{name}`");
            }
        }
        self.error(line, span, message);
    }
}
