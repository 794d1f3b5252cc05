//! Dealer analytics with no web or database code: the service (or a Parquet export) loads the
//! data and calls these functions.
//!
//! - [`chain_ladder`]: the standard chain ladder (Mack 1993) on any cumulative triangle.
//! - [`triangle_io`]: triangles from CSV (`triangle,origin,age,value`), results as JSON or CSV.

pub mod chain_ladder;
pub mod triangle_io;
