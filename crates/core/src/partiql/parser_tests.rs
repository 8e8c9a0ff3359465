//! The parser against every statement form and every refusal the digest of
//! DynamoDB's behaviour pins, compared through a compact printed form; then
//! property tests that it never panics.

use super::*;
use proptest::prelude::*;

// ------------------------------------------------------------ printing --

fn show_path(p: &Path) -> String {
    let mut s = p.root.clone();
    for step in &p.steps {
        match step {
            Step::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            Step::Index(i, _) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn show_list(items: &[Expr]) -> String {
    items.iter().map(show).collect::<Vec<_>>().join(", ")
}

/// Fully parenthesised, so precedence shows.
fn show(e: &Expr) -> String {
    match e {
        Expr::Path(p) => show_path(p),
        Expr::Literal(l, _) => match l {
            Literal::String(s) => format!("'{s}'"),
            Literal::Number(n) => n.clone(),
            Literal::Bool(b) => b.to_string(),
            Literal::Null => "NULL".into(),
            Literal::Missing => "MISSING".into(),
        },
        Expr::Param(i, _) => format!("?{i}"),
        Expr::Map(members, _) => format!(
            "{{{}}}",
            members
                .iter()
                .map(|(k, v)| format!("'{k}': {}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Expr::List(items, _) => format!("[{}]", show_list(items)),
        Expr::Bag(items, _) => format!("<<{}>>", show_list(items)),
        Expr::Neg(e, _) => format!("-({})", show(e)),
        Expr::Not(e) => format!("(NOT {})", show(e)),
        Expr::Binary(op, a, b, _) => format!("({} {} {})", show(a), op.symbol(), show(b)),
        Expr::Between(a, b, c, _) => {
            format!("({} BETWEEN {} AND {})", show(a), show(b), show(c))
        }
        Expr::In(a, items, _) => format!("({} IN [{}])", show(a), show_list(items)),
        Expr::Is {
            expr,
            negated,
            test,
            ..
        } => {
            let test = match test {
                IsTest::Missing => "MISSING".to_string(),
                IsTest::Null => "NULL".to_string(),
                IsTest::Type(t) => t.clone(),
            };
            let not = if *negated { "NOT " } else { "" };
            format!("({} IS {not}{test})", show(expr))
        }
        Expr::Call { name, args, .. } => format!("{name}({})", show_list(args)),
    }
}

fn show_source(s: &Source) -> String {
    match &s.index {
        Some(i) => format!("{}.{}", s.table, i),
        None => s.table.clone(),
    }
}

fn show_filter(f: &Option<Expr>) -> String {
    f.as_ref()
        .map(|e| format!(" WHERE {}", show(e)))
        .unwrap_or_default()
}

fn show_returning(r: &Option<Returning>) -> String {
    r.map(|r| format!(" {}", r.text())).unwrap_or_default()
}

fn show_select(s: &Select) -> String {
    let projection = match &s.projection {
        Projection::All => "*".to_string(),
        Projection::Paths(p) => p.iter().map(show_path).collect::<Vec<_>>().join(", "),
    };
    let mut out = format!(
        "SELECT {projection} FROM {}{}",
        show_source(&s.from),
        show_filter(&s.filter)
    );
    if !s.order_by.is_empty() {
        let keys: Vec<_> = s
            .order_by
            .iter()
            .map(|o| format!("{}{}", o.name, if o.descending { " DESC" } else { "" }))
            .collect();
        out.push_str(&format!(" ORDER BY {}", keys.join(", ")));
    }
    out
}

fn show_statement(s: &Statement) -> String {
    match s {
        Statement::Select(s) => show_select(s),
        Statement::Exists(s) => format!("EXISTS({})", show_select(s)),
        Statement::Insert(i) => format!(
            "INSERT INTO {} VALUE {}",
            show_source(&i.table),
            show(&i.value)
        ),
        Statement::Update(u) => {
            let actions: Vec<_> = u
                .actions
                .iter()
                .map(|a| match a {
                    UpdateAction::Set(p, v) => format!("SET {} = {}", show_path(p), show(v)),
                    UpdateAction::Remove(p) => format!("REMOVE {}", show_path(p)),
                })
                .collect();
            format!(
                "UPDATE {} {}{}{}",
                show_source(&u.table),
                actions.join(" "),
                show_filter(&u.filter),
                show_returning(&u.returning)
            )
        }
        Statement::Delete(d) => format!(
            "DELETE FROM {}{}{}",
            show_source(&d.table),
            show_filter(&d.filter),
            show_returning(&d.returning)
        ),
    }
}

#[track_caller]
fn ok(text: &str) -> String {
    match parse(text) {
        Ok(p) => show_statement(&p.statement),
        Err(e) => panic!("{text:?} refused: {}", e.message),
    }
}

#[track_caller]
fn refused(text: &str) -> String {
    match parse(text) {
        Ok(p) => panic!("{text:?} accepted as {}", show_statement(&p.statement)),
        Err(e) => {
            assert_eq!(e.kind, crate::error::ErrorKind::ValidationException);
            e.message
        }
    }
}

fn malformed(detail: &str) -> String {
    format!("Statement wasn't well formed, can't be processed: {detail}")
}

fn select(text: &str) -> Select {
    match parse(text).unwrap().statement {
        Statement::Select(s) => s,
        other => panic!("not a SELECT: {other:?}"),
    }
}

fn filter(text: &str) -> Expr {
    select(text).filter.expect("a WHERE clause")
}

fn at(line: u32, col: u32, len: u32) -> Pos {
    Pos { line, col, len }
}

// -------------------------------------------------------------- forms --

#[test]
fn select_forms() {
    assert_eq!(ok(r#"SELECT * FROM "T""#), "SELECT * FROM T");
    assert_eq!(ok("select * from Music"), "SELECT * FROM Music");
    assert_eq!(
        ok(r#"SELECT a, "b", a.b, a[0], a.b[1].c, "x y"."z" FROM "T" WHERE pk = 'k'"#),
        "SELECT a, b, a.b, a[0], a.b[1].c, x y.z FROM T WHERE (pk = 'k')"
    );
    assert_eq!(
        ok(r#"SELECT * FROM "T"."by-sk" WHERE pk = ?"#),
        "SELECT * FROM T.by-sk WHERE (pk = ?0)"
    );
    assert_eq!(
        ok(r#"SELECT * FROM "T" WHERE pk = 'o' ORDER BY sk DESC"#),
        "SELECT * FROM T WHERE (pk = 'o') ORDER BY sk DESC"
    );
    assert_eq!(
        ok(r#"SELECT * FROM "T" WHERE pk IN ['o','p'] ORDER BY pk DESC, "sk" ASC"#),
        "SELECT * FROM T WHERE (pk IN ['o', 'p']) ORDER BY pk DESC, sk"
    );
    // Brackets holding a string or a bare name are member steps, as in
    // DynamoDB; `[-0]` is index 0.
    assert_eq!(
        ok("SELECT a['k'], a[k], l[-0] FROM t"),
        "SELECT a.k, a.k, l[0] FROM t"
    );
    let s = select(r#"SELECT "a""b" FROM "T""x" "#);
    assert_eq!(s.from.table, "T\"x");
    assert_eq!(
        s.projection,
        Projection::Paths(vec![Path {
            root: "a\"b".into(),
            steps: vec![],
            pos: at(1, 8, 6),
        }])
    );
}

#[test]
fn insert_forms() {
    assert_eq!(
        ok(r#"INSERT INTO "T" VALUE {'pk': 'x', 'n': 1, 'l': [1, 'a'], 's': <<'a', 'b'>>, 'm': {'k': NULL}}"#),
        "INSERT INTO T VALUE {'pk': 'x', 'n': 1, 'l': [1, 'a'], 's': <<'a', 'b'>>, 'm': {'k': NULL}}"
    );
    assert_eq!(
        ok("insert into T value {'pk': ?, 'data': ?}"),
        "INSERT INTO T VALUE {'pk': ?0, 'data': ?1}"
    );
    assert_eq!(ok("INSERT INTO T VALUE ?"), "INSERT INTO T VALUE ?0");
    assert_eq!(
        ok("INSERT INTO T VALUE {'s': 'it''s here', 'e': ''}"),
        "INSERT INTO T VALUE {'s': 'it's here', 'e': ''}"
    );
    // Duplicate keys are kept for binding to refuse.
    assert_eq!(
        ok("INSERT INTO T VALUE {'a': 1, 'a': 2}"),
        "INSERT INTO T VALUE {'a': 1, 'a': 2}"
    );
    // list(...) and bag(...) are the containers' long forms.
    assert_eq!(
        ok("INSERT INTO T VALUE {'l': list(1, 2), 'b': BAG(3)}"),
        "INSERT INTO T VALUE {'l': [1, 2], 'b': <<3>>}"
    );
}

#[test]
fn update_forms() {
    assert_eq!(
        ok(r#"UPDATE "T" SET a = 1 SET b = 2 WHERE pk = 'k'"#),
        "UPDATE T SET a = 1 SET b = 2 WHERE (pk = 'k')"
    );
    assert_eq!(
        ok("UPDATE T SET tags[0] = 'x', tags[2] = 'y' WHERE pk = 'k'"),
        "UPDATE T SET tags[0] = 'x' SET tags[2] = 'y' WHERE (pk = 'k')"
    );
    assert_eq!(
        ok("UPDATE T SET c = 2 REMOVE a WHERE pk = 'k'"),
        "UPDATE T SET c = 2 REMOVE a WHERE (pk = 'k')"
    );
    assert_eq!(
        ok("UPDATE T REMOVE a SET b = 1 WHERE pk = 'k'"),
        "UPDATE T REMOVE a SET b = 1 WHERE (pk = 'k')"
    );
    assert_eq!(
        ok("UPDATE T REMOVE a, b.c[1], \"d\" WHERE pk = 'k'"),
        "UPDATE T REMOVE a REMOVE b.c[1] REMOVE d WHERE (pk = 'k')"
    );
    assert_eq!(
        ok("UPDATE T SET n = n + 1, m = m - 1, l = list_append(l, [2]), s = set_add(s, <<'a'>>) WHERE pk = 'k'"),
        "UPDATE T SET n = (n + 1) SET m = (m - 1) SET l = list_append(l, [2]) SET s = set_add(s, <<'a'>>) WHERE (pk = 'k')"
    );
    for (r, text) in [
        ("ALL OLD", "RETURNING ALL OLD *"),
        ("all new", "RETURNING ALL NEW *"),
        ("MODIFIED old", "RETURNING MODIFIED OLD *"),
        ("Modified New", "RETURNING MODIFIED NEW *"),
    ] {
        assert_eq!(
            ok(&format!(
                "UPDATE T SET a = 1 WHERE pk = 'k' RETURNING {r} *"
            )),
            format!("UPDATE T SET a = 1 WHERE (pk = 'k') {text}")
        );
    }
    // No WHERE: the parser accepts it; the engine refuses it.
    assert_eq!(ok("UPDATE T SET a = 1"), "UPDATE T SET a = 1");
    // An index qualifier is the engine's to refuse.
    assert_eq!(ok(r#"UPDATE "T"."I" SET a = 1"#), "UPDATE T.I SET a = 1");
}

#[test]
fn from_first_updates() {
    assert_eq!(
        ok(r#"FROM "T" WHERE pk = 'k' SET c = 1"#),
        "UPDATE T SET c = 1 WHERE (pk = 'k')"
    );
    assert_eq!(
        ok("from \"T\" where pk = 'x' set e = 4 remove f returning all new *"),
        "UPDATE T SET e = 4 REMOVE f WHERE (pk = 'x') RETURNING ALL NEW *"
    );
    assert_eq!(ok(r#"FROM "T" SET c = 1"#), "UPDATE T SET c = 1");
    assert_eq!(ok(r#"FROM "T" REMOVE a"#), "UPDATE T REMOVE a");
}

#[test]
fn delete_and_exists() {
    assert_eq!(
        ok(r#"DELETE FROM "T" WHERE pk = 'k' RETURNING ALL OLD *"#),
        "DELETE FROM T WHERE (pk = 'k') RETURNING ALL OLD *"
    );
    assert_eq!(ok("delete from T"), "DELETE FROM T");
    assert_eq!(
        ok(r#"EXISTS(SELECT * FROM "T" WHERE pk = 'x1' AND sk = '1' AND Awards IS MISSING)"#),
        "EXISTS(SELECT * FROM T WHERE (((pk = 'x1') AND (sk = '1')) AND (Awards IS MISSING)))"
    );
    assert_eq!(
        ok("exists ( select a from t where pk = 1 ) ;"),
        "EXISTS(SELECT a FROM t WHERE (pk = 1))"
    );
}

#[test]
fn trailing_semicolon_and_comments() {
    assert_eq!(ok("SELECT * FROM t;"), "SELECT * FROM t");
    assert_eq!(
        ok("SELECT * FROM t WHERE n>-5; -- done\n"),
        "SELECT * FROM t WHERE (n > -5)"
    );
    assert_eq!(
        ok("-- before\nSELECT /* a */ * -- b\nFROM /**/ t /* c\n d */ WHERE pk = '--not /* a comment' -- after"),
        "SELECT * FROM t WHERE (pk = '--not /* a comment')"
    );
    assert_eq!(
        refused("SELECT * FROM t; SELECT * FROM t"),
        malformed("Unexpected token after semicolon. (Only one query is allowed.)")
    );
    assert_eq!(
        refused("SELECT * FROM t;;"),
        refused("SELECT * FROM t; SELECT * FROM t")
    );
}

#[test]
fn keywords_in_any_case() {
    assert_eq!(
        ok("SeLeCt * FrOm t WhErE a Is NoT nUlL aNd b iS mIsSiNg Or NOT c = TrUe AND d = fAlSe AND e BETWEEN 1 and 2 AND f not in [1]"),
        "SELECT * FROM t WHERE (((a IS NOT NULL) AND (b IS MISSING)) OR ((((NOT (c = true)) AND (d = false)) AND (e BETWEEN 1 AND 2)) AND (NOT (f IN [1]))))"
    );
}

// ----------------------------------------------------------- operators --

#[test]
fn precedence() {
    let w = |c: &str| show(&filter(&format!("SELECT * FROM t WHERE {c}")));
    assert_eq!(
        w("a = 1 OR b = 2 AND c = 3"),
        "((a = 1) OR ((b = 2) AND (c = 3)))"
    );
    assert_eq!(w("NOT a = 1 AND b = 2"), "((NOT (a = 1)) AND (b = 2))");
    assert_eq!(w("a + 1 > b - 2"), "((a + 1) > (b - 2))");
    assert_eq!(w("a - 1 - 2 = 0"), "(((a - 1) - 2) = 0)");
    // `=` ranks below `<`, as in the reference parser.
    assert_eq!(w("a = b < c"), "(a = (b < c))");
    assert_eq!(w("a != b AND a <> c"), "((a <> b) AND (a <> c))");
    assert_eq!(
        w("(a = 1 OR b = 2) AND c = 3"),
        "(((a = 1) OR (b = 2)) AND (c = 3))"
    );
    assert_eq!(
        w("x BETWEEN 1 AND 5 AND y = 2"),
        "((x BETWEEN 1 AND 5) AND (y = 2))"
    );
    assert_eq!(w("x NOT BETWEEN 1 AND 5"), "(NOT (x BETWEEN 1 AND 5))");
    assert_eq!(
        w("x IN (1, 2) AND y IN [3]"),
        "((x IN [1, 2]) AND (y IN [3]))"
    );
    assert_eq!(w("x IN <<1, 2>>"), "(x IN [1, 2])");
    assert_eq!(w("a = (1, 2)"), "(a = [1, 2])");
    assert_eq!(
        w("attribute_exists(n) = false"),
        "(attribute_exists(n) = false)"
    );
    assert_eq!(
        w("pk IN ['a','b'] AND NOT begins_with(\"kind\", 'al')"),
        "((pk IN ['a', 'b']) AND (NOT begins_with(kind, 'al')))"
    );
    assert_eq!(w("a IS NULL = true"), "((a IS NULL) = true)");
}

#[test]
fn is_type_names() {
    let w = |c: &str| show(&filter(&format!("SELECT * FROM t WHERE {c}")));
    assert_eq!(w("flag IS BOOL"), "(flag IS BOOL)");
    assert_eq!(w("s is string"), "(s IS STRING)");
    assert_eq!(w("x IS NOT int4"), "(x IS NOT INT4)");
    assert_eq!(w("x IS double  precision"), "(x IS DOUBLE PRECISION)");
    assert_eq!(w("x IS CHARACTER VARYING"), "(x IS CHARACTER VARYING)");
    assert_eq!(w("x IS VARCHAR(10)"), "(x IS VARCHAR)");
    assert_eq!(w("x IS DECIMAL(5, 2)"), "(x IS DECIMAL)");
    for t in [
        "BOOLEAN",
        "INT",
        "INT8",
        "INTEGER",
        "DECIMAL",
        "NUMERIC",
        "FLOAT",
        "REAL",
        "BLOB",
        "CLOB",
        "STRUCT",
        "TUPLE",
        "LIST",
        "BAG",
        "SEXP",
        "SYMBOL",
        "TIMESTAMP",
        "MISSING",
        "NULL",
    ] {
        assert!(
            parse(&format!("SELECT * FROM t WHERE x IS {t}")).is_ok(),
            "{t}"
        );
    }
    for bad in ["FOO", "DOUBLE", "\"BOOL\"", "'BOOL'", "1"] {
        assert_eq!(
            refused(&format!("SELECT * FROM t WHERE x IS {bad}")),
            malformed("Expected type name"),
            "{bad}"
        );
    }
    assert_eq!(
        refused("SELECT * FROM t WHERE x IS"),
        malformed("Expected type name")
    );
}

#[test]
fn function_calls() {
    let w = |c: &str| show(&filter(&format!("SELECT * FROM t WHERE {c}")));
    assert_eq!(w("BEGINS_WITH(\"sk\", 'p-')"), "begins_with(sk, 'p-')");
    assert_eq!(w("contains(m.sub, ?)"), "contains(m.sub, ?0)");
    assert_eq!(
        w("attribute_type(l[0], 'SS')"),
        "attribute_type(l[0], 'SS')"
    );
    assert_eq!(w("size(x) > 2"), "(size(x) > 2)");
    assert_eq!(
        w("ATTRIBUTE_NOT_EXISTS (nope)"),
        "attribute_not_exists(nope)"
    );
    assert_eq!(w("attribute_exists()"), "attribute_exists()");
    let Expr::Binary(BinaryOp::And, _, gt, _) =
        filter("SELECT * FROM t WHERE\n  pk = 1 AND Size(x) > 2")
    else {
        panic!()
    };
    let Expr::Binary(BinaryOp::Gt, call, _, _) = *gt else {
        panic!()
    };
    assert!(
        matches!(*call, Expr::Call { ref name, pos, .. } if name == "size" && pos == at(2, 14, 4))
    );
}

// ------------------------------------------------------------- numbers --

#[test]
fn number_forms() {
    for n in [
        "1",
        "1.0",
        "1e0",
        "7.31e6",
        "7.31E6",
        "7.31e+6",
        "731e4",
        "73100000e-1",
        ".73e1",
        ".7325e1",
        "1.",
        "0",
        "123456789012345678901234567890123456789",
    ] {
        assert_eq!(
            show(&filter(&format!("SELECT * FROM t WHERE n = {n}"))),
            format!("(n = {n})")
        );
    }
}

#[test]
fn signs_fold_into_number_literals() {
    let w = |c: &str| show(&filter(&format!("SELECT * FROM t WHERE {c}")));
    assert_eq!(w("n = -1"), "(n = -1)");
    assert_eq!(w("n = - 1"), "(n = -1)");
    assert_eq!(w("n = - - 1"), "(n = 1)");
    assert_eq!(w("n > -/* c */-1"), "(n > 1)");
    assert_eq!(w("n = -.73e1"), "(n = -.73e1)");
    assert_eq!(w("n = +5"), "(n = 5)");
    assert_eq!(w("n = -(2)"), "(n = -2)");
    assert_eq!(w("n BETWEEN - 2 AND +5"), "(n BETWEEN -2 AND 5)");
    assert_eq!(w("n IN [- 1, 1]"), "(n IN [-1, 1])");
    assert_eq!(w("n=n-1"), "(n = (n - 1))");
    assert_eq!(
        ok("UPDATE t SET n = n - - 2, l = [- 1] WHERE pk = 'k'"),
        "UPDATE t SET n = (n - -2) SET l = [-1] WHERE (pk = 'k')"
    );
    // The folded literal keeps the number's position, as DynamoDB's does.
    let Expr::Binary(_, _, n, _) = filter("SELECT * FROM t WHERE n = - 12") else {
        panic!()
    };
    assert_eq!(n.pos(), at(1, 29, 2));
    // A sign before anything but a number is refused.
    for c in ["n > -?", "n > -n", "n = -'a'", "n = -(n)", "n = +n"] {
        let op = if c.contains('+') { "+" } else { "-" };
        assert_eq!(
            refused(&format!("SELECT * FROM t WHERE {c}")),
            format!("Unsupported operator in Condition Expression. Operator: {op}"),
            "{c}"
        );
    }
    assert!(refused("UPDATE t SET n = -m WHERE pk = 'k'").starts_with("Unsupported operator"));
    // `--` starts a comment, so `n=n--1 WHERE ...` is `n=n` and no WHERE
    // (which the engine then refuses).
    assert_eq!(
        ok("UPDATE t SET n=n--1 WHERE pk = 'k'"),
        "UPDATE t SET n = n"
    );
    assert_eq!(
        ok("UPDATE t SET n=n--1\nWHERE pk = 'k'"),
        "UPDATE t SET n = n WHERE (pk = 'k')"
    );
}

#[test]
fn list_indexes() {
    let s = select(
        "SELECT l[-1], l[2147483648], l[99999999999999999999], l[-99999999999999999999] FROM t",
    );
    let Projection::Paths(paths) = s.projection else {
        panic!()
    };
    let idx: Vec<_> = paths
        .iter()
        .map(|p| match p.steps[0] {
            Step::Index(i, pos) => (i, pos),
            _ => panic!(),
        })
        .collect();
    assert_eq!(idx[0], (-1, at(1, 11, 1)));
    assert_eq!(idx[1], (2147483648, at(1, 17, 10)));
    assert_eq!(idx[2].0, i64::MAX);
    assert_eq!(idx[3].0, i64::MIN);
    for (bad, at) in [
        ("l[1.5]", "1:10:3"),
        ("l[1e0]", "1:10:3"),
        ("l[?]", "1:10:1"),
        ("l[a.b]", "1:10:1"),
        ("l[f(x)]", "1:10:1"),
        ("l[1 + 1]", "1:12:1"),
    ] {
        assert_eq!(
            refused(&format!("SELECT {bad} FROM t")),
            format!("Unexpected path component at {at}"),
            "{bad}"
        );
    }
    assert_eq!(
        refused("SELECT l[*] FROM t"),
        "Wildcard path component like a[*].b are not supported at 1:10:1"
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE a.*.b = 1"),
        "Unpivot path component like a.*.b are not supported at 1:25:1"
    );
    assert_eq!(
        refused("SELECT a.* FROM t"),
        "Changing item's hierarchy while reading isn't supported"
    );
    assert_eq!(
        refused("SELECT [1, 2][0] FROM t"),
        "A path cannot start with a list index at 1:8:1"
    );
    assert_eq!(
        refused("UPDATE t SET a[?] = 1"),
        malformed("Invalid path component for simple path")
    );
    assert_eq!(
        refused("UPDATE t SET a.* = 1"),
        malformed("Invalid path dot component for simple path")
    );
    assert_eq!(ok("UPDATE t SET a[-1] = 1"), "UPDATE t SET a[-1] = 1");
}

// ----------------------------------------------------------- positions --

#[test]
fn positions() {
    let f = filter("SELECT * FROM \"T\"\nWHERE \"pk\" = ? AND\n  n.a[3] IN [?, {'k': 1}, <<2>>] AND x IS NULL AND y BETWEEN 1 AND 2");
    let Expr::Binary(BinaryOp::And, ab, between, and_pos) = f else {
        panic!()
    };
    assert_eq!(and_pos, at(3, 48, 3));
    let Expr::Between(_, _, _, pos) = *between else {
        panic!()
    };
    assert_eq!(pos, at(3, 54, 7));
    let Expr::Binary(_, ab, is, _) = *ab else {
        panic!()
    };
    let Expr::Is { pos, .. } = *is else { panic!() };
    assert_eq!(pos, at(3, 40, 2));
    let Expr::Binary(_, eq, inn, _) = *ab else {
        panic!()
    };
    let Expr::Binary(BinaryOp::Eq, pk, param, eq_pos) = *eq else {
        panic!()
    };
    assert_eq!(eq_pos, at(2, 12, 1));
    assert_eq!(pk.pos(), at(2, 7, 4));
    assert_eq!(*param, Expr::Param(0, at(2, 14, 1)));
    let Expr::In(path, items, in_pos) = *inn else {
        panic!()
    };
    assert_eq!(in_pos, at(3, 10, 2));
    let Expr::Path(path) = *path else { panic!() };
    assert_eq!(path.pos, at(3, 3, 1));
    assert_eq!(path.steps[1], Step::Index(3, at(3, 7, 1)));
    assert_eq!(items[0], Expr::Param(1, at(3, 14, 1)));
    assert!(matches!(items[1], Expr::Map(_, p) if p == at(3, 17, 1)));
    assert!(matches!(items[2], Expr::Bag(_, p) if p == at(3, 27, 2)));
    let s = select("SELECT * FROM \"T\"\nWHERE \"pk\" = ?");
    assert_eq!(s.from.pos, at(1, 15, 3));
    // Columns count characters, not bytes.
    let f = filter("SELECT * FROM t WHERE s = 'ééé' AND n = 1");
    let Expr::Binary(_, s_eq, n_eq, _) = f else {
        panic!()
    };
    let (Expr::Binary(_, _, s, _), Expr::Binary(_, n, _, _)) = (*s_eq, *n_eq) else {
        panic!()
    };
    assert_eq!(s.pos(), at(1, 27, 5));
    assert_eq!(n.pos(), at(1, 37, 1));
}

#[test]
fn parameters_are_numbered_in_order() {
    let p = parse("UPDATE t SET a = ?, b = [?] WHERE pk = ? AND sk IN [?, ?] RETURNING ALL NEW *")
        .unwrap();
    assert_eq!(p.params, 5);
    assert_eq!(
        show_statement(&p.statement),
        "UPDATE t SET a = ?0 SET b = [?1] WHERE ((pk = ?2) AND (sk IN [?3, ?4])) RETURNING ALL NEW *"
    );
    assert_eq!(parse("SELECT * FROM t").unwrap().params, 0);
}

// -------------------------------------------------------------- errors --

#[test]
fn leftover_tokens() {
    let leftover = malformed("Unexpected token after expression");
    for s in [
        r#"SELECT * FROM "N" WHERE pk = 1 foo"#,
        r#"SELECT * FROM "N" WHERE pk = 1 e5"#,
        r#"INSERT INTO "N" VALUE {'pk': 970001} foo"#,
        r#"UPDATE "N" SET a = 9 WHERE pk = 970002 foo"#,
        r#"DELETE FROM "N" WHERE pk = 970003 foo"#,
        r#"SELECT * FROM "N" WHERE pk = 1)"#,
        r#"DELETE FROM "N" WHERE pk = 970004 ORDER BY pk"#,
        r#"SELECT * FROM "N" ORDER BY pk WHERE pk = 1"#,
        r#"INSERT INTO "S" t VALUE {'pk': 'x'}"#,
        r#"FROM "S" SET c = 1 WHERE pk = 'pq-ff-msg'"#,
        r#"FROM "S" SET c = 1 WHERE pk = 'pq-ff-msg' SET d = 2"#,
        r#"SELECT * FROM "S" WHERE pk = 'a' RETURNING ALL OLD *"#,
        "SELECTT * FROMM \"t\"",
        "UPDATE t SET a = 1 SET",
    ] {
        if s.ends_with("SET") {
            assert_eq!(
                refused(s),
                malformed("Expected identifier for simple path"),
                "{s}"
            );
        } else {
            assert_eq!(refused(s), leftover, "{s}");
        }
    }
}

#[test]
fn bare_lexical_refusals() {
    let bare = malformed("");
    for s in [
        r#"SELECT * FROM "N" WHERE pk = 1e2147483648"#,
        r#"SELECT * FROM "N" WHERE pk = 1e99999999999"#,
        r#"SELECT * FROM "N" WHERE pk = 1.5e-2147483647"#,
        r#"SELECT * FROM "N" WHERE pk = 1 # note"#,
        r#"SELECT * FROM "N" WHERE pk = 1 /* note"#,
        r#"SELECT * FROM "T"#,
        "SELECT * FROM t WHERE a = 'open",
        // A lexical error wins over an earlier syntax error.
        "SELECT * FROM WHERE #",
    ] {
        assert_eq!(refused(s), bare, "{s}");
    }
    assert_eq!(bare, "Statement wasn't well formed, can't be processed: ");
    assert!(parse("SELECT * FROM t WHERE n = 1e2147483647").is_ok());
}

#[test]
fn empty_where_and_missing_operands() {
    for s in [
        r#"SELECT * FROM "S" WHERE"#,
        r#"SELECT * FROM "S" WHERE;"#,
        r#"SELECT * FROM "S" WHERE   "#,
        r#"SELECT pk FROM "S" WHERE"#,
        r#"UPDATE "S" SET a = 1 WHERE"#,
        r#"DELETE FROM "S" WHERE"#,
        r#"SELECT * FROM "S" WHERE NOT"#,
        r#"SELECT * FROM "S" WHERE ("#,
        r#"SELECT * FROM "S-never-created" WHERE"#,
        "SELECT * FROM",
        "SELECT * FROM ;",
        "SELECT * FROM t WHERE a = 1 AND ;",
        "SELECT * FROM t WHERE a IN ()",
        "INSERT INTO t VALUE",
    ] {
        assert_eq!(refused(s), malformed("Unexpected term"), "{s}");
    }
    for s in [
        r#"SELECT * FROM "S" WHERE pk = 'p1' AND"#,
        r#"SELECT * FROM "S" WHERE pk = 'p1' OR"#,
        "SELECT * FROM t WHERE pk =",
        "SELECT * FROM t WHERE n > 1 +",
        "SELECT * FROM t WHERE pk IN",
        "SELECT * FROM t WHERE pk NOT IN -- nothing",
        "SELECT * FROM t WHERE pk BETWEEN",
    ] {
        assert_eq!(
            refused(s),
            malformed("Missing right-hand side expression of infix operator"),
            "{s}"
        );
    }
    assert_eq!(
        refused("SELECT * FROM t WHERE n BETWEEN 1"),
        malformed("Expected AND keyword")
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE n BETWEEN 1 AND"),
        malformed("Expected expression after AND")
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE (a = 1"),
        malformed("Expected RIGHT_PAREN")
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE a IN [1, 2"),
        malformed("Expected RIGHT_BRACKET")
    );
    assert_eq!(
        refused("INSERT INTO t VALUE {'a' 1}"),
        malformed("Expected COLON")
    );
    assert_eq!(
        refused("INSERT INTO t VALUE {'a': 1"),
        malformed("Expected RIGHT_CURLY")
    );
    assert_eq!(
        refused("INSERT INTO t VALUE <<1"),
        malformed("Expected RIGHT_DOUBLE_ANGLE_BRACKET")
    );
}

#[test]
fn keywords_and_operators_where_a_term_starts() {
    assert_eq!(
        refused(r#"SELECT * FROM "S" WHERE ORDER BY pk"#),
        malformed("Unexpected keyword")
    );
    assert_eq!(
        refused(r#"SELECT * FROM "S" WHERE IS NULL"#),
        malformed("Unexpected operator")
    );
    assert_eq!(
        refused(r#"SELECT * FROM "S" WHERE pk = LIKE"#),
        malformed("Unexpected operator")
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE AND a = 1"),
        malformed("Unexpected operator")
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE NOT IN [1]"),
        malformed("Unexpected operator")
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE = 1"),
        malformed("Unexpected operator")
    );
    assert_eq!(
        refused("SELECT * FROM WHERE a = 1"),
        malformed("Unexpected keyword")
    );
    // Reserved words are not attribute names unless quoted.
    assert_eq!(
        refused("SELECT a FROM t WHERE value = 1"),
        malformed("Unexpected keyword")
    );
    // SELECT VALUE is PartiQL's own projection, so `FROM` starts a term.
    assert_eq!(
        refused("SELECT value FROM t WHERE pk = 1"),
        malformed("Expected data manipulation")
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE size > 1"),
        malformed("Unexpected keyword")
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE inner = 1"),
        malformed("Unexpected keyword")
    );
    assert_eq!(
        ok(r#"SELECT "value", "size" FROM t WHERE "inner" = 1"#),
        "SELECT value, size FROM t WHERE (inner = 1)"
    );
    assert_eq!(
        refused("UPDATE t SET value = 1 WHERE pk = 1"),
        malformed("Expected identifier for simple path")
    );
    // ... nor members after a dot.
    assert_eq!(
        refused("SELECT * FROM t WHERE attribute_exists(m.inner)"),
        malformed("Invalid path dot component")
    );
    for step in ["m.value", "m.select", "m.true", "m.1", "m.?", "m.'a'"] {
        let r = refused(&format!("SELECT * FROM t WHERE {step} = 1"));
        assert!(
            r == malformed("Invalid path dot component")
                || r == malformed("Unexpected token after expression"),
            "{step}: {r}"
        );
    }
    assert_eq!(ok(r#"SELECT m."inner" FROM t"#), "SELECT m.inner FROM t");
}

#[test]
fn statements_that_are_not_data_manipulation() {
    // `SLECT * FROM "t" ...` reads as SLECT times a FROM clause that lacks
    // its SET or REMOVE.
    assert_eq!(
        refused(r#"SLECT * FROM "t" WHERE pk = 'batch-dup'"#),
        malformed("Expected data manipulation")
    );
    assert_eq!(
        refused("SELECT FROM t"),
        malformed("Expected data manipulation")
    );
    assert_eq!(
        refused("SET a = 1"),
        malformed("Expected data manipulation")
    );
    assert_eq!(
        refused(r#"UPDATE "T" WHERE pk = 1"#),
        malformed("Expected data manipulation")
    );
    assert_eq!(
        refused(r#"FROM "T" WHERE pk = 1"#),
        malformed("Expected data manipulation")
    );
    // An expression parses, then is refused as a statement.
    for t in ["INT4", "INT8", "DOUBLE PRECISION", "CHARACTER VARYING"] {
        assert_eq!(
            refused(&format!("x IS {t}")),
            "Unsupported operation: IsType"
        );
    }
    assert_eq!(refused("x = 1"), "Unsupported operation: Eq");
    assert_eq!(refused("EXISTS(x)"), "Unsupported operation: Call");
    assert_eq!(refused("?"), "Unsupported operation: Parameter");
    assert_eq!(refused("a * b"), "Unsupported operation: Times");
    assert_eq!(refused("INSERT VALUE 1"), malformed("Unexpected keyword"));
    assert_eq!(refused(""), malformed("Unexpected term"));
    assert_eq!(
        refused("DELETE \"T\""),
        malformed("Expected FROM after DELETE")
    );
    assert_eq!(
        refused("SELECT *"),
        malformed("Expected FROM after SELECT list")
    );
}

#[test]
fn missing_table_names() {
    for s in [
        "DELETE FROM",
        "DELETE FROM   ",
        "DELETE FROM;",
        "DELETE FROM WHERE pk = 'a'",
        "UPDATE",
        "UPDATE SET a = 1",
        "INSERT INTO",
        "INSERT INTO 'T' VALUE {}",
    ] {
        assert_eq!(
            refused(s),
            malformed("Expected identifier for simple path"),
            "{s}"
        );
    }
    assert_eq!(
        refused(r#"SELECT * FROM "T"."I"."x""#),
        "A path may contain at most 2 components in the FROM clause"
    );
    for s in [
        r#"SELECT * FROM "T"."""#,
        r#"SELECT * FROM """#,
        r#"DELETE FROM "" WHERE pk = 1"#,
    ] {
        assert_eq!(
            refused(s),
            "Path component cannot be an empty string",
            "{s}"
        );
    }
    for s in [
        r#"SELECT "" FROM t"#,
        r#"SELECT a."" FROM t"#,
        "SELECT a[''] FROM t",
        r#"SELECT * FROM t WHERE "" = 1"#,
        r#"UPDATE t SET a."" = 1"#,
        r#"UPDATE t REMOVE """#,
        "INSERT INTO t VALUE {'pk': 1, '': 2}",
        "UPDATE t SET m = {'': 2}",
    ] {
        assert_eq!(
            refused(s),
            "Path component cannot be an empty string",
            "{s}"
        );
    }
    assert_eq!(
        refused(r#"INSERT INTO "T"."I" VALUE {'pk': 'x'}"#),
        "FROM clause may only contain a single table name in data manipulation statements"
    );
    assert_eq!(
        refused(r#"SELECT * FROM "T".WHERE"#),
        malformed("Invalid path dot component")
    );
}

#[test]
fn aliases_are_refused() {
    for s in [
        r#"SELECT * FROM "S" t WHERE pk = 'x'"#,
        r#"SELECT * FROM "S" AS t WHERE pk = 'x'"#,
        r#"SELECT * FROM "S" "t""#,
        r#"UPDATE "S" t SET a = 3 WHERE pk = 'x'"#,
        r#"DELETE FROM "S" t WHERE pk = 'x'"#,
        r#"FROM "S" AS t WHERE pk = 'x' SET a = 1"#,
        r#"SELECT a AS b FROM "S""#,
        r#"SELECT a b FROM "S""#,
        r#"SELECT * FROM "S" AT i"#,
    ] {
        assert_eq!(refused(s), "Aliasing is not supported", "{s}");
    }
    assert_eq!(
        refused(r#"SELECT * FROM "S" AS"#),
        malformed("Expected identifier for AS-alias")
    );
    // A syntax error later in the statement wins over the alias.
    assert_eq!(
        refused(r#"SELECT * FROM "S" t WHERE"#),
        malformed("Unexpected term")
    );
}

#[test]
fn projections_are_paths() {
    assert_eq!(
        refused("SELECT COUNT(*) FROM t"),
        "Unexpected path component at 1:8:5"
    );
    assert_eq!(
        refused("select count(pk) from t"),
        "Unexpected path component at 1:8:5"
    );
    assert_eq!(
        refused("SELECT attribute_exists(ss) FROM t WHERE pk = 'a'"),
        "Unexpected path component at 1:8:16"
    );
    assert_eq!(
        refused("SELECT pk, 1 FROM t"),
        "Unexpected path component at 1:12:1"
    );
    assert_eq!(
        refused("SELECT a + b FROM t"),
        "Unexpected path component at 1:10:1"
    );
    assert_eq!(
        refused("SELECT a * b FROM t"),
        "Unexpected path component at 1:10:1"
    );
    assert_eq!(
        refused("SELECT *, a FROM t"),
        malformed("Other expressions may not be present in the select list when '*' is used without dot notation.")
    );
    assert_eq!(
        refused("SELECT VALUE a FROM t"),
        "Select projection doesn't support value or pivot keywords"
    );
    assert_eq!(
        refused("SELECT * FROM a, b"),
        "Only select from a single table or index is supported."
    );
    assert_eq!(
        refused("SELECT sum(*) FROM t"),
        malformed("sum(*) is not allowed")
    );
    assert_eq!(
        refused("SELECT count() FROM t"),
        malformed("Aggregate functions are always unary")
    );
}

#[test]
fn exists_in_a_condition_is_not_a_function() {
    assert_eq!(
        refused("SELECT * FROM t WHERE pk = 'a' AND EXISTS(ss)"),
        "Unrecognized function: exists at 1:36:6"
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE EXISTS"),
        malformed("Unexpected keyword")
    );
}

#[test]
fn order_by() {
    assert_eq!(
        refused("SELECT * FROM t ORDER BY pk"),
        "Must have WHERE clause in the statement when using ORDER BY clause."
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE pk = 1 ORDER pk"),
        malformed("Expected BY")
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE pk = 1 ORDER BY m.x"),
        "Unexpected path component at 1:39:1"
    );
    let s = select("SELECT * FROM t WHERE pk = 1 ORDER BY \"sk\" desc");
    assert_eq!(
        s.order_by,
        vec![OrderBy {
            name: "sk".into(),
            descending: true,
            pos: at(1, 39, 4)
        }]
    );
}

#[test]
fn returning_clauses() {
    for (r, text) in [
        ("MODIFIED OLD", "RETURNING MODIFIED OLD *"),
        ("ALL NEW", "RETURNING ALL NEW *"),
        ("MODIFIED NEW", "RETURNING MODIFIED NEW *"),
    ] {
        assert_eq!(
            refused(&format!("DELETE FROM t WHERE pk = 'k' RETURNING {r} *")),
            format!("Invalid returning clause: {text}. Only RETURNING ALL OLD * is allowed in DELETE statements.")
        );
    }
    assert_eq!(
        refused("UPDATE t SET a = 1 WHERE pk = 1 RETURNING OLD *"),
        malformed("Expected ( MODIFIED | ALL ) ( NEW | OLD ) in each returning element.")
    );
    assert_eq!(
        refused("UPDATE t SET a = 1 WHERE pk = 1 RETURNING ALL NEW a"),
        "Expected '*' after ( MODIFIED | ALL ) ( NEW | OLD ) in RETURNING clause"
    );
    assert_eq!(
        refused("UPDATE t SET a = 1 WHERE pk = 1 RETURNING ALL NEW *, ALL OLD *"),
        "Invalid syntax with multiple returning elements in RETURNING clause"
    );
    assert_eq!(
        refused("INSERT INTO t VALUE {'pk': 1} RETURNING ALL NEW *"),
        "RETURNING is not supported in INSERT"
    );
}

#[test]
fn literal_shapes_the_parser_refuses() {
    assert_eq!(
        refused(r#"INSERT INTO t VALUE {"pk": 'a'}"#),
        "Tuple keys must be of type String. Actual type: VariableReference under root at 1:22:4"
    );
    assert_eq!(
        refused("INSERT INTO t VALUE {'pk': 'a', 'm': {'x': [1, {2: 3}]}}"),
        "Tuple keys must be of type String. Actual type: INT under root.x[1] at 1:49:1"
    );
    assert_eq!(
        refused("UPDATE t SET m = {'x': {1.5: 3}} WHERE pk = 1"),
        "Tuple keys must be of type String. Actual type: DECIMAL under root.x at 1:25:3"
    );
    assert_eq!(
        refused("INSERT INTO t <<{'pk': 1}>>"),
        "Unsupported operation: Inserting multiple items in a single statement is not supported, use \"INSERT INTO tableName VALUE item\" instead"
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE a IN b"),
        "IN operator must have a left hand argument of type Variable Reference and right hand argument of type Seq with at least one member"
    );
    assert_eq!(
        refused("SELECT * FROM t WHERE a IN []"),
        refused("SELECT * FROM t WHERE a IN b")
    );
    for (c, op) in [
        ("a LIKE 'x%'", "like"),
        ("a NOT LIKE 'x' ESCAPE '!'", "like"),
        ("a || b = 'x'", "||"),
        ("a * 2 = 4", "*"),
        ("a / 2 = 4", "/"),
        ("a % 2 = 0", "%"),
    ] {
        assert_eq!(
            refused(&format!("SELECT * FROM t WHERE {c}")),
            format!("Unsupported operator in Condition Expression. Operator: {op}"),
            "{c}"
        );
    }
    assert_eq!(
        refused("UPDATE t SET a = a * 2 WHERE pk = 1"),
        "Unsupported operator in Update Expression. Operator: *"
    );
}

#[test]
fn deep_nesting_is_refused_not_a_stack_overflow() {
    for open in ["[", "(", "<<", "{'a':", "- ", "NOT ", "f(", "a[", "+"] {
        let text = format!("SELECT * FROM t WHERE a = {}1", open.repeat(5000));
        assert_eq!(refused(&text), malformed(""), "{open}");
    }
    // Nesting well past binding's own limit (32) still parses.
    let text = format!("INSERT INTO t VALUE {}1{}", "[".repeat(90), "]".repeat(90));
    assert!(parse(&text).is_ok());
    let text = format!(
        "SELECT * FROM t WHERE {}a = 1{}",
        "(".repeat(90),
        ")".repeat(90)
    );
    assert!(parse(&text).is_ok());
}

/// Statements real DynamoDB ran (the digest's captures); each must parse.
#[test]
fn captured_statements_parse() {
    let n = 32;
    let deep = format!(
        "UPDATE \"T\" SET d = {}1{} WHERE pk='nested' AND sk='1'",
        "{'a':".repeat(n),
        "}".repeat(n)
    );
    let deep_list = format!(
        "UPDATE \"T\" SET d = {{'a':{}1{}}}",
        "[".repeat(31),
        "]".repeat(31)
    );
    for s in [
        r#"UPDATE "T" SET a=2 WHERE (pk='grouped' AND sk='1') AND flag='x'"#,
        r#"EXISTS(SELECT * FROM "T" WHERE (pk='grouped' AND sk='1') AND nope IS MISSING)"#,
        r#"SELECT sk FROM "T" WHERE pk='minus' AND n>-5;"#,
        r#"SELECT l[2147483647] FROM "T" WHERE pk='index' AND sk='1'"#,
        "UPDATE \"T\"\nSET BandMembers = set_add(BandMembers, 'x')\nWHERE pk='sets' AND sk='1'",
        r#"UPDATE "T" SET n = set_add(n, <<2, 2.0>>) WHERE pk='bags' AND sk='1'"#,
        r#"INSERT INTO "T" VALUE {'pk':'bags-tx','sk':'1','x':[<<'a','a'>>]}"#,
        r#"SELECT pk FROM "T"."gsi-inc" WHERE gsiPk='y' AND NOT (nonproj='np1' OR projattr='x')"#,
        "SELECT/**/* FROM \"T\" -- the table\nWHERE pk/* key */='comments' AND sk='1' --",
        r#"SELECT note FROM "T" WHERE pk='c' AND note = 'a--b /*c*/'; -- done"#,
        r#"SELECT sk FROM "T" WHERE pk='signs' AND sk='1' AND n BETWEEN - 2 AND +5 AND n IN [- 1, 1]"#,
        r#"SELECT sk FROM "T" WHERE pk='literals' AND n IN [?, 2]"#,
        r#"SELECT sk FROM "T" WHERE pk='e' AND attribute_exists(m.x) AND ATTRIBUTE_NOT_EXISTS (nope) AND attribute_exists(l[0])"#,
        r#"SELECT sk FROM "T" WHERE pk='b' AND (n BETWEEN 0 AND 5) = true"#,
        r#"SELECT sk FROM "T" WHERE pk='b' AND (attribute_exists(n) = true) = false"#,
        r#"SELECT sk FROM "T" WHERE pk='b' AND true = attribute_exists(n)"#,
        r#"SELECT sk FROM "T" WHERE pk='r' AND (sk < '1' OR sk > '1' OR sk='1')"#,
        r#"SELECT sk FROM "T" WHERE (pk IN ['ranges']) AND pk='ranges' AND sk='2'"#,
        r#"UPDATE "T" SET m.deep = ? WHERE pk='deep-path' AND sk='1'"#,
        r#"SELECT mymap.nested FROM "T" WHERE pk = 'partiql-nested'"#,
        r#"SELECT * FROM Music WHERE "Awards" is MISSING"#,
        r#"UPDATE "Music" SET AwardDetail.Grammys = list_append([2010], AwardDetail.Grammys) WHERE Artist='Acme Band'"#,
        r#"UPDATE "T" SET ListType = LIST_APPEND(ListType, [4, <<'string1','string2'>>]) WHERE pk = 'x'"#,
        r#"SELECT * FROM "Orders" WHERE OrderID IN [100, 300, 234]"#,
        r#"SELECT * FROM "Orders" WHERE Total != 400"#,
        r#"SELECT * FROM "T" WHERE pk = 'p' ORDER BY pk DESC, sk ASC"#,
        &deep,
        &deep_list,
    ] {
        assert!(parse(s).is_ok(), "{s}: {}", parse(s).unwrap_err().message);
    }
}

// ---------------------------------------------------------- properties --

/// Statements every mutation starts from; each parses.
const VALID: &[&str] = &[
    r#"SELECT * FROM "T" WHERE pk = 'a' AND sk BETWEEN 1 AND 5"#,
    r#"SELECT a, b.c[1], "d" FROM "T"."I" WHERE pk IN ['a', ?] ORDER BY sk DESC"#,
    r#"INSERT INTO "T" VALUE {'pk': ?, 'n': -1.5e3, 'l': [1, 'a', <<1, 2>>], 'm': {'k': NULL}}"#,
    r#"UPDATE "T" SET a = a + 1, l = list_append(l, [2]) REMOVE b[0] WHERE pk = 'k' AND attribute_exists(a) RETURNING MODIFIED NEW *"#,
    r#"DELETE FROM "T" WHERE pk = 'k' AND NOT x IS NOT MISSING RETURNING ALL OLD *"#,
    r#"FROM "T" WHERE pk = 'k' SET c = set_add(c, <<'x'>>) -- done"#,
    r#"EXISTS(SELECT * FROM "T" WHERE pk = 'k' AND sk = '1' AND n > -/* c */-1);"#,
];

fn mutate(base: &str, ops: &[(u8, usize, char)]) -> String {
    let mut chars: Vec<char> = base.chars().collect();
    for &(op, at, c) in ops {
        let i = if chars.is_empty() {
            0
        } else {
            at % (chars.len() + 1)
        };
        match op % 4 {
            0 => chars.insert(i, c),
            1 if i < chars.len() => {
                chars.remove(i);
            }
            2 => chars.truncate(i),
            _ if i < chars.len() => chars[i] = c,
            _ => {}
        }
    }
    chars.into_iter().collect()
}

#[test]
fn valid_bases_parse() {
    for s in VALID {
        assert!(parse(s).is_ok(), "{s}: {:?}", parse(s).err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(s in any::<String>()) {
        let _ = parse(&s);
    }

    #[test]
    fn token_soup_never_panics(
        s in r#"[a-zA-Z0-9_ '"?.,;:*=<>!|()\[\]{}+\-/%#@\n\r\t]{0,80}"#
    ) {
        let _ = parse(&s);
    }

    #[test]
    fn mutated_statements_never_panic(
        base in 0..VALID.len(),
        ops in proptest::collection::vec(
            (any::<u8>(), any::<usize>(), prop::sample::select(vec![
                ' ', '\'', '"', '(', ')', '[', ']', '{', '}', '<', '>', '-', '+', '.', ',', ';',
                '?', '*', '=', '!', '|', '#', '/', '\n', '1', 'e', 'a', 'é',
            ])),
            1..6,
        ),
    ) {
        let text = mutate(VALID[base], &ops);
        if let Ok(p) = parse(&text) {
            // Whatever parses counts its placeholders as the text does,
            // outside strings and quoted names at least.
            prop_assert!(p.params <= text.matches('?').count());
        }
    }
}
