//! The web layer: routes and handlers only. Handlers parse the request, call
//! the store or domain, and respond; they hold no business rules.

pub mod api;
pub mod assets;
pub mod auth;
pub mod extract;
pub mod language;
pub mod pages;
pub mod router;
