//! Recursive-descent parser from tokens to a [`Statement`], shaped after
//! the PartiQL reference parser DynamoDB runs (a Pratt loop for operators,
//! the same precedences and the same words for syntax errors), followed by
//! the checks DynamoDB makes on the parsed tree before binding (aliases,
//! FROM paths, projections, RETURNING clauses).
//!
//! Errors come in DynamoDB's order: a lexical error, then the first syntax
//! error, then a leftover token, and only once the whole statement has
//! parsed, the first structural refusal (recorded as `deferred` on the way).
//!
//! Signs written before a number are folded into its text (`- -1` is the
//! literal `1`, `-.5` the literal `-.5`), as DynamoDB folds them; a sign
//! before anything else (`-n`, `-?`) is refused here, so `Expr::Neg` never
//! comes out of the parser.

// Functions every level of nesting passes through match on results where
// `?` would do: in an unoptimised build each `?` gives its frame several
// copies of the result, and those frames are paid once per level.
#![allow(clippy::question_mark)]

use super::ast::*;
use super::lexer::{tokenize, Keyword as K, Token, TokenKind as T, NOT_WELL_FORMED};
use crate::error::DynamoError;

/// A parsed statement and the number of `?` placeholders it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub statement: Statement,
    /// number of `?` placeholders
    pub params: usize,
}

/// Why a statement was refused. DynamoDB checks a SELECT's projection only
/// after the index it reads: a statement on an index with multi-attribute
/// keys is refused for that first, whatever its projection. `after_index`
/// names that source when the refusal is a projection's.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub error: DynamoError,
    pub after_index: Option<Source>,
}

/// Parses one statement (an optional trailing `;` aside).
pub fn parse(text: &str) -> Result<Parsed, DynamoError> {
    parse_detailed(text).map_err(|r| r.error)
}

/// [`parse`], saying which refusals wait for the index's check.
pub fn parse_detailed(text: &str) -> Result<Parsed, Box<Refused>> {
    let refused = |error| {
        Box::new(Refused {
            error,
            after_index: None,
        })
    };
    let tokens = tokenize(text).map_err(refused)?;
    let mut p = Parser {
        src: text,
        toks: &tokens,
        i: 0,
        params: 0,
        deferred: None,
        projection_first: false,
        ctx: Ctx::Other,
        kind: "",
        segs: Vec::new(),
        seg_base: 0,
        item_literal: false,
        depth: 0,
    };
    let statement = p.statement().map_err(refused)?;
    p.expect_end().map_err(refused)?;
    match statement {
        Some(statement) => match p.deferred {
            Some(error) => Err(Box::new(Refused {
                error,
                after_index: match statement {
                    Statement::Select(s) | Statement::Exists(s) if p.projection_first => {
                        Some(s.from)
                    }
                    _ => None,
                },
            })),
            None => Ok(Parsed {
                statement,
                params: p.params,
            }),
        },
        // An expression that is not a statement parses, then is refused by
        // the kind of its outermost node.
        None => Err(refused(invalid(format!(
            "Unsupported operation: {}",
            p.kind
        )))),
    }
}

fn invalid(message: impl Into<String>) -> DynamoError {
    DynamoError::validation(message)
}

/// A syntax error: DynamoDB's envelope around the reference parser's words.
fn malformed(detail: &str) -> DynamoError {
    invalid(format!("{NOT_WELL_FORMED}{detail}"))
}

/// [`malformed`] as a result, made out of line: functions every level of
/// nesting passes through keep its temporaries off their frames.
fn refuse<T>(detail: &str) -> Result<T, DynamoError> {
    Err(malformed(detail))
}

/// Nesting past [`MAX_NESTING`]: a syntax error without words.
fn too_deep<T>() -> Result<T, DynamoError> {
    refuse("")
}

const UNEXPECTED_TERM: &str = "Unexpected term";
const UNEXPECTED_KEYWORD: &str = "Unexpected keyword";
const UNEXPECTED_OPERATOR: &str = "Unexpected operator";
const SIMPLE_PATH: &str = "Expected identifier for simple path";
const DATA_MANIPULATION: &str = "Expected data manipulation";
const RIGHT_PAREN: &str = "Expected RIGHT_PAREN";
const ALIASING: &str = "Aliasing is not supported";

/// The clause an expression sits in, which decides how DynamoDB words its
/// refusal of an operator it has no use for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ctx {
    Condition,
    Update,
    Projection,
    Other,
}

/// One step from a literal's root value down to where the parser is, for
/// messages that say `under root.k[1]`.
#[derive(Debug, Clone, Copy)]
enum Seg {
    /// A map member, by the index of its key's token.
    Key(usize),
    Index(usize),
}

/// Infix operators, as the reference parser ranks them.
#[derive(Debug, Clone, Copy)]
enum Infix {
    Binary(BinaryOp),
    /// An operator DynamoDB parses but never evaluates: its symbol and the
    /// name of the node it makes.
    Unsupported(&'static str, &'static str),
    Is {
        negated: bool,
    },
    In {
        negated: bool,
    },
    Between {
        negated: bool,
    },
    Like {
        negated: bool,
    },
}

const OR: u8 = 10;
const AND: u8 = 20;
const NOT: u8 = 30;
const EQUITY: u8 = 40;
const COMPARISON: u8 = 50;
const ADDITION: u8 = 60;
const MULTIPLY: u8 = 70;

/// The type names `IS` accepts (all of them reserved words), besides
/// MISSING, NULL and the two-word ones.
const TYPE_NAMES: &[&str] = &[
    "bool",
    "boolean",
    "smallint",
    "int2",
    "integer2",
    "int4",
    "integer4",
    "int8",
    "integer8",
    "bigint",
    "int",
    "integer",
    "float",
    "real",
    "decimal",
    "dec",
    "numeric",
    "timestamp",
    "date",
    "time",
    "char",
    "character",
    "varchar",
    "string",
    "symbol",
    "clob",
    "blob",
    "struct",
    "tuple",
    "list",
    "sexp",
    "bag",
    "any",
];

/// Type names that may carry `(precision[, scale])`.
const SIZED_TYPES: &[&str] = &[
    "float",
    "decimal",
    "dec",
    "numeric",
    "char",
    "character",
    "varchar",
    "time",
];

const AGGREGATES: &[&str] = &["count", "avg", "max", "min", "sum"];

/// Deepest nesting of terms the parser follows (an IN's parenthesised
/// list counts as one, as a bracketed one does). Binding refuses literals
/// nested past 32 levels with DynamoDB's own message; this only keeps an
/// absurd statement (`[[[[...`) from exhausting the stack: at most about
/// 6 KB a level in a debug build, so the deepest statement of any shape
/// parses in under 600 KB of a worker's 2 MiB. A run of operators on
/// operators' results (`a = 1 = 1 ...`) shares the budget, one level per
/// operator after the first, so the tree is never deeper than a small
/// multiple of this: every recursive walk over a statement (binding, the
/// engine's planning, `Drop`, `Clone`, `Debug`) is bounded by it.
const MAX_NESTING: usize = 100;

struct Parser<'a> {
    src: &'a str,
    toks: &'a [Token],
    i: usize,
    params: usize,
    /// The first structural refusal, reported if the statement parses.
    deferred: Option<DynamoError>,
    /// Whether `deferred` refuses a SELECT's projection.
    projection_first: bool,
    ctx: Ctx,
    /// The node kind (in the reference parser's names) of the expression
    /// built last, which is the outermost one when parsing returns.
    kind: &'static str,
    segs: Vec<Seg>,
    /// Where the current literal's own path starts in `segs`.
    seg_base: usize,
    /// The next term is an INSERT item, whose members are each a root.
    item_literal: bool,
    /// How many terms the parser is inside of.
    depth: usize,
}

impl Parser<'_> {
    // ---------------------------------------------------------- tokens --

    fn tok(&self) -> Token {
        self.toks[self.i]
    }

    fn peek(&self, ahead: usize) -> Token {
        self.toks[(self.i + ahead).min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.i];
        if t.kind != T::Eof {
            self.i += 1;
        }
        t
    }

    fn text(&self, t: Token) -> &str {
        &self.src[t.start..t.end]
    }

    /// A quoted name or string without its quotes, doubled quotes undone.
    fn unquote(&self, t: Token) -> String {
        let inner = &self.src[t.start + 1..t.end - 1];
        match t.kind {
            T::QuotedIdent if inner.contains('"') => inner.replace("\"\"", "\""),
            T::String if inner.contains('\'') => inner.replace("''", "'"),
            _ => inner.to_string(),
        }
    }

    /// A name as the statement means it: quoted or not, never a keyword.
    fn is_name(t: Token) -> bool {
        t.kind == T::QuotedIdent || (t.kind == T::Ident && t.keyword == K::None)
    }

    fn name(&self, t: Token) -> String {
        match t.kind {
            T::QuotedIdent => self.unquote(t),
            _ => self.text(t).to_string(),
        }
    }

    /// An attribute or member name; DynamoDB refuses an empty one.
    fn member(&mut self, name: String) -> String {
        if name.is_empty() {
            self.defer(invalid("Path component cannot be an empty string"));
        }
        name
    }

    fn pos(t: Token) -> Pos {
        Pos {
            line: t.line,
            col: t.col,
            len: t.len,
        }
    }

    fn defer(&mut self, e: DynamoError) {
        if self.deferred.is_none() {
            self.deferred = Some(e);
            self.projection_first = self.ctx == Ctx::Projection;
        }
    }

    /// Nothing left but an optional `;`.
    fn only_end(&self) -> bool {
        let t = self.tok();
        t.kind == T::Eof || (t.kind == T::Semicolon && self.peek(1).kind == T::Eof)
    }

    fn expect(&mut self, kind: T, message: &str) -> Result<Token, DynamoError> {
        if self.tok().kind != kind {
            return Err(malformed(message));
        }
        Ok(self.bump())
    }

    fn expect_end(&self) -> Result<(), DynamoError> {
        match self.tok().kind {
            T::Eof => Ok(()),
            T::Semicolon if self.peek(1).kind == T::Eof => Ok(()),
            T::Semicolon => Err(malformed(
                "Unexpected token after semicolon. (Only one query is allowed.)",
            )),
            _ => Err(malformed("Unexpected token after expression")),
        }
    }

    // ------------------------------------------------------ statements --

    /// `None` for an expression that is not a statement.
    fn statement(&mut self) -> Result<Option<Statement>, DynamoError> {
        let t = self.tok();
        if t.kind == T::Ident {
            match t.keyword {
                K::Select => {
                    self.bump();
                    return Ok(Some(Statement::Select(self.select()?)));
                }
                K::Insert if self.peek(1).is(K::Into) => {
                    self.bump();
                    self.bump();
                    return Ok(Some(Statement::Insert(self.insert()?)));
                }
                K::Update => {
                    self.bump();
                    return Ok(Some(Statement::Update(self.update()?)));
                }
                K::Delete => {
                    self.bump();
                    return Ok(Some(Statement::Delete(self.delete()?)));
                }
                K::From => {
                    self.bump();
                    return Ok(Some(Statement::Update(self.update_from_first()?)));
                }
                K::Exists if self.peek(1).kind == T::LParen && self.peek(2).is(K::Select) => {
                    self.bump();
                    self.bump();
                    self.bump();
                    let select = self.select()?;
                    self.expect(T::RParen, RIGHT_PAREN)?;
                    return Ok(Some(Statement::Exists(select)));
                }
                K::Set | K::Remove => return Err(malformed(DATA_MANIPULATION)),
                _ => {}
            }
        }
        self.ctx = Ctx::Other;
        self.expr(0)?;
        Ok(None)
    }

    fn select(&mut self) -> Result<Select, DynamoError> {
        let projection = if self.tok().is(K::Value) {
            self.bump();
            self.ctx = Ctx::Other;
            self.expr(0)?;
            self.defer(invalid(
                "Select projection doesn't support value or pivot keywords",
            ));
            Projection::All
        } else {
            let projection = self.projection()?;
            self.ctx = Ctx::Other;
            projection
        };
        if !self.tok().is(K::From) {
            return Err(malformed("Expected FROM after SELECT list"));
        }
        self.bump();
        let from = self.source(false, false)?;
        self.aliases()?;
        while self.tok().kind == T::Comma {
            // An implicit join, which DynamoDB reads and then refuses.
            self.bump();
            self.source(false, false)?;
            self.aliases()?;
            self.defer(invalid(
                "Only select from a single table or index is supported.",
            ));
        }
        let filter = self.where_clause()?;
        let mut order_by = Vec::new();
        if self.tok().is(K::Order) {
            self.bump();
            if !self.tok().is(K::By) {
                return Err(malformed("Expected BY"));
            }
            self.bump();
            loop {
                self.ctx = Ctx::Other;
                let key = self.expr(0)?;
                let pos = key.pos();
                let name = match key {
                    Expr::Path(p) if p.steps.is_empty() => p.root,
                    _ => {
                        self.defer(invalid(format!("Unexpected path component at {pos}")));
                        String::new()
                    }
                };
                let descending = if self.tok().is(K::Desc) {
                    self.bump();
                    true
                } else {
                    if self.tok().is(K::Asc) {
                        self.bump();
                    }
                    false
                };
                order_by.push(OrderBy {
                    name,
                    descending,
                    pos,
                });
                if self.tok().kind != T::Comma {
                    break;
                }
                self.bump();
            }
            if filter.is_none() {
                self.defer(invalid(
                    "Must have WHERE clause in the statement when using ORDER BY clause.",
                ));
            }
        }
        Ok(Select {
            projection,
            from,
            filter,
            order_by,
        })
    }

    /// `*`, or paths separated by commas. DynamoDB refuses anything else
    /// (a function, a literal, an alias) once the statement has parsed.
    fn projection(&mut self) -> Result<Projection, DynamoError> {
        let mut star = false;
        let mut items = 0;
        let mut paths = Vec::new();
        loop {
            items += 1;
            if self.tok().kind == T::Star {
                self.bump();
                star = true;
            } else {
                self.ctx = Ctx::Projection;
                let item = self.expr(0)?;
                if self.alias()? {
                    self.defer(invalid(ALIASING));
                }
                match item {
                    Expr::Path(p) => paths.push(p),
                    other => {
                        let pos = other.pos();
                        self.defer(invalid(format!("Unexpected path component at {pos}")));
                    }
                }
            }
            if self.tok().kind != T::Comma {
                break;
            }
            self.bump();
        }
        if star && items > 1 {
            return Err(malformed(
                "Other expressions may not be present in the select list when '*' is used without dot notation.",
            ));
        }
        Ok(if star {
            Projection::All
        } else {
            Projection::Paths(paths)
        })
    }

    fn insert(&mut self) -> Result<Insert, DynamoError> {
        let table = self.source(true, true)?;
        self.ctx = Ctx::Update;
        if !self.tok().is(K::Value) {
            // `INSERT INTO t <<...>>`: PartiQL's many-row form.
            let value = self.expr(0)?;
            self.defer(invalid(
                "Unsupported operation: Inserting multiple items in a single statement is not supported, use \"INSERT INTO tableName VALUE item\" instead",
            ));
            return Ok(Insert { table, value });
        }
        self.bump();
        self.item_literal = true;
        let value = self.expr(0)?;
        self.item_literal = false;
        if self.returning()?.is_some() {
            self.defer(invalid("RETURNING is not supported in INSERT"));
        }
        Ok(Insert { table, value })
    }

    fn update(&mut self) -> Result<Update, DynamoError> {
        let table = self.source(true, false)?;
        self.aliases()?;
        let actions = self.update_actions()?;
        let filter = self.where_clause()?;
        let returning = self.returning()?;
        Ok(Update {
            table,
            actions,
            filter,
            returning,
        })
    }

    /// `FROM t [WHERE c] SET ... | REMOVE ...`: an UPDATE written the other
    /// way round.
    fn update_from_first(&mut self) -> Result<Update, DynamoError> {
        let table = self.source(false, false)?;
        self.aliases()?;
        let filter = self.where_clause()?;
        let actions = self.update_actions()?;
        let returning = self.returning()?;
        Ok(Update {
            table,
            actions,
            filter,
            returning,
        })
    }

    fn delete(&mut self) -> Result<Delete, DynamoError> {
        if !self.tok().is(K::From) {
            return Err(malformed("Expected FROM after DELETE"));
        }
        self.bump();
        let table = self.source(true, false)?;
        self.aliases()?;
        let filter = self.where_clause()?;
        let returning = self.returning()?;
        if let Some(r) = returning {
            if r != Returning::AllOld {
                self.defer(invalid(format!(
                    "Invalid returning clause: {}. Only RETURNING ALL OLD * is allowed in DELETE statements.",
                    r.text()
                )));
            }
        }
        Ok(Delete {
            table,
            filter,
            returning,
        })
    }

    /// One or more `SET path = v, ...` and `REMOVE path, ...` clauses.
    fn update_actions(&mut self) -> Result<Vec<UpdateAction>, DynamoError> {
        let mut actions = Vec::new();
        loop {
            let t = self.tok();
            if t.is(K::Set) {
                self.bump();
                loop {
                    let target = self.simple_path()?;
                    self.expect(T::Eq, "Expected '='")?;
                    self.ctx = Ctx::Update;
                    let value = self.expr(0)?;
                    actions.push(UpdateAction::Set(target, value));
                    if self.tok().kind != T::Comma {
                        break;
                    }
                    self.bump();
                }
            } else if t.is(K::Remove) {
                self.bump();
                loop {
                    actions.push(UpdateAction::Remove(self.simple_path()?));
                    if self.tok().kind != T::Comma {
                        break;
                    }
                    self.bump();
                }
            } else {
                break;
            }
        }
        if actions.is_empty() {
            return Err(malformed(DATA_MANIPULATION));
        }
        Ok(actions)
    }

    fn where_clause(&mut self) -> Result<Option<Expr>, DynamoError> {
        if !self.tok().is(K::Where) {
            return Ok(None);
        }
        self.bump();
        self.ctx = Ctx::Condition;
        Ok(Some(self.expr(0)?))
    }

    /// `RETURNING (ALL|MODIFIED) (OLD|NEW) *`; the first element when
    /// several are written (which DynamoDB refuses).
    fn returning(&mut self) -> Result<Option<Returning>, DynamoError> {
        if !self.tok().is(K::Returning) {
            return Ok(None);
        }
        self.bump();
        let mut first = None;
        let mut elements = 0;
        loop {
            let (a, b) = (self.tok(), self.peek(1));
            let r = match (a.kind, a.keyword, b.kind, b.keyword) {
                (T::Ident, K::All, T::Ident, K::Old) => Returning::AllOld,
                (T::Ident, K::All, T::Ident, K::New) => Returning::AllNew,
                (T::Ident, K::Modified, T::Ident, K::Old) => Returning::ModifiedOld,
                (T::Ident, K::Modified, T::Ident, K::New) => Returning::ModifiedNew,
                _ => {
                    return Err(malformed(
                        "Expected ( MODIFIED | ALL ) ( NEW | OLD ) in each returning element.",
                    ))
                }
            };
            self.bump();
            self.bump();
            if self.tok().kind == T::Star {
                self.bump();
            } else {
                self.ctx = Ctx::Other;
                self.expr(0)?;
                self.defer(invalid(
                    "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause",
                ));
            }
            elements += 1;
            first.get_or_insert(r);
            if self.tok().kind != T::Comma {
                break;
            }
            self.bump();
        }
        if elements > 1 {
            self.defer(invalid(
                "Invalid syntax with multiple returning elements in RETURNING clause",
            ));
        }
        Ok(first)
    }

    /// `"table"` or `"table"."index"`. `simple` for the DML forms, which
    /// want a name where SELECT and FROM-first accept any term; `single`
    /// for INSERT, which takes no index.
    fn source(&mut self, simple: bool, single: bool) -> Result<Source, DynamoError> {
        let t = self.tok();
        if !Self::is_name(t) {
            return Err(if simple {
                malformed(SIMPLE_PATH)
            } else {
                self.term_error(t)
            });
        }
        self.bump();
        let table = self.name(t);
        let mut index = None;
        let mut components = 1;
        let mut empty = table.is_empty();
        while self.tok().kind == T::Dot {
            self.bump();
            let c = self.tok();
            if !Self::is_name(c) {
                return Err(malformed("Invalid path dot component"));
            }
            self.bump();
            components += 1;
            let name = self.name(c);
            empty |= name.is_empty();
            if index.is_none() {
                index = Some(name);
            }
        }
        if single && components > 1 {
            self.defer(invalid(
                "FROM clause may only contain a single table name in data manipulation statements",
            ));
        } else if components > 2 {
            self.defer(invalid(
                "A path may contain at most 2 components in the FROM clause",
            ));
        }
        if empty {
            self.defer(invalid("Path component cannot be an empty string"));
        }
        Ok(Source {
            table,
            index,
            pos: Self::pos(t),
        })
    }

    /// `[AS] alias`, `AT alias`, `BY alias` after a FROM source: parsed,
    /// then refused.
    fn aliases(&mut self) -> Result<(), DynamoError> {
        let mut any = self.alias()?;
        for (k, message) in [
            (K::At, "Expected identifier for AT-alias"),
            (K::By, "Expected identifier for BY-alias"),
        ] {
            if self.tok().is(k) {
                self.bump();
                if !Self::is_name(self.tok()) {
                    return Err(malformed(message));
                }
                self.bump();
                any = true;
            }
        }
        if any {
            self.defer(invalid(ALIASING));
        }
        Ok(())
    }

    /// `AS name` or a bare name; whether one was there.
    fn alias(&mut self) -> Result<bool, DynamoError> {
        if self.tok().is(K::As) {
            self.bump();
            if !Self::is_name(self.tok()) {
                return Err(malformed("Expected identifier for AS-alias"));
            }
            self.bump();
            return Ok(true);
        }
        if Self::is_name(self.tok()) {
            self.bump();
            return Ok(true);
        }
        Ok(false)
    }

    // ----------------------------------------------------------- paths --

    /// A SET or REMOVE target: a name, then `.name` and `[literal]` steps.
    fn simple_path(&mut self) -> Result<Path, DynamoError> {
        let t = self.tok();
        if !Self::is_name(t) {
            return Err(malformed(SIMPLE_PATH));
        }
        self.bump();
        let mut steps = Vec::new();
        loop {
            match self.tok().kind {
                T::Dot => {
                    self.bump();
                    let c = self.tok();
                    if Self::is_name(c) {
                        self.bump();
                        let name = self.name(c);
                        steps.push(Step::Field(self.member(name)));
                    } else if c.kind == T::Star {
                        return Err(malformed("Invalid path dot component for simple path"));
                    } else {
                        return Err(malformed("Invalid path dot component"));
                    }
                }
                T::LBracket => {
                    self.bump();
                    let atom = if self.tok().kind == T::Star {
                        self.bump();
                        None
                    } else {
                        Some(self.expr(0)?)
                    };
                    self.expect(T::RBracket, "Expected RIGHT_BRACKET")?;
                    match atom {
                        Some(e @ (Expr::Literal(..) | Expr::Path(_))) if Self::is_atom(&e) => {
                            if let Some(step) = self.bracket_step(e) {
                                steps.push(step);
                            }
                        }
                        _ => return Err(malformed("Invalid path component for simple path")),
                    }
                }
                _ => break,
            }
        }
        let root = self.name(t);
        Ok(Path {
            root: self.member(root),
            steps,
            pos: Self::pos(t),
        })
    }

    fn is_atom(e: &Expr) -> bool {
        match e {
            Expr::Literal(..) => true,
            Expr::Path(p) => p.steps.is_empty(),
            _ => false,
        }
    }

    /// `.name`, `.*`, `[n]`, `['name']`, `[name]`, `[*]` after a term.
    fn steps(&mut self) -> Result<Vec<Step>, DynamoError> {
        let mut steps = Vec::new();
        loop {
            let step = match self.tok().kind {
                T::Dot => self.dot_step(&mut steps),
                T::LBracket => self.bracket(&mut steps),
                _ => return Ok(steps),
            };
            if let Err(e) = step {
                return Err(e);
            }
        }
    }

    /// `.name` or `.*`.
    fn dot_step(&mut self, steps: &mut Vec<Step>) -> Result<(), DynamoError> {
        self.bump();
        let c = self.tok();
        if Self::is_name(c) {
            self.bump();
            let name = self.name(c);
            steps.push(Step::Field(self.member(name)));
        } else if c.kind == T::Star {
            self.bump();
            let last = !matches!(self.tok().kind, T::Dot | T::LBracket);
            self.defer(invalid(if self.ctx == Ctx::Projection && last {
                "Changing item's hierarchy while reading isn't supported".to_string()
            } else {
                format!(
                    "Unpivot path component like a.*.b are not supported at {}",
                    Self::pos(c)
                )
            }));
        } else {
            return Err(malformed("Invalid path dot component"));
        }
        Ok(())
    }

    /// `[e]` or `[*]`. Small: every level of nesting in brackets pays for
    /// its frame.
    fn bracket(&mut self, steps: &mut Vec<Step>) -> Result<(), DynamoError> {
        self.bump();
        let star = self.tok();
        if star.kind == T::Star {
            return self.wildcard(star);
        }
        let e = self.expr(0);
        self.bracket_end(steps, e)
    }

    fn wildcard(&mut self, star: Token) -> Result<(), DynamoError> {
        self.bump();
        self.defer(invalid(format!(
            "Wildcard path component like a[*].b are not supported at {}",
            Self::pos(star)
        )));
        self.expect(T::RBracket, "Expected RIGHT_BRACKET")?;
        Ok(())
    }

    fn bracket_end(
        &mut self,
        steps: &mut Vec<Step>,
        e: Result<Expr, DynamoError>,
    ) -> Result<(), DynamoError> {
        if let Some(step) = self.bracket_step(e?) {
            steps.push(step);
        }
        self.expect(T::RBracket, "Expected RIGHT_BRACKET")?;
        Ok(())
    }

    /// What `[e]` means: an integer is a list index, a string or a bare
    /// name a member; DynamoDB refuses anything else.
    fn bracket_step(&mut self, e: Expr) -> Option<Step> {
        match e {
            Expr::Literal(Literal::Number(n), pos) if !n.contains(['.', 'e', 'E']) => {
                Some(Step::Index(index_value(&n), pos))
            }
            Expr::Literal(Literal::String(s), _) => Some(Step::Field(self.member(s))),
            Expr::Path(p) if p.steps.is_empty() => Some(Step::Field(p.root)),
            other => {
                let pos = other.pos();
                self.defer(invalid(format!("Unexpected path component at {pos}")));
                None
            }
        }
    }

    // ----------------------------------------------------- expressions --

    /// The infix operator at the current token, its precedence and how
    /// many tokens spell it.
    fn infix(&self) -> Option<(Infix, u8, usize)> {
        let t = self.tok();
        let bin = |op, prec| Some((Infix::Binary(op), prec, 1));
        let unsupported = |sym, kind| Some((Infix::Unsupported(sym, kind), MULTIPLY, 1));
        match t.kind {
            T::Eq => bin(BinaryOp::Eq, EQUITY),
            T::Ne => bin(BinaryOp::Ne, EQUITY),
            T::Lt => bin(BinaryOp::Lt, COMPARISON),
            T::Le => bin(BinaryOp::Le, COMPARISON),
            T::Gt => bin(BinaryOp::Gt, COMPARISON),
            T::Ge => bin(BinaryOp::Ge, COMPARISON),
            T::Plus => bin(BinaryOp::Add, ADDITION),
            T::Minus => bin(BinaryOp::Sub, ADDITION),
            T::Concat => Some((Infix::Unsupported("||", "Concat"), ADDITION, 1)),
            T::Star => unsupported("*", "Times"),
            T::Slash => unsupported("/", "Divide"),
            T::Percent => unsupported("%", "Modulo"),
            T::Ident => match t.keyword {
                K::Or => bin(BinaryOp::Or, OR),
                K::And => bin(BinaryOp::And, AND),
                K::Is if self.peek(1).is(K::Not) => Some((Infix::Is { negated: true }, EQUITY, 2)),
                K::Is => Some((Infix::Is { negated: false }, EQUITY, 1)),
                K::In => Some((Infix::In { negated: false }, EQUITY, 1)),
                K::Between => Some((Infix::Between { negated: false }, COMPARISON, 1)),
                K::Like => Some((Infix::Like { negated: false }, COMPARISON, 1)),
                K::Not => match self.peek(1).keyword {
                    K::In => Some((Infix::In { negated: true }, EQUITY, 2)),
                    K::Between => Some((Infix::Between { negated: true }, COMPARISON, 2)),
                    K::Like => Some((Infix::Like { negated: true }, COMPARISON, 2)),
                    _ => None,
                },
                _ => None,
            },
            _ => None,
        }
    }

    /// The right-hand side of an infix operator may not be missing.
    fn rhs(&mut self, prec: u8) -> Result<Expr, DynamoError> {
        if self.tok().kind == T::Eof {
            return refuse("Missing right-hand side expression of infix operator");
        }
        self.expr(prec)
    }

    /// Refuses an operator DynamoDB parses but cannot evaluate.
    fn unsupported_operator(&mut self, symbol: &str, pos: Pos) {
        let message = match self.ctx {
            Ctx::Condition => {
                format!("Unsupported operator in Condition Expression. Operator: {symbol}")
            }
            Ctx::Projection => format!("Unexpected path component at {pos}"),
            Ctx::Update | Ctx::Other => {
                format!("Unsupported operator in Update Expression. Operator: {symbol}")
            }
        };
        self.defer(invalid(message));
    }

    /// An expression whose operators all bind tighter than `min`.
    ///
    /// Each operator and term is built by a function of its own: nesting
    /// recurses through these, and small frames keep a deeply nested
    /// statement's stack small (debug builds give every local of a large
    /// `match` its own slot).
    ///
    /// The recursion is bounded: every recursive function of the parser is
    /// on a way back into `expr`, and every such way passes through
    /// [`Parser::unary`] or [`Parser::in_parentheses`], which count levels
    /// against [`MAX_NESTING`], or climbs to a higher precedence (`rhs`),
    /// which it can do at most seven times in a row.
    fn expr(&mut self, min: u8) -> Result<Expr, DynamoError> {
        match self.unary() {
            Ok(lhs) => self.operators(min, lhs),
            err => err,
        }
    }

    /// The operators after `lhs` that bind tighter than `min`.
    fn operators(&mut self, min: u8, lhs: Expr) -> Result<Expr, DynamoError> {
        let mut read = Operators {
            lhs,
            chain: None,
            applied: false,
            levels: 0,
        };
        while let Some((op, prec, width)) = self.infix() {
            if prec <= min {
                break;
            }
            let step = match op {
                Infix::Binary(op @ (BinaryOp::And | BinaryOp::Or)) => {
                    self.chain_operand(&mut read, op, prec, width)
                }
                op => self.apply(&mut read, op, prec, width),
            };
            if let Err(e) = step {
                return Err(e);
            }
        }
        self.depth -= read.levels;
        read.finish()
    }

    /// Reads the operand after an AND or OR into the chain `read` holds.
    ///
    /// AND and OR operands are gathered as they are read and joined when
    /// their chain ends ([`join_chain`]), so no chain, however long, makes
    /// the tree deeper than a dozen levels.
    fn chain_operand(
        &mut self,
        read: &mut Operators,
        op: BinaryOp,
        prec: u8,
        width: usize,
    ) -> Result<(), DynamoError> {
        // The run's node is now one operand of the chain.
        self.depth -= std::mem::take(&mut read.levels);
        let at = Self::pos(self.tok());
        self.i += width;
        let rhs = match self.rhs(prec) {
            Ok(rhs) => rhs,
            Err(e) => return Err(e),
        };
        self.kind = if op == BinaryOp::And { "And" } else { "Or" };
        read.link(op, at, rhs);
        Ok(())
    }

    /// Applies any other infix operator to what `read` holds.
    ///
    /// An operator applied to an operator's result (`a = 1 = 1`, `a IS
    /// NULL IS NULL`) deepens the tree: from the second such operator on,
    /// each takes a level of the nesting budget until the run ends, so the
    /// tree's depth stays bounded by [`MAX_NESTING`] (and every walk over a
    /// statement with it).
    fn apply(
        &mut self,
        read: &mut Operators,
        op: Infix,
        prec: u8,
        width: usize,
    ) -> Result<(), DynamoError> {
        if read.end_chain() {
            read.applied = true;
        }
        if matches!(
            op,
            Infix::Binary(_) | Infix::Is { .. } | Infix::In { .. } | Infix::Between { .. }
        ) {
            if read.applied {
                // Room for the level, and for the term of the operator's
                // right-hand side within it.
                if self.depth + 1 >= MAX_NESTING {
                    return too_deep();
                }
                self.depth += 1;
                read.levels += 1;
            }
            read.applied = true;
        }
        read.lhs = match self.operation(op, prec, width, read) {
            Ok(e) => e,
            Err(e) => return Err(e),
        };
        Ok(())
    }

    /// The node an infix operator makes with its left operand.
    fn operation(
        &mut self,
        op: Infix,
        prec: u8,
        width: usize,
        read: &mut Operators,
    ) -> Result<Expr, DynamoError> {
        let first = self.tok();
        // The keyword after NOT (IN, BETWEEN, LIKE) places the node.
        let word = self.peek(width - 1);
        self.i += width;
        // Each takes its left operand from `read` (one pointer here rather
        // than a copy of the operand per call).
        match op {
            Infix::Binary(op) => self.binary(op, prec, read, first),
            Infix::Unsupported(symbol, kind) => self.unsupported(symbol, kind, prec, read, first),
            Infix::Is { negated } => self.is(negated, read, first),
            Infix::In { negated } => self.in_list(negated, prec, read, word),
            Infix::Between { negated } => self.between(negated, prec, read, word),
            Infix::Like { negated } => self.like(negated, prec, read, word),
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        prec: u8,
        read: &mut Operators,
        t: Token,
    ) -> Result<Expr, DynamoError> {
        let rhs = self.rhs(prec);
        self.binary_node(op, read, rhs, t)
    }

    // Out of `binary`'s frame, which every level of nesting pays for.
    fn binary_node(
        &mut self,
        op: BinaryOp,
        read: &mut Operators,
        rhs: Result<Expr, DynamoError>,
        t: Token,
    ) -> Result<Expr, DynamoError> {
        let rhs = rhs?;
        self.kind = binary_kind(op);
        Ok(Expr::Binary(
            op,
            Box::new(read.take_lhs()),
            Box::new(rhs),
            Self::pos(t),
        ))
    }
    /// `*`, `/`, `%`, `||`: read, then refused (the left operand stands in
    /// for the node, which never leaves the parser).
    fn unsupported(
        &mut self,
        symbol: &'static str,
        kind: &'static str,
        prec: u8,
        read: &mut Operators,
        t: Token,
    ) -> Result<Expr, DynamoError> {
        self.rhs(prec)?;
        self.unsupported_operator(symbol, Self::pos(t));
        self.kind = kind;
        Ok(read.take_lhs())
    }

    fn is(&mut self, negated: bool, read: &mut Operators, t: Token) -> Result<Expr, DynamoError> {
        let test = self.type_name()?;
        self.kind = if negated { "Not" } else { "IsType" };
        Ok(Expr::Is {
            expr: Box::new(read.take_lhs()),
            negated,
            test,
            pos: Self::pos(t),
        })
    }

    /// `IN (a, b)`, `IN [a, b]` or `IN <<a, b>>`.
    fn in_list(
        &mut self,
        negated: bool,
        prec: u8,
        read: &mut Operators,
        t: Token,
    ) -> Result<Expr, DynamoError> {
        let list = if self.tok().kind == T::LParen {
            self.bump();
            self.in_parentheses().map(Some)
        } else {
            self.rhs(prec).map(|e| match e {
                Expr::List(items, _) | Expr::Bag(items, _) => Some(items),
                _ => None,
            })
        };
        self.in_node(negated, read, list, t)
    }

    /// `IN (a, b)`'s members. The parenthesis is not a term, so it takes
    /// its level of nesting here (as `IN [a, b]`'s list does as a term):
    /// without it `a IN (a IN (a IN (...` would recurse once per IN, past
    /// any bound.
    fn in_parentheses(&mut self) -> Result<Vec<Expr>, DynamoError> {
        if self.depth == MAX_NESTING {
            return too_deep();
        }
        self.depth += 1;
        let members = self.arguments(T::RParen, RIGHT_PAREN);
        self.depth -= 1;
        members
    }

    // Out of `in_list`'s frame, which every level of nesting under an IN
    // pays for.
    fn in_node(
        &mut self,
        negated: bool,
        read: &mut Operators,
        list: Result<Option<Vec<Expr>>, DynamoError>,
        t: Token,
    ) -> Result<Expr, DynamoError> {
        let list = match list? {
            Some(items) if !items.is_empty() => items,
            _ => {
                self.defer(invalid(
                    "IN operator must have a left hand argument of type Variable Reference and right hand argument of type Seq with at least one member",
                ));
                Vec::new()
            }
        };
        self.kind = if negated { "Not" } else { "InCollection" };
        let e = Expr::In(Box::new(read.take_lhs()), list, Self::pos(t));
        Ok(if negated { Expr::Not(Box::new(e)) } else { e })
    }

    fn between(
        &mut self,
        negated: bool,
        prec: u8,
        read: &mut Operators,
        t: Token,
    ) -> Result<Expr, DynamoError> {
        let low = match self.rhs(prec) {
            Ok(low) => low,
            Err(e) => return Err(e),
        };
        let high = self.between_high(prec);
        self.between_node(negated, read, low, high, t)
    }

    /// `AND high` after `BETWEEN low`.
    fn between_high(&mut self, prec: u8) -> Result<Expr, DynamoError> {
        if !self.tok().is(K::And) {
            return refuse("Expected AND keyword");
        }
        self.bump();
        if self.only_end() {
            return refuse("Expected expression after AND");
        }
        self.expr(prec)
    }

    fn between_node(
        &mut self,
        negated: bool,
        read: &mut Operators,
        low: Expr,
        high: Result<Expr, DynamoError>,
        t: Token,
    ) -> Result<Expr, DynamoError> {
        let high = high?;
        self.kind = if negated { "Not" } else { "Between" };
        let e = Expr::Between(
            Box::new(read.take_lhs()),
            Box::new(low),
            Box::new(high),
            Self::pos(t),
        );
        Ok(if negated { Expr::Not(Box::new(e)) } else { e })
    }

    /// `LIKE p [ESCAPE c]`: read, then refused.
    fn like(
        &mut self,
        negated: bool,
        prec: u8,
        read: &mut Operators,
        t: Token,
    ) -> Result<Expr, DynamoError> {
        self.rhs(prec)?;
        if self.tok().is(K::Escape) {
            self.bump();
            if self.only_end() {
                return Err(malformed("Expected expression after ESCAPE"));
            }
            self.expr(prec)?;
        }
        self.unsupported_operator("like", Self::pos(t));
        self.kind = if negated { "Not" } else { "Like" };
        Ok(read.take_lhs())
    }

    /// `NOT e`, signs, or a term with its path steps.
    fn unary(&mut self) -> Result<Expr, DynamoError> {
        // Every nested term comes through here.
        if self.depth == MAX_NESTING {
            return too_deep();
        }
        self.depth += 1;
        let t = self.tok();
        let e = match t.kind {
            T::Minus | T::Plus => self.signed(t),
            T::Ident
                if t.keyword == K::Not
                    && !matches!(self.peek(1).keyword, K::In | K::Between | K::Like) =>
            {
                self.not()
            }
            _ => self.path_term(),
        };
        self.depth -= 1;
        e
    }

    /// A sign before a number literal is folded into the literal; before
    /// anything else it is refused.
    fn signed(&mut self, sign: Token) -> Result<Expr, DynamoError> {
        self.bump();
        let negate = sign.kind == T::Minus;
        match self.unary()? {
            Expr::Literal(Literal::Number(n), pos) => {
                self.kind = "Lit";
                let n = match (negate, n.strip_prefix('-')) {
                    (false, _) => n,
                    (true, Some(positive)) => positive.to_string(),
                    (true, None) => format!("-{n}"),
                };
                Ok(Expr::Literal(Literal::Number(n), pos))
            }
            other => {
                let (symbol, kind) = if negate { ("-", "Neg") } else { ("+", "Pos") };
                self.unsupported_operator(symbol, Self::pos(sign));
                self.kind = kind;
                Ok(other)
            }
        }
    }

    fn not(&mut self) -> Result<Expr, DynamoError> {
        self.bump();
        let e = self.expr(NOT)?;
        self.kind = "Not";
        Ok(Expr::Not(Box::new(e)))
    }

    fn path_term(&mut self) -> Result<Expr, DynamoError> {
        match self.term() {
            Ok(term) if matches!(self.tok().kind, T::Dot | T::LBracket) => self.path(term),
            other => other,
        }
    }

    /// A term followed by `.` or `[`: a path when the term is a name.
    fn path(&mut self, term: Expr) -> Result<Expr, DynamoError> {
        let steps = self.steps();
        self.path_node(term, steps)
    }

    // Out of `path`'s frame, which every level of nesting in brackets pays
    // for.
    fn path_node(
        &mut self,
        term: Expr,
        steps: Result<Vec<Step>, DynamoError>,
    ) -> Result<Expr, DynamoError> {
        let steps = steps?;
        self.kind = "Path";
        match term {
            Expr::Path(mut p) if p.steps.is_empty() => {
                p.steps = steps;
                Ok(Expr::Path(p))
            }
            Expr::List(_, pos) | Expr::Bag(_, pos) => {
                self.defer(invalid(format!(
                    "A path cannot start with a list index at {pos}"
                )));
                Ok(Expr::Literal(Literal::Null, pos))
            }
            other => {
                let pos = other.pos();
                self.defer(invalid(format!("Unexpected path component at {pos}")));
                Ok(other)
            }
        }
    }

    /// Why a token cannot start a term, in the reference parser's words.
    fn term_error(&self, t: Token) -> DynamoError {
        malformed(match t.kind {
            T::Ident => match t.keyword {
                K::And
                | K::Or
                | K::Not
                | K::Is
                | K::In
                | K::Between
                | K::Like
                | K::Union
                | K::Except
                | K::Intersect => UNEXPECTED_OPERATOR,
                K::As | K::At | K::By | K::For | K::None => UNEXPECTED_TERM,
                _ => UNEXPECTED_KEYWORD,
            },
            T::Eq
            | T::Ne
            | T::Lt
            | T::Le
            | T::Gt
            | T::Ge
            | T::Slash
            | T::Percent
            | T::Concat
            | T::At
            | T::Plus
            | T::Minus => UNEXPECTED_OPERATOR,
            _ => UNEXPECTED_TERM,
        })
    }

    fn term(&mut self) -> Result<Expr, DynamoError> {
        let item_literal = std::mem::take(&mut self.item_literal);
        let t = self.tok();
        match t.kind {
            T::Ident => match t.keyword {
                K::None => self.name_or_call(t),
                K::True | K::False | K::Null | K::Missing => self.keyword_literal(t),
                K::Function | K::Exists | K::List | K::Bag if self.peek(1).kind == T::LParen => {
                    self.call(t)
                }
                K::From => self.nested_from(),
                _ => self.not_a_term(t),
            },
            T::QuotedIdent => self.name_or_call(t),
            T::String | T::Number => self.literal_text(t),
            T::Param => self.param(t),
            T::LParen => self.group(t),
            T::LBracket => self.list(t),
            T::LBag => self.bag(t),
            T::LBrace => self.map(t, item_literal),
            _ => self.not_a_term(t),
        }
    }

    // The two below keep their temporaries out of `term`'s frame, which
    // every level of nesting pays for.

    fn not_a_term(&self, t: Token) -> Result<Expr, DynamoError> {
        Err(self.term_error(t))
    }

    /// `TRUE`, `FALSE`, `NULL` or `MISSING`.
    fn keyword_literal(&mut self, t: Token) -> Result<Expr, DynamoError> {
        let l = match t.keyword {
            K::True => Literal::Bool(true),
            K::False => Literal::Bool(false),
            K::Null => Literal::Null,
            _ => Literal::Missing,
        };
        self.literal(t, l)
    }

    fn literal_text(&mut self, t: Token) -> Result<Expr, DynamoError> {
        let l = match t.kind {
            T::String => Literal::String(self.unquote(t)),
            _ => Literal::Number(self.text(t).to_string()),
        };
        self.literal(t, l)
    }

    fn param(&mut self, t: Token) -> Result<Expr, DynamoError> {
        self.bump();
        self.kind = "Parameter";
        self.params += 1;
        Ok(Expr::Param(self.params - 1, Self::pos(t)))
    }

    fn literal(&mut self, t: Token, l: Literal) -> Result<Expr, DynamoError> {
        self.bump();
        self.kind = if l == Literal::Missing {
            "Missing"
        } else {
            "Lit"
        };
        Ok(Expr::Literal(l, Self::pos(t)))
    }

    /// `(e)`, or `(a, b)`: a row, which PartiQL reads as a list.
    fn group(&mut self, t: Token) -> Result<Expr, DynamoError> {
        self.bump();
        match self.arguments(T::RParen, RIGHT_PAREN) {
            Ok(items) => Ok(self.row(items, t)),
            Err(e) => Err(e),
        }
    }

    /// A parenthesised expression, or a row of several.
    fn row(&mut self, mut items: Vec<Expr>, open: Token) -> Expr {
        if items.len() == 1 {
            if let Some(e) = items.pop() {
                return e;
            }
        }
        self.kind = "List";
        Expr::List(items, Self::pos(open))
    }

    fn list(&mut self, t: Token) -> Result<Expr, DynamoError> {
        self.bump();
        let items = self.elements(T::RBracket, "Expected RIGHT_BRACKET", true)?;
        self.kind = "List";
        Ok(Expr::List(items, Self::pos(t)))
    }

    fn bag(&mut self, t: Token) -> Result<Expr, DynamoError> {
        self.bump();
        let items = self.elements(T::RBag, "Expected RIGHT_DOUBLE_ANGLE_BRACKET", false)?;
        self.kind = "Bag";
        Ok(Expr::Bag(items, Self::pos(t)))
    }

    fn name_or_call(&mut self, t: Token) -> Result<Expr, DynamoError> {
        if self.peek(1).kind == T::LParen {
            return self.call(t);
        }
        self.bump();
        self.kind = "Id";
        let root = self.name(t);
        Ok(Expr::Path(Path {
            root: self.member(root),
            steps: Vec::new(),
            pos: Self::pos(t),
        }))
    }

    /// `name(args)`; `list(...)` and `bag(...)` are container literals.
    fn call(&mut self, t: Token) -> Result<Expr, DynamoError> {
        self.bump();
        self.bump();
        if matches!(self.tok().kind, T::RParen | T::Star) {
            return self.call_without_arguments(t);
        }
        let (segs, base) = (self.segs.len(), self.seg_base);
        self.seg_base = segs;
        let args = self.arguments(T::RParen, RIGHT_PAREN);
        self.seg_base = base;
        self.call_node(t, args)
    }

    /// `f()`, `count(*)` (and `f(*)`, refused).
    fn call_without_arguments(&mut self, t: Token) -> Result<Expr, DynamoError> {
        let written = self.name(t);
        let name = written.to_ascii_lowercase();
        if self.tok().kind == T::RParen {
            self.bump();
            return self.call_node(t, Ok(Vec::new()));
        }
        if name != "count" {
            return Err(malformed(&format!("{written}(*) is not allowed")));
        }
        self.bump();
        self.expect(T::RParen, RIGHT_PAREN)?;
        self.kind = "CallAgg";
        Ok(Expr::Call {
            name,
            args: Vec::new(),
            pos: Self::pos(t),
        })
    }

    // Out of `call`'s frame, which every level of nesting in a call pays
    // for.
    fn call_node(
        &mut self,
        t: Token,
        args: Result<Vec<Expr>, DynamoError>,
    ) -> Result<Expr, DynamoError> {
        let args = args?;
        let pos = Self::pos(t);
        let name = self.name(t).to_ascii_lowercase();
        let aggregate = AGGREGATES.contains(&name.as_str());
        if aggregate && args.len() != 1 {
            return Err(malformed("Aggregate functions are always unary"));
        }
        match name.as_str() {
            "list" if t.kind == T::Ident => {
                self.kind = "List";
                return Ok(Expr::List(args, pos));
            }
            "bag" if t.kind == T::Ident => {
                self.kind = "Bag";
                return Ok(Expr::Bag(args, pos));
            }
            "exists" if self.ctx == Ctx::Condition => {
                self.defer(invalid(format!("Unrecognized function: exists at {pos}")));
            }
            _ => {}
        }
        self.kind = if aggregate { "CallAgg" } else { "Call" };
        Ok(Expr::Call { name, args, pos })
    }

    /// Expressions separated by commas, then `close`.
    fn arguments(&mut self, close: T, missing: &str) -> Result<Vec<Expr>, DynamoError> {
        let mut out = Vec::new();
        loop {
            match self.expr(0) {
                Ok(e) => out.push(e),
                Err(e) => return Err(e),
            }
            if self.tok().kind != T::Comma {
                break;
            }
            self.bump();
        }
        match self.expect(close, missing) {
            Ok(_) => Ok(out),
            Err(e) => Err(e),
        }
    }

    /// The members of a list or bag literal; a list's members are located
    /// by their index in messages, a bag's by the bag's own place.
    fn elements(
        &mut self,
        close: T,
        missing: &str,
        indexed: bool,
    ) -> Result<Vec<Expr>, DynamoError> {
        if self.tok().kind == close {
            self.bump();
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        loop {
            if indexed {
                self.segs.push(Seg::Index(out.len()));
            }
            let e = self.expr(0);
            if indexed {
                self.segs.pop();
            }
            out.push(e?);
            if self.tok().kind != T::Comma {
                break;
            }
            self.bump();
        }
        self.expect(close, missing)?;
        Ok(out)
    }

    /// `{'k': v, ...}`. `item` for an INSERT item, whose members DynamoDB
    /// converts one by one, each as a root of its own.
    fn map(&mut self, open: Token, item: bool) -> Result<Expr, DynamoError> {
        self.bump();
        let pos = Self::pos(open);
        let mut members = Vec::new();
        if self.tok().kind == T::RBrace {
            self.bump();
            self.kind = "Struct";
            return Ok(Expr::Map(members, pos));
        }
        loop {
            let key_at = self.i;
            let key = self.expr(0);
            let name = match self.map_key(key) {
                Ok(name) => name,
                Err(e) => return Err(e),
            };
            if !item {
                self.segs.push(Seg::Key(key_at));
            }
            let value = self.expr(0);
            if !item {
                self.segs.pop();
            }
            match value {
                Ok(value) => members.push((name, value)),
                Err(e) => return Err(e),
            }
            if self.tok().kind != T::Comma {
                break;
            }
            self.bump();
        }
        self.map_end(members, pos)
    }

    // The two below keep their temporaries out of `map`'s frame, which
    // every level of nesting in a map pays for.

    /// A member's key and its colon: the name, or an empty one when the key
    /// is not a string (refused once the statement has parsed).
    fn map_key(&mut self, key: Result<Expr, DynamoError>) -> Result<String, DynamoError> {
        let key = key?;
        self.expect(T::Colon, "Expected COLON")?;
        Ok(match key {
            Expr::Literal(Literal::String(s), _) => self.member(s),
            other => {
                let message = format!(
                    "Tuple keys must be of type String. Actual type: {} under {} at {}",
                    node_type(&other),
                    self.location(),
                    other.pos()
                );
                self.defer(invalid(message));
                String::new()
            }
        })
    }

    fn map_end(&mut self, members: Vec<(String, Expr)>, pos: Pos) -> Result<Expr, DynamoError> {
        self.expect(T::RBrace, "Expected RIGHT_CURLY")?;
        self.kind = "Struct";
        Ok(Expr::Map(members, pos))
    }

    /// Where the literal being parsed sits in its value: `root`, `root.k`,
    /// `root[1]`.
    fn location(&self) -> String {
        let mut out = String::from("root");
        for seg in &self.segs[self.seg_base.min(self.segs.len())..] {
            match *seg {
                Seg::Key(at) => {
                    out.push('.');
                    let t = self.toks[at];
                    if t.kind == T::String {
                        out.push_str(&self.unquote(t));
                    }
                }
                Seg::Index(i) => {
                    out.push('[');
                    out.push_str(&i.to_string());
                    out.push(']');
                }
            }
        }
        out
    }

    /// After `IS` / `IS NOT`: MISSING, NULL or a type name.
    fn type_name(&mut self) -> Result<IsTest, DynamoError> {
        let t = self.tok();
        if t.kind != T::Ident || t.keyword == K::None {
            return Err(malformed("Expected type name"));
        }
        let word = self.text(t).to_ascii_lowercase();
        let next = self.peek(1);
        let second = if next.kind == T::Ident {
            self.text(next).to_ascii_lowercase()
        } else {
            String::new()
        };
        let test = match word.as_str() {
            "missing" => IsTest::Missing,
            "null" => IsTest::Null,
            "double" if second == "precision" => {
                self.bump();
                IsTest::Type("DOUBLE PRECISION".into())
            }
            "character" if second == "varying" => {
                self.bump();
                IsTest::Type("CHARACTER VARYING".into())
            }
            w if TYPE_NAMES.contains(&w) => IsTest::Type(w.to_ascii_uppercase()),
            _ => return Err(malformed("Expected type name")),
        };
        self.bump();
        let sized = match &test {
            IsTest::Type(name) => {
                SIZED_TYPES.contains(&word.as_str()) || name == "CHARACTER VARYING"
            }
            _ => false,
        };
        if sized && self.tok().kind == T::LParen {
            self.bump();
            loop {
                let n = self.tok();
                if n.kind != T::Number || !self.text(n).bytes().all(|b| b.is_ascii_digit()) {
                    return Err(malformed(
                        "Type parameter must be an unsigned integer literal",
                    ));
                }
                self.bump();
                if self.tok().kind != T::Comma {
                    break;
                }
                self.bump();
            }
            self.expect(T::RParen, RIGHT_PAREN)?;
        }
        Ok(test)
    }

    /// `FROM` where a term should start. PartiQL reads a whole FROM-first
    /// statement there, so `SLECT * FROM "t" WHERE ...` (SLECT times a
    /// FROM clause) fails for want of its SET or REMOVE.
    fn nested_from(&mut self) -> Result<Expr, DynamoError> {
        self.bump();
        self.source(false, false)?;
        self.aliases()?;
        self.where_clause()?;
        if self.tok().is(K::Set) || self.tok().is(K::Remove) {
            return Err(malformed(UNEXPECTED_KEYWORD));
        }
        Err(malformed(DATA_MANIPULATION))
    }
}

/// What an expression's operators have made so far: the node built last,
/// the AND or OR chain it is the first operand of, whether it is already
/// an operator's node, and the nesting levels the run of operators on it
/// has taken.
struct Operators {
    lhs: Expr,
    chain: Option<Chain>,
    applied: bool,
    levels: usize,
}

impl Operators {
    /// Adds an operand to the chain of `op`, ending a chain of the other
    /// operator first (it becomes the new chain's first operand).
    fn link(&mut self, op: BinaryOp, at: Pos, rhs: Expr) {
        match &mut self.chain {
            Some(c) if c.op == op => {
                c.rest.push(rhs);
                c.at = at;
            }
            _ => {
                self.end_chain();
                self.chain = Some(Chain {
                    op,
                    at,
                    rest: vec![rhs],
                });
            }
        }
    }

    /// Joins the chain being read, if any, into `lhs`; whether there was one.
    fn end_chain(&mut self) -> bool {
        let Some(c) = self.chain.take() else {
            return false;
        };
        let first = self.take_lhs();
        self.lhs = join_chain(first, c);
        true
    }

    /// `lhs`, to build on; a placeholder stands in until the result is put
    /// back.
    fn take_lhs(&mut self) -> Expr {
        std::mem::replace(&mut self.lhs, Expr::Literal(Literal::Null, Pos::default()))
    }

    fn finish(mut self) -> Result<Expr, DynamoError> {
        self.end_chain();
        Ok(self.lhs)
    }
}

/// An AND or OR chain being read: its operator, the place of the operator
/// read last, and the operands after the first.
struct Chain {
    op: BinaryOp,
    at: Pos,
    rest: Vec<Expr>,
}

/// `first op rest[0] op rest[1] ...` as [`Expr::Binary`] holds a chain:
/// every node at the chain's place, the last operand on the right of the
/// outermost node, the others in a balanced tree below it (neighbours
/// paired level by level, so the order written is kept). Binding and the
/// engine's walks see the operands in the same order as in a left-to-right
/// tree, and AND and OR mean the same however they are grouped.
fn join_chain(first: Expr, chain: Chain) -> Expr {
    let Chain { op, at, mut rest } = chain;
    let node = |a, b| Expr::Binary(op, Box::new(a), Box::new(b), at);
    let Some(last) = rest.pop() else {
        return first;
    };
    let mut level = Vec::with_capacity(rest.len() + 1);
    level.push(first);
    level.extend(rest);
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut items = level.into_iter();
        while let Some(a) = items.next() {
            next.push(match items.next() {
                Some(b) => node(a, b),
                None => a,
            });
        }
        level = next;
    }
    match level.pop() {
        Some(left) => node(left, last),
        None => last,
    }
}

/// `[n]` as written; beyond i64 it saturates (binding refuses anything
/// outside 0..=i32::MAX anyway).
fn index_value(text: &str) -> i64 {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, text),
    };
    let mut v: i64 = 0;
    for b in digits.bytes() {
        let d = (b - b'0') as i64;
        v = match v.checked_mul(10).and_then(|v| {
            if negative {
                v.checked_sub(d)
            } else {
                v.checked_add(d)
            }
        }) {
            Some(v) => v,
            None => return if negative { i64::MIN } else { i64::MAX },
        };
    }
    v
}

/// The node kind (in the reference parser's names) of a binary operator.
fn binary_kind(op: BinaryOp) -> &'static str {
    match op {
        BinaryOp::Eq => "Eq",
        BinaryOp::Ne => "Ne",
        BinaryOp::Lt => "Lt",
        BinaryOp::Le => "Lte",
        BinaryOp::Gt => "Gt",
        BinaryOp::Ge => "Gte",
        BinaryOp::And => "And",
        BinaryOp::Or => "Or",
        BinaryOp::Add => "Plus",
        BinaryOp::Sub => "Minus",
    }
}

/// The type DynamoDB names for a map key that is not a string.
fn node_type(e: &Expr) -> &'static str {
    match e {
        Expr::Literal(Literal::Number(n), _) if n.contains(['.', 'e', 'E']) => "DECIMAL",
        Expr::Literal(Literal::Number(_), _) => "INT",
        Expr::Literal(Literal::Bool(_), _) => "BOOL",
        Expr::Literal(Literal::Null, _) => "NULL",
        Expr::Literal(Literal::Missing, _) => "LiteralMissing",
        Expr::Literal(Literal::String(_), _) => "STRING",
        Expr::Path(p) if p.steps.is_empty() => "VariableReference",
        Expr::Path(_) => "Path",
        Expr::Param(..) => "Parameter",
        Expr::Map(..) => "Struct",
        Expr::List(..) | Expr::Bag(..) => "Seq",
        Expr::Is { .. } => "Typed",
        _ => "NAry",
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
