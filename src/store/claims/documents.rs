//! Claim documents: attached to an open claim, stored by SHA-256, read back within scope.

use super::*;

/// A stored claim document.
pub struct NewDocument {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Attaches a document (already stored) to an open claim.
#[allow(clippy::too_many_arguments)]
pub async fn attach_document(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    scope: &Scope,
    id: i64,
    version: i32,
    document: &NewDocument,
    sha256: &str,
    stored_path: &std::path::Path,
) -> AppResult<i64> {
    let (row, stage) = for_change(tx, scope, id, version).await?;
    if !stage.is_editable() {
        let message = format!("the claim is {}; its file is read-only", stage.as_str());
        return Err(AppError::Refused(FieldError::new("stage", "read_only", message)));
    }
    let totals = bump(tx, &row, None, Vec::new()).await?;
    let actor_id = actor.user_id.ok_or(AppError::Forbidden)?;
    let name: String = document.file_name.chars().filter(|c| !c.is_control()).take(200).collect();
    claim_documents::Entity::insert(claim_documents::ActiveModel {
        claim_id: Set(id),
        file_name: Set(if name.is_empty() { "document".into() } else { name.clone() }),
        content_type: Set(document.content_type.clone()),
        size_bytes: Set(i64::try_from(document.bytes.len()).unwrap_or(i64::MAX)),
        sha256: Set(sha256.to_string()),
        stored_path: Set(stored_path.display().to_string()),
        uploaded_by: Set(actor_id),
        uploaded_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    let details = serde_json::json!({ "document": name, "sha256": sha256, "size": document.bytes.len() });
    finish(tx, actor, &row, "update", stage, stage, "", details, totals).await
}

/// A document row in scope, for download.
pub async fn document(
    db: &impl ConnectionTrait,
    scope: &Scope,
    claim_id: i64,
    document_id: i64,
) -> AppResult<claim_documents::Model> {
    row(db, scope, claim_id).await?;
    claim_documents::Entity::find_by_id(document_id)
        .filter(claim_documents::Column::ClaimId.eq(claim_id))
        .one(db)
        .await?
        .ok_or(AppError::NotFound)
}
