//! A key's name: what the person will recognise it by in the list.

use crate::error::{CoreError, CoreResult};

pub const MAX_KEY_NAME_CHARS: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyName(String);

impl KeyName {
    pub fn parse(input: &str) -> CoreResult<Self> {
        let value = input.trim();
        if value.is_empty() {
            return Err(CoreError::invalid("name", "Give the key a name, such as \"nightly export\"."));
        }
        if value.chars().count() > MAX_KEY_NAME_CHARS {
            return Err(CoreError::invalid("name", format!("Use at most {MAX_KEY_NAME_CHARS} characters.")));
        }
        if value.chars().any(char::is_control) {
            return Err(CoreError::invalid("name", "A name cannot contain control characters."));
        }
        Ok(KeyName(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}
