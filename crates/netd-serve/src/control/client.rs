//! The client end of the control socket, for `nspawn-netd status` and
//! `leases`: connect, send the request line, read the JSON answer.
//! Blocking, with a deadline: a daemon that does not answer is an error,
//! never a hang.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;

use super::protocol::Request;

/// Largest answer read (a status with 50,000 leases is about 6 MB).
const MAX_ANSWER: u64 = 64 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "no nspawn-netd answers on {path}: {source} (is the daemon running on this interface? --control-dir says where its socket is)"
    )]
    NotRunning {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path}: permission denied (the control socket is for root, or the --control-group of the daemon)"
    )]
    Denied { path: PathBuf },
    #[error("talking to the daemon on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the daemon on {path} said: {message}")]
    Refused { path: PathBuf, message: String },
    #[error("the daemon on {path} answered something unreadable: {message}")]
    BadAnswer { path: PathBuf, message: String },
}

/// Sends `request` to the daemon at `path`; the answer's JSON text.
pub fn ask(path: &Path, request: Request, timeout: Duration) -> Result<String, ClientError> {
    let io_err = |source: io::Error| ClientError::Io {
        path: path.to_owned(),
        source,
    };
    let mut stream = UnixStream::connect(path).map_err(|source| match source.kind() {
        io::ErrorKind::PermissionDenied => ClientError::Denied {
            path: path.to_owned(),
        },
        _ => ClientError::NotRunning {
            path: path.to_owned(),
            source,
        },
    })?;
    stream.set_read_timeout(Some(timeout)).map_err(io_err)?;
    stream.set_write_timeout(Some(timeout)).map_err(io_err)?;
    stream
        .write_all(request.line().as_bytes())
        .map_err(io_err)?;
    let mut text = String::new();
    stream
        .take(MAX_ANSWER)
        .read_to_string(&mut text)
        .map_err(io_err)?;
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text)
        && let Some(serde_json::Value::String(message)) = map.get("error")
    {
        return Err(ClientError::Refused {
            path: path.to_owned(),
            message: message.clone(),
        });
    }
    Ok(text)
}

/// [`ask`], read into `T`.
pub fn ask_for<T: DeserializeOwned>(
    path: &Path,
    request: Request,
    timeout: Duration,
) -> Result<(T, String), ClientError> {
    let text = ask(path, request, timeout)?;
    let value = serde_json::from_str(&text).map_err(|e| ClientError::BadAnswer {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    Ok((value, text))
}
