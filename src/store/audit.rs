//! Appending to and reading the hash-chained audit trail. No function here
//! updates or deletes a record, and the database refuses to (see the migration).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::domain::audit::{AuditContent, ChainBreak, ChainVerifier, chain_hash};
use entity::{audit_head, audit_log};

use super::{Page, PageRequest, now};

/// Who did something, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    /// Changes made by the command line or start-up, not by a signed-in user.
    pub fn system(name: &str) -> Self {
        Self { user_id: None, name: name.to_string(), ip: None }
    }
}

/// One change to record.
#[derive(Debug, Clone)]
pub struct Change {
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl Change {
    pub fn new(action: &'static str, entity: &'static str, entity_id: impl ToString) -> Self {
        Self { action, entity, entity_id: Some(entity_id.to_string()), before: None, after: None }
    }

    pub fn before(mut self, value: &impl Serialize) -> Self {
        self.before = serde_json::to_value(value).ok();
        self
    }

    pub fn after(mut self, value: &impl Serialize) -> Self {
        self.after = serde_json::to_value(value).ok();
        self
    }
}

/// Appends one record inside the caller's transaction. The chain head row is
/// locked (`FOR UPDATE` on PostgreSQL; SQLite's write lock is already held), so
/// concurrent writers extend the chain one after another, never forking it.
pub async fn append(tx: &impl ConnectionTrait, actor: &Actor, change: Change) -> Result<i64, DbErr> {
    let head = audit_head::Entity::find_by_id(1)
        .lock_exclusive()
        .one(tx)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;
    let content = AuditContent {
        id: head.last_id + 1,
        at: now(),
        actor_id: actor.user_id,
        actor: actor.name.clone(),
        action: change.action.to_string(),
        entity: change.entity.to_string(),
        entity_id: change.entity_id,
        before_json: change.before.map(|v| v.to_string()),
        after_json: change.after.map(|v| v.to_string()),
        ip: actor.ip.clone(),
    };
    let hash = chain_hash(&head.last_hash, &content);
    audit_log::Entity::insert(audit_log::ActiveModel {
        id: Set(content.id),
        at: Set(content.at),
        actor_id: Set(content.actor_id),
        actor: Set(content.actor),
        action: Set(content.action),
        entity: Set(content.entity),
        entity_id: Set(content.entity_id),
        before_json: Set(content.before_json),
        after_json: Set(content.after_json),
        ip: Set(content.ip),
        prev_hash: Set(head.last_hash),
        hash: Set(hash.clone()),
    })
    .exec_without_returning(tx)
    .await?;
    audit_head::Entity::update(audit_head::ActiveModel { id: Set(1), last_id: Set(content.id), last_hash: Set(hash) })
        .exec(tx)
        .await?;
    Ok(content.id)
}

/// Outcome of walking the whole chain.
#[derive(Debug)]
pub enum Verification {
    Intact { records: i64 },
    Broken { checked: i64, first_break: ChainBreak },
}

/// Recomputes every hash in id order, a page at a time.
pub async fn verify(db: &DatabaseConnection) -> Result<Verification, DbErr> {
    const BATCH: u64 = 2_000;
    let mut verifier = ChainVerifier::default();
    let mut after_id = 0i64;
    loop {
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Id.gt(after_id))
            .order_by_asc(audit_log::Column::Id)
            .limit(BATCH)
            .all(db)
            .await?;
        let Some(last) = rows.last() else { break };
        after_id = last.id;
        for row in &rows {
            if let Err(first_break) = verifier.check(&content_of(row), &row.prev_hash, &row.hash) {
                return Ok(Verification::Broken { checked: verifier.count(), first_break });
            }
        }
    }
    let head =
        audit_head::Entity::find_by_id(1).one(db).await?.ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;
    Ok(match verifier.finish(head.last_id, &head.last_hash) {
        Ok(records) => Verification::Intact { records },
        Err(first_break) => Verification::Broken { checked: verifier.count(), first_break },
    })
}

fn content_of(row: &audit_log::Model) -> AuditContent {
    AuditContent {
        id: row.id,
        at: row.at,
        actor_id: row.actor_id,
        actor: row.actor.clone(),
        action: row.action.clone(),
        entity: row.entity.clone(),
        entity_id: row.entity_id.clone(),
        before_json: row.before_json.clone(),
        after_json: row.after_json.clone(),
        ip: row.ip.clone(),
    }
}

/// One audit record as shown to administrators.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AuditRecord {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    pub ip: Option<String>,
    pub hash: String,
}

/// Filters of the audit browser; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Newest first.
pub async fn list(
    db: &DatabaseConnection,
    filter: &AuditFilter,
    paging: PageRequest,
) -> Result<Page<AuditRecord>, DbErr> {
    let mut query = audit_log::Entity::find();
    if let Some(actor) = &filter.actor {
        query = query.filter(audit_log::Column::Actor.eq(actor.as_str()));
    }
    if let Some(action) = &filter.action {
        query = query.filter(audit_log::Column::Action.eq(action.as_str()));
    }
    if let Some(entity) = &filter.entity {
        query = query.filter(audit_log::Column::Entity.eq(entity.as_str()));
    }
    if let Some(entity_id) = &filter.entity_id {
        query = query.filter(audit_log::Column::EntityId.eq(entity_id.as_str()));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_log::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_log::Column::At.lt(to));
    }
    let total = query.clone().count(db).await?;
    let rows =
        query.order_by_desc(audit_log::Column::Id).offset(paging.offset()).limit(paging.per_page).all(db).await?;
    let items = rows
        .into_iter()
        .map(|row| AuditRecord {
            id: row.id,
            at: row.at,
            actor_id: row.actor_id,
            actor: row.actor,
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            before: row.before_json.and_then(|s| serde_json::from_str(&s).ok()),
            after: row.after_json.and_then(|s| serde_json::from_str(&s).ok()),
            ip: row.ip,
            hash: row.hash,
        })
        .collect();
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}
