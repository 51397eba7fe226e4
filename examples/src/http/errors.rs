//! Errors as HTTP answers: a status code and a JSON body that says what was wrong.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use mlops_serve::Error;
use serde_json::{Value, json};

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// The JSON body (`{"error": …}` and, for refused input, `"violations"`).
    pub body: Value,
    /// `Retry-After`, in whole seconds (429 and 503).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    /// `status` with `{"error": message}`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: json!({ "error": message.into() }),
            retry_after: None,
        }
    }

    /// Sets `Retry-After`.
    pub fn retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// The answer for an error of the runtime: 400 for input the model
    /// refused (with each violation's column, rule, rows and an example), 503
    /// when its queue is full or a deadline passed, 500 otherwise.
    pub fn from_runtime(error: &Error) -> Self {
        let message = error.to_string();
        match error {
            Error::Rejected { violations, .. } => ApiError {
                status: StatusCode::BAD_REQUEST,
                body: json!({ "error": message, "violations": violations }),
                retry_after: None,
            },
            Error::SchemaMismatch { .. } | Error::TypeMismatch { .. } | Error::InvalidInput { .. } => {
                ApiError::new(StatusCode::BAD_REQUEST, message)
            }
            Error::Overloaded { .. } | Error::DeadlineExceeded { .. } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message).retry_after(Duration::from_secs(1))
            }
            _ => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(after) = self.retry_after {
            // Whole seconds, rounded up, at least one (RFC 9110 §10.2.3).
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
