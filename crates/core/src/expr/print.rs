//! `Display` for the expression trees: an unresolved tree prints as an
//! expression that parses back to the same tree (literal values, which only
//! resolved or legacy trees hold, print in DynamoDB's `{N:1}` message form).

use std::fmt::{self, Display, Formatter, Write};

use super::ast::*;
use crate::value::AttributeValue;

impl Display for PathElement {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            PathElement::Name(n) | PathElement::Placeholder(n) => f.write_str(n),
            PathElement::Index(i) => write!(f, "[{i}]"),
        }
    }
}

impl Display for DocumentPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, e) in self.elements.iter().enumerate() {
            if i > 0 && !matches!(e, PathElement::Index(_)) {
                f.write_char('.')?;
            }
            e.fmt(f)?;
        }
        Ok(())
    }
}

/// `{S:abc}`-style rendering of a value, as DynamoDB prints values in messages.
pub fn value_brief(v: &AttributeValue) -> String {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    match v {
        AttributeValue::S(s) => format!("{{S:{s}}}"),
        AttributeValue::N(n) => format!("{{N:{n}}}"),
        AttributeValue::B(b) => format!("{{B:{}}}", b64(b)),
        AttributeValue::Bool(b) => format!("{{BOOL:{b}}}"),
        AttributeValue::Null => "{NULL:true}".to_string(),
        other => format!("{{{}:...}}", other.type_name()),
    }
}

impl Display for ValueRef {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            ValueRef::Placeholder(p) => f.write_str(p),
            ValueRef::Literal(v) => f.write_str(&value_brief(v)),
        }
    }
}

impl Display for Operand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut sizes = 0;
        let mut o = self;
        while let Operand::Size(inner) = o {
            f.write_str("size(")?;
            sizes += 1;
            o = inner;
        }
        match o {
            Operand::Path(p) => p.fmt(f)?,
            Operand::Value(v) => v.fmt(f)?,
            Operand::Size(_) => {}
        }
        (0..sizes).try_for_each(|_| f.write_char(')'))
    }
}

impl Display for Comparator {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

/// Binding strength: OR < AND < NOT < everything else.
fn level(c: &Condition) -> u8 {
    match c {
        Condition::Or(..) => 1,
        Condition::And(..) => 2,
        Condition::Not(..) => 3,
        _ => 4,
    }
}

/// What is left to print of a condition.
enum Piece<'c> {
    /// A condition that binds at least as tightly as the level given, or is
    /// put in parentheses.
    Condition(&'c Condition, u8),
    Text(&'static str),
}

/// AND, OR and NOT are printed with a heap stack, so no tree is too deep to
/// print.
impl Display for Condition {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut todo = vec![Piece::Condition(self, 0)];
        while let Some(piece) = todo.pop() {
            let (c, min) = match piece {
                Piece::Text(t) => {
                    f.write_str(t)?;
                    continue;
                }
                Piece::Condition(c, min) => (c, min),
            };
            if level(c) < min {
                f.write_char('(')?;
                todo.push(Piece::Text(")"));
            }
            match c {
                Condition::Not(x) => {
                    f.write_str("NOT ")?;
                    todo.push(Piece::Condition(x, 3));
                }
                Condition::And(a, b) => {
                    todo.push(Piece::Condition(b, 3));
                    todo.push(Piece::Text(" AND "));
                    todo.push(Piece::Condition(a, 2));
                }
                Condition::Or(a, b) => {
                    todo.push(Piece::Condition(b, 2));
                    todo.push(Piece::Text(" OR "));
                    todo.push(Piece::Condition(a, 1));
                }
                leaf => leaf_fmt(leaf, f)?,
            }
        }
        Ok(())
    }
}

/// A condition that is neither AND, OR nor NOT.
fn leaf_fmt(c: &Condition, f: &mut Formatter<'_>) -> fmt::Result {
    match c {
        Condition::Compare(a, op, b) => write!(f, "{a} {op} {b}"),
        Condition::Between(a, lo, hi) => write!(f, "{a} BETWEEN {lo} AND {hi}"),
        Condition::In(a, list) => {
            write!(f, "{a} IN (")?;
            for (i, v) in list.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                v.fmt(f)?;
            }
            f.write_char(')')
        }
        Condition::AttributeExists(p) => write!(f, "attribute_exists({p})"),
        Condition::AttributeNotExists(p) => write!(f, "attribute_not_exists({p})"),
        Condition::AttributeType(p, t) => write!(f, "attribute_type({p}, {t})"),
        Condition::BeginsWith(a, b) => write!(f, "begins_with({a}, {b})"),
        Condition::Contains(a, b) => write!(f, "contains({a}, {b})"),
        Condition::Not(_) | Condition::And(..) | Condition::Or(..) => c.fmt(f),
    }
}

impl Display for UpdateOperand {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            UpdateOperand::Path(p) => p.fmt(f),
            UpdateOperand::Value(v) => v.fmt(f),
            UpdateOperand::IfNotExists(p, v) => write!(f, "if_not_exists({p}, {v})"),
            UpdateOperand::ListAppend(a, b) => write!(f, "list_append({a}, {b})"),
        }
    }
}

impl Display for SetValue {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            SetValue::Operand(o) => o.fmt(f),
            SetValue::Plus(a, b) => write!(f, "{a} + {b}"),
            SetValue::Minus(a, b) => write!(f, "{a} - {b}"),
        }
    }
}

fn comma_list<T>(
    f: &mut Formatter<'_>,
    items: &[T],
    mut each: impl FnMut(&mut Formatter<'_>, &T) -> fmt::Result,
) -> fmt::Result {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        each(f, item)?;
    }
    Ok(())
}

impl Display for UpdateClause {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.keyword())?;
        f.write_char(' ')?;
        match self {
            UpdateClause::Set(v) => comma_list(f, v, |f, (p, s)| write!(f, "{p} = {s}")),
            UpdateClause::Remove(v) => comma_list(f, v, |f, p| write!(f, "{p}")),
            UpdateClause::Add(v) | UpdateClause::Delete(v) => {
                comma_list(f, v, |f, (p, s)| write!(f, "{p} {s}"))
            }
        }
    }
}

impl Display for UpdateExpression {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, c) in self.clauses.iter().enumerate() {
            if i > 0 {
                f.write_char(' ')?;
            }
            c.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for ProjectionExpression {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        comma_list(f, &self.paths, |f, p| write!(f, "{p}"))
    }
}
