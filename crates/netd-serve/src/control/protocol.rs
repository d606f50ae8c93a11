//! The control socket's protocol: one request line, one JSON answer, then
//! the daemon closes.
//!
//! - `status\n` → a [`Status`];
//! - `leases\n` → [`Leases`](crate::status::Leases);
//! - anything else → `{"error": "..."}`.

use crate::status::Status;

/// Longest request line read.
pub const MAX_REQUEST: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    Status,
    Leases,
}

impl Request {
    pub fn parse(line: &str) -> Result<Request, String> {
        match line.trim() {
            "status" => Ok(Request::Status),
            "leases" => Ok(Request::Leases),
            other => Err(format!(
                "unknown request {:?}: ask for status or leases",
                other.chars().take(MAX_REQUEST).collect::<String>()
            )),
        }
    }

    pub fn line(self) -> &'static str {
        match self {
            Request::Status => "status\n",
            Request::Leases => "leases\n",
        }
    }
}

/// The answer to `request`, as JSON.
pub fn answer_json(request: Request, status: &Status) -> String {
    let encoded = match request {
        Request::Status => serde_json::to_string(status),
        Request::Leases => serde_json::to_string(&status.leases()),
    };
    encoded.unwrap_or_else(|e| error_json(&e.to_string()))
}

pub fn error_json(message: &str) -> String {
    serde_json::json!({ "error": message }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_parse_and_anything_else_is_named_in_the_error() {
        assert_eq!(Request::parse("status\n"), Ok(Request::Status));
        assert_eq!(Request::parse(" leases "), Ok(Request::Leases));
        let e = Request::parse("shutdown\n").unwrap_err();
        assert!(e.contains("shutdown"), "{e}");
        let json: serde_json::Value = serde_json::from_str(&error_json(&e)).unwrap();
        assert!(json["error"].as_str().unwrap().contains("shutdown"));
        assert_eq!(Request::parse(Request::Leases.line()), Ok(Request::Leases));
    }
}
