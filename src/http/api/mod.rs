//! JSON handlers under `/api/v1`, one file per area: parse, call the store, respond.

pub mod analytics;
pub mod audit;
pub mod auth;
pub mod claims;
pub mod commission;
pub mod dealers;
pub mod feedback;
pub mod health;
pub mod monitoring;
pub mod openapi;
pub mod underwriting;
pub mod users;
