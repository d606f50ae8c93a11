//! A minimal HTTP/1.x responder for the metrics endpoint: it reads one
//! request head (at most [`MAX_HEAD`] bytes), answers `GET /metrics` with
//! the text format, anything else with 404 or 405, and closes. No
//! keep-alive, no body, no other method: a scraper needs no more.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Longest request head read; longer ones get 431.
pub const MAX_HEAD: usize = 8 * 1024;

/// What a request head asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Metrics,
    NotFound,
    MethodNotAllowed,
    BadRequest,
    TooLarge,
}

/// Reads the request line of `head` (the bytes up to the blank line).
pub fn route(head: &[u8]) -> Route {
    let Ok(text) = std::str::from_utf8(head) else {
        return Route::BadRequest;
    };
    let mut words = text.lines().next().unwrap_or("").split_whitespace();
    let (Some(method), Some(target), Some(version)) = (words.next(), words.next(), words.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") {
        return Route::BadRequest;
    }
    if method != "GET" {
        return Route::MethodNotAllowed;
    }
    let path = target.split('?').next().unwrap_or("");
    if path == "/metrics" {
        Route::Metrics
    } else {
        Route::NotFound
    }
}

/// The whole response for `status` with `body`.
pub fn response(status: &str, content_type: &str, body: &str, extra: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n{extra}\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Reads the head of one request: up to the blank line, `None` when the
/// peer closed first, [`Route::TooLarge`]'s case when it is too long.
async fn read_head(stream: &mut TcpStream) -> std::io::Result<Option<Vec<u8>>> {
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            return Ok(Some(head));
        }
        if head.len() > MAX_HEAD {
            return Ok(Some(Vec::new()));
        }
    }
}

/// Answers one connection; `metrics` renders the page when asked for it.
pub async fn serve(
    mut stream: TcpStream,
    metrics: impl FnOnce() -> Result<String, std::fmt::Error>,
    content_type: &str,
) -> std::io::Result<()> {
    let Some(head) = read_head(&mut stream).await? else {
        return Ok(());
    };
    let route = if head.is_empty() {
        Route::TooLarge
    } else {
        route(&head)
    };
    let bytes = match route {
        Route::Metrics => match metrics() {
            Ok(body) => response("200 OK", content_type, &body, ""),
            Err(_) => response(
                "500 Internal Server Error",
                "text/plain",
                "encoding failed\n",
                "",
            ),
        },
        Route::NotFound => response("404 Not Found", "text/plain", "try /metrics\n", ""),
        Route::MethodNotAllowed => response(
            "405 Method Not Allowed",
            "text/plain",
            "GET only\n",
            "Allow: GET\r\n",
        ),
        Route::BadRequest => response("400 Bad Request", "text/plain", "bad request\n", ""),
        Route::TooLarge => response(
            "431 Request Header Fields Too Large",
            "text/plain",
            "request head too large\n",
            "",
        ),
    };
    stream.write_all(&bytes).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_of_the_metrics_path_is_served() {
        assert_eq!(
            route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Route::Metrics
        );
        assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(
            route(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Route::MethodNotAllowed
        );
        assert_eq!(route(b"GET /metrics\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"\xff\xfe\r\n\r\n"), Route::BadRequest);
        assert_eq!(route(b"GET /metrics SPDY/3\r\n\r\n"), Route::BadRequest);
    }

    #[test]
    fn a_response_carries_its_length_and_closes() {
        let r = String::from_utf8(response("200 OK", "text/plain", "abc", "")).unwrap();
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("Content-Length: 3\r\n") && r.contains("Connection: close"));
        assert!(r.ends_with("\r\n\r\nabc"), "{r:?}");
    }
}
