//! Splits a PartiQL statement into tokens, each with its byte span and its
//! 1-based line, column and length in characters, as DynamoDB quotes them
//! back in messages (`at line:column:length`).
//!
//! The whole statement is tokenised before parsing starts, as DynamoDB's
//! front end does: a character it cannot read (`#`, an unterminated comment
//! or string, an exponent beyond 32 bits) is refused with the bare
//! "not well formed" message even when a parse error comes earlier.

use crate::error::DynamoError;

/// The envelope of every syntax error; lexical errors carry nothing after it.
pub const NOT_WELL_FORMED: &str = "Statement wasn't well formed, can't be processed: ";

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `[A-Za-z_][A-Za-z0-9_]*`: names, keywords, function names.
    Ident,
    /// `"..."` (`""` inside stands for one `"`).
    QuotedIdent,
    /// `'...'` (`''` inside stands for one `'`).
    String,
    /// `12`, `1.5`, `.5`, `1.`, `7.31e-6`: unsigned; signs are operators.
    Number,
    /// `?`
    Param,
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    /// `<<`
    LBag,
    /// `>>`
    RBag,
    Comma,
    Dot,
    Colon,
    Semicolon,
    Star,
    /// `@`, PartiQL's lexical-scope operator (never valid for DynamoDB).
    At,
    Eq,
    /// `<>` or `!=`.
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Slash,
    Percent,
    /// `||`
    Concat,
    Eof,
}

/// The words the parser gives a meaning to. Every other SQL-92 or PartiQL
/// reserved word is `Reserved`; a plain name is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    None,
    Reserved,
    Select,
    From,
    Where,
    Insert,
    Into,
    Value,
    Update,
    Delete,
    Set,
    Remove,
    Returning,
    Order,
    By,
    Asc,
    Desc,
    And,
    Or,
    Not,
    Is,
    In,
    Between,
    Like,
    Escape,
    Null,
    Missing,
    True,
    False,
    As,
    At,
    For,
    Exists,
    All,
    Modified,
    Old,
    New,
    Union,
    Except,
    Intersect,
    List,
    Bag,
    /// A reserved word that names a function (`size`, `count`, `upper`...).
    Function,
}

/// One token: its kind, where it sits in the source, and for an unquoted
/// identifier which keyword (if any) it spells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub keyword: Keyword,
    /// Byte span in the statement.
    pub start: usize,
    pub end: usize,
    /// 1-based line and column of the first character.
    pub line: u32,
    pub col: u32,
    /// Length in characters, quotes included.
    pub len: u32,
}

impl Token {
    /// Whether this is the unquoted word `k`.
    pub fn is(&self, k: Keyword) -> bool {
        self.kind == TokenKind::Ident && self.keyword == k
    }
}

fn malformed() -> DynamoError {
    DynamoError::validation(NOT_WELL_FORMED)
}

struct Lexer<'a> {
    src: &'a [u8],
    i: usize,
    line: u32,
    col: u32,
    /// The previous byte was a `\r` (so a `\n` now ends the same line).
    after_cr: bool,
}

impl Lexer<'_> {
    fn peek(&self, ahead: usize) -> u8 {
        self.src.get(self.i + ahead).copied().unwrap_or(0)
    }

    /// Consumes one byte, keeping line and column (in characters) current.
    fn bump(&mut self) {
        let b = self.src[self.i];
        self.i += 1;
        match b {
            b'\n' => {
                if !self.after_cr {
                    self.line += 1;
                }
                self.col = 1;
                self.after_cr = false;
            }
            b'\r' => {
                self.line += 1;
                self.col = 1;
                self.after_cr = true;
            }
            _ => {
                self.after_cr = false;
                // UTF-8 continuation bytes belong to the character before.
                if b & 0xC0 != 0x80 {
                    self.col += 1;
                }
            }
        }
    }

    fn bump_n(&mut self, n: usize) {
        for _ in 0..n {
            self.bump();
        }
    }

    /// Skips whitespace and comments; refuses an unterminated `/*`.
    fn skip_trivia(&mut self) -> Result<(), DynamoError> {
        loop {
            match self.peek(0) {
                b' ' | b'\t' | b'\n' | b'\r' | 0x0B | 0x0C if self.i < self.src.len() => {
                    self.bump()
                }
                b'-' if self.peek(1) == b'-' => {
                    while self.i < self.src.len() && !matches!(self.src[self.i], b'\n' | b'\r') {
                        self.bump();
                    }
                }
                b'/' if self.peek(1) == b'*' => {
                    self.bump_n(2);
                    loop {
                        if self.i >= self.src.len() {
                            return Err(malformed());
                        }
                        if self.src[self.i] == b'*' && self.peek(1) == b'/' {
                            self.bump_n(2);
                            break;
                        }
                        self.bump();
                    }
                }
                _ => return Ok(()),
            }
        }
    }

    /// A quoted name or string; `q` doubled inside stands for itself.
    fn quoted(&mut self, q: u8) -> Result<(), DynamoError> {
        self.bump();
        loop {
            if self.i >= self.src.len() {
                return Err(malformed());
            }
            if self.src[self.i] == q {
                if self.peek(1) == q {
                    self.bump_n(2);
                    continue;
                }
                self.bump();
                return Ok(());
            }
            self.bump();
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek(0).is_ascii_digit() {
            self.bump();
        }
        self.i - start
    }

    /// A number. Like Java's `BigDecimal`, DynamoDB refuses an exponent or a
    /// resulting scale (digits after the point less the exponent) outside
    /// 32 bits, and an `e` with no digits after it.
    fn number(&mut self) -> Result<(), DynamoError> {
        self.digits();
        let mut fraction = 0usize;
        if self.peek(0) == b'.' {
            self.bump();
            fraction = self.digits();
        }
        if matches!(self.peek(0), b'e' | b'E') {
            self.bump();
            let negative = match self.peek(0) {
                b'-' => {
                    self.bump();
                    true
                }
                b'+' => {
                    self.bump();
                    false
                }
                _ => false,
            };
            let start = self.i;
            if self.digits() == 0 {
                return Err(malformed());
            }
            let mut exponent: i64 = 0;
            for &d in &self.src[start..self.i] {
                exponent = exponent
                    .saturating_mul(10)
                    .saturating_add((d - b'0') as i64);
            }
            if negative {
                exponent = -exponent;
            }
            let scale = (fraction as i64).saturating_sub(exponent);
            if i32::try_from(exponent).is_err() || i32::try_from(scale).is_err() {
                return Err(malformed());
            }
        }
        Ok(())
    }

    fn token(&mut self) -> Result<(TokenKind, Keyword), DynamoError> {
        use TokenKind::*;
        let b = self.peek(0);
        let one = |l: &mut Self, k| -> Result<(TokenKind, Keyword), DynamoError> {
            l.bump();
            Ok((k, Keyword::None))
        };
        let two = |l: &mut Self, k| -> Result<(TokenKind, Keyword), DynamoError> {
            l.bump_n(2);
            Ok((k, Keyword::None))
        };
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'_' => {
                let start = self.i;
                while matches!(self.peek(0), b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_') {
                    self.bump();
                }
                Ok((Ident, keyword(&self.src[start..self.i])))
            }
            b'0'..=b'9' => {
                self.number()?;
                Ok((Number, Keyword::None))
            }
            b'.' if self.peek(1).is_ascii_digit() => {
                self.number()?;
                Ok((Number, Keyword::None))
            }
            b'"' => {
                self.quoted(b'"')?;
                Ok((QuotedIdent, Keyword::None))
            }
            b'\'' => {
                self.quoted(b'\'')?;
                Ok((String, Keyword::None))
            }
            b'?' => one(self, Param),
            b'(' => one(self, LParen),
            b')' => one(self, RParen),
            b'[' => one(self, LBracket),
            b']' => one(self, RBracket),
            b'{' => one(self, LBrace),
            b'}' => one(self, RBrace),
            b',' => one(self, Comma),
            b'.' => one(self, Dot),
            b':' => one(self, Colon),
            b';' => one(self, Semicolon),
            b'*' => one(self, Star),
            b'@' => one(self, At),
            b'=' => one(self, Eq),
            b'+' => one(self, Plus),
            b'-' => one(self, Minus),
            b'/' => one(self, Slash),
            b'%' => one(self, Percent),
            b'<' => match self.peek(1) {
                b'<' => two(self, LBag),
                b'=' => two(self, Le),
                b'>' => two(self, Ne),
                _ => one(self, Lt),
            },
            b'>' => match self.peek(1) {
                b'>' => two(self, RBag),
                b'=' => two(self, Ge),
                _ => one(self, Gt),
            },
            b'!' if self.peek(1) == b'=' => two(self, Ne),
            b'|' if self.peek(1) == b'|' => two(self, Concat),
            // `#`, a lone `!` or `|`, backticks, anything non-ASCII...
            _ => Err(malformed()),
        }
    }
}

/// Tokenises `src`; the last token is always `Eof`.
pub fn tokenize(src: &str) -> Result<Vec<Token>, DynamoError> {
    let mut lx = Lexer {
        src: src.as_bytes(),
        i: 0,
        line: 1,
        col: 1,
        after_cr: false,
    };
    let mut out = Vec::with_capacity(src.len() / 4 + 2);
    loop {
        lx.skip_trivia()?;
        let (start, line, col) = (lx.i, lx.line, lx.col);
        if start >= lx.src.len() {
            out.push(Token {
                kind: TokenKind::Eof,
                keyword: Keyword::None,
                start,
                end: start,
                line,
                col,
                len: 0,
            });
            return Ok(out);
        }
        let (kind, keyword) = lx.token()?;
        let text = &lx.src[start..lx.i];
        let len = if text.is_ascii() {
            text.len()
        } else {
            text.iter().filter(|&&b| b & 0xC0 != 0x80).count()
        };
        out.push(Token {
            kind,
            keyword,
            start,
            end: lx.i,
            line,
            col,
            len: len as u32,
        });
    }
}

/// Which keyword an unquoted word spells, case-insensitively. The list is
/// the SQL-92 reserved words plus PartiQL's own, as DynamoDB's front end
/// has them: none of them may be an unquoted attribute name.
fn keyword(word: &[u8]) -> Keyword {
    use Keyword::*;
    let mut buf = [0u8; 20];
    if word.len() > buf.len() {
        return None;
    }
    let lower = &mut buf[..word.len()];
    lower.copy_from_slice(word);
    lower.make_ascii_lowercase();
    match &*lower {
        b"select" => Select,
        b"from" => From,
        b"where" => Where,
        b"insert" => Insert,
        b"into" => Into,
        b"value" => Value,
        b"update" => Update,
        b"delete" => Delete,
        b"set" => Set,
        b"remove" => Remove,
        b"returning" => Returning,
        b"order" => Order,
        b"by" => By,
        b"asc" => Asc,
        b"desc" => Desc,
        b"and" => And,
        b"or" => Or,
        b"not" => Not,
        b"is" => Is,
        b"in" => In,
        b"between" => Between,
        b"like" => Like,
        b"escape" => Escape,
        b"null" => Null,
        b"missing" => Missing,
        b"true" => True,
        b"false" => False,
        b"as" => As,
        b"at" => At,
        b"for" => For,
        b"exists" => Exists,
        b"all" => All,
        b"modified" => Modified,
        b"old" => Old,
        b"new" => New,
        b"union" => Union,
        b"except" => Except,
        b"intersect" => Intersect,
        b"list" => List,
        b"bag" => Bag,
        b"count" | b"avg" | b"max" | b"min" | b"sum" | b"substring" | b"char_length"
        | b"character_length" | b"octet_length" | b"bit_length" | b"upper" | b"lower"
        | b"size" | b"sexp" => Function,
        // The rest of SQL-92's reserved words.
        b"absolute" | b"action" | b"add" | b"allocate" | b"alter" | b"any" | b"are"
        | b"assertion" | b"authorization" | b"begin" | b"bit" | b"cascade" | b"cascaded"
        | b"case" | b"cast" | b"catalog" | b"char" | b"character" | b"check" | b"close"
        | b"coalesce" | b"collate" | b"collation" | b"column" | b"commit" | b"connect"
        | b"connection" | b"constraint" | b"constraints" | b"continue" | b"convert"
        | b"corresponding" | b"create" | b"cross" | b"current" | b"current_date"
        | b"current_time" | b"current_timestamp" | b"current_user" | b"cursor" | b"date"
        | b"deallocate" | b"dec" | b"decimal" | b"declare" | b"default" | b"deferrable"
        | b"deferred" | b"describe" | b"descriptor" | b"diagnostics" | b"disconnect"
        | b"distinct" | b"domain" | b"double" | b"drop" | b"else" | b"end" | b"exception"
        | b"exec" | b"execute" | b"external" | b"extract" | b"date_add" | b"date_diff"
        | b"fetch" | b"first" | b"float" | b"foreign" | b"found" | b"full" | b"get"
        | b"global" | b"go" | b"goto" | b"grant" | b"group" | b"having" | b"identity"
        | b"immediate" | b"indicator" | b"initially" | b"inner" | b"input" | b"insensitive"
        | b"int" | b"integer" | b"interval" | b"isolation" | b"join" | b"key" | b"language"
        | b"last" | b"left" | b"level" | b"local" | b"match" | b"module" | b"names"
        | b"national" | b"natural" | b"nchar" | b"next" | b"no" | b"nullif" | b"numeric"
        | b"of" | b"on" | b"only" | b"open" | b"option" | b"outer" | b"output"
        | b"overlaps" | b"pad" | b"partial" | b"position" | b"precision" | b"prepare"
        | b"preserve" | b"primary" | b"prior" | b"privileges" | b"procedure" | b"public"
        | b"read" | b"real" | b"references" | b"relative" | b"restrict" | b"revoke"
        | b"right" | b"rollback" | b"rows" | b"schema" | b"scroll" | b"section"
        | b"session" | b"session_user" | b"smallint" | b"some" | b"space" | b"sql"
        | b"sqlcode" | b"sqlerror" | b"sqlstate" | b"system_user" | b"table"
        | b"temporary" | b"then" | b"time" | b"timestamp" | b"to" | b"transaction"
        | b"translate" | b"translation" | b"trim" | b"unique" | b"unknown" | b"usage"
        | b"user" | b"using" | b"values" | b"varchar" | b"varying" | b"view" | b"when"
        | b"whenever" | b"with" | b"work" | b"write" | b"zone"
        // PartiQL's additions.
        | b"can_cast" | b"can_lossless_cast" | b"pivot" | b"unpivot" | b"limit"
        | b"offset" | b"tuple" | b"index" | b"let" | b"integer2" | b"int2" | b"integer4"
        | b"int4" | b"integer8" | b"int8" | b"bigint" | b"conflict" | b"do" | b"nothing"
        | b"bool" | b"boolean" | b"string" | b"symbol" | b"clob" | b"blob" | b"struct" => {
            Reserved
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        tokenize(src).unwrap().iter().map(|t| t.kind).collect()
    }

    #[test]
    fn operators_and_bags() {
        use TokenKind::*;
        assert_eq!(
            kinds("a<>b != <<1>> <= >= < > || n=n-1"),
            vec![
                Ident, Ne, Ident, Ne, LBag, Number, RBag, Le, Ge, Lt, Gt, Concat, Ident, Eq, Ident,
                Minus, Number, Eof
            ]
        );
        // `--` starts a comment even with no space before it.
        assert_eq!(kinds("n--1"), vec![Ident, Eof]);
        assert_eq!(
            kinds("a /* x */ b -- y\n c"),
            vec![Ident, Ident, Ident, Eof]
        );
    }

    #[test]
    fn numbers() {
        use TokenKind::*;
        for n in [
            "1",
            "1.5",
            ".5",
            "1.",
            "1e5",
            "1E+5",
            "7.31e-6",
            "731e4",
            "1e2147483647",
        ] {
            assert_eq!(kinds(n), vec![Number, Eof], "{n}");
        }
        assert_eq!(kinds("1 e5"), vec![Number, Ident, Eof]);
        for bad in [
            "1e",
            "1e+",
            "1ex",
            "1e2147483648",
            "1e99999999999",
            "1.5e-2147483647",
        ] {
            assert_eq!(tokenize(bad).unwrap_err().message, NOT_WELL_FORMED, "{bad}");
        }
    }

    #[test]
    fn refusals_are_bare() {
        for bad in [
            "a # b", "/* open", "'open", "\"open", "a ! b", "a | b", "`x`", "é", "a ^ b",
        ] {
            assert_eq!(tokenize(bad).unwrap_err().message, NOT_WELL_FORMED, "{bad}");
        }
        // ... but not inside strings, quoted names or comments.
        assert!(tokenize("'#é--/*' \"#\" -- #é\n/* # */").is_ok());
    }

    #[test]
    fn positions_count_characters_and_lines() {
        let t = tokenize("'é' x\r\n  \"ab\"\ry\n\nz").unwrap();
        let at: Vec<_> = t.iter().map(|t| (t.line, t.col, t.len)).collect();
        assert_eq!(
            at,
            vec![
                (1, 1, 3),
                (1, 5, 1),
                (2, 3, 4),
                (3, 1, 1),
                (5, 1, 1),
                (5, 2, 0)
            ]
        );
    }

    #[test]
    fn keywords_any_case() {
        let t = tokenize("SeLeCt value Inner name size").unwrap();
        assert_eq!(t[0].keyword, Keyword::Select);
        assert_eq!(t[1].keyword, Keyword::Value);
        assert_eq!(t[2].keyword, Keyword::Reserved);
        assert_eq!(t[3].keyword, Keyword::None);
        assert_eq!(t[4].keyword, Keyword::Function);
    }
}
