//! Splitting one line of assembly into tokens, each with its byte range.

use std::ops::Range;

/// A token of the text form.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Tok<'a> {
    /// A mnemonic, register, size, label or map name.
    Ident(&'a str),
    /// An unsigned number, decimal or `0x` hex; signs are separate tokens.
    Num(u64),
    /// An operator or punctuation mark.
    Punct(&'static str),
}

/// A token and where it is in its line.
#[derive(Clone, PartialEq, Eq, Debug)]
pub(crate) struct Token<'a> {
    pub tok: Tok<'a>,
    pub span: Range<usize>,
}

/// Operators, longest first so that the first match is the right one. The
/// signed ones begin with `s`, which is otherwise an identifier.
const PUNCTS: &[&str] = &[
    "s>>=", "<<=", ">>=", "s/=", "s%=", "s>=", "s<=", "s>", "s<", "==", "!=", ">=", "<=", "+=",
    "-=", "*=", "/=", "|=", "&=", "%=", "^=", "=", ">", "<", "&", "*", "(", ")", "[", "]", "+",
    "-", ",", ":", ";",
];

/// A lexing error: what is wrong and where.
pub(crate) type LexError = (String, Range<usize>);

/// The tokens of `line`, up to a `//` or `#` comment.
pub(crate) fn lex(line: &str) -> Result<Vec<Token<'_>>, LexError> {
    let bytes = line.as_bytes();
    let mut tokens = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &line[at..];
        let c = bytes[at];
        if c.is_ascii_whitespace() {
            at += 1;
            continue;
        }
        if rest.starts_with("//") || c == b'#' {
            break;
        }
        let (tok, len) = if c.is_ascii_digit() {
            number(rest).map_err(|msg| (msg, at..at + ident_len(rest)))?
        } else if let Some(punct) = PUNCTS.iter().find(|p| rest.starts_with(**p)) {
            (Tok::Punct(punct), punct.len())
        } else if is_ident_start(c) {
            let len = ident_len(rest);
            (Tok::Ident(&rest[..len]), len)
        } else {
            let ch = rest.chars().next().unwrap_or(' ');
            return Err((
                format!("unexpected character `{ch}`"),
                at..at + ch.len_utf8(),
            ));
        };
        tokens.push(Token {
            tok,
            span: at..at + len,
        });
        at += len;
    }
    Ok(tokens)
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'.'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'.'
}

fn ident_len(text: &str) -> usize {
    text.bytes().take_while(|&c| is_ident_char(c)).count()
}

/// A number at the start of `text`, and its length.
fn number(text: &str) -> Result<(Tok<'_>, usize), String> {
    let word = &text[..ident_len(text)];
    let (digits, radix) = match word.strip_prefix("0x").or_else(|| word.strip_prefix("0X")) {
        Some(hex) => (hex, 16),
        None => (word, 10),
    };
    match u64::from_str_radix(digits, radix) {
        Ok(value) => Ok((Tok::Num(value), word.len())),
        Err(_) if !digits.is_empty() && digits.chars().all(|c| c.is_digit(radix)) => {
            Err(format!("`{word}` does not fit in 64 bits"))
        }
        Err(_) => Err(format!("`{word}` is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(line: &str) -> Vec<Tok<'_>> {
        lex(line).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn signed_operators_are_one_token() {
        assert_eq!(
            toks("w1 s>>= w2"),
            [Tok::Ident("w1"), Tok::Punct("s>>="), Tok::Ident("w2")]
        );
        assert_eq!(
            toks("if r1 s< 0x3 goto s"),
            [
                Tok::Ident("if"),
                Tok::Ident("r1"),
                Tok::Punct("s<"),
                Tok::Num(3),
                Tok::Ident("goto"),
                Tok::Ident("s")
            ]
        );
    }

    #[test]
    fn spans_and_comments() {
        let tokens = lex("r1 = *(u32 *)(r10 - 0x4) // load").unwrap();
        assert_eq!(tokens.len(), 12);
        assert_eq!(
            tokens[10],
            Token {
                tok: Tok::Num(4),
                span: 20..23
            }
        );
        assert!(lex("# only a comment").unwrap().is_empty());
    }

    #[test]
    fn bad_numbers_and_characters() {
        assert_eq!(
            lex("r1 = 0x1g").unwrap_err(),
            ("`0x1g` is not a number".into(), 5..9)
        );
        assert_eq!(
            lex("r1 = 0x10000000000000000").unwrap_err().0,
            "`0x10000000000000000` does not fit in 64 bits"
        );
        assert_eq!(lex("r1 = @").unwrap_err().1, 5..6);
    }
}
