//! The grammar of condition, update and projection expressions, parsed
//! without recursion: pending work lives on a heap stack, so nesting costs
//! memory bounded by the expression's length (at most 4 KB of tokens), never
//! thread stack. 2,047 `(`, 1,000 `NOT`s or 1,365 nested calls parse to the
//! same tree, or the same syntax error at the same token, as a shallow input.

use super::ast::{Comparator, DocumentPath, PathElement};
use super::lexer::{syntax_error_message, tokenize, Token, TokenKind};

/// The untyped tree the grammar produces; typing happens in the checker.
#[derive(Debug)]
pub(super) enum Raw {
    Path(DocumentPath),
    Value(String),
    Call(String, Vec<Raw>),
    Paren(Box<Raw>),
    Cmp(Box<Raw>, Comparator, Box<Raw>),
    Between(Box<Raw>, Box<Raw>, Box<Raw>),
    In(Box<Raw>, Vec<Raw>),
    Not(Box<Raw>),
    And(Box<Raw>, Box<Raw>),
    Or(Box<Raw>, Box<Raw>),
    Arith(Box<Raw>, bool, Box<Raw>),
}

#[derive(PartialEq, Eq, Clone, Copy)]
pub(super) enum Shape {
    Condition,
    Operand,
    Call,
    Arith,
}

impl Raw {
    pub(super) fn shape(&self) -> Shape {
        let mut raw = self;
        while let Raw::Paren(inner) = raw {
            raw = inner;
        }
        match raw {
            Raw::Path(_) | Raw::Value(_) => Shape::Operand,
            Raw::Arith(..) => Shape::Arith,
            Raw::Call(..) => Shape::Call,
            _ => Shape::Condition,
        }
    }

    /// The children, taken out so that dropping a deep tree does not recurse.
    fn take_children(&mut self, out: &mut Vec<Raw>) {
        match self {
            Raw::Path(_) | Raw::Value(_) => {}
            Raw::Call(_, args) => out.append(args),
            Raw::In(a, list) => {
                out.push(take(a));
                out.append(list);
            }
            Raw::Paren(a) | Raw::Not(a) => out.push(take(a)),
            Raw::Cmp(a, _, b) | Raw::And(a, b) | Raw::Or(a, b) | Raw::Arith(a, _, b) => {
                out.push(take(a));
                out.push(take(b));
            }
            Raw::Between(a, b, c) => {
                out.push(take(a));
                out.push(take(b));
                out.push(take(c));
            }
        }
    }
}

fn take(b: &mut Box<Raw>) -> Raw {
    std::mem::replace(&mut **b, Raw::Value(String::new()))
}

impl Drop for Raw {
    // A tree 2,000 levels deep would otherwise be freed by 2,000 nested
    // drop calls.
    fn drop(&mut self) {
        let mut pending = Vec::new();
        self.take_children(&mut pending);
        while let Some(mut raw) = pending.pop() {
            raw.take_children(&mut pending);
        }
    }
}

/// One clause of an UpdateExpression with its actions, before typing; the
/// clause's kind decides the shape of its actions, so no clause can hold an
/// action of another kind.
#[derive(Debug)]
pub(super) enum RawClause {
    Set(Vec<(DocumentPath, Raw)>),
    Remove(Vec<DocumentPath>),
    /// ADD (`add`) or DELETE: paths and value placeholders.
    Value {
        add: bool,
        pairs: Vec<(DocumentPath, String)>,
    },
}

impl RawClause {
    /// The clause's keyword as DynamoDB's messages spell it.
    pub(super) fn keyword(&self) -> &'static str {
        match self {
            RawClause::Set(_) => "SET",
            RawClause::Remove(_) => "REMOVE",
            RawClause::Value { add: true, .. } => "ADD",
            RawClause::Value { add: false, .. } => "DELETE",
        }
    }
}

pub(super) const CLAUSES: &[&str] = &["SET", "REMOVE", "ADD", "DELETE"];
const CONDITION_STOP: &[&str] = &["AND", "OR", "NOT", "BETWEEN", "IN"];

/// A syntax error at a token index.
pub(super) type PResult<T> = Result<T, usize>;

/// A grammar rule to parse next.
#[derive(Clone, Copy)]
enum Rule {
    /// `and (OR and)*`
    Or,
    /// `not (AND not)*`
    And,
    /// `NOT not | comparison`
    Not,
    /// `primary [comparator operand | BETWEEN operand AND operand | IN (operand, ...)]`
    Comparison,
    /// `( or ) | atom`
    Primary,
    /// `( operand ) | atom`
    Operand,
    /// A function call, a path or a value; `update` picks the stop words
    /// and the argument rule.
    Atom { update: bool },
    /// A function argument: an operand, or in updates a term.
    Argument { update: bool },
    /// `term [(+|-) term]`
    SetValue,
    /// `( set_value ) | atom`
    SetTerm,
}

/// What to do with a rule's result once it is parsed: the rest of the rule
/// that asked for it, with what that rule had gathered so far.
enum Then {
    Or(Option<Raw>),
    And(Option<Raw>),
    Not,
    Comparison,
    CmpRight(Raw, Comparator),
    BetweenLow(Raw),
    BetweenHigh(Raw, Raw),
    InList(Raw, Vec<Raw>),
    CloseParen,
    CallArgs(String, Vec<Raw>, bool),
    UpdateArgument,
    SetLeft,
    SetRight(Raw, bool),
}

/// The parser's position in the tokens, and the count of operators and
/// functions met (DynamoDB's limit is on this count).
pub(super) struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    pub(super) operators: usize,
}

enum Step {
    Parse(Rule),
    Done(Raw),
}

impl<'s> Parser<'s> {
    pub(super) fn new(src: &'s str) -> Self {
        Parser {
            src,
            toks: tokenize(src),
            pos: 0,
            operators: 0,
        }
    }

    fn peek(&self) -> TokenKind {
        self.toks[self.pos].kind
    }

    fn peek_at(&self, offset: usize) -> TokenKind {
        self.toks
            .get(self.pos + offset)
            .map_or(TokenKind::Eof, |t| t.kind)
    }

    fn text(&self) -> &'s str {
        let t = self.toks[self.pos];
        &self.src[t.start..t.end]
    }

    fn bump(&mut self) -> &'s str {
        let t = self.text();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn expect(&mut self, kind: TokenKind) -> PResult<()> {
        if self.peek() == kind {
            self.bump();
            Ok(())
        } else {
            Err(self.pos)
        }
    }

    fn at_keyword(&self, word: &str) -> bool {
        self.peek() == TokenKind::Ident && self.text().eq_ignore_ascii_case(word)
    }

    fn at_any_keyword(&self, words: &[&str]) -> bool {
        words.iter().any(|w| self.at_keyword(w))
    }

    pub(super) fn syntax_message(&self, idx: usize) -> String {
        syntax_error_message(self.src, &self.toks, idx)
    }

    /// One more operator or function towards DynamoDB's limit.
    fn node(&mut self, raw: Raw) -> Raw {
        self.operators += 1;
        raw
    }

    /// `name ('.' name | '[' n ']')*`; `stop` words may not start it.
    pub(super) fn path(&mut self, stop: &[&str]) -> PResult<DocumentPath> {
        let mut elements = Vec::new();
        match self.peek() {
            TokenKind::Ident if !self.at_any_keyword(stop) => {
                elements.push(PathElement::Name(self.bump().to_string()))
            }
            TokenKind::NamePlaceholder => {
                elements.push(PathElement::Placeholder(self.bump().to_string()))
            }
            _ => return Err(self.pos),
        }
        loop {
            match self.peek() {
                TokenKind::Dot => {
                    self.bump();
                    match self.peek() {
                        TokenKind::Ident => {
                            elements.push(PathElement::Name(self.bump().to_string()))
                        }
                        TokenKind::NamePlaceholder => {
                            elements.push(PathElement::Placeholder(self.bump().to_string()))
                        }
                        _ => return Err(self.pos),
                    }
                }
                TokenKind::LBracket => {
                    self.bump();
                    if self.peek() != TokenKind::Number {
                        return Err(self.pos);
                    }
                    let index: u32 = self.text().parse().map_err(|_| self.pos)?;
                    self.bump();
                    self.expect(TokenKind::RBracket)?;
                    elements.push(PathElement::Index(index));
                }
                _ => return Ok(DocumentPath { elements }),
            }
        }
    }

    fn comparator(&self) -> Option<Comparator> {
        Some(match self.peek() {
            TokenKind::Eq => Comparator::Eq,
            TokenKind::Ne => Comparator::Ne,
            TokenKind::Lt => Comparator::Lt,
            TokenKind::Le => Comparator::Le,
            TokenKind::Gt => Comparator::Gt,
            TokenKind::Ge => Comparator::Ge,
            _ => return None,
        })
    }

    /// Parses `rule` to its end. Each rule either finishes at once or asks
    /// for a sub-rule, leaving on `stack` what to do with the sub-rule's
    /// result: the recursive-descent grammar, with the call stack made data.
    fn parse(&mut self, rule: Rule) -> PResult<Raw> {
        let mut stack: Vec<Then> = Vec::new();
        let mut step = Step::Parse(rule);
        loop {
            step = match step {
                Step::Parse(rule) => self.start(rule, &mut stack)?,
                Step::Done(raw) => match stack.pop() {
                    None => return Ok(raw),
                    Some(then) => self.resume(then, raw, &mut stack)?,
                },
            };
        }
    }

    fn start(&mut self, rule: Rule, stack: &mut Vec<Then>) -> PResult<Step> {
        Ok(match rule {
            Rule::Or => {
                stack.push(Then::Or(None));
                Step::Parse(Rule::And)
            }
            Rule::And => {
                stack.push(Then::And(None));
                Step::Parse(Rule::Not)
            }
            Rule::Not => {
                if self.at_keyword("NOT") {
                    self.bump();
                    stack.push(Then::Not);
                    Step::Parse(Rule::Not)
                } else {
                    Step::Parse(Rule::Comparison)
                }
            }
            Rule::Comparison => {
                stack.push(Then::Comparison);
                Step::Parse(Rule::Primary)
            }
            Rule::Primary | Rule::Operand | Rule::SetTerm if self.peek() == TokenKind::LParen => {
                self.bump();
                stack.push(Then::CloseParen);
                Step::Parse(match rule {
                    Rule::Primary => Rule::Or,
                    Rule::Operand => Rule::Operand,
                    _ => Rule::SetValue,
                })
            }
            Rule::Primary | Rule::Operand => Step::Parse(Rule::Atom { update: false }),
            Rule::SetTerm => Step::Parse(Rule::Atom { update: true }),
            Rule::Atom { update } => {
                let stop = if update { CLAUSES } else { CONDITION_STOP };
                match self.peek() {
                    TokenKind::Ident
                        if self.peek_at(1) == TokenKind::LParen && !self.at_any_keyword(stop) =>
                    {
                        let name = self.bump().to_string();
                        self.bump();
                        stack.push(Then::CallArgs(name, Vec::new(), update));
                        Step::Parse(Rule::Argument { update })
                    }
                    TokenKind::Ident | TokenKind::NamePlaceholder => {
                        Step::Done(Raw::Path(self.path(stop)?))
                    }
                    TokenKind::ValuePlaceholder => Step::Done(Raw::Value(self.bump().to_string())),
                    _ => return Err(self.pos),
                }
            }
            Rule::Argument { update: false } => Step::Parse(Rule::Operand),
            Rule::Argument { update: true } => {
                stack.push(Then::UpdateArgument);
                Step::Parse(Rule::SetTerm)
            }
            Rule::SetValue => {
                stack.push(Then::SetLeft);
                Step::Parse(Rule::SetTerm)
            }
        })
    }

    fn resume(&mut self, then: Then, raw: Raw, stack: &mut Vec<Then>) -> PResult<Step> {
        Ok(match then {
            Then::Or(left) => {
                let left = self.join(left, raw, Raw::Or)?;
                if self.at_keyword("OR") {
                    if left.shape() == Shape::Operand {
                        return Err(self.pos);
                    }
                    self.bump();
                    stack.push(Then::Or(Some(left)));
                    Step::Parse(Rule::And)
                } else {
                    Step::Done(left)
                }
            }
            Then::And(left) => {
                let left = self.join(left, raw, Raw::And)?;
                if self.at_keyword("AND") {
                    if left.shape() == Shape::Operand {
                        return Err(self.pos);
                    }
                    self.bump();
                    stack.push(Then::And(Some(left)));
                    Step::Parse(Rule::Not)
                } else {
                    Step::Done(left)
                }
            }
            Then::Not => {
                if raw.shape() == Shape::Operand {
                    return Err(self.pos);
                }
                Step::Done(self.node(Raw::Not(Box::new(raw))))
            }
            Then::Comparison => {
                let is_between = self.at_keyword("BETWEEN");
                let is_in = self.at_keyword("IN");
                let op = self.comparator();
                if op.is_none() && !is_between && !is_in {
                    return Ok(Step::Done(raw));
                }
                if raw.shape() == Shape::Condition {
                    return Err(self.pos);
                }
                self.bump();
                if let Some(op) = op {
                    stack.push(Then::CmpRight(raw, op));
                } else if is_between {
                    stack.push(Then::BetweenLow(raw));
                } else {
                    self.expect(TokenKind::LParen)?;
                    stack.push(Then::InList(raw, Vec::new()));
                }
                Step::Parse(Rule::Operand)
            }
            Then::CmpRight(left, op) => {
                Step::Done(self.node(Raw::Cmp(Box::new(left), op, Box::new(raw))))
            }
            Then::BetweenLow(left) => {
                if !self.at_keyword("AND") {
                    return Err(self.pos);
                }
                self.bump();
                stack.push(Then::BetweenHigh(left, raw));
                Step::Parse(Rule::Operand)
            }
            Then::BetweenHigh(left, low) => {
                Step::Done(self.node(Raw::Between(Box::new(left), Box::new(low), Box::new(raw))))
            }
            Then::InList(left, mut list) => {
                list.push(raw);
                if self.peek() == TokenKind::Comma {
                    self.bump();
                    stack.push(Then::InList(left, list));
                    Step::Parse(Rule::Operand)
                } else {
                    self.expect(TokenKind::RParen)?;
                    Step::Done(self.node(Raw::In(Box::new(left), list)))
                }
            }
            Then::CloseParen => {
                self.expect(TokenKind::RParen)?;
                Step::Done(Raw::Paren(Box::new(raw)))
            }
            Then::CallArgs(name, mut args, update) => {
                args.push(raw);
                if self.peek() == TokenKind::Comma {
                    self.bump();
                    stack.push(Then::CallArgs(name, args, update));
                    Step::Parse(Rule::Argument { update })
                } else {
                    self.expect(TokenKind::RParen)?;
                    Step::Done(self.node(Raw::Call(name, args)))
                }
            }
            Then::UpdateArgument => {
                if raw.shape() == Shape::Arith {
                    return Err(self.pos);
                }
                Step::Done(raw)
            }
            Then::SetLeft => {
                let plus = match self.peek() {
                    TokenKind::Plus => true,
                    TokenKind::Minus => false,
                    _ => return Ok(Step::Done(raw)),
                };
                if raw.shape() == Shape::Arith {
                    return Err(self.pos);
                }
                self.bump();
                stack.push(Then::SetRight(raw, plus));
                Step::Parse(Rule::SetTerm)
            }
            Then::SetRight(left, plus) => {
                if raw.shape() == Shape::Arith {
                    return Err(self.pos);
                }
                Step::Done(self.node(Raw::Arith(Box::new(left), plus, Box::new(raw))))
            }
        })
    }

    /// The next operand of an AND or OR chain: the first stands alone, a
    /// later one joins what came before (neither may be a bare operand).
    fn join(
        &mut self,
        left: Option<Raw>,
        right: Raw,
        make: fn(Box<Raw>, Box<Raw>) -> Raw,
    ) -> PResult<Raw> {
        Ok(match left {
            None => right,
            Some(left) => {
                if right.shape() == Shape::Operand {
                    return Err(self.pos);
                }
                self.node(make(Box::new(left), Box::new(right)))
            }
        })
    }

    /// A whole ConditionExpression, FilterExpression or KeyConditionExpression.
    pub(super) fn condition_top(&mut self) -> PResult<Raw> {
        let c = self.parse(Rule::Or)?;
        if c.shape() == Shape::Operand || self.peek() != TokenKind::Eof {
            return Err(self.pos);
        }
        Ok(c)
    }

    /// A whole UpdateExpression: its clauses with their actions.
    pub(super) fn update_top(&mut self) -> PResult<Vec<RawClause>> {
        let mut clauses = Vec::new();
        loop {
            if !self.at_any_keyword(CLAUSES) {
                return Err(self.pos);
            }
            let mut clause = match self.bump().to_ascii_uppercase().as_str() {
                "SET" => RawClause::Set(Vec::new()),
                "REMOVE" => RawClause::Remove(Vec::new()),
                keyword => RawClause::Value {
                    add: keyword == "ADD",
                    pairs: Vec::new(),
                },
            };
            loop {
                let path = self.path(CLAUSES)?;
                match &mut clause {
                    RawClause::Set(actions) => {
                        self.expect(TokenKind::Eq)?;
                        actions.push((path, self.parse(Rule::SetValue)?));
                    }
                    RawClause::Remove(paths) => paths.push(path),
                    RawClause::Value { pairs, .. } => {
                        if self.peek() != TokenKind::ValuePlaceholder {
                            return Err(self.pos);
                        }
                        pairs.push((path, self.bump().to_string()));
                    }
                }
                if self.peek() == TokenKind::Comma {
                    self.bump();
                } else {
                    break;
                }
            }
            clauses.push(clause);
            if self.peek() == TokenKind::Eof {
                return Ok(clauses);
            }
        }
    }

    /// A whole ProjectionExpression.
    pub(super) fn projection_top(&mut self) -> PResult<Vec<DocumentPath>> {
        let mut paths = vec![self.path(&[])?];
        while self.peek() == TokenKind::Comma {
            self.bump();
            paths.push(self.path(&[])?);
        }
        if self.peek() != TokenKind::Eof {
            return Err(self.pos);
        }
        Ok(paths)
    }
}
