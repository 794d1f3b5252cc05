//! Authority: who may settle how much of a claim alone, and who may approve the rest (four eyes).

use rust_decimal::Decimal;

use crate::domain::problem::Problem;

/// A settlement is approved by its proposer at once when the claim's whole owed amount (every settlement, not only
/// what is still to pay) is within the proposer's authority; otherwise it waits for an approver.
pub fn settles_alone(claim_owed: Decimal, proposer_authority: Decimal) -> bool {
    claim_owed <= proposer_authority
}

/// The approver is someone other than the proposer, with authority for the claim's whole owed amount.
pub fn check_approval(
    proposer: i64,
    approver: i64,
    approver_authority: Decimal,
    claim_owed: Decimal,
) -> Result<(), Problem> {
    if proposer == approver {
        return Err(Problem::new(
            "approver",
            "own_proposal",
            "a settlement is approved by someone other than the person who proposed it",
        ));
    }
    if claim_owed > approver_authority {
        return Err(Problem::new(
            "approver",
            "above_authority",
            format!(
                "the claim's settlement of {claim_owed} is above your authority of {approver_authority}; it needs someone with more"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn settle_within_authority_is_approved_at_once() {
        assert!(settles_alone(dec!(50000.00), dec!(50000.00)));
        assert!(settles_alone(dec!(0.00), dec!(0.00)));
    }

    #[test]
    fn settle_above_authority_needs_approval() {
        assert!(!settles_alone(dec!(50000.01), dec!(50000.00)));
    }

    #[test]
    fn a_reopened_claim_is_judged_on_its_whole_owed_amount() {
        // 30,000 paid before, 30,000 more found: the 60,000 claim is above a 50,000 authority though 30,000 is new.
        let claim_owed = dec!(30000.00) + dec!(30000.00);
        assert!(!settles_alone(claim_owed, dec!(50000.00)));
    }

    #[test]
    fn the_proposer_cannot_approve() {
        let problem = check_approval(7, 7, dec!(1000000), dec!(10)).unwrap_err();
        assert_eq!(problem.code, "own_proposal");
    }

    #[test]
    fn an_approver_needs_authority_for_the_whole_claim() {
        assert_eq!(check_approval(7, 8, dec!(50000), dec!(60000)).unwrap_err().code, "above_authority");
        assert!(check_approval(7, 8, dec!(60000), dec!(60000)).is_ok());
    }
}
