//! Stored-item codec: decoding arbitrary bytes never panics; an item that
//! decodes encodes to bytes that decode to the same item.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openddb_core::value::{decode_item, decode_value, encode_item, encode_value_into};

fuzz_target!(|data: &[u8]| {
    if let Ok(item) = decode_item(data) {
        let bytes = encode_item(&item);
        let again = decode_item(&bytes).expect("an encoded item decodes");
        assert_eq!(item, again, "item codec round trip changed the item");
    }
    if let Ok(value) = decode_value(data) {
        let mut bytes = Vec::new();
        encode_value_into(&value, &mut bytes);
        let again = decode_value(&bytes).expect("an encoded value decodes");
        assert_eq!(value, again, "value codec round trip changed the value");
    }
});
