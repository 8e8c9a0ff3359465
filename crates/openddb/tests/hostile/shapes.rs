//! Expressions built to an exact byte length in every nesting shape a
//! recursive parser, checker, evaluator or printer could choke on.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpressionParam {
    Condition,
    Filter,
    KeyCondition,
    Update,
    Projection,
}

impl ExpressionParam {
    pub const ALL: [ExpressionParam; 5] = [
        ExpressionParam::Condition,
        ExpressionParam::Filter,
        ExpressionParam::KeyCondition,
        ExpressionParam::Update,
        ExpressionParam::Projection,
    ];

    /// The request parameter's name, as DynamoDB's messages spell it.
    pub fn name(self) -> &'static str {
        match self {
            ExpressionParam::Condition => "ConditionExpression",
            ExpressionParam::Filter => "FilterExpression",
            ExpressionParam::KeyCondition => "KeyConditionExpression",
            ExpressionParam::Update => "UpdateExpression",
            ExpressionParam::Projection => "ProjectionExpression",
        }
    }

    fn is_condition(self) -> bool {
        matches!(
            self,
            ExpressionParam::Condition | ExpressionParam::Filter | ExpressionParam::KeyCondition
        )
    }

    /// The attribute a comparison names (the partition key in a key
    /// condition, so the only problem is the shape).
    fn attribute(self) -> &'static str {
        if self == ExpressionParam::KeyCondition {
            "pk"
        } else {
            "a"
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `((((…` and nothing else.
    OpenParentheses,
    /// `((((a = :v))))`.
    BalancedParentheses,
    /// `NOT NOT NOT … a = :v`.
    NotChain,
    /// `(NOT (NOT (… a = :v)))`.
    NotAndParentheses,
    /// `size(size(…a…)) = :v`, `list_append(list_append(…), :v)`.
    NestedFunctions,
    /// `a.a.a.a…`.
    DottedPath,
    /// `a[0][0][0]…`.
    IndexedPath,
    /// `a = :v AND a = :v AND …`.
    AndChain,
    /// `a = :v OR a = :v OR …`.
    OrChain,
    /// `a < a < a < …`.
    ComparisonChain,
    /// `a IN (:v, :v, …)`.
    InList,
    /// `SET a = (a + (a + (…)))`.
    ArithmeticNesting,
}

impl Shape {
    pub const ALL: [Shape; 12] = [
        Shape::OpenParentheses,
        Shape::BalancedParentheses,
        Shape::NotChain,
        Shape::NotAndParentheses,
        Shape::NestedFunctions,
        Shape::DottedPath,
        Shape::IndexedPath,
        Shape::AndChain,
        Shape::OrChain,
        Shape::ComparisonChain,
        Shape::InList,
        Shape::ArithmeticNesting,
    ];

    /// The shape as an expression of exactly `len` bytes for `param`, or
    /// `None` where the shape makes no sense for it (or DynamoDB would
    /// accept it, so it is not hostile).
    pub fn build(self, param: ExpressionParam, len: usize) -> Option<String> {
        use ExpressionParam as P;
        let a = param.attribute();
        let cmp = format!("{a} = :v");
        let text = match (self, param) {
            (Shape::OpenParentheses, _) => "(".repeat(len),
            (Shape::BalancedParentheses, P::Update) => wrapped("SET a = ", "(", "b", ")", "", len),
            (Shape::BalancedParentheses, P::Projection) => wrapped("", "(", "a", ")", "", len),
            (Shape::BalancedParentheses, _) => wrapped("", "(", &cmp, ")", "", len),
            (Shape::NotChain, p) if p.is_condition() => repeated("", "NOT ", &cmp, len),
            (Shape::NotAndParentheses, p) if p.is_condition() => {
                wrapped("", "(NOT ", &cmp, ")", "", len)
            }
            (Shape::NestedFunctions, P::Update) => {
                wrapped("SET a = ", "list_append(", "a", ", :v)", "", len)
            }
            (Shape::NestedFunctions, p) if p.is_condition() => {
                wrapped("", "size(", a, ")", " = :v", len)
            }
            (Shape::DottedPath, P::Update) => path("SET a", ".a", " = :v", len),
            (Shape::DottedPath, P::Projection) => path("a", ".a", "", len),
            (Shape::DottedPath, _) => path(a, ".a", " = :v", len),
            (Shape::IndexedPath, P::Update) => path("SET a", "[0]", " = :v", len),
            (Shape::IndexedPath, P::Projection) => path("a", "[0]", "", len),
            (Shape::IndexedPath, _) => path(a, "[0]", " = :v", len),
            (Shape::AndChain, p) if p.is_condition() => {
                repeated("", &format!("{cmp} AND "), &cmp, len)
            }
            (Shape::OrChain, p) if p.is_condition() => {
                repeated("", &format!("{cmp} OR "), &cmp, len)
            }
            (Shape::ComparisonChain, p) if p.is_condition() => {
                repeated("", &format!("{a} < "), a, len)
            }
            (Shape::InList, p) if p.is_condition() => {
                repeated(&format!("{a} IN ("), ":v, ", ":v)", len)
            }
            (Shape::ArithmeticNesting, P::Update) => {
                wrapped("SET a = ", "(a + ", "a", ")", "", len)
            }
            _ => return None,
        };
        Some(text)
    }
}

/// `prefix` + `open`×k + `core` + `close`×k + `suffix`, padded with spaces
/// to exactly `len` bytes, k as large as fits.
fn wrapped(prefix: &str, open: &str, core: &str, close: &str, suffix: &str, len: usize) -> String {
    let fixed = prefix.len() + core.len() + suffix.len();
    let k = (len - fixed) / (open.len() + close.len());
    pad(
        format!(
            "{prefix}{}{core}{}{suffix}",
            open.repeat(k),
            close.repeat(k)
        ),
        len,
    )
}

/// `prefix` + `unit`×k + `last`, padded with spaces to exactly `len`.
fn repeated(prefix: &str, unit: &str, last: &str, len: usize) -> String {
    let k = (len - prefix.len() - last.len()) / unit.len();
    pad(format!("{prefix}{}{last}", unit.repeat(k)), len)
}

/// `head` + `step`×k + `tail`, padded with spaces to exactly `len`.
fn path(head: &str, step: &str, tail: &str, len: usize) -> String {
    let k = (len - head.len() - tail.len()) / step.len();
    pad(format!("{head}{}{tail}", step.repeat(k)), len)
}

fn pad(mut s: String, len: usize) -> String {
    while s.len() < len {
        s.push(' ');
    }
    s
}
