//! Query-string parameters, read leniently: repeated keys are kept, unknown
//! keys ignored, and a malformed value is a 400 with the JSON error shape,
//! never an extractor's plain-text rejection.

use super::error::ApiError;

pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(raw: Option<&str>) -> Params {
        Params(
            form_urlencoded::parse(raw.unwrap_or("").as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// Every key and value, in order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// The same parameters with `key`'s first value replaced by `value`.
    pub fn with(mut self, key: &str, value: &str) -> Params {
        if let Some((_, v)) = self.0.iter_mut().find(|(k, _)| k == key) {
            *v = value.to_string();
        }
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `key`; a comma-separated value counts as several.
    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// A yes/no parameter: `1`/`true`/`yes` or `0`/`false`/`no`.
    pub fn switch(&self, key: &str, default: bool) -> Result<bool, ApiError> {
        match self
            .get(key)
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("") => Ok(default),
            Some("1" | "true" | "yes") => Ok(true),
            Some("0" | "false" | "no") => Ok(false),
            Some(v) => Err(ApiError::InvalidParameter(format!(
                "`{key}` must be true or false, got {v:?}"
            ))),
        }
    }

    pub fn number(&self, key: &str, default: usize) -> Result<usize, ApiError> {
        match self.get(key).map(str::trim) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::InvalidParameter(format!("`{key}` must be a whole number, got {v:?}"))
            }),
        }
    }
}
