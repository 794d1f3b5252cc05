//! Files kept by content hash under the configured document directory: claim
//! documents and feedback photos. A file is durable before the row pointing at it commits.

use crate::error::{AppError, AppResult};

/// The document types accepted, told apart by their first bytes rather than by the name sent.
pub fn sniff_content_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.len() >= 12
        && &bytes[4..8] == b"ftyp"
        && [b"heic", b"heix", b"mif1"].iter().any(|b| &bytes[8..12] == *b)
    {
        Some("image/heic")
    } else {
        None
    }
}

/// Where a document with this hash lives under the document directory.
pub fn document_path(dir: &std::path::Path, sha256: &str) -> std::path::PathBuf {
    dir.join(&sha256[..2]).join(sha256)
}

/// Writes the file durably (temporary file, fsync, rename) before the row that points at it commits.
pub async fn store_file(dir: &std::path::Path, sha256: &str, bytes: &[u8]) -> AppResult<std::path::PathBuf> {
    let path = document_path(dir, sha256);
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(path);
    }
    let parent = path.parent().map(std::path::Path::to_path_buf).unwrap_or_else(|| dir.to_path_buf());
    let bytes = bytes.to_vec();
    let target = path.clone();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&parent)?;
        let mut tmp = tempfile::NamedTempFile::new_in(&parent)?;
        tmp.write_all(&bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&target).map_err(|e| e.error)?;
        Ok(())
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(path)
}
