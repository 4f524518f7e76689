//! The `Authorization` header and the key parser: any bytes give a key or a typed failure, never
//! a panic; what parses as a key prints back to itself.
#![no_main]

use gatehouse_core::keys::{KeyToken, bearer_value, parse_header};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    match parse_header(Some(data)) {
        Ok(token) => {
            assert!(data.len() <= 512, "the header limit holds");
            let again = KeyToken::parse(token.expose()).expect("a parsed key parses again");
            assert_eq!(again.expose(), token.expose());
            assert_eq!(again.lookup_id(), token.lookup_id());
        }
        Err(failure) => {
            // Every failure can be described to the client.
            assert!(!failure.message().is_empty() && !failure.next_action().is_empty());
            let _ = failure.code();
        }
    }
    if let Ok(value) = bearer_value(Some(data)) {
        assert!(!value.is_empty() && !value.contains(char::is_whitespace));
    }
    if let Ok(text) = std::str::from_utf8(data)
        && let Ok(token) = KeyToken::parse(text)
    {
        assert_eq!(token.expose(), text, "a key is accepted only exactly as written");
    }
});
