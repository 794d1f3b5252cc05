//! Service plans (差异化服务方案): versioned rules, kept as data, that map a dealer's figures and its position
//! among its peers to plan items. Every item names the conditions that triggered it, with the dealer's value
//! and the threshold, so a channel manager can see why it is there before accepting, changing or rejecting it.

use serde::{Deserialize, Serialize};

/// What a condition reads of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// The dealer's own value.
    #[default]
    Value,
    /// Its percentile among the peers of `dimension` (0 lowest … 1 highest).
    Percentile,
    /// Its distance from the peer median in median absolute deviations.
    MadDistance,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    #[serde(rename = ">")]
    Above,
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = "<")]
    Below,
    #[serde(rename = "<=")]
    AtMost,
}

impl Op {
    pub fn holds(self, actual: f64, threshold: f64) -> bool {
        match self {
            Op::Above => actual > threshold,
            Op::AtLeast => actual >= threshold,
            Op::Below => actual < threshold,
            Op::AtMost => actual <= threshold,
        }
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Op::Above => ">",
            Op::AtLeast => "≥",
            Op::Below => "<",
            Op::AtMost => "≤",
        }
    }
}

/// One test on one figure; a rule fires when all of its conditions hold (a figure without a value fails).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub figure: String,
    #[serde(default)]
    pub measure: Measure,
    /// Peer group for percentile and MAD distance: region, brand, size_band or portfolio (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    pub op: Op,
    pub threshold: f64,
}

/// What a plan item proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Proposal {
    /// Change the dealer's commercial commission rates by this many basis points from the first of next month
    /// (becomes new agreements, checked against the filed ranges; compulsory commission is capped by regulation
    /// and left alone).
    CommissionAdjustment { rate_change_bp: i32 },
    /// Repairs to send to the dealer's workshop, as a share of its premium.
    RepairReferralQuota { percent_of_premium: u32 },
    /// Settle claims up to this amount on the fast track.
    FastTrackSmallClaims { max_claim_yuan: u32 },
    /// How often the channel manager visits.
    VisitFrequency { visits_per_quarter: u32 },
    /// Training for the store's staff.
    Training { topic: String },
    /// Refer the dealer's commercial quotes to an underwriter.
    TightenUnderwriting { refer_commercial_quotes: bool },
    /// Put the dealer in remediation.
    Remediation {},
}

impl Proposal {
    pub fn kind(&self) -> &'static str {
        match self {
            Proposal::CommissionAdjustment { .. } => "commission_adjustment",
            Proposal::RepairReferralQuota { .. } => "repair_referral_quota",
            Proposal::FastTrackSmallClaims { .. } => "fast_track_small_claims",
            Proposal::VisitFrequency { .. } => "visit_frequency",
            Proposal::Training { .. } => "training",
            Proposal::TightenUnderwriting { .. } => "tighten_underwriting",
            Proposal::Remediation {} => "remediation",
        }
    }

    /// Problems with the proposal's values, as (field, message).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        match self {
            Proposal::CommissionAdjustment { rate_change_bp } => {
                if *rate_change_bp == 0 || rate_change_bp.abs() > 1000 {
                    problems.push(("rate_change_bp", "a change of 1 to 1000 basis points, up or down".to_string()));
                }
            }
            Proposal::RepairReferralQuota { percent_of_premium } => {
                if *percent_of_premium == 0 || *percent_of_premium > 100 {
                    problems.push(("percent_of_premium", "1 to 100 (% of premium)".to_string()));
                }
            }
            Proposal::FastTrackSmallClaims { max_claim_yuan } => {
                if *max_claim_yuan == 0 || *max_claim_yuan > 100_000 {
                    problems.push(("max_claim_yuan", "1 to 100000 yuan".to_string()));
                }
            }
            Proposal::VisitFrequency { visits_per_quarter } => {
                if *visits_per_quarter == 0 || *visits_per_quarter > 13 {
                    problems.push(("visits_per_quarter", "1 to 13 visits a quarter".to_string()));
                }
            }
            Proposal::Training { topic } => {
                if topic.trim().is_empty() || topic.chars().count() > 200 {
                    problems.push(("topic", "a topic of up to 200 characters".to_string()));
                }
            }
            Proposal::TightenUnderwriting { .. } | Proposal::Remediation {} => {}
        }
        problems
    }
}

/// One rule: when every condition holds, propose this.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRule {
    pub id: String,
    /// Why the rule exists, in the channel manager's words.
    pub title_zh: String,
    pub title_en: String,
    pub when: Vec<Condition>,
    pub proposal: Proposal,
}

/// A version of the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanRules {
    pub rules: Vec<PlanRule>,
}

/// The figures a condition may name: the per-dealer figures and the composite score.
pub const FIGURES: [&str; 16] = [
    "loss_ratio",
    "ultimate_loss_ratio",
    "price_normalised_loss_ratio",
    "variable_cost_ratio",
    "commission_ratio",
    "frequency",
    "severity",
    "written_premium",
    "renewal_rate",
    "referral_ratio",
    "report_to_close_hours",
    "upside_down",
    "overdue_claims",
    "open_complaints",
    "overdue_complaints",
    "composite_score",
];

const DIMENSIONS: [&str; 4] = ["region", "brand", "size_band", "portfolio"];

/// Where the evaluation reads a dealer's figures from.
pub trait DealerFigures {
    /// The dealer's value, percentile or MAD distance for a figure (in a peer dimension); none when unknown.
    fn lookup(&self, figure: &str, measure: Measure, dimension: &str) -> Option<f64>;
}

/// One condition that held, with what the dealer had.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    pub figure: String,
    pub measure: Measure,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimension: Option<String>,
    pub op: Op,
    pub threshold: f64,
    pub actual: f64,
}

/// A proposed plan item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanItem {
    pub rule_id: String,
    pub title_zh: String,
    pub title_en: String,
    pub proposal: Proposal,
    pub triggers: Vec<Trigger>,
}

impl PlanRules {
    /// Problems that make the rules unusable, as (where, message); empty when they are fine.
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let at = |field: &str| format!("rules[{i}].{field}");
            if rule.id.trim().is_empty() || !seen.insert(rule.id.clone()) {
                problems.push((at("id"), "a unique, non-empty id".into()));
            }
            if rule.title_zh.trim().is_empty() || rule.title_en.trim().is_empty() {
                problems.push((at("title_zh"), "a title in Chinese and in English".into()));
            }
            if rule.when.is_empty() {
                problems.push((at("when"), "at least one condition".into()));
            }
            for (j, condition) in rule.when.iter().enumerate() {
                let at = |field: &str| format!("rules[{i}].when[{j}].{field}");
                if !FIGURES.contains(&condition.figure.as_str()) {
                    problems.push((at("figure"), format!("one of {}", FIGURES.join(", "))));
                }
                if let Some(dimension) = &condition.dimension {
                    if !DIMENSIONS.contains(&dimension.as_str()) {
                        problems.push((at("dimension"), format!("one of {}", DIMENSIONS.join(", "))));
                    }
                    if condition.measure == Measure::Value {
                        problems.push((at("dimension"), "only percentile and mad_distance compare with peers".into()));
                    }
                }
                if !condition.threshold.is_finite() {
                    problems.push((at("threshold"), "a number".into()));
                }
            }
            for (field, message) in rule.proposal.problems() {
                problems.push((at(&format!("proposal.{field}")), message));
            }
        }
        problems
    }

    /// The items the rules propose for one dealer, in rule order.
    pub fn evaluate(&self, dealer: &impl DealerFigures) -> Vec<PlanItem> {
        self.rules
            .iter()
            .filter_map(|rule| {
                let triggers = rule
                    .when
                    .iter()
                    .map(|c| {
                        let dimension = c.dimension.as_deref().unwrap_or("portfolio");
                        let actual = dealer.lookup(&c.figure, c.measure, dimension)?;
                        c.op.holds(actual, c.threshold).then(|| Trigger {
                            figure: c.figure.clone(),
                            measure: c.measure,
                            dimension: c.dimension.clone(),
                            op: c.op,
                            threshold: c.threshold,
                            actual,
                        })
                    })
                    .collect::<Option<Vec<_>>>()?;
                Some(PlanItem {
                    rule_id: rule.id.clone(),
                    title_zh: rule.title_zh.clone(),
                    title_en: rule.title_en.clone(),
                    proposal: rule.proposal.clone(),
                    triggers,
                })
            })
            .collect()
    }
}

/// The rules shipped: DOMAIN.md's examples with thresholds a channel manager would start from.
pub fn default_rules() -> PlanRules {
    let c = |figure: &str, measure: Measure, dimension: Option<&str>, op: Op, threshold: f64| Condition {
        figure: figure.into(),
        measure,
        dimension: dimension.map(str::to_string),
        op,
        threshold,
    };
    use Measure::{MadDistance, Percentile, Value};
    let rule = |id: &str, zh: &str, en: &str, when: Vec<Condition>, proposal: Proposal| PlanRule {
        id: id.into(),
        title_zh: zh.into(),
        title_en: en.into(),
        when,
        proposal,
    };
    PlanRules {
        rules: vec![
            rule(
                "tighten_underwriting",
                "赔付率远高于同区域车商：商业险报价转人工核保",
                "Loss ratio far above its region's peers: refer commercial quotes to an underwriter",
                vec![
                    c("loss_ratio", MadDistance, Some("region"), Op::AtLeast, 2.0),
                    c("loss_ratio", Value, None, Op::Above, 0.75),
                ],
                Proposal::TightenUnderwriting { refer_commercial_quotes: true },
            ),
            rule(
                "commission_cut",
                "变动成本率超过危险线：商业险手续费率下调 2 个百分点",
                "Variable cost ratio in danger: cut commercial commission rates by 2 points",
                vec![c("variable_cost_ratio", Value, None, Op::Above, 0.94)],
                Proposal::CommissionAdjustment { rate_change_bp: -200 },
            ),
            rule(
                "commission_raise",
                "成本率低且规模居前：商业险手续费率上调 1 个百分点（不超过报备上限）",
                "Low cost ratio and above-median volume: raise commercial commission rates by 1 point (within the filed range)",
                vec![
                    c("variable_cost_ratio", Value, None, Op::Below, 0.75),
                    c("written_premium", Percentile, Some("portfolio"), Op::AtLeast, 0.5),
                ],
                Proposal::CommissionAdjustment { rate_change_bp: 100 },
            ),
            rule(
                "repair_quota",
                "赔付良好且未倒挂：给予送修配额",
                "Good loss ratio and not upside down: grant a repair-referral quota",
                vec![c("loss_ratio", Value, None, Op::Below, 0.6), c("upside_down", Value, None, Op::Below, 0.5)],
                Proposal::RepairReferralQuota { percent_of_premium: 30 },
            ),
            rule(
                "fast_track",
                "出险频度低于同业中位：小额案件快速理赔",
                "Claim frequency below the peer median: fast-track small claims",
                vec![
                    c("frequency", Percentile, Some("portfolio"), Op::Below, 0.5),
                    c("loss_ratio", Value, None, Op::Below, 0.7),
                ],
                Proposal::FastTrackSmallClaims { max_claim_yuan: 5000 },
            ),
            rule(
                "visit_monthly",
                "综合评分低：每月走访",
                "Low composite score: visit every month",
                vec![c("composite_score", Value, None, Op::Below, 40.0)],
                Proposal::VisitFrequency { visits_per_quarter: 3 },
            ),
            rule(
                "training_renewals",
                "续保率处于同区域后四分之一：续保培训",
                "Renewal rate in its region's bottom quarter: renewal training",
                vec![c("renewal_rate", Percentile, Some("region"), Op::Below, 0.25)],
                Proposal::Training { topic: "续保跟进 / renewal follow-up".into() },
            ),
            rule(
                "training_claims",
                "结案周期长于四分之三同业：报案与单证培训",
                "Report-to-close slower than three quarters of peers: claim reporting and documents training",
                vec![c("report_to_close_hours", Percentile, Some("portfolio"), Op::Above, 0.75)],
                Proposal::Training { topic: "报案与理赔单证 / claim reporting and documents".into() },
            ),
            rule(
                "training_complaints",
                "有超期未结投诉：投诉处理培训",
                "Overdue complaints: complaint-handling training",
                vec![c("overdue_complaints", Value, None, Op::AtLeast, 1.0)],
                Proposal::Training { topic: "首问负责与投诉处理 / complaint handling".into() },
            ),
            rule(
                "remediation",
                "最终赔付率超过 100% 且成本率在危险区：整改",
                "Ultimate loss ratio above 100% with the cost ratio in danger: remediation",
                vec![
                    c("ultimate_loss_ratio", Value, None, Op::Above, 1.0),
                    c("variable_cost_ratio", Value, None, Op::Above, 0.94),
                ],
                Proposal::Remediation {},
            ),
        ],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[derive(Default)]
    struct Dealer(HashMap<(String, Measure, String), f64>);

    impl Dealer {
        fn with(mut self, figure: &str, measure: Measure, dimension: &str, value: f64) -> Self {
            self.0.insert((figure.into(), measure, dimension.into()), value);
            self
        }
        fn value(self, figure: &str, value: f64) -> Self {
            self.with(figure, Measure::Value, "portfolio", value)
        }
    }

    impl DealerFigures for Dealer {
        fn lookup(&self, figure: &str, measure: Measure, dimension: &str) -> Option<f64> {
            let dimension = if measure == Measure::Value { "portfolio" } else { dimension };
            self.0.get(&(figure.to_string(), measure, dimension.to_string())).copied()
        }
    }

    fn fired(dealer: &Dealer) -> Vec<String> {
        default_rules().evaluate(dealer).into_iter().map(|i| i.rule_id).collect()
    }

    #[test]
    fn the_shipped_rules_are_valid_and_round_trip_as_json() {
        let rules = default_rules();
        assert!(rules.problems().is_empty(), "{:?}", rules.problems());
        let json = serde_json::to_string(&rules).unwrap();
        assert_eq!(serde_json::from_str::<PlanRules>(&json).unwrap(), rules);
    }

    #[test]
    fn a_loss_ratio_far_above_the_region_tightens_underwriting_and_names_both_conditions() {
        let dealer = Dealer::default().value("loss_ratio", 0.9).with("loss_ratio", Measure::MadDistance, "region", 2.5);
        let items = default_rules().evaluate(&dealer);
        let item = items.iter().find(|i| i.rule_id == "tighten_underwriting").unwrap();
        assert_eq!(item.triggers.len(), 2);
        assert_eq!(item.triggers[0].actual, 2.5);
        assert_eq!(item.triggers[0].dimension.as_deref(), Some("region"));
        assert_eq!(item.triggers[1].threshold, 0.75);
        // At 1.9 MAD it does not fire; a missing figure never fires.
        let near = Dealer::default().value("loss_ratio", 0.9).with("loss_ratio", Measure::MadDistance, "region", 1.9);
        assert!(!fired(&near).contains(&"tighten_underwriting".to_string()));
        assert!(!fired(&Dealer::default().value("loss_ratio", 0.9)).contains(&"tighten_underwriting".to_string()));
    }

    #[test]
    fn each_shipped_rule_fires_on_its_own_figures() {
        let cases: Vec<(&str, Dealer)> = vec![
            ("commission_cut", Dealer::default().value("variable_cost_ratio", 0.95)),
            (
                "commission_raise",
                Dealer::default().value("variable_cost_ratio", 0.6).with(
                    "written_premium",
                    Measure::Percentile,
                    "portfolio",
                    0.5,
                ),
            ),
            ("repair_quota", Dealer::default().value("loss_ratio", 0.5).value("upside_down", 0.0)),
            (
                "fast_track",
                Dealer::default().value("loss_ratio", 0.5).with("frequency", Measure::Percentile, "portfolio", 0.3),
            ),
            ("visit_monthly", Dealer::default().value("composite_score", 39.9)),
            ("training_renewals", Dealer::default().with("renewal_rate", Measure::Percentile, "region", 0.2)),
            ("training_claims", Dealer::default().with("report_to_close_hours", Measure::Percentile, "portfolio", 0.8)),
            ("training_complaints", Dealer::default().value("overdue_complaints", 1.0)),
            ("remediation", Dealer::default().value("ultimate_loss_ratio", 1.2).value("variable_cost_ratio", 1.3)),
        ];
        for (rule, dealer) in cases {
            assert!(fired(&dealer).contains(&rule.to_string()), "{rule}: {:?}", fired(&dealer));
        }
        // Boundaries: exactly 0.94 is not above; exactly 40 is not below.
        assert!(!fired(&Dealer::default().value("variable_cost_ratio", 0.94)).contains(&"commission_cut".to_string()));
        assert!(!fired(&Dealer::default().value("composite_score", 40.0)).contains(&"visit_monthly".to_string()));
    }

    #[test]
    fn bad_rules_are_refused_with_where_and_why() {
        let mut rules = default_rules();
        rules.rules[0].when[0].figure = "lossratio".into();
        rules.rules[1].id = rules.rules[0].id.clone();
        rules.rules[2].proposal = Proposal::CommissionAdjustment { rate_change_bp: 0 };
        rules.rules[3].when[0].dimension = Some("region".into());
        let problems: Vec<String> = rules.problems().into_iter().map(|(at, _)| at).collect();
        assert_eq!(
            problems,
            [
                "rules[0].when[0].figure",
                "rules[1].id",
                "rules[2].proposal.rate_change_bp",
                "rules[3].when[0].dimension"
            ]
        );
        let unknown = serde_json::from_str::<PlanRules>(
            r#"{"rules":[{"id":"x","title_zh":"x","title_en":"x","when":[],"proposal":{"kind":"bonus"}}]}"#,
        );
        assert!(unknown.is_err());
    }
}
