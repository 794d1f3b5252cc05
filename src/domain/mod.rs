//! The rules of the business, free of web and database code, each unit-tested in place.

pub mod audit;
pub mod auth;
pub mod claims;
pub mod clock;
pub mod commission;
pub mod dealers;
pub mod feedback;
pub mod money;
pub mod monitoring;
pub mod problem;
pub mod underwriting;
