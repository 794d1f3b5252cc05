//! Appending to and reading the hash-chained audit trail. Changes are recorded in an inbox
//! within their own transaction and sealed onto the chain in batches; no function here updates
//! or deletes a chained record, and the database refuses to (see the migrations).

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::domain::audit::{AuditContent, ChainBreak, ChainVerifier, chain_hash};
use entity::{audit_head, audit_inbox, audit_log};

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

/// Records one change inside the caller's transaction: it commits or rolls back with the change.
///
/// The record goes to the inbox, not straight onto the chain: taking the chain's head here
/// would make every write in the service wait for every other until it commits. `seal` moves
/// inbox records onto the chain, in batches, shortly after (the server does it continuously).
pub async fn append(tx: &impl ConnectionTrait, actor: &Actor, change: Change) -> Result<i64, DbErr> {
    Ok(audit_inbox::Entity::insert(inbox_row(actor, change)).exec(tx).await?.last_insert_id)
}

/// Records several changes of one request in one statement.
pub async fn append_all(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    changes: impl IntoIterator<Item = Change>,
) -> Result<(), DbErr> {
    let rows: Vec<audit_inbox::ActiveModel> = changes.into_iter().map(|change| inbox_row(actor, change)).collect();
    if !rows.is_empty() {
        audit_inbox::Entity::insert_many(rows).exec_without_returning(tx).await?;
    }
    Ok(())
}

fn inbox_row(actor: &Actor, change: Change) -> audit_inbox::ActiveModel {
    audit_inbox::ActiveModel {
        at: Set(now()),
        actor_id: Set(actor.user_id),
        actor: Set(actor.name.clone()),
        action: Set(change.action.to_string()),
        entity: Set(change.entity.to_string()),
        entity_id: Set(change.entity_id),
        before_json: Set(change.before.map(|v| v.to_string())),
        after_json: Set(change.after.map(|v| v.to_string())),
        ip: Set(actor.ip.clone()),
        ..Default::default()
    }
}

/// Records waiting in the inbox are sealed this many at a time.
const SEAL_BATCH: u64 = 500;

/// Records sealed per insert, largest first: 50 keeps a statement within every database's parameter limit, the
/// powers of two cover any remainder in a few statements.
const INSERT_SIZES: [usize; 7] = [50, 32, 16, 8, 4, 2, 1];

/// Inbox records removed per delete.
const DELETE_SIZE: usize = 100;

/// Moves every committed inbox record onto the hash chain, oldest first; returns how many.
///
/// Each batch is one transaction holding the chain's head, so sealers (the server's, `audit verify`,
/// a second server) take turns and the chain never forks; a record is in the inbox or on the chain,
/// never both and never neither.
pub async fn seal(db: &DatabaseConnection) -> Result<u64, DbErr> {
    let mut sealed = 0u64;
    loop {
        // A read first: an idle server must not take SQLite's write lock ten times a second.
        if audit_inbox::Entity::find()
            .select_only()
            .column(audit_inbox::Column::Id)
            .limit(1)
            .into_tuple::<i64>()
            .one(db)
            .await?
            .is_none()
        {
            return Ok(sealed);
        }
        let tx = crate::store::begin_write(db).await?;
        let mut head = audit_head::Entity::find_by_id(1)
            .lock_exclusive()
            .one(&tx)
            .await?
            .ok_or_else(|| DbErr::RecordNotFound("audit_head".into()))?;
        let pending =
            audit_inbox::Entity::find().order_by_asc(audit_inbox::Column::Id).limit(SEAL_BATCH).all(&tx).await?;
        if pending.is_empty() {
            tx.commit().await?;
            return Ok(sealed);
        }
        let inbox_ids: Vec<i64> = pending.iter().map(|r| r.id).collect();
        let mut records = Vec::with_capacity(pending.len());
        for row in pending {
            let content = AuditContent {
                id: head.last_id + 1,
                at: row.at,
                actor_id: row.actor_id,
                actor: row.actor,
                action: row.action,
                entity: row.entity,
                entity_id: row.entity_id,
                before_json: row.before_json,
                after_json: row.after_json,
                ip: row.ip,
            };
            let hash = chain_hash(&head.last_hash, &content);
            records.push(audit_log::ActiveModel {
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
                prev_hash: Set(std::mem::replace(&mut head.last_hash, hash.clone())),
                hash: Set(hash),
            });
            head.last_id = content.id;
        }
        sealed += records.len() as u64;
        // Statements of a few fixed sizes: each connection keeps every distinct statement it runs prepared (1,024
        // of them), and a statement per batch length filled those caches over hours of sealing.
        let mut rest = records.as_slice();
        while !rest.is_empty() {
            let size = INSERT_SIZES.iter().copied().find(|size| *size <= rest.len()).unwrap_or(1);
            let (chunk, after) = rest.split_at(size);
            audit_log::Entity::insert_many(chunk.to_vec()).exec_without_returning(&tx).await?;
            rest = after;
        }
        for chunk in inbox_ids.chunks(DELETE_SIZE) {
            // The last chunk padded with its own last id: the same statement, the same rows.
            let mut ids = chunk.to_vec();
            if let Some(&last) = chunk.last() {
                ids.resize(DELETE_SIZE, last);
            }
            audit_inbox::Entity::delete_many().filter(audit_inbox::Column::Id.is_in(ids)).exec(&tx).await?;
        }
        audit_head::Entity::update(audit_head::ActiveModel {
            id: Set(1),
            last_id: Set(head.last_id),
            last_hash: Set(head.last_hash.clone()),
        })
        .exec(&tx)
        .await?;
        tx.commit().await?;
    }
}

/// Seals the inbox every `interval` until the returned handle is dropped or aborted; errors are logged.
pub fn spawn_sealer(db: DatabaseConnection, interval: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            if let Err(e) = seal(&db).await {
                tracing::warn!(error = %e, "sealing audit records failed; retrying");
            }
        }
    })
}

/// Outcome of walking the whole chain.
#[derive(Debug)]
pub enum Verification {
    Intact { records: i64 },
    Broken { checked: i64, first_break: ChainBreak },
}

/// Recomputes every hash in id order, a page at a time.
pub async fn verify(db: &DatabaseConnection) -> Result<Verification, DbErr> {
    seal(db).await?;
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
    // What was committed before this request is shown, sealed.
    seal(db).await?;
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
