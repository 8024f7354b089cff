//! One error type for the web: every failure becomes a page in the visitor's language, or JSON
//! for an API client, with the right status code. Internal detail goes to the log with the
//! request id; the visitor sees a generic message and the id.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mamori_app::AppError;

/// Attached to an error response; the visitor middleware renders the page from it.
#[derive(Debug, Clone)]
pub struct PageError {
    pub key: &'static str,
    /// A message that names the problem precisely, already in the right language.
    pub message: Option<(String, String)>,
    pub retry_after: Option<i64>,
    /// The input field a 422 is about, for API clients.
    pub field: Option<&'static str>,
}

/// A handler's failure.
#[derive(Debug)]
pub struct WebError(pub AppError);

impl From<AppError> for WebError {
    fn from(e: AppError) -> Self {
        WebError(e)
    }
}

impl From<mamori_store::StoreError> for WebError {
    fn from(e: mamori_store::StoreError) -> Self {
        WebError(e.into())
    }
}

pub fn status_key(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "error.400",
        401 => "error.401",
        403 => "error.403",
        404 => "error.404",
        405 => "error.405",
        413 => "error.413",
        415 => "error.415",
        422 => "error.422",
        429 => "error.429",
        503 => "error.503",
        507 => "error.507",
        _ => "error.500",
    }
}

pub fn error_response(status: StatusCode, err: PageError) -> Response {
    let mut r = status.into_response();
    r.extensions_mut().insert(err);
    r
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let field = match &self.0 {
            AppError::Invalid(p) => p.field,
            _ => None,
        };
        let (status, message, retry) = match &self.0 {
            AppError::Unauthenticated | AppError::BadCredentials | AppError::BadTotp => {
                (StatusCode::UNAUTHORIZED, None, None)
            }
            AppError::Denied | AppError::TotpLocked => (StatusCode::FORBIDDEN, None, None),
            AppError::NotFound => (StatusCode::NOT_FOUND, None, None),
            AppError::Invalid(p) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((p.ja.clone(), p.en.clone())),
                None,
            ),
            AppError::Throttled(s) => (StatusCode::TOO_MANY_REQUESTS, None, Some(*s)),
            AppError::Busy | AppError::Overloaded => (StatusCode::SERVICE_UNAVAILABLE, None, None),
            AppError::DiskFull => (StatusCode::INSUFFICIENT_STORAGE, None, None),
            AppError::Internal(detail) => {
                tracing::error!(error = %detail, "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, None, None)
            }
        };
        // Two refusals share a status with others but need their own words.
        let key = match &self.0 {
            AppError::TotpLocked => "totp.locked",
            AppError::Overloaded => "login.overloaded",
            _ => status_key(status),
        };
        error_response(
            status,
            PageError {
                key,
                message,
                retry_after: retry,
                field,
            },
        )
    }
}

pub type WebResult<T = Response> = Result<T, WebError>;

/// A panic in a handler is logged and answered with the generic 500 page.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        PageError {
            key: "error.500",
            message: None,
            retry_after: None,
            field: None,
        },
    )
}
