//! The entry points for the four expression grammars (the grammar itself is
//! in `syntax`), and the checks DynamoDB makes on a parsed expression before touching any item
//! (function names and arity, misplaced functions, reserved words,
//! placeholders, overlapping paths, literal operand types), reported in
//! DynamoDB's order of precedence between them.

use super::ast::*;
use super::names::Placeholders;
use super::print::value_brief;
use super::reserved::is_reserved;
use super::syntax::{Parser, Raw, RawClause};
use super::ExpressionKind;
use crate::error::DynamoError;
use crate::value::AttributeValue;

/// Longest expression DynamoDB accepts, in bytes as sent.
pub const MAX_EXPRESSION_BYTES: usize = 4096;
/// Most elements a document path may have.
pub const MAX_PATH_DEPTH: usize = 32;
/// Most values an `IN` list may have.
pub const MAX_IN_OPERANDS: usize = 100;
/// Most operators and functions one expression may have ("The maximum
/// number of operators or functions allowed in any expression is 300").
/// Comparators, BETWEEN, IN, NOT, AND, OR, `+`, `-` and every function
/// call count one each; parentheses, commas and the `=` of SET do not.
pub const MAX_OPERATORS: usize = 300;
/// How far below the top the checks follow a parsed expression. Runs of
/// parentheses, NOTs and AND/OR chains are walked in loops; a level that
/// recurses is an operator, a function call, or a condition nested in
/// parentheses below an AND/OR (two operators at least). An expression
/// within [`MAX_OPERATORS`] stays far above it (about 150 levels in a
/// condition; 241 for 240 nested `if_not_exists`, the most 4 KB holds).
/// Past it, reached only by expressions refused for their operator count
/// or for unknown functions, nothing deeper is looked at. At about 2 KB a
/// level in an unoptimised build, the checks need at most half a megabyte
/// of a worker thread's 2 MiB stack.
pub const MAX_CHECK_DEPTH: usize = 256;

const CONDITION_FUNCTIONS: &[&str] = &[
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
];
const UPDATE_FUNCTIONS: &[&str] = &["if_not_exists", "list_append"];
const VALID_TYPES: &[&str] = &["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"];

/// Kinds of semantic problem; which one DynamoDB reports when several occur
/// depends on the expression kind (see `PRIORITY_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Problem {
    Parens,
    UnknownFunction,
    MisusedFunction,
    Reserved,
    Nesting,
    Section,
    UndefinedName,
    UndefinedValue,
    Overlap,
    Conflict,
    OperandCount,
    Distinct,
    AddDeleteOperand,
    Function,
    /// More than [`MAX_OPERATORS`] operators and functions.
    Operators,
}

/// The problems DynamoDB finds in a condition before it counts operators.
/// It counts them walking the tree children first (an AND/OR chain's
/// operands before its ANDs and ORs), as it checks operand types and counts,
/// repeated operands, placeholders and path nesting: whichever of those
/// comes first in that walk is reported. A reserved word ranks below.
const BEFORE_OPERATORS_CONDITION: &[Problem] = &[
    Problem::Parens,
    Problem::UnknownFunction,
    Problem::MisusedFunction,
];

/// In an update the count outranks only a reserved word.
const BEFORE_OPERATORS_UPDATE: &[Problem] = &[
    Problem::Parens,
    Problem::Nesting,
    Problem::UnknownFunction,
    Problem::MisusedFunction,
    Problem::Section,
    Problem::UndefinedName,
    Problem::UndefinedValue,
    Problem::Overlap,
    Problem::Conflict,
    Problem::AddDeleteOperand,
    Problem::OperandCount,
    Problem::Function,
];

const PRIORITY_CONDITION: &[Problem] = &[
    Problem::Parens,
    Problem::UnknownFunction,
    Problem::MisusedFunction,
    Problem::Reserved,
    Problem::Nesting,
    Problem::UndefinedName,
    Problem::OperandCount,
    Problem::Distinct,
    Problem::Function,
];

const PRIORITY_UPDATE: &[Problem] = &[
    Problem::Parens,
    Problem::Reserved,
    Problem::Nesting,
    Problem::UnknownFunction,
    Problem::MisusedFunction,
    Problem::Section,
    Problem::UndefinedName,
    Problem::UndefinedValue,
    Problem::Overlap,
    Problem::Conflict,
    Problem::AddDeleteOperand,
    Problem::OperandCount,
    Problem::Function,
];

const PRIORITY_PROJECTION: &[Problem] = &[
    Problem::Reserved,
    Problem::Nesting,
    Problem::UndefinedName,
    Problem::Overlap,
    Problem::Conflict,
];

struct Checker<'p, 'a> {
    ph: Option<&'p mut Placeholders<'a>>,
    /// In conditions an undefined name and an undefined value rank equally:
    /// the first one met is reported.
    condition: bool,
    /// A KeyConditionExpression: ordering comparisons and BETWEEN take only
    /// S, N or B operands, and DynamoDB reports the first problem met
    /// walking the clauses in order, whether it is an undefined placeholder,
    /// an operand count, an operand repeated or an operand of the wrong type.
    key_condition: bool,
    problems: Vec<(Problem, String)>,
    /// Operators and functions the parser counted.
    operators: usize,
    /// Operators and functions met so far walking a condition.
    counted: usize,
}

/// `[a, b, [2]]`, DynamoDB's rendering of a path in messages.
pub fn path_for_message(path: &DocumentPath) -> String {
    let parts: Vec<String> = path
        .elements
        .iter()
        .map(|e| match e {
            PathElement::Name(n) | PathElement::Placeholder(n) => n.clone(),
            PathElement::Index(i) => format!("[{i}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

fn static_type(o: &Operand) -> Option<&'static str> {
    match o {
        Operand::Value(ValueRef::Literal(v)) => Some(v.type_name()),
        Operand::Size(_) => Some("N"),
        _ => None,
    }
}

fn operators_message() -> String {
    // DynamoDB stops counting at the first operator past the limit.
    format!(
        "The expression contains too many operators; operator count: {}",
        MAX_OPERATORS + 1
    )
}

fn unparenthesised(raw: &Raw) -> &Raw {
    let mut raw = raw;
    while let Raw::Paren(inner) = raw {
        raw = inner;
    }
    raw
}

fn dummy_path() -> DocumentPath {
    DocumentPath::attribute("")
}

fn dummy_operand() -> Operand {
    Operand::Value(ValueRef::Placeholder(String::new()))
}

impl<'p, 'a> Checker<'p, 'a> {
    fn new(ph: Option<&'p mut Placeholders<'a>>, condition: bool) -> Self {
        Checker {
            ph,
            condition,
            key_condition: false,
            problems: Vec::new(),
            operators: 0,
            counted: 0,
        }
    }

    fn report(&mut self, problem: Problem, message: String) {
        let walk_order = matches!(
            problem,
            Problem::UndefinedName
                | Problem::UndefinedValue
                | Problem::OperandCount
                | Problem::Distinct
                | Problem::Function
        );
        let problem = if (self.key_condition && walk_order)
            || (self.condition && problem == Problem::UndefinedValue)
        {
            Problem::UndefinedName
        } else {
            problem
        };
        if !self.problems.iter().any(|(p, _)| *p == problem) {
            self.problems.push((problem, message));
        }
    }

    /// `n` more operators met walking a condition; the one past the limit
    /// is a problem met at this point of the walk.
    fn count(&mut self, n: usize) {
        let before = self.counted;
        self.counted += n;
        if before <= MAX_OPERATORS && self.counted > MAX_OPERATORS {
            self.report(Problem::Operators, operators_message());
        }
    }

    /// The problem DynamoDB reports: an operator count past the limit when
    /// none of `before_operators` occurred and, in a condition, no problem
    /// but a reserved word was met before the count went past it; else the
    /// first by `priority`.
    fn first_problem(&self, priority: &[Problem], before_operators: &[Problem]) -> Option<String> {
        let early = self
            .problems
            .iter()
            .any(|(p, _)| before_operators.contains(p));
        if self.condition && !early {
            let mut met = self.problems.iter().map(|(p, _)| *p);
            if met
                .find(|p| *p != Problem::Reserved)
                .is_some_and(|p| p == Problem::Operators)
            {
                return Some(operators_message());
            }
        } else if !self.condition && !early && self.operators > MAX_OPERATORS {
            return Some(operators_message());
        }
        priority.iter().find_map(|want| {
            self.problems
                .iter()
                .find(|(p, _)| p == want)
                .map(|(_, m)| m.clone())
        })
    }

    fn path(&mut self, path: &DocumentPath) -> DocumentPath {
        if path.elements.len() > MAX_PATH_DEPTH {
            self.report(
                Problem::Nesting,
                format!(
                    "The document path has too many nesting levels; nesting levels: {}",
                    path.elements.len()
                ),
            );
        }
        let mut out = Vec::with_capacity(path.elements.len());
        for e in &path.elements {
            match e {
                PathElement::Name(n) => {
                    if is_reserved(n) {
                        self.report(
                            Problem::Reserved,
                            format!("Attribute name is a reserved keyword; reserved keyword: {n}"),
                        );
                    }
                    out.push(e.clone());
                }
                PathElement::Placeholder(p) => {
                    match self.ph.as_mut().map(|ph| ph.resolve_name(p)) {
                        Some(Ok(name)) => out.push(PathElement::Name(name)),
                        Some(Err(msg)) => {
                            self.report(Problem::UndefinedName, msg);
                            out.push(e.clone());
                        }
                        None => out.push(e.clone()),
                    }
                }
                PathElement::Index(_) => out.push(e.clone()),
            }
        }
        DocumentPath { elements: out }
    }

    fn value(&mut self, placeholder: &str) -> ValueRef {
        match self.ph.as_mut().map(|ph| ph.resolve_value(placeholder)) {
            Some(Ok(v)) => ValueRef::Literal(v),
            Some(Err(msg)) => {
                self.report(Problem::UndefinedValue, msg);
                ValueRef::Placeholder(placeholder.to_string())
            }
            None => ValueRef::Placeholder(placeholder.to_string()),
        }
    }

    fn check_parens(&mut self, inner: &Raw) {
        if matches!(inner, Raw::Paren(_)) {
            self.report(
                Problem::Parens,
                "The expression has redundant parentheses;".to_string(),
            );
        }
    }

    fn arity(&mut self, name: &str, args: usize, want: usize) -> bool {
        if args != want {
            self.report(
                Problem::OperandCount,
                format!(
                    "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {args}"
                ),
            );
            return false;
        }
        true
    }

    fn wrong_type(&mut self, name: &str, ty: &str) {
        self.report(
            Problem::Function,
            format!(
                "Incorrect operand type for operator or function; operator or function: {name}, operand type: {ty}"
            ),
        );
    }

    fn distinct(&mut self, op: &str, a: &Operand, b: &Operand) {
        if let (Operand::Path(x), Operand::Path(y)) = (a, b) {
            if x == y {
                self.report(
                    Problem::Distinct,
                    format!(
                        "The first operand must be distinct from the remaining operands for this operator or function; operator: {op}, first operand: {}",
                        path_for_message(x)
                    ),
                );
            }
        }
    }

    fn requires_path(&mut self, name: &str, o: &Operand) -> DocumentPath {
        match o {
            Operand::Path(p) => p.clone(),
            _ => {
                self.report(
                    Problem::Function,
                    format!(
                        "Operator or function requires a document path; operator or function: {name}"
                    ),
                );
                dummy_path()
            }
        }
    }

    // ---- conditions ----

    /// The condition `raw`, `depth` levels below the top.
    fn condition(&mut self, raw: &Raw, depth: usize) -> Condition {
        if depth > MAX_CHECK_DEPTH {
            return Condition::AttributeExists(dummy_path());
        }
        let mut raw = raw;
        let mut nots = 0;
        loop {
            match raw {
                Raw::Paren(inner) => {
                    self.check_parens(inner);
                    raw = inner;
                }
                Raw::Not(inner) => {
                    nots += 1;
                    raw = inner;
                }
                _ => break,
            }
        }
        let mut c = match raw {
            Raw::And(..) | Raw::Or(..) => self.chain(raw, depth),
            _ => self.simple_condition(raw, depth),
        };
        self.count(nots);
        for _ in 0..nots {
            c = Condition::not(c);
        }
        c
    }

    /// An AND/OR chain, left-deep as parsed, walked in the order written.
    fn chain(&mut self, raw: &Raw, depth: usize) -> Condition {
        let mut rights = Vec::new();
        let mut left = raw;
        loop {
            left = match left {
                Raw::And(a, b) => {
                    rights.push((true, &**b));
                    a
                }
                Raw::Or(a, b) => {
                    rights.push((false, &**b));
                    a
                }
                _ => break,
            };
        }
        let mut c = self.condition(left, depth + 1);
        let operators = rights.len();
        for (and, right) in rights.into_iter().rev() {
            let right = self.condition(right, depth + 1);
            c = if and {
                Condition::and(c, right)
            } else {
                Condition::or(c, right)
            };
        }
        self.count(operators);
        c
    }

    /// A comparison, BETWEEN, IN or function call.
    fn simple_condition(&mut self, raw: &Raw, depth: usize) -> Condition {
        let c = self.simple_condition_node(raw, depth + 1);
        if matches!(
            raw,
            Raw::Cmp(..) | Raw::Between(..) | Raw::In(..) | Raw::Call(..)
        ) {
            self.count(1);
        }
        c
    }

    fn simple_condition_node(&mut self, raw: &Raw, depth: usize) -> Condition {
        match raw {
            Raw::Cmp(a, op, b) => {
                let (a, b) = (self.operand(a, depth), self.operand(b, depth));
                self.distinct(op.symbol(), &a, &b);
                if !matches!(op, Comparator::Eq | Comparator::Ne) {
                    self.key_operand_types(op.symbol(), &[&a, &b]);
                }
                Condition::Compare(a, *op, b)
            }
            Raw::Between(a, lo, hi) => {
                let (a, lo, hi) = (
                    self.operand(a, depth),
                    self.operand(lo, depth),
                    self.operand(hi, depth),
                );
                self.key_operand_types("BETWEEN", &[&a, &lo, &hi]);
                self.between_bounds(&lo, &hi);
                Condition::Between(a, lo, hi)
            }
            Raw::In(a, list) => {
                let a = self.operand(a, depth);
                let list: Vec<Operand> = list.iter().map(|o| self.operand(o, depth)).collect();
                if list.len() > MAX_IN_OPERANDS {
                    self.report(
                        Problem::Function,
                        format!(
                            "The IN operator is provided with too many operands; number of operands: {}",
                            list.len()
                        ),
                    );
                }
                for o in &list {
                    self.distinct("IN", &a, o);
                }
                Condition::In(a, list)
            }
            Raw::Call(name, args) => self.condition_call(name, args, depth),
            _ => Condition::AttributeExists(dummy_path()),
        }
    }

    /// In a KeyConditionExpression an ordering operator's operands must be
    /// of a type a key can have; `=` is left to the schema check, which
    /// words a mismatch differently.
    fn key_operand_types(&mut self, op: &str, operands: &[&Operand]) {
        if !self.key_condition {
            return;
        }
        for o in operands {
            if let Some(ty) = static_type(o) {
                if !matches!(ty, "S" | "N" | "B") {
                    self.wrong_type(op, ty);
                }
            }
        }
    }

    fn between_bounds(&mut self, lo: &Operand, hi: &Operand) {
        let (Operand::Value(ValueRef::Literal(l)), Operand::Value(ValueRef::Literal(h))) = (lo, hi)
        else {
            return;
        };
        let bounds = format!(
            "lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}",
            value_brief(l),
            value_brief(h)
        );
        if l.type_name() != h.type_name() {
            self.report(
                Problem::Function,
                format!("The BETWEEN operator requires same data type for lower and upper bounds; {bounds}"),
            );
        } else if super::eval::compare_scalars(l, h) == Some(std::cmp::Ordering::Greater) {
            self.report(
                Problem::Function,
                format!("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; {bounds}"),
            );
        }
    }

    fn condition_call(&mut self, name: &str, args: &[Raw], depth: usize) -> Condition {
        // An unknown name is met before its arguments: DynamoDB names the
        // outermost of nested unknown functions.
        let known = name == "size" || CONDITION_FUNCTIONS.contains(&name);
        if !known {
            self.unknown_condition_function(name);
        }
        let ops: Vec<Operand> = args.iter().map(|a| self.operand(a, depth)).collect();
        let dummy = Condition::AttributeExists(dummy_path());
        match name {
            "attribute_exists" | "attribute_not_exists" => {
                if !self.arity(name, ops.len(), 1) {
                    return dummy;
                }
                let p = self.requires_path(name, &ops[0]);
                if name == "attribute_exists" {
                    Condition::AttributeExists(p)
                } else {
                    Condition::AttributeNotExists(p)
                }
            }
            "attribute_type" => {
                if !self.arity(name, ops.len(), 2) {
                    return dummy;
                }
                self.distinct(name, &ops[0], &ops[1]);
                let p = self.requires_path(name, &ops[0]);
                match &ops[1] {
                    Operand::Value(ValueRef::Literal(AttributeValue::S(t))) => {
                        if !VALID_TYPES.contains(&t.as_str()) {
                            self.report(
                                Problem::Function,
                                format!("Invalid attribute type name found; type: {t}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"),
                            );
                        }
                    }
                    Operand::Value(ValueRef::Placeholder(_)) => {}
                    other => {
                        let ty = static_type(other).unwrap_or("{NS,SS,L,BS,N,M,B,BOOL,NULL,S}");
                        self.wrong_type(name, ty);
                    }
                }
                Condition::AttributeType(p, ops[1].clone())
            }
            "begins_with" | "contains" => {
                if !self.arity(name, ops.len(), 2) {
                    return dummy;
                }
                self.distinct(name, &ops[0], &ops[1]);
                if name == "begins_with" {
                    for o in &ops {
                        if let Some(ty) = static_type(o) {
                            if ty != "S" && ty != "B" {
                                self.wrong_type(name, ty);
                            }
                        }
                    }
                    Condition::BeginsWith(ops[0].clone(), ops[1].clone())
                } else {
                    Condition::Contains(ops[0].clone(), ops[1].clone())
                }
            }
            "size" => {
                self.report(
                    Problem::MisusedFunction,
                    format!("The function is not allowed to be used this way in an expression; function: {name}"),
                );
                dummy
            }
            _ => dummy,
        }
    }

    fn unknown_condition_function(&mut self, name: &str) {
        let msg = if UPDATE_FUNCTIONS.contains(&name) {
            format!("The function is not allowed in a condition expression; function: {name}")
        } else {
            format!("Invalid function name; function: {name}")
        };
        self.report(Problem::UnknownFunction, msg);
    }

    fn operand(&mut self, raw: &Raw, depth: usize) -> Operand {
        let mut raw = raw;
        while let Raw::Paren(inner) = raw {
            self.check_parens(inner);
            raw = inner;
        }
        match raw {
            Raw::Path(p) => Operand::Path(self.path(p)),
            Raw::Value(v) => Operand::Value(self.value(v)),
            Raw::Call(name, _) if depth > MAX_CHECK_DEPTH => {
                // Not followed further; a size() keeps its type for the
                // check its caller makes.
                if name == "size" {
                    Operand::Size(Box::new(dummy_operand()))
                } else {
                    dummy_operand()
                }
            }
            Raw::Call(name, args) => {
                let o = self.operand_call(name, args, depth);
                self.count(1);
                o
            }
            _ => dummy_operand(),
        }
    }

    /// A function call as an operand; its arguments are one level deeper.
    fn operand_call(&mut self, name: &str, args: &[Raw], depth: usize) -> Operand {
        let known = name == "size" || CONDITION_FUNCTIONS.contains(&name);
        if !known {
            self.unknown_condition_function(name);
        }
        let ops: Vec<Operand> = args.iter().map(|a| self.operand(a, depth + 1)).collect();
        if name == "size" {
            if !self.arity(name, ops.len(), 1) {
                return dummy_operand();
            }
            if let Some(ty) = static_type(&ops[0]) {
                if matches!(ty, "N" | "BOOL" | "NULL") {
                    self.wrong_type(name, ty);
                }
            }
            Operand::Size(Box::new(ops[0].clone()))
        } else if CONDITION_FUNCTIONS.contains(&name) {
            self.report(
                Problem::MisusedFunction,
                format!("The function is not allowed to be used this way in an expression; function: {name}"),
            );
            dummy_operand()
        } else {
            dummy_operand()
        }
    }

    // ---- updates ----

    fn update_operand(&mut self, raw: &Raw, depth: usize) -> UpdateOperand {
        let dummy = UpdateOperand::Value(ValueRef::Placeholder(String::new()));
        let mut raw = raw;
        while let Raw::Paren(inner) = raw {
            self.check_parens(inner);
            raw = inner;
        }
        match raw {
            Raw::Path(p) => UpdateOperand::Path(self.path(p)),
            Raw::Value(v) => UpdateOperand::Value(self.value(v)),
            Raw::Call(..) if depth > MAX_CHECK_DEPTH => dummy,
            Raw::Call(name, args) => {
                match name.as_str() {
                    "if_not_exists" | "list_append" => {}
                    n if CONDITION_FUNCTIONS.contains(&n) || n == "size" => self.report(
                        Problem::UnknownFunction,
                        format!(
                            "The function is not allowed in an update expression; function: {name}"
                        ),
                    ),
                    _ => self.report(
                        Problem::UnknownFunction,
                        format!("Invalid function name; function: {name}"),
                    ),
                }
                let mut ops = Vec::with_capacity(args.len());
                for arg in args {
                    // list_append's result may only be assigned, never
                    // handed to another function.
                    if let Raw::Call(inner, _) = unparenthesised(arg) {
                        if inner == "list_append" {
                            self.report(
                                Problem::MisusedFunction,
                                format!("The function is not allowed to be used this way in an expression; function: {inner}"),
                            );
                        }
                    }
                    ops.push(self.update_operand(arg, depth + 1));
                }
                match name.as_str() {
                    "if_not_exists" | "list_append" => {
                        if ops.len() != 2 {
                            self.report(
                                Problem::Function,
                                format!(
                                    "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
                                    ops.len()
                                ),
                            );
                            return dummy;
                        }
                        let mut ops = ops.into_iter();
                        let (a, b) = (
                            ops.next().unwrap_or(dummy.clone()),
                            ops.next().unwrap_or(dummy.clone()),
                        );
                        if name == "if_not_exists" {
                            match a {
                                UpdateOperand::Path(p) => {
                                    UpdateOperand::IfNotExists(p, Box::new(b))
                                }
                                _ => {
                                    self.report(
                                        Problem::Function,
                                        format!("Operator or function requires a document path; operator or function: {name}"),
                                    );
                                    dummy
                                }
                            }
                        } else {
                            for o in [&a, &b] {
                                if let UpdateOperand::Value(ValueRef::Literal(v)) = o {
                                    if !matches!(v, AttributeValue::L(_)) {
                                        self.wrong_type(name, v.type_name());
                                    }
                                }
                            }
                            UpdateOperand::ListAppend(Box::new(a), Box::new(b))
                        }
                    }
                    _ => dummy,
                }
            }
            _ => dummy,
        }
    }

    fn set_value(&mut self, raw: &Raw, depth: usize) -> SetValue {
        let mut raw = raw;
        while let Raw::Paren(inner) = raw {
            self.check_parens(inner);
            raw = inner;
        }
        match raw {
            Raw::Arith(a, plus, b) => {
                let (a, b) = (
                    self.update_operand(a, depth + 1),
                    self.update_operand(b, depth + 1),
                );
                let sym = if *plus { "+" } else { "-" };
                for o in [&a, &b] {
                    if let UpdateOperand::Value(ValueRef::Literal(v)) = o {
                        if !matches!(v, AttributeValue::N(_)) {
                            self.wrong_type(sym, v.type_name());
                        }
                    }
                }
                if *plus {
                    SetValue::Plus(a, b)
                } else {
                    SetValue::Minus(a, b)
                }
            }
            other => SetValue::Operand(self.update_operand(other, depth + 1)),
        }
    }

    fn add_delete_value(&mut self, op: &str, placeholder: &str) -> ValueRef {
        let v = self.value(placeholder);
        if let ValueRef::Literal(value) = &v {
            let ty = match value {
                AttributeValue::S(_) => Some("STRING"),
                AttributeValue::N(_) if op == "DELETE" => Some("NUMBER"),
                AttributeValue::B(_) => Some("BINARY"),
                AttributeValue::Null => Some("NULL"),
                AttributeValue::Bool(_) => Some("BOOLEAN"),
                AttributeValue::L(_) => Some("LIST"),
                AttributeValue::M(_) => Some("MAP"),
                _ => None,
            };
            if let Some(ty) = ty {
                self.report(
                    Problem::AddDeleteOperand,
                    format!(
                        "Incorrect operand type for operator or function; operator: {op}, operand type: {ty}, typeSet: ALLOWED_FOR_{op}_OPERAND"
                    ),
                );
            }
        }
        v
    }

    /// Overlap and conflict between the paths one expression writes or reads.
    fn check_overlaps(&mut self, paths: &[DocumentPath]) {
        for (j, later) in paths.iter().enumerate() {
            for earlier in &paths[..j] {
                let mut related = true;
                for (x, y) in earlier.elements.iter().zip(&later.elements) {
                    let same_kind =
                        matches!(x, PathElement::Index(_)) == matches!(y, PathElement::Index(_));
                    if !same_kind {
                        self.report(
                            Problem::Conflict,
                            format!(
                                "Two document paths conflict with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                                path_for_message(earlier),
                                path_for_message(later)
                            ),
                        );
                        related = false;
                        break;
                    }
                    if x != y {
                        related = false;
                        break;
                    }
                }
                if related {
                    self.report(
                        Problem::Overlap,
                        format!(
                            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                            path_for_message(earlier),
                            path_for_message(later)
                        ),
                    );
                }
            }
        }
    }
}

// ----------------------------------------------------------- entry points --

fn invalid(kind: ExpressionKind, message: impl std::fmt::Display) -> DynamoError {
    DynamoError::validation(format!("Invalid {}: {message}", kind.parameter_name()))
}

fn precheck(kind: ExpressionKind, src: &str) -> Result<(), DynamoError> {
    if src.is_empty() {
        return Err(invalid(kind, "The expression can not be empty;"));
    }
    if src.len() > MAX_EXPRESSION_BYTES {
        return Err(invalid(
            kind,
            format!(
                "Expression size has exceeded the maximum allowed size; expression size: {}",
                src.len()
            ),
        ));
    }
    Ok(())
}

/// Parses a ConditionExpression, FilterExpression or KeyConditionExpression.
/// With `placeholders`, `#n`/`:v` are resolved (and marked used) and the
/// value-dependent checks run; without, they stay in the tree.
///
/// A KeyConditionExpression also gets the checks DynamoDB makes while
/// parsing one (operand types of `<`-style operators and BETWEEN; the first
/// problem met wins); its shape and key schema are checked afterwards by
/// [`super::keycond::analyze_key_condition`].
pub fn parse_condition(
    kind: ExpressionKind,
    src: &str,
    placeholders: Option<&mut Placeholders<'_>>,
) -> Result<Condition, DynamoError> {
    precheck(kind, src)?;
    let mut p = Parser::new(src);
    let raw = p
        .condition_top()
        .map_err(|idx| invalid(kind, p.syntax_message(idx)))?;
    let mut checker = Checker::new(placeholders, true);
    checker.key_condition = kind == ExpressionKind::KeyCondition;
    checker.operators = p.operators;
    let cond = checker.condition(&raw, 0);
    if p.operators > MAX_OPERATORS && checker.counted <= MAX_OPERATORS {
        // Operators past MAX_CHECK_DEPTH were not walked.
        checker.report(Problem::Operators, operators_message());
    }
    match checker.first_problem(PRIORITY_CONDITION, BEFORE_OPERATORS_CONDITION) {
        Some(msg) => Err(invalid(kind, msg)),
        None => Ok(cond),
    }
}

/// Parses an UpdateExpression (see [`parse_condition`] for `placeholders`).
pub fn parse_update(
    src: &str,
    placeholders: Option<&mut Placeholders<'_>>,
) -> Result<UpdateExpression, DynamoError> {
    let kind = ExpressionKind::Update;
    precheck(kind, src)?;
    let mut p = Parser::new(src);
    let raw = p
        .update_top()
        .map_err(|idx| invalid(kind, p.syntax_message(idx)))?;
    let mut checker = Checker::new(placeholders, false);
    checker.operators = p.operators;
    let mut seen: Vec<&str> = Vec::new();
    let mut written = Vec::new();
    let mut clauses = Vec::new();
    for raw_clause in &raw {
        let keyword = raw_clause.keyword();
        if seen.contains(&keyword) {
            checker.report(
                Problem::Section,
                format!("The \"{keyword}\" section can only be used once in an update expression;"),
            );
        }
        seen.push(keyword);
        let clause = match raw_clause {
            RawClause::Set(actions) => UpdateClause::Set(
                actions
                    .iter()
                    .map(|(path, value)| {
                        let path = checker.path(path);
                        written.push(path.clone());
                        (path, checker.set_value(value, 0))
                    })
                    .collect(),
            ),
            RawClause::Remove(paths) => UpdateClause::Remove(
                paths
                    .iter()
                    .map(|path| {
                        let path = checker.path(path);
                        written.push(path.clone());
                        path
                    })
                    .collect(),
            ),
            RawClause::Value { add, pairs } => {
                let pairs = pairs
                    .iter()
                    .map(|(path, value)| {
                        let path = checker.path(path);
                        written.push(path.clone());
                        (path, checker.add_delete_value(keyword, value))
                    })
                    .collect();
                if *add {
                    UpdateClause::Add(pairs)
                } else {
                    UpdateClause::Delete(pairs)
                }
            }
        };
        clauses.push(clause);
    }
    checker.check_overlaps(&written);
    match checker.first_problem(PRIORITY_UPDATE, BEFORE_OPERATORS_UPDATE) {
        Some(msg) => Err(invalid(kind, msg)),
        None => Ok(UpdateExpression { clauses }),
    }
}

/// Parses a ProjectionExpression (see [`parse_condition`] for `placeholders`).
pub fn parse_projection(
    src: &str,
    placeholders: Option<&mut Placeholders<'_>>,
) -> Result<ProjectionExpression, DynamoError> {
    let kind = ExpressionKind::Projection;
    precheck(kind, src)?;
    let mut p = Parser::new(src);
    let raw = p
        .projection_top()
        .map_err(|idx| invalid(kind, p.syntax_message(idx)))?;
    let mut checker = Checker::new(placeholders, false);
    let paths: Vec<DocumentPath> = raw.iter().map(|path| checker.path(path)).collect();
    checker.check_overlaps(&paths);
    match checker.first_problem(PRIORITY_PROJECTION, &[]) {
        Some(msg) => Err(invalid(kind, msg)),
        None => Ok(ProjectionExpression { paths }),
    }
}
