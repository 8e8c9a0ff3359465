//! PartiQL statements, parsed and, when they parse, bound as the engine
//! binds them (WHERE as a condition, evaluated and printed; SET and REMOVE
//! actions; INSERT items; projected paths), on a thread with the server
//! workers' 2 MiB stack. Checks: no panic and no stack overflow however
//! deep or long the statement, every refusal a ValidationException, and
//! no more `?` placeholders than the text holds `?` characters.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openddb_core::error::ErrorKind;
use openddb_core::expr::evaluate;
use openddb_core::partiql::bind::{self, Params};
use openddb_core::partiql::{parse, Expr, Projection, Statement};
use openddb_core::{AttributeValue, DynamoError, Item, Number};

/// A server worker's stack.
const WORKER_STACK: usize = 2 * 1024 * 1024;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let src = src.to_owned();
    std::thread::Builder::new()
        .stack_size(WORKER_STACK)
        .spawn(move || check(&src))
        .expect("spawn")
        .join()
        .expect("no panic");
});

fn refused_as_validation<T>(r: Result<T, DynamoError>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            assert_eq!(e.kind, ErrorKind::ValidationException, "{}", e.message);
            None
        }
    }
}

fn check(src: &str) {
    let Some(parsed) = refused_as_validation(parse(src)) else {
        return;
    };
    assert!(
        parsed.params <= src.matches('?').count(),
        "{src:?} parsed with {} placeholders",
        parsed.params
    );
    // Parameters of assorted types, so binding goes down several paths.
    let values: Vec<AttributeValue> = (0..parsed.params)
        .map(|i| match i % 3 {
            0 => AttributeValue::N(Number::from_i64(i as i64)),
            1 => AttributeValue::S(format!("v{i}")),
            _ => AttributeValue::Bool(true),
        })
        .collect();
    let params = Params::new(&values, parsed.params).expect("counted");
    let item: Item = [
        ("a".to_string(), AttributeValue::N(Number::from_i64(1))),
        ("pk".to_string(), AttributeValue::S("k".into())),
    ]
    .into_iter()
    .collect();
    let condition = |filter: &Option<Expr>| {
        if let Some(f) = filter {
            if let Some(c) = refused_as_validation(bind::condition(f, params)) {
                evaluate(&c, Some(&item));
                let _ = c.to_string();
            }
        }
    };
    match &parsed.statement {
        Statement::Select(s) | Statement::Exists(s) => {
            condition(&s.filter);
            if let Projection::Paths(paths) = &s.projection {
                for p in paths {
                    refused_as_validation(bind::path(p));
                }
            }
        }
        Statement::Insert(i) => {
            refused_as_validation(bind::item(&i.value, params));
        }
        Statement::Update(u) => {
            for a in &u.actions {
                refused_as_validation(bind::update_action(a, params));
            }
            condition(&u.filter);
        }
        Statement::Delete(d) => condition(&d.filter),
    }
    // The derived walks over the whole tree.
    let copy = parsed.clone();
    assert_eq!(copy, parsed);
    let _ = format!("{parsed:?}");
}
