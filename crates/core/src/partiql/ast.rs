//! The syntax tree of DynamoDB's PartiQL dialect, as the parser leaves it:
//! names as written (quotes removed), literals as written (numbers as their
//! text, checked later), `?` parameters numbered in order of appearance.
//! Binding parameters and checking values happen in `bind`; the meaning of a
//! statement against a table is the engine's business.

/// Where something was written: 1-based line and column of its first
/// character, and its length in characters. DynamoDB reports positions as
/// `at line:column:length`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
    pub len: u32,
}

impl std::fmt::Display for Pos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.line, self.col, self.len)
    }
}

/// One statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Statement {
    Select(Select),
    Insert(Insert),
    Update(Update),
    Delete(Delete),
    /// `EXISTS(SELECT ...)`: a condition check, valid only inside an
    /// ExecuteTransaction of writes.
    Exists(Select),
}

/// `FROM "table"` or `FROM "table"."index"`.
#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub table: String,
    pub index: Option<String>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Select {
    pub projection: Projection,
    pub from: Source,
    pub filter: Option<Expr>,
    pub order_by: Vec<OrderBy>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Projection {
    /// `SELECT *`.
    All,
    /// `SELECT a, b.c, d[0]`.
    Paths(Vec<Path>),
}

/// `ORDER BY name [ASC|DESC]`.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub name: String,
    pub descending: bool,
    pub pos: Pos,
}

/// `INSERT INTO "table" VALUE {...}`.
#[derive(Debug, Clone, PartialEq)]
pub struct Insert {
    pub table: Source,
    /// The item: an `Expr::Map` (or a parameter, or anything else the
    /// parser accepted as a value, which binding refuses).
    pub value: Expr,
}

/// `UPDATE "table" SET ... REMOVE ... WHERE ... [RETURNING ...]`, or the
/// FROM-first form `FROM "table" WHERE ... SET ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    pub table: Source,
    pub actions: Vec<UpdateAction>,
    pub filter: Option<Expr>,
    pub returning: Option<Returning>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UpdateAction {
    /// `SET path = value` (the value may be `path + 1`, `list_append(...)`,
    /// `set_add(...)`...).
    Set(Path, Expr),
    Remove(Path),
}

/// `DELETE FROM "table" WHERE ... [RETURNING ...]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Delete {
    pub table: Source,
    pub filter: Option<Expr>,
    pub returning: Option<Returning>,
}

/// `RETURNING (ALL|MODIFIED) (OLD|NEW) *`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returning {
    AllOld,
    ModifiedOld,
    AllNew,
    ModifiedNew,
}

impl Returning {
    /// As written in a statement, for messages.
    pub fn text(self) -> &'static str {
        match self {
            Returning::AllOld => "RETURNING ALL OLD *",
            Returning::ModifiedOld => "RETURNING MODIFIED OLD *",
            Returning::AllNew => "RETURNING ALL NEW *",
            Returning::ModifiedNew => "RETURNING MODIFIED NEW *",
        }
    }
}

/// A document path: an attribute, then member names and list indexes.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub root: String,
    pub steps: Vec<Step>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Field(String),
    /// `[n]`, as written (range-checked by binding: DynamoDB refuses a
    /// negative index or one above i32::MAX).
    Index(i64, Pos),
}

/// A literal as written.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'`, quotes removed and `''` unescaped.
    String(String),
    /// The number's text as written, sign included (`-1.5e3`, `.5`).
    Number(String),
    Bool(bool),
    Null,
    Missing,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
    Add,
    Sub,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "<>",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::And => "AND",
            BinaryOp::Or => "OR",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
        }
    }
}

/// What `IS [NOT] ...` tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IsTest {
    Missing,
    Null,
    /// A type name, upper-cased, multi-word names joined by one space
    /// (`BOOL`, `BOOLEAN`, `STRING`, `INT4`, `DOUBLE PRECISION`, ...).
    Type(String),
}

/// An expression: a WHERE condition, a SET value, an item literal.
///
/// How deep a parsed tree can be is what bounds every recursive walk over
/// one (the derived `Clone`, `PartialEq`, `Debug` and `Drop` among them):
/// each level of nesting the parser allows (`MAX_NESTING`, 100) holds a
/// term (one node), below it one node per precedence level (seven; an
/// operator applied to an operator's result takes a level of the budget,
/// `NOT IN` makes two nodes) and an AND and an OR chain, balanced: about
/// log2 of their length each, a dozen levels in the 8 KB a statement may
/// hold. The deepest trees 8 KB makes are a few hundred levels deep (the
/// tests measure them).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Path(Path),
    Literal(Literal, Pos),
    /// The n-th `?` of the statement (0-based).
    Param(usize, Pos),
    /// `{'k': v, ...}` in the order written (duplicates kept; binding
    /// refuses them).
    Map(Vec<(String, Expr)>, Pos),
    /// `[v, ...]`.
    List(Vec<Expr>, Pos),
    /// `<<v, ...>>`.
    Bag(Vec<Expr>, Pos),
    /// Unary minus (`- x`); unary plus is dropped by the parser.
    Neg(Box<Expr>, Pos),
    Not(Box<Expr>),
    /// `a op b`, placed at the operator. An AND or OR chain (`a AND b AND
    /// c ...`, however long) is a tree of `Binary` nodes of its operator
    /// that all carry the chain's place — its last operator, where the
    /// outermost node of a left-to-right reading sits — with the last
    /// operand on the right of the outermost node and the others below it
    /// in a balanced tree, so that a chain as long as a statement is only
    /// about a dozen levels deep (chains of up to four operands keep the
    /// left-to-right shape). A parenthesised chain of the same operator is
    /// an operand of its own place; [`Expr::chain`] gives the operands as
    /// written.
    Binary(BinaryOp, Box<Expr>, Box<Expr>, Pos),
    /// `x BETWEEN low AND high`.
    Between(Box<Expr>, Box<Expr>, Box<Expr>, Pos),
    /// `x IN [a, b]` / `x IN (a, b)`.
    In(Box<Expr>, Vec<Expr>, Pos),
    /// `x IS [NOT] test`.
    Is {
        expr: Box<Expr>,
        negated: bool,
        test: IsTest,
        pos: Pos,
    },
    /// A function call; `name` lower-cased, `pos` spans the name.
    Call {
        name: String,
        args: Vec<Expr>,
        pos: Pos,
    },
}

impl Expr {
    /// The operator and the operands, in the order written, of the AND or
    /// OR chain this expression is (a parenthesised chain of the same
    /// operator being one operand); `None` for anything else.
    pub fn chain(&self) -> Option<(BinaryOp, Vec<&Expr>)> {
        let Expr::Binary(op @ (BinaryOp::And | BinaryOp::Or), _, _, at) = self else {
            return None;
        };
        let mut operands = Vec::new();
        // Walked with a heap stack: the tree is shallow, but this keeps
        // the walk's stack use independent of how it was built.
        let mut pending = vec![self];
        while let Some(e) = pending.pop() {
            match e {
                Expr::Binary(o, a, b, p) if o == op && p == at => {
                    pending.push(b);
                    pending.push(a);
                }
                operand => operands.push(operand),
            }
        }
        Some((*op, operands))
    }

    /// Where the expression starts.
    pub fn pos(&self) -> Pos {
        match self {
            Expr::Path(p) => p.pos,
            Expr::Literal(_, p)
            | Expr::Param(_, p)
            | Expr::Map(_, p)
            | Expr::List(_, p)
            | Expr::Bag(_, p)
            | Expr::Neg(_, p)
            | Expr::Binary(_, _, _, p)
            | Expr::Between(_, _, _, p)
            | Expr::In(_, _, p) => *p,
            // One call per NOT written in a row, which the parser's
            // nesting bound caps (a NOT IN or NOT BETWEEN ends at once).
            Expr::Not(e) => e.pos(),
            Expr::Is { pos, .. } | Expr::Call { pos, .. } => *pos,
        }
    }
}
