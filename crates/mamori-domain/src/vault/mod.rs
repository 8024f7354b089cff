//! The vault's rules: the schema of a dataset's records, how values are checked and normalised
//! for the blind indexes, how they are masked, who may see what under a grant, and when
//! retention is due. No cryptography and no I/O here: the use cases seal and store.

pub mod grant;
pub mod mask;
pub mod normalize;
pub mod retention;
pub mod schema;

pub use grant::{Access, Grant, GrantRequest};
pub use retention::{RetentionAction, RetentionRule};
pub use schema::{FieldKind, FieldSpec, Schema, SchemaError, ValueError};

/// The text that replaces a scrubbed field (retention) — not personal data.
pub const SCRUBBED: &str = "削除済";

#[cfg(test)]
mod tests;
