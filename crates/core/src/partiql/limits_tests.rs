//! Statements as long and as deep as DynamoDB's 8,192 characters allow —
//! AND and OR chains, mixed chains, chains inside parentheses, NOT chains,
//! runs of other operators — parsed, bound, evaluated, printed, cloned and
//! dropped on a thread with half a server worker's stack, in the
//! unoptimised test build; and chains meaning what they say however the
//! parser arranges them.

use proptest::prelude::*;

use super::bind::{self, Params};
use super::*;
use crate::error::DynamoError;
use crate::expr::{evaluate, Condition};
use crate::value::{AttributeValue, Item};
use crate::Number;

/// Half the stack a server worker thread has (2 MiB).
const SMALL_STACK: usize = 1024 * 1024;

/// DynamoDB's longest statement.
const MAX_STATEMENT: usize = 8192;

const SELECT: &str = "SELECT * FROM \"t\" WHERE ";

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic and no stack overflow")
}

/// `prefix`, then `unit` as many times as fits before `last` in 8,192
/// characters, then `last`; and the number of units.
fn fill(prefix: &str, unit: &str, last: &str) -> (String, usize) {
    let n = (MAX_STATEMENT - prefix.len() - last.len()) / unit.len();
    let text = format!("{prefix}{}{last}", unit.repeat(n));
    assert!(text.len() <= MAX_STATEMENT && text.len() > MAX_STATEMENT - unit.len());
    (text, n)
}

fn num(n: i64) -> AttributeValue {
    AttributeValue::N(Number::from_i64(n))
}

fn item(members: &[(&str, i64)]) -> Item {
    members
        .iter()
        .map(|(k, v)| (k.to_string(), num(*v)))
        .collect()
}

fn malformed() -> String {
    "Statement wasn't well formed, can't be processed: ".to_string()
}

/// The nodes directly under `e`.
fn children(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Neg(x, _) | Expr::Not(x) | Expr::Is { expr: x, .. } => vec![x],
        Expr::Binary(_, a, b, _) => vec![a, b],
        Expr::Between(a, b, c, _) => vec![a, b, c],
        Expr::In(x, list, _) => std::iter::once(&**x).chain(list).collect(),
        Expr::Call { args, .. } => args.iter().collect(),
        Expr::List(items, _) | Expr::Bag(items, _) => items.iter().collect(),
        Expr::Map(members, _) => members.iter().map(|(_, v)| v).collect(),
        Expr::Path(_) | Expr::Literal(..) | Expr::Param(..) => Vec::new(),
    }
}

/// Levels of nodes from `e` to its deepest leaf.
fn height(e: &Expr) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(e, 1)];
    while let Some((e, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        pending.extend(children(e).into_iter().map(|c| (c, depth + 1)));
    }
    deepest
}

/// What a request does with a SELECT's WHERE, all of it on a small stack.
struct Outcome {
    /// The top chain's operator and number of operands, if it is a chain.
    chain: Option<(BinaryOp, usize)>,
    height: usize,
    /// Whether the bound condition holds for each item given.
    holds: Vec<bool>,
}

fn run_select(
    text: String,
    params: Vec<AttributeValue>,
    items: Vec<Item>,
) -> Result<Outcome, DynamoError> {
    on_small_stack(move || {
        let parsed = parse(&text)?;
        let Statement::Select(select) = &parsed.statement else {
            panic!("not a SELECT: {text}");
        };
        let filter = select.filter.as_ref().expect("a WHERE clause");
        // Printing, cloning and comparing walk the whole tree, as the
        // derived Debug, Clone and PartialEq do wherever they are used.
        let copy = parsed.clone();
        assert_eq!(copy, parsed);
        assert!(format!("{:?}", parsed.statement).len() > text.len() / 2);
        drop(copy);
        let outcome = Outcome {
            chain: filter.chain().map(|(op, operands)| (op, operands.len())),
            height: height(filter),
            holds: Vec::new(),
        };
        let params = Params::new(&params, parsed.params)?;
        let condition = bind::condition(filter, params)?;
        assert!(condition.to_string().len() > 8);
        let holds = items
            .iter()
            .map(|i| evaluate(&condition, Some(i)))
            .collect();
        let copy = condition.clone();
        assert_eq!(copy, condition);
        Ok(Outcome { holds, ..outcome })
    })
}

#[test]
fn and_and_or_chains_to_the_statement_limit() {
    let one = item(&[("a", 1)]);
    let two = item(&[("a", 2)]);
    for (op, word) in [(BinaryOp::And, "AND"), (BinaryOp::Or, "OR")] {
        for unit in [format!("a = 1 {word} "), format!("a=1 {word} ")] {
            let (text, n) = fill(SELECT, &unit, "a = 1");
            let out = run_select(text, vec![], vec![one.clone(), two.clone()]).unwrap();
            assert_eq!(out.chain, Some((op, n + 1)), "{unit}");
            // About a thousand operands, a dozen levels.
            assert!(n > 800 && out.height <= 14, "{n} operands, {}", out.height);
            assert_eq!(out.holds, [true, false]);
        }
    }
    // The most operands 8 KB holds: two thousand `?`.
    let (text, n) = fill(SELECT, "? AND ", "?");
    let (text_or, _) = fill(SELECT, "? OR ", "?");
    assert!(n > 1300);
    for text in [text, text_or] {
        let count = text.matches('?').count();
        let params = vec![AttributeValue::Bool(true); count];
        let err = run_select(text, params, vec![]).err().unwrap();
        // Binding meets the first `?` first: a parameter is not a condition.
        assert_eq!(
            err.message,
            "WHERE clause must contain an expression that resolves to a boolean"
        );
    }
}

#[test]
fn mixed_chains_keep_their_precedence() {
    // `a = i AND b = i OR ...`: an OR of ANDs, each AND its own chain.
    let mut text = SELECT.to_string();
    let mut groups = 0;
    while text.len() < MAX_STATEMENT - 60 {
        text.push_str(&format!("a = {groups} AND b = {groups} AND c = 0 OR "));
        groups += 1;
    }
    text.push_str("a = -1");
    assert!(text.len() <= MAX_STATEMENT);
    let items = vec![
        item(&[("a", 0), ("b", 0), ("c", 0)]),
        item(&[("a", groups - 1), ("b", groups - 1), ("c", 0)]),
        item(&[("a", groups - 1), ("b", groups - 1), ("c", 1)]),
        item(&[("a", 3), ("b", 4), ("c", 0)]),
        item(&[("a", -1)]),
        item(&[("a", groups), ("b", groups), ("c", 0)]),
    ];
    let out = run_select(text, vec![], items).unwrap();
    assert_eq!(out.chain, Some((BinaryOp::Or, groups as usize + 1)));
    assert!(out.height <= 16, "{}", out.height);
    assert_eq!(out.holds, [true, true, false, false, true, false]);

    // NOT binds tighter than AND, AND tighter than OR, in any number.
    let (text, n) = fill(SELECT, "NOT a = 1 AND a = 2 OR ", "a = 3");
    let items = vec![
        item(&[("a", 1)]),
        item(&[("a", 2)]),
        item(&[("a", 3)]),
        item(&[("a", 4)]),
    ];
    let out = run_select(text, vec![], items).unwrap();
    assert_eq!(out.chain, Some((BinaryOp::Or, n + 1)));
    assert_eq!(out.holds, [false, true, true, false]);
}

#[test]
fn chains_inside_parentheses() {
    let one = item(&[("a", 1)]);
    let two = item(&[("a", 2)]);
    // A whole statement's chain inside 90 parentheses.
    let open = format!("{SELECT}{}", "(".repeat(90));
    let close = format!("a = 1{}", ")".repeat(90));
    for unit in ["a = 1 AND ", "a = 1 OR "] {
        let (text, _) = fill(&open, unit, &close);
        let out = run_select(text, vec![], vec![one.clone(), two.clone()]).unwrap();
        assert!(out.height <= 14);
        assert_eq!(out.holds, [true, false]);
    }

    // Chains nested in chains as deep as the parser goes: `a = 1 AND
    // a = 1 ... AND (a = 1 OR a = 1 ... OR (...))`, the operators
    // alternating, 8 KB shared between the levels.
    let deepest = (1..200)
        .take_while(|&levels| parse(&nested_chains(levels, 1)).is_ok())
        .last()
        .unwrap();
    assert_eq!(deepest, 99);
    assert_eq!(
        parse(&nested_chains(deepest + 1, 1)).unwrap_err().message,
        malformed()
    );
    let per_level = (1..)
        .take_while(|&n| nested_chains(deepest, n).len() <= MAX_STATEMENT)
        .last()
        .unwrap();
    assert!(per_level >= 8, "{per_level}");
    let text = nested_chains(deepest, per_level);
    let out = run_select(text, vec![], vec![one.clone(), two.clone()]).unwrap();
    // At most a few levels of tree for each level of nesting.
    assert!(out.height <= 5 * deepest, "{}", out.height);
    // Every level ends in an OR holding `a = 1`, or an AND of them all.
    assert_eq!(out.holds, [true, false]);

    // A parenthesised chain of the same operator is one operand.
    let f =
        filter("SELECT * FROM t WHERE a = 1 AND (b = 2 AND c = 3) AND d = 4 AND e = 5 AND f = 6");
    let (op, operands) = f.chain().unwrap();
    assert_eq!(op, BinaryOp::And);
    assert_eq!(operands.len(), 5);
    assert_eq!(operands[1].chain().map(|(_, o)| o.len()), Some(2));
}

/// `levels` parenthesised chains, each of `per_level` `a = 1` operands and
/// the next level, ANDs and ORs alternating.
fn nested_chains(levels: usize, per_level: usize) -> String {
    let mut text = SELECT.to_string();
    for level in 0..levels {
        let op = if level % 2 == 0 { " AND " } else { " OR " };
        for _ in 0..per_level {
            text.push_str("a = 1");
            text.push_str(op);
        }
        text.push('(');
    }
    text.push_str("a = 1");
    text.push_str(&")".repeat(levels));
    text
}

fn filter(text: &str) -> Expr {
    match parse(text).unwrap().statement {
        Statement::Select(s) => s.filter.unwrap(),
        other => panic!("not a SELECT: {other:?}"),
    }
}

#[test]
fn not_chains_as_deep_as_the_parser_allows() {
    let nots = |n: usize| format!("{SELECT}{}a = 1", "NOT ".repeat(n));
    let deepest = (1..200)
        .take_while(|&n| parse(&nots(n)).is_ok())
        .last()
        .unwrap();
    assert_eq!(deepest, 99);
    assert_eq!(parse(&nots(deepest + 1)).unwrap_err().message, malformed());
    let (one, two) = (item(&[("a", 1)]), item(&[("a", 2)]));
    for n in [deepest - 1, deepest] {
        let out = run_select(nots(n), vec![], vec![one.clone(), two.clone()]).unwrap();
        assert_eq!(out.height, n + 2);
        let odd = n % 2 == 1;
        assert_eq!(out.holds, [!odd, odd]);
    }
    // Far more NOTs than that, one per operand of a chain.
    let (text, n) = fill(SELECT, "NOT a = 2 AND ", "a = 1");
    let out = run_select(text, vec![], vec![one, two]).unwrap();
    assert_eq!(out.chain, Some((BinaryOp::And, n + 1)));
    assert_eq!(out.holds, [true, false]);
}

/// Every kind of nesting, as deep as the parser follows it, parsed and
/// bound (literals are values there, so binding walks them too).
#[test]
fn every_nesting_at_its_deepest_fits_a_small_stack() {
    let shapes: [(&str, &str, &str); 11] = [
        ("(", "a = 1", ")"),
        ("a IN (", "1", ")"),
        ("a = (a = ", "1", ")"),
        ("a BETWEEN 1 AND (", "1", ")"),
        ("a[", "a", "]"),
        ("a = [", "1", "]"),
        ("a = {'k':", "1", "}"),
        ("a = f(", "1", ")"),
        ("a = <<", "1", ">>"),
        ("a = size(", "b", ")"),
        ("a = list_append(", "b", ", 1)"),
    ];
    for (open, inner, close) in shapes {
        let text = |n: usize| {
            let mut t = SELECT.to_string();
            let (head, rest) = open.split_at(open.len() - open.trim_start_matches("a = ").len());
            t.push_str(head);
            t.push_str(&rest.repeat(n));
            t.push_str(inner);
            t.push_str(&close.repeat(n));
            t
        };
        // Read to the end, though perhaps refused for what it holds.
        let read = |n: usize| parse(&text(n)).map_or_else(|e| e.message != malformed(), |_| true);
        let deepest = (1..150).take_while(|&n| read(n)).last().unwrap();
        assert!(deepest >= 98, "{open}: {deepest}");
        assert_eq!(
            parse(&text(deepest + 1)).unwrap_err().message,
            malformed(),
            "{open}"
        );
        // Whatever binding answers (these are mostly refused), it answers
        // on the small stack.
        let text = text(deepest);
        on_small_stack(move || {
            let Ok(parsed) = parse(&text) else {
                return;
            };
            let Statement::Select(s) = &parsed.statement else {
                panic!()
            };
            let _ = bind::condition(s.filter.as_ref().unwrap(), Params::new(&[], 0).unwrap());
            assert_eq!(parsed.clone(), parsed);
        });
    }
}

#[test]
fn runs_of_other_operators_share_the_nesting_budget() {
    // A few operators on operators' results read as before and are
    // refused, as before, by binding.
    let short = format!("{SELECT}a = 1 = 1 = 1");
    assert_eq!(
        run_select(short, vec![], vec![]).err().unwrap().message,
        "WHERE clause must contain an expression that resolves to a boolean"
    );
    assert!(parse(&format!("{SELECT}a IS NULL = true")).is_ok());
    // From the second on, each takes a level of nesting: 100 operators on
    // `a` fit, 101 do not, and fewer inside parentheses.
    let run = |parens: usize, op: &str, n: usize| {
        format!(
            "{SELECT}{}a{}{}",
            "(".repeat(parens),
            op.repeat(n),
            ")".repeat(parens)
        )
    };
    let longest = |parens: usize, op: &str| {
        (1..300)
            .take_while(|&n| parse(&run(parens, op, n)).is_ok())
            .last()
            .unwrap()
    };
    // An IN's list is a level deeper than its operator, as a term's
    // members are.
    for (op, most) in [
        (" = 1", 100),
        (" < 1", 100),
        (" + 1", 100),
        (" - 1", 100),
        (" IS NULL", 100),
        (" IS NOT MISSING", 100),
        (" BETWEEN 1 AND 2", 100),
        (" NOT BETWEEN 1 AND 2", 100),
        (" IN (1)", 99),
        (" NOT IN (1)", 99),
        (" IN [1]", 99),
    ] {
        assert_eq!(longest(0, op), most, "{op}");
        for parens in [1, 49, 98] {
            assert_eq!(longest(parens, op) + parens, most, "{op} in {parens}");
        }
        assert_eq!(
            parse(&run(0, op, most + 1)).unwrap_err().message,
            malformed(),
            "{op}"
        );
        let (text, _) = fill(&format!("{SELECT}a"), op, "");
        assert_eq!(parse(&text).unwrap_err().message, malformed(), "{op}");
        let Statement::Select(s) = parse(&run(0, op, most)).unwrap().statement else {
            panic!()
        };
        assert!(height(s.filter.as_ref().unwrap()) <= 2 * 100 + 2);
    }
    // A run's levels are given back when it ends: each operand of a chain
    // may hold a run of its own.
    let (text, _) = fill(SELECT, &format!("a{} AND ", " = 1".repeat(90)), "a = 1");
    assert!(parse(&text).is_ok());
    // In SET too (`x - 1 - 1 ...`).
    let set = |n: usize| format!("UPDATE t SET x = x{} WHERE pk = 1", " - 1".repeat(n));
    assert_eq!(
        parse(&set(2)).map(|p| p.params),
        Ok(0),
        "two arithmetic operators parse; binding refuses them"
    );
    assert_eq!(parse(&set(2000)).unwrap_err().message, malformed());
    // Operators that never make a node (`*`, `/`, `%`, `||`, LIKE) take no
    // level: DynamoDB's refusal of the operator is the answer.
    for (op, symbol) in [(" * 1", "*"), (" || 'x'", "||"), (" LIKE 'x'", "like")] {
        let (text, _) = fill(&format!("{SELECT}a"), op, "");
        assert_eq!(
            parse(&text).unwrap_err().message,
            format!("Unsupported operator in Condition Expression. Operator: {symbol}"),
            "{op}"
        );
    }
}

#[test]
fn the_first_problem_written_is_reported() {
    let ordered = "Incorrect operand type for operator or function; operator or function: <, operand type: NULL";
    let function = "Unrecognized function: nope at 1:";
    for word in ["AND", "OR"] {
        let unit = format!("a = 1 {word} ");
        let n = (MAX_STATEMENT - SELECT.len() - 40) / unit.len();
        let operands = |bad: &[(usize, &str)]| {
            let mut parts = vec!["a = 1".to_string(); n];
            for (at, text) in bad {
                parts[*at] = text.to_string();
            }
            format!("{SELECT}{}", parts.join(&format!(" {word} ")))
        };
        for (bad, expected) in [
            (vec![(n / 3, "b < NULL"), (2 * n / 3, "nope(b)")], ordered),
            (vec![(n / 3, "nope(b)"), (2 * n / 3, "b < NULL")], function),
            (vec![(n - 1, "b < NULL")], ordered),
            (vec![(1, "nope(b)"), (n - 1, "b < NULL")], function),
        ] {
            let err = run_select(operands(&bad), vec![], vec![]).err().unwrap();
            assert!(
                err.message.starts_with(expected),
                "{word} {bad:?}: {}",
                err.message
            );
        }
    }
    // Parameters are counted over the whole chain before anything binds.
    let (text, _) = fill(SELECT, "a = ? AND ", "a = ?");
    let err = run_select(text, vec![num(1)], vec![]).err().unwrap();
    assert_eq!(
        err.message,
        "Number of parameters in request and statement don't match."
    );
}

#[test]
fn chains_keep_their_operands_in_order_and_their_place() {
    for n in 1..40 {
        let text = format!(
            "{SELECT}{}",
            (0..n)
                .map(|i| format!("a = {i}"))
                .collect::<Vec<_>>()
                .join(" OR ")
        );
        let f = filter(&text);
        if n == 1 {
            assert!(f.chain().is_none());
            continue;
        }
        let (op, operands) = f.chain().unwrap();
        assert_eq!(op, BinaryOp::Or);
        let written: Vec<String> = operands
            .iter()
            .map(|o| match o {
                Expr::Binary(BinaryOp::Eq, _, v, _) => match v.as_ref() {
                    Expr::Literal(Literal::Number(n), _) => n.clone(),
                    other => panic!("{other:?}"),
                },
                other => panic!("{other:?}"),
            })
            .collect();
        let expected: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        assert_eq!(written, expected);
        // The chain is placed at its last operator, as a left-to-right
        // tree's outermost node was, and the last operand is on its right.
        let last_or = text.rfind(" OR ").unwrap() + 2;
        let Expr::Binary(_, _, right, pos) = &f else {
            panic!()
        };
        assert_eq!((pos.line, pos.col, pos.len), (1, last_or as u32, 2));
        assert!(matches!(right.as_ref(), Expr::Binary(BinaryOp::Eq, ..)));
        // Four operands or fewer: exactly the left-to-right shape.
        if n <= 4 {
            let mut left = &f;
            let mut depth = 0;
            while let Expr::Binary(BinaryOp::Or, l, r, _) = left {
                assert!(matches!(r.as_ref(), Expr::Binary(BinaryOp::Eq, ..)));
                left = l;
                depth += 1;
            }
            assert_eq!(depth, n - 1);
        }
    }
    // A projection or an item member that is a chain is placed at its
    // last operator in messages, as before.
    let err = parse("SELECT a AND b AND c AND d AND e FROM t").unwrap_err();
    assert_eq!(err.message, "Unexpected path component at 1:28:3");
}

/// A boolean formula over `a`, `b`, `c`.
#[derive(Debug, Clone)]
enum Formula {
    Atom(usize, i64),
    Not(Box<Formula>),
    /// AND (`true`) or OR of the operands, each wrapped in parentheses when
    /// `parens` says so (or when precedence needs it).
    Chain(bool, Vec<Formula>, Vec<bool>),
}

fn formula() -> impl Strategy<Value = Formula> {
    let atom = (0..3usize, 0..3i64).prop_map(|(a, v)| Formula::Atom(a, v));
    atom.prop_recursive(5, 200, 12, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Formula::Not(Box::new(f))),
            (
                any::<bool>(),
                prop::collection::vec((inner, any::<bool>()), 2..12)
            )
                .prop_map(|(and, operands)| {
                    let (fs, parens) = operands.into_iter().unzip();
                    Formula::Chain(and, fs, parens)
                }),
        ]
    })
}

fn write(f: &Formula, out: &mut String) {
    match f {
        Formula::Atom(a, v) => out.push_str(&format!("{} = {v}", ["a", "b", "c"][*a])),
        Formula::Not(x) => {
            // NOT binds tighter than AND and OR: a chain under it needs
            // its parentheses.
            out.push_str("NOT (");
            write(x, out);
            out.push(')');
        }
        Formula::Chain(and, operands, parens) => {
            for (i, (x, paren)) in operands.iter().zip(parens).enumerate() {
                if i > 0 {
                    out.push_str(if *and { " AND " } else { " OR " });
                }
                // An OR under an AND needs parentheses; anything may have
                // them.
                let needed = *and && matches!(x, Formula::Chain(false, ..));
                if *paren || needed {
                    out.push('(');
                    write(x, out);
                    out.push(')');
                } else {
                    write(x, out);
                }
            }
        }
    }
}

fn holds(f: &Formula, values: &[i64; 3]) -> bool {
    match f {
        Formula::Atom(a, v) => values[*a] == *v,
        Formula::Not(x) => !holds(x, values),
        Formula::Chain(true, xs, _) => xs.iter().all(|x| holds(x, values)),
        Formula::Chain(false, xs, _) => xs.iter().any(|x| holds(x, values)),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// However chains are grouped and nested, the bound condition holds
    /// for exactly the items the formula is true of.
    #[test]
    fn chains_mean_what_they_say(f in formula(), values in prop::collection::vec([0..3i64, 0..3i64, 0..3i64], 1..8)) {
        let mut text = SELECT.to_string();
        write(&f, &mut text);
        prop_assume!(text.len() <= MAX_STATEMENT);
        let parsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {}", e.message)))?;
        let Statement::Select(select) = parsed.statement else { panic!() };
        let condition: Condition = bind::condition(select.filter.as_ref().unwrap(), Params::new(&[], 0).unwrap())
            .map_err(|e| TestCaseError::fail(e.message))?;
        for v in &values {
            let i = item(&[("a", v[0]), ("b", v[1]), ("c", v[2])]);
            prop_assert_eq!(evaluate(&condition, Some(&i)), holds(&f, v), "{} with {:?}", text, v);
        }
    }
}
