//! Request bodies: arbitrary bytes through the typed request decoders and
//! the attribute-value decoder. Decoding may fail, never panic; a value that
//! decodes must survive its own wire form unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openddb_core::api::{from_json_body, CreateTableInput, PutItemInput, UpdateItemInput};
use openddb_core::AttributeValue;

fuzz_target!(|data: &[u8]| {
    let _ = from_json_body::<PutItemInput>(data);
    let _ = from_json_body::<UpdateItemInput>(data);
    let _ = from_json_body::<CreateTableInput>(data);

    let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Ok(value) = AttributeValue::from_wire(&json) {
        let again = AttributeValue::from_wire(&value.to_wire())
            .expect("the wire form of a decoded value decodes");
        assert_eq!(value, again, "wire round trip changed the value");
    }
});
