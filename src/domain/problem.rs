//! The one shape of a refusal: which field, a stable code, and what to fix in words.
//!
//! Every rule in `domain` answers with these; the web layer turns them into problem+json (422) or
//! the page's field messages, so a rule never knows how it is shown.

use serde::{Deserialize, Serialize};

/// What a user can get wrong in one field of a request, or one reason a rule refuses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema, thiserror::Error)]
#[error("{field}: {message}")]
pub struct Problem {
    /// The field's name as sent (`dealers[2]`, `amount`, `coverage.vehicle_damage`).
    pub field: String,
    /// A stable machine code (`required`, `too_long`, `above_payable`).
    pub code: String,
    /// What to fix, in words.
    pub message: String,
}

impl Problem {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), code: code.into(), message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_reads_as_its_field_and_message() {
        let problem = Problem::new("amount", "above_payable", "at most 800.00 is still payable");
        assert_eq!(problem.to_string(), "amount: at most 800.00 is still payable");
        assert_eq!(problem.code, "above_payable");
    }
}
