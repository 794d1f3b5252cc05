//! The app's own extractors. Each turns a bad request into an `AppError`, so
//! clients always get problem+json with the field at fault, never axum's
//! plain-text rejections.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{AppError, FieldError};
use crate::i18n::Lang;
use crate::state::AppState;
use crate::store::audit::Actor;
use crate::store::sessions::SessionUser;

/// A JSON body: `application/json`, unknown fields refused by the target type.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        require_content_type(&req, is_json, "send the body as application/json")?;
        let bytes = read_body(req, state).await?;
        parse_json(&bytes).map(Json)
    }
}

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// Deserialises JSON, naming the field at fault (`dealers[1]`) when a value is wrong.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    // Syntax first, so that `{} trailing` is malformed (400) rather than missing fields (422).
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| AppError::BadRequest(format!("the body is not well-formed JSON: {e}")))?;
    if let Some(field) = nul_in(&value, "") {
        return Err(nul_error(if field.is_empty() { "body".into() } else { field }));
    }
    serde_path_to_error::deserialize(value).map_err(|err| {
        let field = err.path().to_string();
        let inner = err.into_inner();
        AppError::Validation(vec![FieldError::new(field_name(&field), "invalid", inner.to_string())])
    })
}

/// PostgreSQL text cannot hold the NUL character, and no field of this service has a use for it:
/// it is refused at the door for both databases alike.
fn nul_in(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::String(text) => text.contains('\0').then(|| path.to_string()),
        serde_json::Value::Array(items) => {
            items.iter().enumerate().find_map(|(i, item)| nul_in(item, &format!("{path}[{i}]")))
        }
        serde_json::Value::Object(map) => map.iter().find_map(|(key, item)| {
            if key.contains('\0') {
                return Some(path.to_string());
            }
            nul_in(item, &if path.is_empty() { key.clone() } else { format!("{path}.{key}") })
        }),
        _ => None,
    }
}

fn nul_error(field: String) -> AppError {
    AppError::field(field, "nul_character", "text may not contain the NUL character")
}

/// An HTML form body (`application/x-www-form-urlencoded`).
pub struct Form<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, AppError> {
        require_content_type(&req, is_form, "send the form as application/x-www-form-urlencoded")?;
        let bytes = read_body(req, state).await?;
        parse_urlencoded(&bytes).map(Form)
    }
}

/// Query-string parameters.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let query = parts.uri.query().unwrap_or("");
        // A GET form sends its empty fields as `name=`: not chosen, as if absent (an empty date is not a date).
        // `lang` belongs to the language layer, which has read it for every request (`http::language`).
        let given: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                form_urlencoded::parse(query.as_bytes()).filter(|(key, value)| !value.is_empty() && key != "lang"),
            )
            .finish();
        parse_urlencoded(given.as_bytes()).map(Query)
    }
}

fn parse_urlencoded<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    if let Some((key, _)) = form_urlencoded::parse(bytes).find(|(k, v)| k.contains('\0') || v.contains('\0')) {
        return Err(nul_error(key.into_owned()));
    }
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(bytes));
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let field = err.path().to_string();
        AppError::Validation(vec![FieldError::new(field_name(&field), "invalid", err.into_inner().to_string())])
    })
}

/// Path parameters; a value of the wrong type is a 400 naming it.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Path(value))
            .map_err(|rejection| AppError::BadRequest(rejection.body_text()))
    }
}

/// The signed-in user; requests without one are refused with 401.
pub struct CurrentUser(pub SessionUser);

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        parts.extensions.get::<SessionUser>().cloned().map(CurrentUser).ok_or(AppError::Unauthenticated)
    }
}

/// The client's address, as the auth layer determined it.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        Ok(parts.extensions.get::<ClientIp>().cloned().unwrap_or(ClientIp("unknown".into())))
    }
}

/// Who is acting in this request, for the audit trail.
pub struct RequestActor(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for RequestActor {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        Ok(RequestActor(user.actor(Some(ip))))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        Ok(parts.extensions.get::<Lang>().copied().unwrap_or_default())
    }
}

/// The optional `Idempotency-Key` header of a creating call.
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AppError> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let key =
            value.to_str().ok().filter(|k| (1..=128).contains(&k.len()) && k.bytes().all(|b| b.is_ascii_graphic()));
        match key {
            Some(key) => Ok(IdempotencyKey(Some(key.to_string()))),
            None => Err(AppError::field(
                "Idempotency-Key",
                "invalid",
                "an idempotency key is 1 to 128 visible ASCII characters",
            )),
        }
    }
}

fn field_name(path: &str) -> String {
    if path == "." || path.is_empty() { "body".into() } else { path.to_string() }
}

fn is_json(content_type: &str) -> bool {
    content_type
        .parse::<mime::Mime>()
        .map(|m| m.type_() == mime::APPLICATION && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON)))
        .unwrap_or(false)
}

fn is_form(content_type: &str) -> bool {
    content_type.starts_with("application/x-www-form-urlencoded")
}

fn require_content_type(req: &Request, accepts: fn(&str) -> bool, message: &str) -> Result<(), AppError> {
    let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if accepts(content_type) { Ok(()) } else { Err(AppError::UnsupportedMediaType(message.to_string())) }
}

/// Reads the whole body within the configured limit.
pub async fn read_body(req: Request, state: &AppState) -> Result<Bytes, AppError> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            AppError::PayloadTooLarge { limit: state.config.max_body_bytes as usize }
        } else {
            AppError::BadRequest(rejection.body_text())
        }
    })
}
