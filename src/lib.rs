//! autochannel: auto insurance sold through car dealers — underwriting,
//! claims, dealer commission and monitoring, store feedback and analytics.

/// Analytics on frames loaded from the database or from Parquet.
pub mod analysis;
/// The application state, router and server.
pub mod app;
/// The command line: serve, migrate, users, demo data, audit.
pub mod cli;
/// Typed configuration from flags and environment.
pub mod config;
/// Connecting, migrating and write transactions on SQLite or PostgreSQL.
pub mod db;
/// Deterministic demo data.
pub mod demo;
/// Business rules, free of web and database code.
pub mod domain;
/// The error type and its problem+json form.
pub mod error;
/// Routes, extractors, handlers and pages.
pub mod http;
/// Simplified Chinese and English text of every page.
pub mod i18n;
/// The state request handlers share.
pub mod state;
/// Database access, the only code that queries.
pub mod store;
