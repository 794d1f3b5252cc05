//! Dealer analytics with no web or database code: the service (or a Parquet export) loads the
//! data into [`frames::Frames`] and calls these functions.
//!
//! - [`frames`]: the frames analytics reads, their columns, and Parquet in and out.
//! - [`figures`]: DOMAIN.md's monitoring figures for every dealer, as one lazy query.
//! - [`chain_ladder`]: the standard chain ladder (Mack 1993) on any cumulative triangle.
//! - [`triangle_io`]: triangles from CSV (`triangle,origin,age,value`), results as JSON or CSV.
//! - [`process`]: the allocator settings a process running the pass over large frames should have.

pub mod chain_ladder;
pub mod development;
pub mod figures;
pub mod frames;
pub mod peers;
pub mod plans;
pub mod process;
pub mod triangle_io;

pub use polars;
