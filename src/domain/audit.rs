//! The audit trail's hash chain: each record carries the SHA-256 of its own
//! content and of the record before it, so any change, insertion or deletion
//! after the fact breaks the chain at that record.

use chrono::{DateTime, SubsecRound, Utc};
use sha2::{Digest, Sha256};

/// What the first record points back to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hashed content of one audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContent {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub ip: Option<String>,
}

/// Times are kept to the microsecond, which is what PostgreSQL stores.
pub fn audit_time(now: DateTime<Utc>) -> DateTime<Utc> {
    now.trunc_subsecs(6)
}

/// SHA-256 (hex) of the previous hash and this record's content, encoded as a
/// JSON array so that no two different records encode alike.
pub fn chain_hash(prev_hash: &str, content: &AuditContent) -> String {
    let canonical = serde_json::json!([
        prev_hash,
        content.id,
        content.at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
        content.actor_id,
        content.actor,
        content.action,
        content.entity,
        content.entity_id,
        content.before_json,
        content.after_json,
        content.ip,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// The first place where a stored chain stops being what was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("record {found} follows record {}: records {expected} to {} are missing", expected - 1, found - 1)]
    Gap { expected: i64, found: i64 },
    #[error("record {id} does not point back to record {}", id - 1)]
    BrokenLink { id: i64 },
    #[error("record {id} was changed after it was written (its hash does not match its content)")]
    Altered { id: i64 },
    #[error("the chain head says {head_count} records ending in {head_hash}, but the log has {log_count}")]
    HeadMismatch { head_count: i64, head_hash: String, log_count: i64 },
}

/// Walks records in id order and reports the first break.
#[derive(Debug)]
pub struct ChainVerifier {
    next_id: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { next_id: 1, prev_hash: GENESIS_HASH.to_string() }
    }
}

impl ChainVerifier {
    pub fn check(
        &mut self,
        content: &AuditContent,
        stored_prev_hash: &str,
        stored_hash: &str,
    ) -> Result<(), ChainBreak> {
        if content.id != self.next_id {
            return Err(ChainBreak::Gap { expected: self.next_id, found: content.id });
        }
        if stored_prev_hash != self.prev_hash {
            return Err(ChainBreak::BrokenLink { id: content.id });
        }
        if chain_hash(stored_prev_hash, content) != stored_hash {
            return Err(ChainBreak::Altered { id: content.id });
        }
        self.next_id += 1;
        self.prev_hash = stored_hash.to_string();
        Ok(())
    }

    /// Records checked so far.
    pub fn count(&self) -> i64 {
        self.next_id - 1
    }

    /// The chain must end where the head says it does, or records were cut off the end.
    pub fn finish(&self, head_last_id: i64, head_last_hash: &str) -> Result<i64, ChainBreak> {
        if head_last_id != self.count() || head_last_hash != self.prev_hash {
            return Err(ChainBreak::HeadMismatch {
                head_count: head_last_id,
                head_hash: head_last_hash.to_string(),
                log_count: self.count(),
            });
        }
        Ok(self.count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: i64, action: &str) -> AuditContent {
        AuditContent {
            id,
            at: audit_time(DateTime::from_timestamp(1_790_000_000, 123_456_789).expect("time")),
            actor_id: Some(1),
            actor: "admin".into(),
            action: action.into(),
            entity: "user".into(),
            entity_id: Some("2".into()),
            before_json: None,
            after_json: Some(r#"{"role":"underwriter"}"#.into()),
            ip: Some("127.0.0.1".into()),
        }
    }

    fn chain(n: i64) -> Vec<(AuditContent, String, String)> {
        let mut prev = GENESIS_HASH.to_string();
        (1..=n)
            .map(|id| {
                let content = record(id, "create");
                let hash = chain_hash(&prev, &content);
                let entry = (content, prev.clone(), hash.clone());
                prev = hash;
                entry
            })
            .collect()
    }

    fn verify(entries: &[(AuditContent, String, String)]) -> Result<i64, ChainBreak> {
        let mut verifier = ChainVerifier::default();
        for (content, prev, hash) in entries {
            verifier.check(content, prev, hash)?;
        }
        let (last_id, last_hash) = entries.last().map(|e| (e.0.id, e.2.clone())).unwrap_or((0, GENESIS_HASH.into()));
        verifier.finish(last_id, &last_hash)
    }

    #[test]
    fn an_untouched_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
        assert_eq!(verify(&[]), Ok(0));
    }

    #[test]
    fn a_changed_record_is_found() {
        let mut entries = chain(5);
        entries[2].0.after_json = Some(r#"{"role":"administrator"}"#.into());
        assert_eq!(verify(&entries), Err(ChainBreak::Altered { id: 3 }));
    }

    #[test]
    fn a_deleted_record_is_found() {
        let mut entries = chain(5);
        entries.remove(1);
        assert_eq!(verify(&entries), Err(ChainBreak::Gap { expected: 2, found: 3 }));
    }

    #[test]
    fn a_rehashed_record_breaks_the_next_link() {
        let mut entries = chain(5);
        entries[2].0.action = "delete".into();
        entries[2].2 = chain_hash(&entries[2].1, &entries[2].0);
        assert_eq!(verify(&entries), Err(ChainBreak::BrokenLink { id: 4 }));
    }

    #[test]
    fn hash_covers_the_time_to_the_microsecond() {
        let a = record(1, "create");
        let mut b = a.clone();
        b.at += chrono::Duration::microseconds(1);
        assert_ne!(chain_hash(GENESIS_HASH, &a), chain_hash(GENESIS_HASH, &b));
    }
}
