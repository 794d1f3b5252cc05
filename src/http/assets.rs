//! CSS, scripts and fonts embedded in the binary: nothing is loaded from the internet.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

use crate::error::AppError;

use super::extract::Path;

#[derive(RustEmbed)]
#[folder = "assets/"]
struct Assets;

pub async fn serve(Path(path): Path<String>) -> Response {
    let Some(file) = Assets::get(&path) else {
        return AppError::NotFound.into_response();
    };
    let mime = file.metadata.mimetype().to_string();
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "public, max-age=3600".to_string())],
        file.data.into_owned(),
    )
        .into_response()
}
