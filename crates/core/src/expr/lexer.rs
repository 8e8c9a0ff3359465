//! Splits an expression into tokens, each with its byte span, so syntax
//! errors can quote the offending token and its neighbours as DynamoDB does.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `[A-Za-z_][A-Za-z0-9_]*`: names, keywords and function names.
    Ident,
    /// `#...`: an expression attribute name.
    NamePlaceholder,
    /// `:...`: an expression attribute value.
    ValuePlaceholder,
    /// `[0-9]+`: list indexes.
    Number,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    /// Any character the grammar has no use for.
    Unknown,
    Eof,
}

/// One token: its kind and where it sits in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

fn is_ident_part(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Tokenises `src`; the last token is always `Eof`.
pub fn tokenize(src: &str) -> Vec<Token> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b' ' || b == b'\t' || b == b'\r' || b == b'\n' {
            i += 1;
            continue;
        }
        let start = i;
        let kind = if b.is_ascii_alphabetic() || b == b'_' {
            while i < bytes.len() && is_ident_part(bytes[i]) {
                i += 1;
            }
            TokenKind::Ident
        } else if b == b'#' || b == b':' {
            i += 1;
            while i < bytes.len() && is_ident_part(bytes[i]) {
                i += 1;
            }
            if b == b'#' {
                TokenKind::NamePlaceholder
            } else {
                TokenKind::ValuePlaceholder
            }
        } else if b.is_ascii_digit() {
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            TokenKind::Number
        } else {
            let next = bytes.get(i + 1).copied();
            let (kind, len) = match (b, next) {
                (b'<', Some(b'>')) => (TokenKind::Ne, 2),
                (b'<', Some(b'=')) => (TokenKind::Le, 2),
                (b'>', Some(b'=')) => (TokenKind::Ge, 2),
                (b'<', _) => (TokenKind::Lt, 1),
                (b'>', _) => (TokenKind::Gt, 1),
                (b'=', _) => (TokenKind::Eq, 1),
                (b'(', _) => (TokenKind::LParen, 1),
                (b')', _) => (TokenKind::RParen, 1),
                (b'[', _) => (TokenKind::LBracket, 1),
                (b']', _) => (TokenKind::RBracket, 1),
                (b',', _) => (TokenKind::Comma, 1),
                (b'.', _) => (TokenKind::Dot, 1),
                (b'+', _) => (TokenKind::Plus, 1),
                (b'-', _) => (TokenKind::Minus, 1),
                _ => {
                    // One whole character, however many bytes it takes.
                    let ch_len = src[i..].chars().next().map_or(1, char::len_utf8);
                    (TokenKind::Unknown, ch_len)
                }
            };
            i += len;
            kind
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out.push(Token {
        kind: TokenKind::Eof,
        start: src.len(),
        end: src.len(),
    });
    out
}

/// DynamoDB's syntax-error text for the token at `idx`:
/// `Syntax error; token: "x", near: "prev x next"` — `near` runs in the
/// source from the previous token's start to the next token's end.
pub fn syntax_error_message(src: &str, tokens: &[Token], idx: usize) -> String {
    let tok = tokens[idx];
    let text = if tok.kind == TokenKind::Eof {
        "<EOF>"
    } else {
        &src[tok.start..tok.end]
    };
    let from = if idx > 0 {
        tokens[idx - 1].start
    } else {
        tok.start
    };
    let to = match tokens.get(idx + 1) {
        Some(next) if next.kind != TokenKind::Eof => next.end,
        _ => tok.end,
    };
    format!(
        "Syntax error; token: \"{text}\", near: \"{}\"",
        &src[from..to]
    )
}
