//! One error type for the whole service. The API answers RFC 9457
//! `application/problem+json`; pages turn the same body into an error page
//! (see `http::pages::error_pages`). Database and internal errors are logged
//! and shown only as a plain 500.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sea_orm::{DbErr, SqlErr};
use serde::{Deserialize, Serialize};

/// Media type of every error body the API sends.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// A field error is the domain's one problem type (field, code, message).
pub use crate::domain::problem::Problem as FieldError;

/// The problem+json body (RFC 9457) with this service's extensions.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub problem_type: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable code for programs, also the key of the page's translated title.
    pub code: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// For an illegal transition: the steps allowed next.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the request has invalid fields")]
    Validation(Vec<FieldError>),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("sign-in required")]
    Unauthenticated,
    #[error("wrong username or password")]
    BadCredentials,
    #[error("your role may not do this")]
    Forbidden,
    #[error("the form's security token is missing or stale; reload the page and try again")]
    Csrf,
    #[error("not found")]
    NotFound,
    #[error("method not allowed")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(String),
    /// A rule refuses the step in the record's present state (an approval beyond authority, a close with money
    /// unpaid): 409, with the rule's problem so that a page can show it in its own language.
    #[error("{}", .0.message)]
    Refused(FieldError),
    /// A claim (or other state machine) asked to take a step its stage does not allow.
    #[error("{message}")]
    IllegalTransition { message: String, allowed: Vec<String> },
    #[error("the request body is larger than the limit of {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    pub fn field(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, code, message)])
    }

    /// The record changed since the client read it.
    pub fn stale_version() -> Self {
        Self::Conflict("the record was changed by someone else; reload it and apply your change again".into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthenticated | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::Csrf => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) | Self::Refused(_) | Self::IllegalTransition { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Db(e) => match e.sql_err() {
                Some(SqlErr::UniqueConstraintViolation(_)) => StatusCode::CONFLICT,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation",
            Self::BadRequest(_) => "bad_request",
            Self::Unauthenticated => "unauthenticated",
            Self::BadCredentials => "bad_credentials",
            Self::Forbidden => "forbidden",
            Self::Csrf => "csrf",
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::Conflict(_) | Self::Refused(_) => "conflict",
            Self::IllegalTransition { .. } => "illegal_transition",
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::TooManyRequests { .. } => "too_many_requests",
            Self::Db(_) if self.status() == StatusCode::CONFLICT => "conflict",
            Self::Db(_) | Self::Internal(_) => "internal",
        }
    }

    pub fn to_problem(&self) -> Problem {
        let status = self.status();
        let internal = status == StatusCode::INTERNAL_SERVER_ERROR;
        let detail = match self {
            // Never show database or internal details to the user.
            _ if internal => None,
            Self::Db(_) => Some("the record conflicts with one that already exists".into()),
            other => Some(other.to_string()),
        };
        let errors = match self {
            Self::Validation(errors) => errors.clone(),
            Self::Refused(problem) => vec![problem.clone()],
            _ => Vec::new(),
        };
        let allowed = match self {
            Self::IllegalTransition { allowed, .. } => allowed.clone(),
            _ => Vec::new(),
        };
        Problem {
            problem_type: "about:blank".into(),
            title: status.canonical_reason().unwrap_or("Error").into(),
            status: status.as_u16(),
            detail,
            code: self.code().into(),
            errors,
            allowed,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let problem = self.to_problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Self::TooManyRequests { retry_after_secs } = self {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
