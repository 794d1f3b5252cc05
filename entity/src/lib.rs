//! sea-orm entities, one module per table; hand-written logic lives in the
//! service's `store` and `domain` modules, never here.

pub mod audit_head;
pub mod audit_log;
pub mod claim_documents;
pub mod claim_lookups;
pub mod claim_loss_items;
pub mod claim_payments;
pub mod claim_reserve_movements;
pub mod claim_settlements;
pub mod claim_transitions;
pub mod claims;
pub mod commission_agreements;
pub mod commission_ledger;
pub mod commission_statement_lines;
pub mod commission_statements;
pub mod dealer_alerts;
pub mod dealer_thresholds;
pub mod dealers;
pub mod filed_rate_versions;
pub mod idempotency_keys;
pub mod login_failures;
pub mod policies;
pub mod policy_coverages;
pub mod policy_versions;
pub mod quotes;
pub mod rating_versions;
pub mod repair_referrals;
pub mod sales_qualifications;
pub mod sessions;
pub mod user_dealers;
pub mod users;
