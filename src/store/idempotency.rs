//! Idempotency keys for creating calls: the first request with a key does the
//! work and stores its response in the same transaction; a repeat gets the
//! stored response, and a different request under the same key is refused.

use std::future::Future;
use std::pin::Pin;

use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, QueryFilter, SqlErr,
    TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::store::begin_write;
use entity::idempotency_keys;

use super::now;

/// The work of a creating call: it runs in the given transaction and returns status and body.
pub type Work<'a> = Box<
    dyn for<'t> FnOnce(
            &'t DatabaseTransaction,
        ) -> Pin<Box<dyn Future<Output = AppResult<(u16, serde_json::Value)>> + Send + 't>>
        + Send
        + 'a,
>;

/// The response of a creating call and whether it was replayed from an earlier request.
pub struct Outcome {
    pub status: u16,
    pub body: serde_json::Value,
    pub replayed: bool,
}

/// A fingerprint of what was asked, so one key cannot be reused for another request.
pub fn fingerprint(method: &str, path: &str, body: &serde_json::Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_bytes());
    hasher.update(b" ");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(body.to_string().as_bytes());
    hex::encode(hasher.finalize())
}

/// Runs `work` at most once per user and key.
pub async fn run_once(
    db: &DatabaseConnection,
    user_id: i64,
    key: Option<&str>,
    fingerprint: &str,
    work: Work<'_>,
) -> AppResult<Outcome> {
    // No look-up of the key first: a repeat is rare, and the key's insert below, in the same transaction as the
    // work, refuses it anyway (the work rolls back and the stored answer is returned). That saves every creating
    // call a round trip, and a repeat costs one run of work that is undone.
    let tx = begin_write(db).await?;
    let (status, body) = match work(&tx).await {
        Ok(response) => response,
        Err(error) => {
            // A concurrent request with the same key may have done the work and made ours fail
            // (it changed the record first): then its answer is ours too.
            if let Some(key) = key {
                tx.rollback().await?;
                let check = db.begin().await?;
                if let Some(outcome) = stored(&check, user_id, key, fingerprint).await? {
                    return Ok(outcome);
                }
            }
            return Err(error);
        }
    };
    if let Some(key) = key {
        let insert = idempotency_keys::Entity::insert(idempotency_keys::ActiveModel {
            user_id: Set(user_id),
            idem_key: Set(key.to_string()),
            fingerprint: Set(fingerprint.to_string()),
            status_code: Set(i32::from(status)),
            response_body: Set(body.to_string()),
            created_at: Set(now()),
            ..Default::default()
        })
        .exec(&tx)
        .await;
        match insert {
            Ok(_) => {}
            // A concurrent request with the same key committed first: undo ours, answer with theirs.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                tx.rollback().await?;
                let tx = db.begin().await?;
                return stored(&tx, user_id, key, fingerprint).await?.ok_or(AppError::Db(e));
            }
            Err(e) => return Err(e.into()),
        }
    }
    tx.commit().await?;
    Ok(Outcome { status, body, replayed: false })
}

async fn stored(tx: &DatabaseTransaction, user_id: i64, key: &str, fingerprint: &str) -> AppResult<Option<Outcome>> {
    let Some(row) = idempotency_keys::Entity::find()
        .filter(idempotency_keys::Column::UserId.eq(user_id))
        .filter(idempotency_keys::Column::IdemKey.eq(key))
        .one(tx)
        .await?
    else {
        return Ok(None);
    };
    if row.fingerprint != fingerprint {
        return Err(AppError::field(
            "Idempotency-Key",
            "reused",
            "this idempotency key was already used for a different request",
        ));
    }
    let body = serde_json::from_str(&row.response_body).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some(Outcome { status: u16::try_from(row.status_code).unwrap_or(200), body, replayed: true }))
}
