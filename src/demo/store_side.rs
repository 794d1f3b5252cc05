//! Demo store side over the demo period: sales assistants' weekly feedback, the channel
//! managers' visits every month or two with follow-ups, a few complaints per dealer a year
//! (some handed over, a few still open past their due date) and quarterly satisfaction surveys.
//! Dealers differ: each has its own mix of topics and its own satisfaction profile.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::feedback::{
    Category, ComplaintCategory, ComplaintSource, Dimension, FeedbackStatus, MAX_RATING, MIN_RATING, Quarter, Rating,
    Urgency,
};

/// A dealer and its people, as the generator needs them.
#[derive(Debug, Clone)]
pub struct StoreDealer {
    pub id: i64,
    pub channel_manager_id: Option<i64>,
    pub seller_ids: Vec<i64>,
    pub staff_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoFeedback {
    pub dealer_id: i64,
    pub author_id: i64,
    pub date: NaiveDate,
    pub category: Category,
    pub urgency: Urgency,
    pub body: String,
    pub status: FeedbackStatus,
    pub handled: Option<(i64, DateTime<Utc>, String)>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoFollowUp {
    pub action: String,
    pub owner_id: i64,
    pub due_on: NaiveDate,
    pub done: Option<(DateTime<Utc>, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoVisit {
    pub dealer_id: i64,
    pub manager_id: i64,
    pub planned_on: NaiveDate,
    pub purpose: String,
    /// Day visited and findings; none for a visit still planned.
    pub done: Option<(NaiveDate, String)>,
    pub follow_ups: Vec<DemoFollowUp>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoComplaint {
    pub dealer_id: i64,
    pub source: ComplaintSource,
    pub complainant: String,
    pub contact: String,
    pub category: ComplaintCategory,
    pub description: String,
    pub logged_by: i64,
    pub logged_at: DateTime<Utc>,
    pub due_on: NaiveDate,
    /// (when, to whom, why): the first owner handed it on.
    pub handed_to: Option<(DateTime<Utc>, i64, String)>,
    pub resolved: Option<(DateTime<Utc>, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoSurvey {
    pub dealer_id: i64,
    pub quarter: Quarter,
    pub respondent: String,
    pub ratings: Vec<Rating>,
    pub recorded_by: i64,
    pub recorded_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreSide {
    pub feedback: Vec<DemoFeedback>,
    pub visits: Vec<DemoVisit>,
    pub complaints: Vec<DemoComplaint>,
    pub surveys: Vec<DemoSurvey>,
}

fn body(category: Category, rng: &mut ChaCha8Rng) -> String {
    let options: &[&str] = match category {
        Category::Pricing => &[
            "客户反映续保商业险报价比去年高，对比了两家同业。",
            "新能源车主对商业险价格敏感，询问是否有优惠。",
            "高端车型车损险报价偏高，店方希望调整系数。",
        ],
        Category::ClaimsService => &[
            "客户抱怨查勘员到场晚，等了两个多小时。",
            "定损周期长，客户车辆在店里停了一周。",
            "理赔材料反复补交，客户不满意。",
        ],
        Category::RepairReferral => &[
            "本月送修到店的事故车明显减少，售后经理询问原因。",
            "店方希望增加推修量，愿意配合快速定损。",
            "有客户被引导到外部修理厂，店方有意见。",
        ],
        Category::Competitor => &[
            "竞品本周新车险加送两次保养。",
            "竞品驻店人员增加到两人，续保电话提前 90 天开始。",
            "竞品手续费上调，店方销售经理提起此事。",
        ],
        Category::CustomerComplaint => {
            &["客户投诉保单寄送慢，要求电子保单。", "客户对退保金额有疑问，需要解释按日计算。"]
        }
        Category::TrainingNeed => &["新来的销售顾问不熟悉交强险浮动规则，需要培训。", "店方希望讲解新能源车险条款。"],
        Category::Other => &["店内车展周末举办，客流预计增加。", "店方更换了售后经理，需要重新对接。"],
    };
    options.choose(rng).copied().unwrap_or("").to_string()
}

fn at(day: NaiveDate, hour: u32, rng: &mut ChaCha8Rng) -> DateTime<Utc> {
    // China time 09:00–18:00 is UTC 01:00–10:00.
    let minute = rng.random_range(0..60);
    Utc.from_utc_datetime(&day.and_hms_opt(hour.min(10), minute, 0).unwrap_or_default())
}

/// Generates the store side for the dealers up to `as_of`, deterministically from `seed`.
pub fn generate(dealers: &[StoreDealer], as_of: NaiveDate, seed: u64) -> StoreSide {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5704E);
    let start = as_of - Duration::days(390);
    let mut out = StoreSide::default();
    for dealer in dealers {
        let Some(&first_seller) = dealer.seller_ids.first() else { continue };
        // Each dealer talks most about its own troubles.
        let weights: Vec<(Category, u32)> = Category::ALL.iter().map(|c| (*c, rng.random_range(1..=6))).collect();
        let total: u32 = weights.iter().map(|(_, w)| w).sum();
        let mut week = start;
        while week <= as_of {
            if rng.random_bool(0.6) {
                let date = (week + Duration::days(rng.random_range(0..5))).min(as_of);
                let mut pick = rng.random_range(0..total);
                let category = weights
                    .iter()
                    .find(|(_, w)| {
                        let hit = pick < *w;
                        pick = pick.saturating_sub(*w);
                        hit
                    })
                    .map(|(c, _)| *c)
                    .unwrap_or(Category::Other);
                let urgency = match rng.random_range(0..100) {
                    0..15 => Urgency::High,
                    15..40 => Urgency::Low,
                    _ => Urgency::Normal,
                };
                let created_at = at(date, rng.random_range(1..=10), &mut rng);
                let age = (as_of - date).num_days();
                let (status, handled) = match (dealer.channel_manager_id, age > 14, rng.random_range(0..10)) {
                    (Some(cm), true, 0..7) => (
                        FeedbackStatus::Acted,
                        Some((cm, created_at + Duration::days(rng.random_range(1..6)), "已与店方沟通并跟进。".into())),
                    ),
                    (Some(cm), true, 7..9) | (Some(cm), false, 0..3) => {
                        (FeedbackStatus::Read, Some((cm, created_at + Duration::days(1), String::new())))
                    }
                    _ => (FeedbackStatus::New, None),
                };
                out.feedback.push(DemoFeedback {
                    dealer_id: dealer.id,
                    author_id: *dealer.seller_ids.choose(&mut rng).unwrap_or(&first_seller),
                    date,
                    category,
                    urgency,
                    body: body(category, &mut rng),
                    status,
                    handled: handled.map(|(by, when, note)| (by, when.min(Utc::now()), note)),
                    created_at,
                });
            }
            week += Duration::days(7);
        }

        if let Some(cm) = dealer.channel_manager_id {
            let mut day = start + Duration::days(rng.random_range(0..30));
            while day < as_of {
                let created_at = at(day - Duration::days(7), 2, &mut rng);
                let mut follow_ups = Vec::new();
                for n in 0..rng.random_range(0..=2) {
                    let due_on = day + Duration::days(14 * (n + 1));
                    let done = (due_on < as_of - Duration::days(3) && rng.random_bool(0.8))
                        .then(|| (at(due_on - Duration::days(2), 6, &mut rng), "已完成。".to_string()));
                    follow_ups.push(DemoFollowUp {
                        action: ["提交下月推修计划", "组织销售顾问培训", "核对上月手续费结算", "约理赔经理到店"]
                            .choose(&mut rng)
                            .copied()
                            .unwrap_or("")
                            .to_string(),
                        owner_id: if rng.random_bool(0.5) { cm } else { first_seller },
                        due_on,
                        done,
                    });
                }
                out.visits.push(DemoVisit {
                    dealer_id: dealer.id,
                    manager_id: cm,
                    planned_on: day,
                    purpose: ["月度经营回顾", "赔付率与送修沟通", "续保工作推进", "手续费政策说明"]
                        .choose(&mut rng)
                        .copied()
                        .unwrap_or("")
                        .to_string(),
                    done: Some((day, "店方整体配合，关注理赔时效和送修量。".into())),
                    follow_ups,
                    created_at,
                });
                day += Duration::days(rng.random_range(30..=60));
            }
            // About half the dealers have the next visit on the calendar.
            if rng.random_bool(0.5) {
                out.visits.push(DemoVisit {
                    dealer_id: dealer.id,
                    manager_id: cm,
                    planned_on: as_of + Duration::days(rng.random_range(1..=21)),
                    purpose: "季度回顾".into(),
                    done: None,
                    follow_ups: Vec::new(),
                    created_at: at(as_of - Duration::days(3), 2, &mut rng),
                });
            }
        }

        for _ in 0..rng.random_range(0..=5) {
            let logged_on = start + Duration::days(rng.random_range(0..=(as_of - start).num_days()));
            let logged_at = at(logged_on, rng.random_range(1..=9), &mut rng);
            let from_dealer = !dealer.staff_ids.is_empty() && rng.random_bool(0.25);
            let logged_by = if from_dealer {
                *dealer.staff_ids.choose(&mut rng).unwrap_or(&first_seller)
            } else {
                *dealer.seller_ids.choose(&mut rng).unwrap_or(&first_seller)
            };
            let category = *ComplaintCategory::ALL.choose(&mut rng).unwrap_or(&ComplaintCategory::Other);
            let age = (as_of - logged_on).num_days();
            let handed_to = dealer.channel_manager_id.filter(|_| rng.random_bool(0.3)).map(|cm| {
                (logged_at + Duration::hours(rng.random_range(2..48)), cm, "需要渠道经理协调总部。".to_string())
            });
            let resolved = (age > 10 && rng.random_bool(0.9))
                .then(|| (logged_at + Duration::days(rng.random_range(2..=9)), "已与客户沟通，问题解决。".to_string()));
            out.complaints.push(DemoComplaint {
                dealer_id: dealer.id,
                source: if from_dealer { ComplaintSource::Dealer } else { ComplaintSource::Customer },
                complainant: if from_dealer {
                    "店方售后经理".into()
                } else {
                    format!("客户{}", rng.random_range(100..999))
                },
                contact: format!("139{:08}", rng.random_range(0..100_000_000u32)),
                category,
                description: match category {
                    ComplaintCategory::ClaimsService => "报案后查勘迟迟不到。",
                    ComplaintCategory::LossAssessment => "定损金额低于维修报价。",
                    ComplaintCategory::Payment => "赔款超过两周未到账。",
                    ComplaintCategory::Commission => "上月手续费结算延迟。",
                    ComplaintCategory::SalesService => "续保提醒电话过于频繁。",
                    ComplaintCategory::Other => "保单邮寄地址错误。",
                }
                .into(),
                logged_by,
                logged_at,
                due_on: logged_on + Duration::days(7),
                handed_to,
                resolved,
            });
        }

        // Quarterly surveys: each dealer has a lasting view of each dimension.
        let bias: Vec<i32> = Dimension::ALL.iter().map(|_| rng.random_range(-2..=1)).collect();
        let mut quarter = Quarter::of(as_of).previous();
        for _ in 0..4 {
            if rng.random_bool(0.85) {
                let ratings = Dimension::ALL
                    .iter()
                    .zip(&bias)
                    .map(|(dimension, bias)| {
                        let expected = rng.random_range(3..=MAX_RATING);
                        let perceived = (expected + bias + rng.random_range(-1..=1)).clamp(MIN_RATING, MAX_RATING);
                        Rating { dimension: *dimension, expected, perceived }
                    })
                    .collect();
                let next = quarter.first_day() + Duration::days(95);
                out.surveys.push(DemoSurvey {
                    dealer_id: dealer.id,
                    quarter,
                    respondent: "店总经理".into(),
                    ratings,
                    recorded_by: dealer
                        .channel_manager_id
                        .or(dealer.staff_ids.first().copied())
                        .unwrap_or(first_seller),
                    recorded_at: at(next.min(as_of), 3, &mut rng),
                });
            }
            quarter = quarter.previous();
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dealers() -> Vec<StoreDealer> {
        (1..=5)
            .map(|id| StoreDealer {
                id,
                channel_manager_id: Some(100),
                seller_ids: vec![200 + id],
                staff_ids: vec![300 + id],
            })
            .collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_store_side() {
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        assert_eq!(generate(&dealers(), as_of, 1), generate(&dealers(), as_of, 1));
    }

    #[test]
    fn every_record_is_valid_and_the_period_is_covered() {
        let as_of = NaiveDate::from_ymd_opt(2026, 11, 25).expect("date");
        let side = generate(&dealers(), as_of, 3);
        assert!(side.feedback.len() > 5 * 30, "about weekly per dealer: {}", side.feedback.len());
        assert!(side.feedback.iter().all(|f| f.date <= as_of && !f.body.is_empty()));
        assert!(side.feedback.iter().any(|f| f.status == FeedbackStatus::New));
        assert!(side.feedback.iter().any(|f| f.status == FeedbackStatus::Acted));
        assert!(side.visits.iter().all(|v| v.done.is_none() == (v.planned_on > as_of)));
        assert!(side.complaints.iter().all(|c| c.resolved.as_ref().is_none_or(|(at, _)| *at > c.logged_at)));
        for survey in &side.surveys {
            assert!(crate::domain::feedback::validate_ratings(&survey.ratings).is_empty());
            assert!(survey.quarter < Quarter::of(as_of));
        }
    }
}
