//! From a parsed statement to the trees the rest of openddb evaluates:
//! values (literals and `?` parameters bound to `Parameters`), conditions
//! (a WHERE clause as a [`Condition`], so that PartiQL compares exactly as
//! ConditionExpression does) and update actions. Every refusal carries
//! DynamoDB's PartiQL wording.

use crate::error::DynamoError;
use crate::expr::{
    Comparator, Condition, DocumentPath, Operand, PathElement, SetValue, UpdateAction as Action,
    UpdateOperand, ValueRef,
};
use crate::number::Number;
use crate::value::{AttributeValue, Item};

use super::ast::*;

/// Deepest nesting of documents DynamoDB accepts in one attribute value.
const MAX_DEPTH: usize = 32;

/// Most operands an IN may list.
pub const MAX_IN_OPERANDS: usize = 100;

fn invalid(message: impl Into<String>) -> DynamoError {
    DynamoError::validation(message)
}

/// The statement's `?` values, checked against the number it uses.
#[derive(Clone, Copy)]
pub struct Params<'a> {
    values: &'a [AttributeValue],
}

impl<'a> Params<'a> {
    /// `expected` is the number of `?` in the statement.
    pub fn new(values: &'a [AttributeValue], expected: usize) -> Result<Self, DynamoError> {
        if values.len() != expected {
            return Err(invalid(
                "Number of parameters in request and statement don't match.",
            ));
        }
        Ok(Params { values })
    }

    fn get(&self, i: usize) -> Result<&'a AttributeValue, DynamoError> {
        self.values
            .get(i)
            .ok_or_else(|| invalid("Number of parameters in request and statement don't match."))
    }
}

/// A path as the expression trees hold it. DynamoDB refuses list indexes
/// outside `0..=i32::MAX`.
pub fn path(p: &Path) -> Result<DocumentPath, DynamoError> {
    let mut elements = Vec::with_capacity(1 + p.steps.len());
    elements.push(PathElement::Name(p.root.clone()));
    for step in &p.steps {
        elements.push(match step {
            Step::Field(name) => PathElement::Name(name.clone()),
            Step::Index(i, pos) => {
                if *i < 0 || *i > i32::MAX as i64 {
                    return Err(invalid(format!(
                        "List index is not within the allowable range; index: [{i}] at {pos}"
                    )));
                }
                PathElement::Index(*i as u32)
            }
        });
    }
    Ok(DocumentPath::new(elements))
}

/// The name of the column a projected path becomes: its last member name
/// and any indexes after it (`a.b[0]` → `b[0]`).
pub fn column_name(p: &Path) -> String {
    let mut name = p.root.clone();
    for step in &p.steps {
        match step {
            Step::Field(f) => name = f.clone(),
            Step::Index(i, _) => name.push_str(&format!("[{}]", (*i).max(0))),
        }
    }
    name
}

/// A number literal's value; `location` names where it sits (`root`,
/// `root.x`, `root[1]`) in DynamoDB's range messages.
fn number(text: &str, location: &str) -> Result<Number, DynamoError> {
    use crate::number::NumberError;
    Number::parse(text).map_err(|e| match e {
        NumberError::Overflow => invalid(format!(
            "Number overflow. Attempting to store a number with magnitude larger than supported range under {location}"
        )),
        NumberError::Underflow => invalid(format!(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range under {location}"
        )),
        NumberError::TooManyDigits => invalid(format!(
            "Attempting to store more than 38 significant digits in a Number under {location}"
        )),
        NumberError::NotANumber(_) => invalid("Statement wasn't well formed, can't be processed: "),
    })
}

/// The value of a value expression. Parameters may stand for a whole value
/// but not for a member of a literal list, map or bag.
pub fn value(e: &Expr, params: Params<'_>) -> Result<AttributeValue, DynamoError> {
    if let Expr::Param(i, _) = e {
        return Ok(params.get(*i)?.clone());
    }
    literal_value(e, params, "root", 0)
}

/// An item literal (`INSERT ... VALUE {...}`): its top-level members may be
/// parameters.
pub fn item(e: &Expr, params: Params<'_>) -> Result<Item, DynamoError> {
    let members = match e {
        Expr::Map(members, _) => members,
        Expr::Param(i, _) => match params.get(*i)? {
            AttributeValue::M(m) => return Ok(m.clone()),
            _ => return Err(unsupported_item_format()),
        },
        _ => return Err(unsupported_item_format()),
    };
    let mut out = Item::new();
    for (name, v) in members {
        let value = match v {
            Expr::Param(i, _) => params.get(*i)?.clone(),
            other => literal_value(other, params, "root", 1)?,
        };
        if out.insert(name.clone(), value).is_some() {
            return Err(invalid(format!(
                "Duplicate keys in tuple. Key: {name} under root"
            )));
        }
    }
    Ok(out)
}

fn unsupported_item_format() -> DynamoError {
    invalid("Unsupported format in item expression. Please use struct format {...} to express item values for insert statement.")
}

/// Recurses once per nested literal: maps and lists stop at MAX_DEPTH,
/// bags (each restarting the count) and signs at the parser's nesting
/// bound. Each kind of value has a function of its own, so a level of
/// nesting costs only the frames of the kinds it passes through.
fn literal_value(
    e: &Expr,
    params: Params<'_>,
    location: &str,
    depth: usize,
) -> Result<AttributeValue, DynamoError> {
    if depth > MAX_DEPTH {
        return Err(invalid(format!(
            "Nesting Levels have exceeded supported limits under {location}"
        )));
    }
    match e {
        Expr::Map(members, _) => map_value(members, params, location, depth),
        Expr::List(members, _) => list_value(members, params, location, depth),
        Expr::Bag(members, _) => bag(members, params, location),
        Expr::Neg(inner, _) => negated_value(inner, params, location, depth),
        other => scalar_value(other, location),
    }
}

fn map_value(
    members: &[(String, Expr)],
    params: Params<'_>,
    location: &str,
    depth: usize,
) -> Result<AttributeValue, DynamoError> {
    let mut m = Item::new();
    for (name, v) in members {
        let at = format!("{location}.{name}");
        let value = literal_value(v, params, &at, depth + 1)?;
        if m.insert(name.clone(), value).is_some() {
            return Err(invalid(format!(
                "Duplicate keys in tuple. Key: {name} under {location}"
            )));
        }
    }
    Ok(AttributeValue::M(m))
}

fn list_value(
    members: &[Expr],
    params: Params<'_>,
    location: &str,
    depth: usize,
) -> Result<AttributeValue, DynamoError> {
    // A plain loop: iterator adapters would put half a dozen frames
    // between each level of a nested literal.
    let mut l = Vec::with_capacity(members.len());
    for (i, v) in members.iter().enumerate() {
        l.push(literal_value(
            v,
            params,
            &format!("{location}[{i}]"),
            depth + 1,
        )?);
    }
    Ok(AttributeValue::L(l))
}

fn negated_value(
    inner: &Expr,
    params: Params<'_>,
    location: &str,
    depth: usize,
) -> Result<AttributeValue, DynamoError> {
    match literal_value(inner, params, location, depth)? {
        AttributeValue::N(n) => Ok(AttributeValue::N(
            Number::from_i64(0)
                .checked_sub(&n)
                .map_err(|_| invalid("Number overflow"))?,
        )),
        other => Err(operand_type_error("-", other.type_name())),
    }
}

/// A literal that holds no other, or the refusal of what is not a value.
fn scalar_value(e: &Expr, location: &str) -> Result<AttributeValue, DynamoError> {
    Ok(match e {
        Expr::Literal(l, pos) => match l {
            Literal::String(s) => AttributeValue::S(s.clone()),
            Literal::Number(n) => AttributeValue::N(number(n, location)?),
            Literal::Bool(b) => AttributeValue::Bool(*b),
            Literal::Null => AttributeValue::Null,
            Literal::Missing => {
                return Err(invalid(format!(
                    "Unsupported data type: MISSING under key {location} at {pos}"
                )))
            }
        },
        Expr::Param(_, pos) => {
            return Err(invalid(format!(
                "Unsupported data type: Parameter under key {location} at {}:{}:1",
                pos.line, pos.col
            )))
        }
        Expr::Call { name, pos, .. } => {
            return Err(invalid(format!(
                "Unsupported data type: {name} under key {location} at {pos}"
            )))
        }
        Expr::Path(p) => {
            return Err(invalid(format!(
                "Unsupported data type: path under key {location} at {}",
                p.pos
            )))
        }
        other => {
            return Err(invalid(format!(
                "Unsupported data type: expression under key {location} at {}",
                other.pos()
            )))
        }
    })
}

/// `<<...>>`: a string or number set, neither empty nor with duplicates.
fn bag(
    members: &[Expr],
    params: Params<'_>,
    location: &str,
) -> Result<AttributeValue, DynamoError> {
    if members.is_empty() {
        return Err(invalid("Empty bags are not supported"));
    }
    let mut values = Vec::with_capacity(members.len());
    for m in members {
        values.push(literal_value(m, params, location, 1)?);
    }
    set_of(values)
}

/// A bag's members as a set: all strings or all numbers, no duplicates.
fn set_of(values: Vec<AttributeValue>) -> Result<AttributeValue, DynamoError> {
    let mixed = || {
        invalid("Unsupported data type in Bag. DynamoDB only supports either numbers or strings in bags")
    };
    let shown = |values: &[AttributeValue]| {
        values
            .iter()
            .map(|v| match v {
                AttributeValue::S(s) => s.clone(),
                AttributeValue::N(n) => n.to_string(),
                _ => String::new(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let duplicates = |values: &[AttributeValue]| {
        invalid(format!(
            "One or more parameter values were invalid: Input collection [{}] contains duplicates.",
            shown(values)
        ))
    };
    match values.first() {
        Some(AttributeValue::S(_)) => {
            let mut out: Vec<String> = Vec::with_capacity(values.len());
            for v in &values {
                let AttributeValue::S(s) = v else {
                    return Err(mixed());
                };
                if out.contains(s) {
                    return Err(duplicates(&values));
                }
                out.push(s.clone());
            }
            Ok(AttributeValue::SS(out))
        }
        Some(AttributeValue::N(_)) => {
            let mut out: Vec<Number> = Vec::with_capacity(values.len());
            for v in &values {
                let AttributeValue::N(n) = v else {
                    return Err(mixed());
                };
                if out.contains(n) {
                    return Err(duplicates(&values));
                }
                out.push(*n);
            }
            Ok(AttributeValue::NS(out))
        }
        _ => Err(mixed()),
    }
}

/// Whether an expression is a value (literal, parameter or container).
/// Recurses through signs only, which the parser folds into numbers (and
/// bounds by its nesting limit besides).
pub fn is_value(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Literal(..) | Expr::Param(..) | Expr::Map(..) | Expr::List(..) | Expr::Bag(..)
    ) || matches!(e, Expr::Neg(inner, _) if is_value(inner))
}

/// The functions a WHERE clause may call, which yield a boolean.
const PREDICATES: &[&str] = &[
    "attribute_exists",
    "attribute_not_exists",
    "attribute_type",
    "begins_with",
    "contains",
];

fn comparator(op: BinaryOp) -> Option<Comparator> {
    Some(match op {
        BinaryOp::Eq => Comparator::Eq,
        BinaryOp::Ne => Comparator::Ne,
        BinaryOp::Lt => Comparator::Lt,
        BinaryOp::Le => Comparator::Le,
        BinaryOp::Gt => Comparator::Gt,
        BinaryOp::Ge => Comparator::Ge,
        _ => return None,
    })
}

fn operand_type_error(op: &str, t: &str) -> DynamoError {
    invalid(format!(
        "Incorrect operand type for operator or function; operator or function: {op}, operand type: {t}"
    ))
}

/// Ordering operators accept only strings, numbers and binaries.
fn check_ordered(op: &str, operand: &Operand) -> Result<(), DynamoError> {
    if let Operand::Value(ValueRef::Literal(v)) = operand {
        if !matches!(
            v,
            AttributeValue::S(_) | AttributeValue::N(_) | AttributeValue::B(_)
        ) {
            return Err(operand_type_error(op, v.type_name()));
        }
    }
    Ok(())
}

/// A WHERE clause as a condition with literal values, of the clause's
/// shape (so AND and OR chains stay as shallow as the parser built them).
///
/// AND, OR and NOT are walked with a heap stack, whatever their depth; the
/// terms under them are bound from left to right, so the problem reported
/// is the first one written.
pub fn condition(e: &Expr, params: Params<'_>) -> Result<Condition, DynamoError> {
    /// What to do with a sub-condition once it is bound.
    enum Then<'e> {
        /// Bind this right operand next.
        Right(BinaryOp, &'e Expr),
        /// Join with this left operand, bound already.
        Join(BinaryOp, Condition),
        Not,
    }
    let mut stack: Vec<Then<'_>> = Vec::new();
    let mut next = e;
    loop {
        let mut done = loop {
            match next {
                Expr::Binary(op @ (BinaryOp::And | BinaryOp::Or), a, b, _) => {
                    stack.push(Then::Right(*op, b));
                    next = a;
                }
                Expr::Not(inner) => {
                    stack.push(Then::Not);
                    next = inner;
                }
                term => break term_condition(term, params)?,
            }
        };
        loop {
            match stack.pop() {
                None => return Ok(done),
                Some(Then::Not) => done = Condition::not(done),
                Some(Then::Join(BinaryOp::And, left)) => done = Condition::and(left, done),
                Some(Then::Join(_, left)) => done = Condition::or(left, done),
                Some(Then::Right(op, right)) => {
                    stack.push(Then::Join(op, done));
                    next = right;
                    break;
                }
            }
        }
    }
}

/// A condition that is not AND, OR or NOT. Recurses only into function
/// arguments and literal values, one level per nested term, which the
/// parser's nesting bound caps.
fn term_condition(e: &Expr, params: Params<'_>) -> Result<Condition, DynamoError> {
    Ok(match e {
        Expr::Binary(op, a, b, _) => {
            let Some(cmp) = comparator(*op) else {
                return Err(boolean_required());
            };
            // A predicate compared with a boolean: `attribute_exists(x) = false`.
            if let Some(c) = predicate_against_bool(a, b, cmp, params)? {
                return Ok(c);
            }
            if let Some(c) = predicate_against_bool(b, a, cmp, params)? {
                return Ok(c);
            }
            let (x, y) = (operand(a, params)?, operand(b, params)?);
            if cmp != Comparator::Eq && cmp != Comparator::Ne {
                check_ordered(cmp.symbol(), &x)?;
                check_ordered(cmp.symbol(), &y)?;
            }
            Condition::Compare(x, cmp, y)
        }
        Expr::Between(x, low, high, _) => {
            let (x, low, high) = (
                operand(x, params)?,
                operand(low, params)?,
                operand(high, params)?,
            );
            for o in [&x, &low, &high] {
                check_ordered("BETWEEN", o)?;
            }
            Condition::Between(x, low, high)
        }
        Expr::In(x, list, _) => {
            if list.len() > MAX_IN_OPERANDS {
                return Err(invalid(format!(
                    "The IN operator is provided with too many operands; number of operands: {}",
                    list.len()
                )));
            }
            Condition::In(
                operand(x, params)?,
                list.iter()
                    .map(|v| operand(v, params))
                    .collect::<Result<_, _>>()?,
            )
        }
        Expr::Is {
            expr,
            negated,
            test,
            ..
        } => {
            let Expr::Path(p) = expr.as_ref() else {
                return Err(invalid(
                    "Unsupported operation: IS operator on a value that is not a document path",
                ));
            };
            let p = path(p)?;
            let c = match test {
                IsTest::Missing => Condition::AttributeNotExists(p),
                IsTest::Null => type_test(p, "NULL"),
                IsTest::Type(t) => type_test(p, is_type(t)?),
            };
            if *negated {
                Condition::not(c)
            } else {
                c
            }
        }
        Expr::Call { name, args, pos } => predicate(name, args, *pos, params)?,
        Expr::Literal(Literal::Bool(true), _) => Condition::not(never()),
        Expr::Literal(Literal::Bool(false), _) => never(),
        _ => return Err(boolean_required()),
    })
}

/// The conditions joined by AND in a balanced tree (neighbours paired
/// level by level, so the order is kept): a WHERE's conjuncts can number
/// in the thousands, and a tree as deep as it is long would make every
/// walk over it that deep.
pub fn conjunction(conditions: Vec<Condition>) -> Option<Condition> {
    let mut level = conditions;
    while level.len() > 1 {
        let mut next = Vec::with_capacity(level.len().div_ceil(2));
        let mut items = level.into_iter();
        while let Some(a) = items.next() {
            next.push(match items.next() {
                Some(b) => Condition::and(a, b),
                None => a,
            });
        }
        level = next;
    }
    level.pop()
}

/// A condition no item satisfies (a path cannot both exist and not).
fn never() -> Condition {
    let p = DocumentPath::attribute("pk");
    Condition::and(
        Condition::AttributeExists(p.clone()),
        Condition::AttributeNotExists(p),
    )
}

fn boolean_required() -> DynamoError {
    invalid("WHERE clause must contain an expression that resolves to a boolean")
}

fn type_test(p: DocumentPath, t: &str) -> Condition {
    Condition::AttributeType(
        p,
        Operand::Value(ValueRef::Literal(AttributeValue::S(t.to_string()))),
    )
}

/// The DynamoDB type an `IS <type>` test names.
fn is_type(name: &str) -> Result<&'static str, DynamoError> {
    Ok(match name {
        "BOOL" | "BOOLEAN" => "BOOL",
        "STRING" | "VARCHAR" | "CHARACTER VARYING" | "CHAR" | "CHARACTER" | "SYMBOL" => "S",
        "INT" | "INT2" | "INT4" | "INT8" | "INTEGER" | "INTEGER2" | "INTEGER4" | "INTEGER8"
        | "SMALLINT" | "BIGINT" | "DECIMAL" | "NUMERIC" | "FLOAT" | "REAL"
        | "DOUBLE PRECISION" | "DEC" => "N",
        "BLOB" => "B",
        "STRUCT" | "TUPLE" => "M",
        "LIST" => "L",
        other => {
            return Err(invalid(format!(
                "Unsupported data type for IS operator: {other}. Supported data types are [MISSING, NULL, BOOLEAN, BLOB, STRING, NUMERIC, STRUCT, TUPLE, LIST]"
            )))
        }
    })
}

/// `f(...) = TRUE`-style comparisons of a predicate with a boolean.
fn predicate_against_bool(
    call: &Expr,
    other: &Expr,
    cmp: Comparator,
    params: Params<'_>,
) -> Result<Option<Condition>, DynamoError> {
    let Expr::Call { name, args, pos } = call else {
        return Ok(None);
    };
    if !PREDICATES.contains(&name.as_str()) {
        return Ok(None);
    }
    let c = predicate(name, args, *pos, params)?;
    let truth = match other {
        Expr::Literal(Literal::Bool(b), _) => Some(*b),
        Expr::Param(i, _) => match params.get(*i)? {
            AttributeValue::Bool(b) => Some(*b),
            _ => None,
        },
        _ => None,
    };
    Ok(Some(match (cmp, truth) {
        (Comparator::Eq, Some(true)) | (Comparator::Ne, Some(false)) => c,
        (Comparator::Eq, Some(false)) | (Comparator::Ne, Some(true)) => Condition::not(c),
        (Comparator::Eq, None) => never(),
        (Comparator::Ne, None) => Condition::not(never()),
        (other, _) => return Err(operand_type_error(other.symbol(), "BOOL")),
    }))
}

fn arity(name: &str, args: &[Expr], n: usize) -> Result<(), DynamoError> {
    if args.len() != n {
        return Err(invalid(format!(
            "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
            args.len()
        )));
    }
    Ok(())
}

fn path_argument(name: &str, e: &Expr) -> Result<DocumentPath, DynamoError> {
    match e {
        Expr::Path(p) => path(p),
        _ => Err(invalid(format!(
            "Operator or function requires a document path; operator or function: {name}"
        ))),
    }
}

/// The attribute types `attribute_type` knows.
const TYPE_NAMES: &[&str] = &["N", "BS", "L", "B", "NULL", "M", "S", "SS", "NS", "BOOL"];

fn predicate(
    name: &str,
    args: &[Expr],
    pos: Pos,
    params: Params<'_>,
) -> Result<Condition, DynamoError> {
    Ok(match name {
        "attribute_exists" | "attribute_not_exists" => {
            arity(name, args, 1)?;
            let p = path_argument(name, &args[0])?;
            if name == "attribute_exists" {
                Condition::AttributeExists(p)
            } else {
                Condition::AttributeNotExists(p)
            }
        }
        "attribute_type" => {
            arity(name, args, 2)?;
            let p = path_argument(name, &args[0])?;
            let t = match operand(&args[1], params)? {
                Operand::Value(ValueRef::Literal(AttributeValue::S(t))) => t,
                Operand::Value(ValueRef::Literal(other)) => {
                    return Err(operand_type_error(name, other.type_name()))
                }
                _ => return Err(operand_type_error(name, "PATH")),
            };
            if !TYPE_NAMES.contains(&t.as_str()) {
                return Err(invalid(format!(
                    "Invalid attribute type name found; type: {t}, valid types: {{N,BS,L,B,NULL,M,S,SS,NS,BOOL}}"
                )));
            }
            type_test(
                p,
                TYPE_NAMES.iter().find(|n| **n == t).copied().unwrap_or("S"),
            )
        }
        "begins_with" | "contains" => {
            arity(name, args, 2)?;
            let (a, b) = (operand(&args[0], params)?, operand(&args[1], params)?);
            if name == "begins_with" {
                Condition::BeginsWith(a, b)
            } else {
                Condition::Contains(a, b)
            }
        }
        "size" => return Err(boolean_required()),
        other => return Err(invalid(format!("Unrecognized function: {other} at {pos}"))),
    })
}

/// A comparison operand: a path, a value or `size(path)`.
fn operand(e: &Expr, params: Params<'_>) -> Result<Operand, DynamoError> {
    Ok(match e {
        Expr::Path(p) => Operand::Path(path(p)?),
        Expr::Call { name, args, pos } => match name.as_str() {
            "size" => {
                arity(name, args, 1)?;
                Operand::Size(Box::new(Operand::Path(path_argument(name, &args[0])?)))
            }
            n if PREDICATES.contains(&n) => {
                return Err(invalid(format!(
                    "Unsupported operation: function {n} used as a value at {pos}"
                )))
            }
            other => return Err(invalid(format!("Unrecognized function: {other} at {pos}"))),
        },
        e if is_value(e) => Operand::Value(ValueRef::Literal(value(e, params)?)),
        Expr::Binary(op @ (BinaryOp::Add | BinaryOp::Sub), a, b, _) => {
            // Constant arithmetic (`1 + 2`) folds; arithmetic on paths is
            // only for SET.
            let (x, y) = (
                value_operand(a, params, op.symbol())?,
                value_operand(b, params, op.symbol())?,
            );
            let n = if *op == BinaryOp::Add {
                x.checked_add(&y)
            } else {
                x.checked_sub(&y)
            }
            .map_err(|e| invalid(e.message()))?;
            Operand::Value(ValueRef::Literal(AttributeValue::N(n)))
        }
        _ => return Err(boolean_required()),
    })
}

fn value_operand(e: &Expr, params: Params<'_>, op: &str) -> Result<Number, DynamoError> {
    if !is_value(e) {
        return Err(invalid(format!(
            "Unsupported operation: arithmetic on a document path outside SET; operator: {op}"
        )));
    }
    match value(e, params)? {
        AttributeValue::N(n) => Ok(n),
        other => Err(operand_type_error(op, other.type_name())),
    }
}

/// One SET or REMOVE as an update action with literal values.
pub fn update_action(a: &UpdateAction, params: Params<'_>) -> Result<Action, DynamoError> {
    Ok(match a {
        UpdateAction::Remove(p) => Action::Remove(path(p)?),
        UpdateAction::Set(target, e) => {
            let p = path(target)?;
            if let Expr::Call { name, args, pos } = e {
                if name == "set_add" || name == "set_delete" {
                    let upper = name.to_ascii_uppercase();
                    if args.len() != 2 {
                        return Err(invalid(format!(
                            "{upper} must have exactly two arguments at {pos}"
                        )));
                    }
                    let first_pos = args[0].pos();
                    match &args[0] {
                        Expr::Path(q) if q == target || path(q)? == p => {}
                        Expr::Path(q) if same_path(q, target) => {}
                        _ => {
                            return Err(invalid(format!(
                                "The first argument to {upper} must equal the assignment value at {pos}"
                            )))
                        }
                    }
                    let v = if is_value(&args[1]) {
                        value(&args[1], params)?
                    } else {
                        AttributeValue::Null
                    };
                    if !matches!(
                        v,
                        AttributeValue::SS(_) | AttributeValue::NS(_) | AttributeValue::BS(_)
                    ) {
                        return Err(invalid(format!(
                            "The second argument to {upper} must be a value with type SET at {first_pos}"
                        )));
                    }
                    let v = ValueRef::Literal(v);
                    return Ok(if name == "set_add" {
                        Action::Add(p, v)
                    } else {
                        Action::Delete(p, v)
                    });
                }
            }
            Action::Set(p, set_value(e, params)?)
        }
    })
}

fn same_path(a: &Path, b: &Path) -> bool {
    a.root == b.root
        && a.steps.len() == b.steps.len()
        && a.steps.iter().zip(&b.steps).all(|(x, y)| match (x, y) {
            (Step::Field(m), Step::Field(n)) => m == n,
            (Step::Index(i, _), Step::Index(j, _)) => i == j,
            _ => false,
        })
}

fn set_value(e: &Expr, params: Params<'_>) -> Result<SetValue, DynamoError> {
    Ok(match e {
        Expr::Binary(op @ (BinaryOp::Add | BinaryOp::Sub), a, b, _) => {
            let (x, y) = (
                update_operand(a, params, op.symbol())?,
                update_operand(b, params, op.symbol())?,
            );
            if *op == BinaryOp::Add {
                SetValue::Plus(x, y)
            } else {
                SetValue::Minus(x, y)
            }
        }
        other => SetValue::Operand(update_operand(other, params, "")?),
    })
}

/// A SET operand; `arithmetic` names the operator it feeds, whose operands
/// must be numbers when they are values. Recurses into `list_append`'s
/// arguments, one level per nested call, which the parser's nesting bound
/// caps.
fn update_operand(
    e: &Expr,
    params: Params<'_>,
    arithmetic: &str,
) -> Result<UpdateOperand, DynamoError> {
    Ok(match e {
        Expr::Path(p) => UpdateOperand::Path(path(p)?),
        Expr::Call { name, args, pos } => match name.as_str() {
            "list_append" => {
                if args.len() != 2 {
                    return Err(invalid(format!(
                        "Incorrect number of operands for operator or function; operator or function: list_append, number of operands: {}",
                        args.len()
                    )));
                }
                UpdateOperand::ListAppend(
                    Box::new(update_operand(&args[0], params, "")?),
                    Box::new(update_operand(&args[1], params, "")?),
                )
            }
            "set_add" | "set_delete" => {
                return Err(invalid(format!(
                    "The first argument to {} must equal the assignment value at {}",
                    name.to_ascii_uppercase(),
                    pos
                )))
            }
            other => return Err(invalid(format!("Unrecognized function: {other} at {pos}"))),
        },
        e if is_value(e) => {
            let v = value(e, params)?;
            if !arithmetic.is_empty() && !matches!(v, AttributeValue::N(_)) {
                return Err(operand_type_error(arithmetic, v.type_name()));
            }
            UpdateOperand::Value(ValueRef::Literal(v))
        }
        Expr::Binary(BinaryOp::Add | BinaryOp::Sub, ..) => {
            return Err(invalid(
                "Unsupported operation: more than one arithmetic operator in one SET value",
            ))
        }
        other => {
            return Err(invalid(format!(
                "Unsupported operation: expression in SET at {}",
                other.pos()
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str) -> Expr {
        Expr::Path(Path {
            root: name.into(),
            steps: vec![],
            pos: Pos::default(),
        })
    }
    fn s(v: &str) -> Expr {
        Expr::Literal(Literal::String(v.into()), Pos::default())
    }
    fn n(v: &str) -> Expr {
        Expr::Literal(Literal::Number(v.into()), Pos::default())
    }
    fn none() -> Params<'static> {
        Params::new(&[], 0).unwrap()
    }

    #[test]
    fn bags_become_sets_and_refuse_empty_mixed_and_duplicates() {
        let bag = Expr::Bag(vec![s("a"), s("b")], Pos::default());
        assert_eq!(
            value(&bag, none()).unwrap(),
            AttributeValue::SS(vec!["a".into(), "b".into()])
        );
        let empty = Expr::Bag(vec![], Pos::default());
        assert_eq!(
            value(&empty, none()).unwrap_err().message,
            "Empty bags are not supported"
        );
        let mixed = Expr::Bag(vec![n("1"), s("a")], Pos::default());
        assert!(value(&mixed, none())
            .unwrap_err()
            .message
            .starts_with("Unsupported data type in Bag"));
        let dup = Expr::Bag(vec![s("a"), s("a")], Pos::default());
        assert_eq!(
            value(&dup, none()).unwrap_err().message,
            "One or more parameter values were invalid: Input collection [a, a] contains duplicates."
        );
    }

    #[test]
    fn parameters_inside_literals_are_refused_with_their_location() {
        let list = Expr::List(
            vec![Expr::Param(
                0,
                Pos {
                    line: 1,
                    col: 30,
                    len: 1,
                },
            )],
            Pos::default(),
        );
        let values = [AttributeValue::S("x".into())];
        let params = Params::new(&values, 1).unwrap();
        assert_eq!(
            value(&list, params).unwrap_err().message,
            "Unsupported data type: Parameter under key root[0] at 1:30:1"
        );
        assert_eq!(
            value(&Expr::Param(0, Pos::default()), params).unwrap(),
            values[0]
        );
    }

    #[test]
    fn number_ranges_name_their_location() {
        let m = Expr::Map(vec![("x".into(), n("1e126"))], Pos::default());
        assert_eq!(
            value(&m, none()).unwrap_err().message,
            "Number overflow. Attempting to store a number with magnitude larger than supported range under root.x"
        );
        let neg = Expr::Neg(Box::new(n("1.5")), Pos::default());
        assert_eq!(
            value(&neg, none()).unwrap(),
            AttributeValue::N(Number::parse("-1.5").unwrap())
        );
    }

    #[test]
    fn predicates_compared_with_booleans() {
        let call = Expr::Call {
            name: "attribute_exists".into(),
            args: vec![p("a")],
            pos: Pos::default(),
        };
        let eq_false = Expr::Binary(
            BinaryOp::Eq,
            Box::new(call.clone()),
            Box::new(Expr::Literal(Literal::Bool(false), Pos::default())),
            Pos::default(),
        );
        let c = condition(&eq_false, none()).unwrap();
        let item: Item = [("b".to_string(), AttributeValue::Bool(true))].into();
        assert!(crate::expr::evaluate(&c, Some(&item)));
        let gt = Expr::Binary(
            BinaryOp::Gt,
            Box::new(call),
            Box::new(Expr::Literal(Literal::Bool(false), Pos::default())),
            Pos::default(),
        );
        assert_eq!(
            condition(&gt, none()).unwrap_err().message,
            "Incorrect operand type for operator or function; operator or function: >, operand type: BOOL"
        );
    }

    #[test]
    fn ordering_operators_refuse_unordered_literals() {
        let lt = Expr::Binary(
            BinaryOp::Lt,
            Box::new(p("a")),
            Box::new(Expr::Literal(Literal::Null, Pos::default())),
            Pos::default(),
        );
        assert_eq!(
            condition(&lt, none()).unwrap_err().message,
            "Incorrect operand type for operator or function; operator or function: <, operand type: NULL"
        );
    }

    #[test]
    fn in_lists_are_bounded() {
        let list: Vec<Expr> = (0..101).map(|i| n(&i.to_string())).collect();
        let e = Expr::In(Box::new(p("a")), list, Pos::default());
        assert_eq!(
            condition(&e, none()).unwrap_err().message,
            "The IN operator is provided with too many operands; number of operands: 101"
        );
    }

    #[test]
    fn columns_are_named_by_their_last_member() {
        let path = Path {
            root: "m".into(),
            steps: vec![Step::Field("k".into()), Step::Index(0, Pos::default())],
            pos: Pos::default(),
        };
        assert_eq!(column_name(&path), "k[0]");
    }

    #[test]
    fn set_add_checks_its_arguments() {
        let target = Path {
            root: "s".into(),
            steps: vec![],
            pos: Pos::default(),
        };
        let call = |first: Expr, second: Expr| Expr::Call {
            name: "set_add".into(),
            args: vec![first, second],
            pos: Pos {
                line: 1,
                col: 20,
                len: 7,
            },
        };
        let ok = UpdateAction::Set(
            target.clone(),
            call(p("s"), Expr::Bag(vec![s("x")], Pos::default())),
        );
        assert!(matches!(
            update_action(&ok, none()).unwrap(),
            Action::Add(..)
        ));
        let wrong = UpdateAction::Set(
            target.clone(),
            call(p("t"), Expr::Bag(vec![s("x")], Pos::default())),
        );
        assert!(update_action(&wrong, none())
            .unwrap_err()
            .message
            .starts_with("The first argument to SET_ADD must equal the assignment value at"));
        let not_set = UpdateAction::Set(target, call(p("s"), s("x")));
        assert!(update_action(&not_set, none())
            .unwrap_err()
            .message
            .starts_with("The second argument to SET_ADD must be a value with type SET"));
    }
}
