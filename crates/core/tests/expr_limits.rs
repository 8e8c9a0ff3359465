//! DynamoDB's expression limits (4 KB, 300 operators or functions, 32 path
//! levels) with its messages and order, and the worst shapes that fit in
//! 4 KB — deep parentheses, NOT chains, nested functions, long AND/OR
//! chains, long paths — answered on a thread stack smaller than the
//! server's 2 MiB workers, in the unoptimised test build.
//!
//! The expected answers are DynamoDB's: those quoted in ScyllaDB
//! Alternator's `test/alternator/test_limits.py` (recorded against
//! DynamoDB), and for the other shapes the answers of DynamoDB Local 3.3.1,
//! which agrees with every one of those recorded.

use std::collections::BTreeMap;

use openddb_core::error::ErrorKind;
use openddb_core::expr::*;
use openddb_core::{AttributeValue, DynamoError, Number};
use proptest::prelude::*;

/// Half the stack a server worker thread has (2 MiB): what the worst
/// expression needs in a debug build must fit with room to spare.
const SMALL_STACK: usize = 1024 * 1024;

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic and no overflow")
}

fn values() -> BTreeMap<String, AttributeValue> {
    let mut v = BTreeMap::new();
    v.insert(
        ":v".to_string(),
        AttributeValue::N(Number::parse("1").unwrap()),
    );
    v.insert(":s".to_string(), AttributeValue::S("x".to_string()));
    v.insert(":l".to_string(), AttributeValue::L(Vec::new()));
    v
}

fn names() -> BTreeMap<String, String> {
    [("#n".to_string(), "n".to_string())].into()
}

/// Parses `src` as `kind` with `:v`, `:s`, `:l` and `#n` defined, on a
/// small stack; `Ok` or the message.
fn condition(kind: ExpressionKind, src: String) -> Result<(), String> {
    on_small_stack(move || {
        let (names, values) = (names(), values());
        let mut ph = Placeholders::new(Some(&names), Some(&values));
        parse_condition(kind, &src, Some(&mut ph))
            .map(|_| ())
            .map_err(|e| e.message)
    })
}

fn update(src: String) -> Result<(), String> {
    on_small_stack(move || {
        let (names, values) = (names(), values());
        let mut ph = Placeholders::new(Some(&names), Some(&values));
        parse_update(&src, Some(&mut ph))
            .map(|_| ())
            .map_err(|e| e.message)
    })
}

fn projection(src: String) -> Result<(), String> {
    on_small_stack(move || {
        parse_projection(&src, None)
            .map(|_| ())
            .map_err(|e| e.message)
    })
}

const CONDITIONS: [ExpressionKind; 3] = [
    ExpressionKind::Condition,
    ExpressionKind::Filter,
    ExpressionKind::KeyCondition,
];

fn err(kind: ExpressionKind, msg: &str) -> Result<(), String> {
    Err(format!("Invalid {}: {msg}", kind.parameter_name()))
}

const TOO_MANY: &str = "The expression contains too many operators; operator count: 301";
const PARENS: &str = "The expression has redundant parentheses;";

fn repeat(s: &str, n: usize) -> String {
    s.repeat(n)
}

/// `a<b OR a<b ...`: `n` comparisons joined by `n - 1` ORs.
fn or_chain(n: usize) -> String {
    vec!["a<b"; n].join(" or ")
}

#[test]
fn open_parentheses_filling_4_kb_are_a_syntax_error_in_every_expression() {
    for kind in CONDITIONS {
        assert_eq!(
            condition(kind, repeat("(", 4096)),
            err(kind, "Syntax error; token: \"<EOF>\", near: \"(\"")
        );
        assert_eq!(
            condition(kind, repeat("(", 4097)),
            err(
                kind,
                "Expression size has exceeded the maximum allowed size; expression size: 4097"
            )
        );
    }
    let set = format!("SET z = {}", repeat("(", 4088));
    assert_eq!(set.len(), 4096);
    assert_eq!(
        update(set),
        Err("Invalid UpdateExpression: Syntax error; token: \"<EOF>\", near: \"(\"".into())
    );
    assert_eq!(
        projection(repeat("(", 4096)),
        Err("Invalid ProjectionExpression: Syntax error; token: \"(\", near: \"((\"".into())
    );
}

#[test]
fn balanced_parentheses_filling_4_kb_are_redundant() {
    for kind in CONDITIONS {
        let deep = format!("{}a < b{}", repeat("(", 2045), repeat(")", 2045));
        assert!(deep.len() <= 4096);
        assert_eq!(condition(kind, deep), err(kind, PARENS));
        assert_eq!(condition(kind, "((a<b))".into()), err(kind, PARENS));
        assert_eq!(condition(kind, "((a)) < b".into()), err(kind, PARENS));
    }
    let deep = format!("SET z = {}a{}", repeat("(", 2040), repeat(")", 2040));
    assert_eq!(
        update(deep),
        Err(format!("Invalid UpdateExpression: {PARENS}"))
    );
    assert_eq!(
        update("SET z = ((a + :v))".into()),
        Err(format!("Invalid UpdateExpression: {PARENS}"))
    );
    assert_eq!(update("SET z = (a) + (:v), y = (:v)".into()), Ok(()));
}

#[test]
fn at_most_300_operators_or_functions() {
    let kind = ExpressionKind::Condition;
    let too_many = || err(kind, TOO_MANY);
    // Comparisons and ORs: 299 and 301.
    assert_eq!(condition(kind, or_chain(150)), Ok(()));
    assert_eq!(condition(kind, or_chain(151)), too_many());
    // 585 comparisons and 584 ORs, just under 4 KB.
    let long = or_chain(585);
    assert!(long.len() <= 4096);
    assert_eq!(condition(kind, long), too_many());
    // Nested in parentheses.
    let nested = |n| format!("a<b {}{}", repeat("or (a<b ", n), repeat(")", n));
    assert_eq!(condition(kind, nested(149)), Ok(()));
    assert_eq!(condition(kind, nested(150)), too_many());
    assert_eq!(condition(kind, nested(454)), too_many());
    // NOT chains, bare and parenthesised.
    assert_eq!(
        condition(kind, format!("{}a<b", repeat("not ", 299))),
        Ok(())
    );
    assert_eq!(
        condition(kind, format!("{}a<b", repeat("not ", 300))),
        too_many()
    );
    assert_eq!(
        condition(kind, format!("{}a<b", repeat("not ", 1000))),
        too_many()
    );
    let not_parens = |n| format!("{}a<b{}", repeat("NOT (", n), repeat(")", n));
    assert_eq!(condition(kind, not_parens(299)), Ok(()));
    assert_eq!(condition(kind, not_parens(300)), too_many());
    // Functions count one each; so do BETWEEN and IN whatever their operands.
    let functions = |n| vec!["attribute_exists(a)"; n].join(" OR ");
    assert_eq!(condition(kind, functions(150)), Ok(()));
    assert_eq!(condition(kind, functions(151)), too_many());
    let between = |n| vec!["a BETWEEN :v AND :v"; n].join(" OR ");
    assert_eq!(condition(kind, between(101)), Ok(()));
    assert_eq!(condition(kind, between(151)), too_many());
    let in_lists = |n| vec!["a IN (:v)"; n].join(" OR ");
    assert_eq!(condition(kind, in_lists(150)), Ok(()));
    assert_eq!(condition(kind, in_lists(151)), too_many());
    let hundred = format!("a IN ({})", vec![":v"; 100].join(","));
    assert_eq!(condition(kind, vec![hundred; 3].join(" OR ")), Ok(()));
    let sizes = |n| vec!["size(a) = :v"; n].join(" OR ");
    assert_eq!(condition(kind, sizes(100)), Ok(()));
    assert_eq!(condition(kind, sizes(101)), too_many());
    // Every condition parameter has the limit.
    for kind in CONDITIONS {
        assert_eq!(
            condition(kind, format!("p = :v AND {}s = :v", repeat("NOT ", 300))),
            err(kind, TOO_MANY)
        );
    }
    // In updates `+` and `-` count, the `=` of SET and the commas do not.
    let sets = |n| {
        let actions: Vec<String> = (0..n).map(|i| format!("z{i}=a+:v")).collect();
        format!("SET {}", actions.join(","))
    };
    assert_eq!(update(sets(300)), Ok(()));
    assert_eq!(
        update(sets(301)),
        Err(format!("Invalid UpdateExpression: {TOO_MANY}"))
    );
}

#[test]
fn operator_count_ranks_among_the_other_problems() {
    let kind = ExpressionKind::Condition;
    let ops = or_chain(151);
    let with = |extra: &str| condition(kind, format!("{ops} or {extra}"));
    let before = |extra: &str| condition(kind, format!("{extra} or {ops}"));
    // Problems DynamoDB reports before the count, wherever they are.
    for (extra, msg) in [
        ("f(a)", "Invalid function name; function: f"),
        ("((a<b))", PARENS),
        (
            "size(a)",
            "The function is not allowed to be used this way in an expression; function: size",
        ),
        (
            "attribute_exists(a, b)",
            "Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2",
        ),
        (
            "a = a",
            "The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [a]",
        ),
        (
            "size(:v) < b",
            "Incorrect operand type for operator or function; operator or function: size, operand type: N",
        ),
        (
            "a between :v and :s",
            "The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:1}, upper bound operand: AttributeValue: {S:x}",
        ),
    ] {
        assert_eq!(with(extra), err(kind, msg), "{extra} after");
        assert_eq!(before(extra), err(kind, msg), "{extra} before");
    }
    let in_101 = format!("a IN ({})", vec![":v"; 101].join(","));
    assert_eq!(
        with(&in_101),
        err(
            kind,
            "The IN operator is provided with too many operands; number of operands: 101"
        )
    );
    // A reserved word ranks below the count wherever it is.
    assert_eq!(with("size < b"), err(kind, TOO_MANY));
    assert_eq!(before("size < b"), err(kind, TOO_MANY));
    // Placeholders and path nesting are checked on the same walk as the
    // count, operands of a chain before its ORs: whichever comes first wins.
    let ops_first = or_chain(301);
    for (extra, msg) in [
        (
            "a < :zz".to_string(),
            "An expression attribute value used in expression is not defined; attribute value: :zz",
        ),
        (
            "#zz < b".to_string(),
            "An expression attribute name used in the document path is not defined; attribute name: #zz",
        ),
        (
            format!("a{} < b", repeat(".b", 32)),
            "The document path has too many nesting levels; nesting levels: 33",
        ),
    ] {
        assert_eq!(with(&extra), err(kind, msg), "{extra} after 151");
        assert_eq!(before(&extra), err(kind, msg), "{extra} before");
        assert_eq!(
            condition(kind, format!("{ops_first} or {extra}")),
            err(kind, TOO_MANY),
            "{extra} after 301"
        );
    }
    // In a key condition too, a mistyped operand met first wins.
    let key = ExpressionKind::KeyCondition;
    assert_eq!(
        condition(key, format!("p = :v AND {}size(size(s)) = :v", repeat("NOT ", 300))),
        err(
            key,
            "Incorrect operand type for operator or function; operator or function: size, operand type: N"
        )
    );
    assert_eq!(
        condition(
            key,
            format!("p = :v AND {}s = :v AND a = :zz", repeat("NOT ", 300))
        ),
        err(key, TOO_MANY)
    );
    // A syntax error comes first, before or after the operators.
    assert_eq!(
        condition(kind, format!("{ops} )")),
        err(kind, "Syntax error; token: \")\", near: \"b )\"")
    );

    let ops: Vec<String> = (0..301).map(|i| format!("z{i}=a+:v")).collect();
    let ops = format!("SET {}", ops.join(","));
    // In updates the count outranks only a reserved word (problems met
    // after the operators, as DynamoDB Local answers them).
    let update_err = |msg: &str| Err(format!("Invalid UpdateExpression: {msg}"));
    assert_eq!(update(format!("{ops},size=:v")), update_err(TOO_MANY));
    for (extra, msg) in [
        (
            ",q=:zz",
            "An expression attribute value used in expression is not defined; attribute value: :zz",
        ),
        (
            ",#q=:v",
            "An expression attribute name used in the document path is not defined; attribute name: #q",
        ),
        (
            " SET q=:v",
            "The \"SET\" section can only be used once in an update expression;",
        ),
        (
            ",z1=:v",
            "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [z1], path two: [z1]",
        ),
        (",q=f(a)", "Invalid function name; function: f"),
        (
            ",q=size(a)",
            "The function is not allowed in an update expression; function: size",
        ),
        (
            ",q=list_append(a,:v)",
            "Incorrect operand type for operator or function; operator or function: list_append, operand type: N",
        ),
        (
            ",q=if_not_exists(a)",
            "Incorrect number of operands for operator or function; operator or function: if_not_exists, number of operands: 1",
        ),
        (
            ",q.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b.b=:v",
            "The document path has too many nesting levels; nesting levels: 33",
        ),
        (
            " ADD q :l",
            "Incorrect operand type for operator or function; operator: ADD, operand type: LIST, typeSet: ALLOWED_FOR_ADD_OPERAND",
        ),
        (",q=((a))", PARENS),
        (
            ",q=list_append(list_append(a,:l),:l)",
            "The function is not allowed to be used this way in an expression; function: list_append",
        ),
    ] {
        assert_eq!(update(format!("{ops}{extra}")), update_err(msg), "{extra}");
    }
}

#[test]
fn nested_functions() {
    let kind = ExpressionKind::Condition;
    // The outermost unknown function is named.
    assert_eq!(
        condition(kind, "a < f(g(b))".into()),
        err(kind, "Invalid function name; function: f")
    );
    assert_eq!(
        condition(kind, "f(g(a))".into()),
        err(kind, "Invalid function name; function: f")
    );
    assert_eq!(
        condition(kind, "a < size(g(b))".into()),
        err(kind, "Invalid function name; function: g")
    );
    let deep_unknown = format!("a < {}b{}", repeat("f(", 1355), repeat(")", 1355));
    assert!(deep_unknown.len() <= 4096);
    for kind in CONDITIONS {
        assert_eq!(
            condition(kind, deep_unknown.clone()),
            err(kind, "Invalid function name; function: f")
        );
    }
    let size_of_size = "Incorrect operand type for operator or function; operator or function: size, operand type: N";
    assert_eq!(
        condition(kind, "size(a) < size(size(b))".into()),
        err(kind, size_of_size)
    );
    let deep_size = format!("a < {}b{}", repeat("size(", 680), repeat(")", 680));
    assert!(deep_size.len() <= 4096);
    assert_eq!(condition(kind, deep_size), err(kind, size_of_size));

    // Updates: if_not_exists nests, list_append is never an argument.
    assert_eq!(
        update("SET z = list_append(if_not_exists(a, if_not_exists(b, :l)), :l)".into()),
        Ok(())
    );
    let deep_ine = format!(
        "SET z = {}:v{}",
        repeat("if_not_exists(a,", 240),
        repeat(")", 240)
    );
    assert!(deep_ine.len() <= 4096);
    assert_eq!(update(deep_ine), Ok(()));
    for src in [
        "SET z = list_append(list_append(a, :l), :l)",
        "SET z = if_not_exists(a, list_append(b, :l))",
    ] {
        assert_eq!(
            update(src.into()),
            Err("Invalid UpdateExpression: The function is not allowed to be used this way in an expression; function: list_append".into()),
            "{src}"
        );
    }
    let deep_unknown = format!("SET z = {}:v{}", repeat("f(", 1000), repeat(")", 1000));
    assert_eq!(
        update(deep_unknown),
        Err("Invalid UpdateExpression: Invalid function name; function: f".into())
    );
}

#[test]
fn document_paths_of_any_length_within_4_kb() {
    for kind in CONDITIONS {
        assert_eq!(
            condition(kind, format!("a{} < b", repeat(".b", 2000))),
            err(
                kind,
                "The document path has too many nesting levels; nesting levels: 2001"
            )
        );
        assert_eq!(
            condition(kind, format!("attribute_exists(a{})", repeat(".b", 31))),
            Ok(())
        );
    }
    assert_eq!(
        projection(format!("a{}", repeat("[0]", 1300))),
        Err("Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 1301".into())
    );
    assert_eq!(projection(format!("a{}", repeat(".b", 31))), Ok(()));
    assert_eq!(
        projection(format!("a{}", repeat(".b", 32))),
        Err("Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33".into())
    );
    assert_eq!(
        update(format!("SET a{} = :v", repeat("[0]", 32))),
        Err("Invalid UpdateExpression: The document path has too many nesting levels; nesting levels: 33".into())
    );
}

#[test]
fn accepted_deep_trees_evaluate_and_print_on_a_small_stack() {
    // The deepest trees DynamoDB accepts: 299 NOTs, each in parentheses,
    // and a chain of 299 operators; evaluated and printed back.
    for src in [
        format!("{}a < :v{}", repeat("NOT (", 299), repeat(")", 299)),
        or_chain(150).replace("a<b", "a < :v"),
        format!("a < :v {}{}", repeat("and (a < :v ", 149), repeat(")", 149)),
    ] {
        let printed = on_small_stack(move || {
            let values = values();
            let mut ph = Placeholders::new(None, Some(&values));
            let c = parse_condition(ExpressionKind::Condition, &src, Some(&mut ph)).unwrap();
            let item = [(
                "a".to_string(),
                AttributeValue::N(Number::parse("0").unwrap()),
            )]
            .into();
            let _ = evaluate(&c, Some(&item));
            c.to_string()
        });
        assert!(!printed.is_empty());
    }
}

fn is_validation(r: &Result<(), DynamoError>) -> bool {
    match r {
        Ok(()) => true,
        Err(e) => e.kind == ErrorKind::ValidationException,
    }
}

/// Pieces of the expression alphabet; repeated runs of them build the deep
/// shapes, mixtures the odd ones.
const PIECES: &[&str] = &[
    "(",
    ")",
    "NOT ",
    " AND ",
    " OR ",
    "a",
    "#n",
    ".",
    "[0]",
    ":v",
    ":s",
    " = ",
    " < ",
    "size(",
    "f(",
    "attribute_exists(",
    "list_append(",
    "if_not_exists(",
    ",",
    " BETWEEN ",
    " IN ",
    "SET ",
    "REMOVE ",
    "ADD ",
    " + ",
    " - ",
    "status",
    "((",
    "))",
];

fn alphabet_string() -> impl Strategy<Value = String> {
    prop::collection::vec((0..PIECES.len(), 1usize..1400), 1..12).prop_map(|runs| {
        let mut s = String::new();
        for (piece, times) in runs {
            for _ in 0..times {
                if s.len() + PIECES[piece].len() > 4096 {
                    return s;
                }
                s.push_str(PIECES[piece]);
            }
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever 4 KB over the expression alphabet holds, every parser
    /// answers it, with a tree or a ValidationException, on a small stack.
    #[test]
    fn any_expression_within_4_kb_gets_an_answer(src in alphabet_string()) {
        let ok = on_small_stack(move || {
            let (names, values) = (names(), values());
            let ph = || Placeholders::new(Some(&names), Some(&values));
            let mut all = true;
            for kind in CONDITIONS {
                let r = parse_condition(kind, &src, Some(&mut ph())).map(|c| {
                    let _ = evaluate(&c, None);
                    let _ = c.to_string();
                    if kind == ExpressionKind::KeyCondition {
                        let _ = check_key_condition_shape(&c);
                    }
                });
                all &= is_validation(&r);
            }
            all &= is_validation(&parse_update(&src, Some(&mut ph())).map(|u| {
                let _ = u.to_string();
            }));
            all &= is_validation(&parse_projection(&src, Some(&mut ph())).map(|_| ()));
            all
        });
        prop_assert!(ok);
    }
}

/// The depth of a condition tree, counted with a heap stack.
fn tree_depth(c: &Condition) -> usize {
    let mut deepest = 0;
    let mut todo = vec![(c, 1)];
    while let Some((c, d)) = todo.pop() {
        deepest = deepest.max(d);
        match c {
            Condition::And(a, b) | Condition::Or(a, b) => {
                todo.push((a, d + 1));
                todo.push((b, d + 1));
            }
            Condition::Not(a) => todo.push((a, d + 1)),
            _ => {}
        }
    }
    deepest
}

#[test]
fn legacy_conditions_of_any_length_stay_shallow() {
    use openddb_core::expr::legacy::{
        expected_to_condition, filter_to_condition, ConditionalOperator, ExpectedAttributeValue,
    };
    // DynamoDB accepts thousands of Expected / ScanFilter entries.
    let entries: Vec<(String, ExpectedAttributeValue)> = (0..100_000)
        .map(|i| {
            let e = ExpectedAttributeValue {
                comparison_operator: Some("NULL".into()),
                ..Default::default()
            };
            (format!("x{i}"), e)
        })
        .collect();
    let (depth, holds) = on_small_stack(move || {
        let c = expected_to_condition(&entries, ConditionalOperator::And)
            .unwrap()
            .unwrap();
        let f = filter_to_condition("ScanFilter", &entries, ConditionalOperator::Or)
            .unwrap()
            .unwrap();
        let item = [("x5".to_string(), AttributeValue::Bool(true))].into();
        (
            tree_depth(&c).max(tree_depth(&f)),
            (
                evaluate(&c, None),
                evaluate(&c, Some(&item)),
                evaluate(&f, Some(&item)),
            ),
        )
    });
    assert!(depth <= 18, "depth {depth}");
    assert_eq!(holds, (true, false, true));
}

#[test]
fn deep_values_are_measured_compared_and_refused_within_bounds() {
    // Values from requests stop at 32 levels (64 from storage); these are
    // far deeper, built in Rust as an embedded caller could.
    use openddb_core::size::value_size;
    use serde_json::json;
    let (size, equal, refused) = on_small_stack(|| {
        let mut v = AttributeValue::Null;
        for _ in 0..500 {
            v = AttributeValue::L(vec![v]);
        }
        let w = v.clone();
        let size = value_size(&v);
        let equal = values_equal(&v, &w);
        // 400 levels of wire JSON handed in directly (a request body
        // stops at 264 JSON levels before this).
        let mut wire = json!({"NULL": true});
        for _ in 0..400 {
            wire = json!({ "L": [wire] });
        }
        let refused = AttributeValue::from_wire(&wire).unwrap_err().message;
        (size, equal, refused)
    });
    assert_eq!(size, 500 * 4 + 1);
    assert!(equal);
    assert_eq!(refused, openddb_core::value::MSG_NESTING);
}
