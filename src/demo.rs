//! Deterministic demo data: the same seed and reference date give the same
//! dealers, staff and certificates. `serve --demo` adds one login per role.

pub mod claims;
pub mod store_side;

use chrono::{Datelike, Duration, NaiveDate};
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use sea_orm::DatabaseConnection;

use crate::domain::auth::Role;
use crate::domain::underwriting::BusinessType;
use crate::domain::underwriting::identity;
use crate::domain::underwriting::rating::{
    AccidentHistory, CoverageChoice, CoverageKind, Premium, PricingInput, RatingTables, Vehicle,
};
use crate::store::audit::Actor;
use crate::store::begin_write;
use crate::store::demo::{DemoDealer, DemoStaff};
use crate::store::{self, users};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct DemoOptions {
    pub dealers: u32,
    pub seed: u64,
    /// Certificates and (later) policies are dated around this day.
    pub as_of: NaiveDate,
}

/// Everything one run generates, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DemoData {
    pub staff: Vec<DemoStaff>,
    pub dealers: Vec<DemoDealer>,
}

const REGIONS: [(&str, &str); 10] = [
    ("广东", "深圳"),
    ("广东", "广州"),
    ("浙江", "杭州"),
    ("江苏", "南京"),
    ("江苏", "苏州"),
    ("四川", "成都"),
    ("湖北", "武汉"),
    ("北京", "北京"),
    ("上海", "上海"),
    ("山东", "青岛"),
];
const BRANDS: [&str; 12] =
    ["丰田", "本田", "大众", "比亚迪", "宝马", "奔驰", "奥迪", "日产", "别克", "吉利", "长安", "理想"];
const GROUPS: [&str; 7] = ["广汇汽车", "永达汽车", "中升集团", "大昌行", "物产中大", "利星行", "独立经营"];
const DISTRICTS: [&str; 8] = ["城东", "城西", "高新", "开发区", "滨江", "南山", "江北", "新区"];
const SURNAMES: [&str; 16] =
    ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭"];
const GIVEN: [&str; 16] =
    ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "军", "杰", "婷", "强", "霞", "平", "刚", "丽"];

fn person_name(rng: &mut ChaCha8Rng) -> String {
    let surname = SURNAMES.choose(rng).copied().unwrap_or("王");
    let given: String = (0..rng.random_range(1..=2)).filter_map(|_| GIVEN.choose(rng).copied()).collect();
    format!("{surname}{given}")
}

/// Builds the data for `options`; pure, so the same options give the same data.
pub fn generate(options: &DemoOptions) -> DemoData {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let dealer_count = options.dealers as usize;
    let mut staff = Vec::new();

    let managers = dealer_count.div_ceil(15).max(1);
    for i in 1..=managers {
        staff.push(DemoStaff::new(format!("cm{i:03}"), person_name(&mut rng), Role::ChannelManager));
    }
    for i in 1..=2 {
        staff.push(DemoStaff::new(format!("uw{i:02}"), person_name(&mut rng), Role::Underwriter));
    }
    for i in 1..=(dealer_count / 25).max(2) {
        let mut adjuster = DemoStaff::new(format!("adj{i:03}"), person_name(&mut rng), Role::ClaimsAdjuster);
        adjuster.authority_limit =
            Some(Decimal::from(*[10_000i64, 50_000, 200_000].choose(&mut rng).unwrap_or(&10_000)));
        staff.push(adjuster);
    }

    let mut dealers = Vec::with_capacity(dealer_count);
    for n in 1..=dealer_count {
        let (province, city) = *REGIONS.choose(&mut rng).unwrap_or(&REGIONS[0]);
        let brand = *BRANDS.choose(&mut rng).unwrap_or(&BRANDS[0]);
        let mut brands = vec![brand.to_string()];
        if rng.random_bool(0.15) {
            let second = *BRANDS.choose(&mut rng).unwrap_or(&BRANDS[1]);
            if second != brand {
                brands.push(second.to_string());
            }
        }
        let district = DISTRICTS.choose(&mut rng).copied().unwrap_or("城东");
        let status = match rng.random_range(0..100) {
            0..=89 => "active",
            90..=95 => "remediation",
            _ => "suspended",
        };
        let code = format!("DLR{n:04}");
        dealers.push(DemoDealer {
            code: code.clone(),
            name: format!("{city}{brand}{district}4S店"),
            dealer_group: GROUPS.choose(&mut rng).copied().unwrap_or("独立经营").to_string(),
            region: format!("{province}-{city}"),
            brands,
            has_repair_shop: rng.random_bool(0.85),
            status: status.to_string(),
            channel_manager: format!("cm{:03}", rng.random_range(1..=managers)),
        });

        let mut assistant = DemoStaff::new(format!("sa{n:04}"), person_name(&mut rng), Role::SalesAssistant);
        assistant.dealer_codes.push(code.clone());
        // Some assistants also cover the neighbouring store.
        if n > 1 && rng.random_bool(0.2) {
            assistant.dealer_codes.push(format!("DLR{:04}", n - 1));
        }
        let start = options.as_of - Duration::days(rng.random_range(60..1_000));
        // About one in twenty certificates has lapsed, so refusals can be shown.
        let end = if rng.random_bool(0.05) {
            options.as_of - Duration::days(rng.random_range(1..90))
        } else {
            NaiveDate::from_ymd_opt(options.as_of.year() + rng.random_range(1..=3), 12, 31).unwrap_or(options.as_of)
        };
        assistant.certificate = Some((format!("QC{}{:06}", options.as_of.year(), n), start, end));
        staff.push(assistant);

        let mut dealer_staff = DemoStaff::new(format!("ds{n:04}"), person_name(&mut rng), Role::DealerStaff);
        dealer_staff.dealer_codes.push(code);
        staff.push(dealer_staff);
    }
    DemoData { staff, dealers }
}

/// Generates and stores demo data, with a progress bar on a terminal.
pub async fn load(db: &DatabaseConnection, options: &DemoOptions) -> anyhow::Result<DemoData> {
    if store::demo::has_dealers(db).await? {
        anyhow::bail!("the database already has dealers; demo data goes only into an empty database");
    }
    let data = generate(options);
    let progress = ProgressBar::new((data.dealers.len() + data.staff.len()) as u64);
    progress.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    store::demo::insert(db, &data, options.seed, &progress).await?;
    progress.finish_with_message("done");
    Ok(data)
}

/// The logins of `serve --demo`, one per role; the last two work for the first demo dealer.
pub async fn create_logins(db: &DatabaseConnection, password: &str, as_of: NaiveDate) -> anyhow::Result<()> {
    let hash = crate::domain::auth::hash_password(password).map_err(|e| anyhow::anyhow!("hashing: {e}"))?;
    let actor = Actor::system("demo");
    let logins = [
        ("admin", "系统管理员", Role::Administrator),
        ("manager", "渠道经理 林晓", Role::ChannelManager),
        ("underwriter", "核保员 周宁", Role::Underwriter),
        ("adjuster", "理赔员 郑凯", Role::ClaimsAdjuster),
        ("claims_lead", "理赔主管 韩冰", Role::ClaimsAdjuster),
        ("assistant", "驻店助理 许静", Role::SalesAssistant),
        ("dealer", "车商 陈立", Role::DealerStaff),
    ];
    let tx = begin_write(db).await?;
    for (username, display_name, role) in logins {
        let new = users::NewUser {
            username: username.to_string(),
            display_name: display_name.to_string(),
            role,
            password_hash: hash.clone(),
            dealer_codes: if role.is_tied_to_dealers() { vec!["DLR0001".into()] } else { Vec::new() },
            // The lead can approve what the adjuster's 50,000 does not cover.
            authority_limit: (role == Role::ClaimsAdjuster)
                .then(|| Decimal::from(if username == "claims_lead" { 500_000 } else { 50_000 })),
        };
        let user = users::create(&tx, &actor, new).await.map_err(|e| anyhow::anyhow!("creating {username}: {e}"))?;
        match role {
            Role::SalesAssistant => {
                let certificate = users::Qualification {
                    certificate_no: format!("QC{}DEMO01", as_of.year()),
                    valid_from: as_of - Duration::days(365),
                    valid_to: as_of + Duration::days(730),
                };
                users::add_qualification(&tx, &actor, user.id, certificate)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
            }
            Role::ChannelManager => {
                // The demo manager takes over the first generated manager's dealers, DLR0001 among them.
                store::demo::take_over_dealers(&tx, &actor, "cm001", user.id).await?;
                store::demo::assign_dealer(&tx, &actor, "DLR0001", user.id).await?;
            }
            _ => {}
        }
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(seed: u64) -> DemoOptions {
        DemoOptions { dealers: 40, seed, as_of: NaiveDate::from_ymd_opt(2026, 11, 22).expect("date") }
    }

    #[test]
    fn the_same_seed_gives_the_same_data() {
        assert_eq!(generate(&options(7)), generate(&options(7)));
        assert_ne!(generate(&options(7)).dealers, generate(&options(8)).dealers);
    }

    #[test]
    fn every_dealer_has_an_owner_an_assistant_and_staff() {
        let data = generate(&options(3));
        assert_eq!(data.dealers.len(), 40);
        for dealer in &data.dealers {
            assert!(data.staff.iter().any(|s| s.username == dealer.channel_manager && s.role == Role::ChannelManager));
            assert!(data.staff.iter().any(|s| s.role == Role::SalesAssistant && s.dealer_codes.contains(&dealer.code)));
            assert!(data.staff.iter().any(|s| s.role == Role::DealerStaff && s.dealer_codes.contains(&dealer.code)));
        }
        let regions: std::collections::HashSet<_> = data.dealers.iter().map(|d| &d.region).collect();
        assert!(regions.len() > 3, "dealers spread across regions");
    }
}

/// A dealer as policy generation needs it.
#[derive(Debug, Clone)]
pub struct PolicyDealer {
    pub id: i64,
    pub region: String,
    pub brand: String,
    pub seller_id: i64,
}

/// One generated sale: the quote and what happened to its policies afterwards.
#[derive(Debug, Clone)]
pub struct DemoSale {
    pub dealer_id: i64,
    pub seller_id: i64,
    pub business_type: BusinessType,
    pub vin: String,
    pub plate: String,
    pub first_registration: NaiveDate,
    pub new_car_price: Decimal,
    pub seats: u32,
    pub owner_name: String,
    pub owner_id_number: String,
    pub owner_phone: String,
    pub accident_history: AccidentHistory,
    pub ncd_level: i32,
    pub pricing_coefficient: Decimal,
    pub issue_date: NaiveDate,
    pub coverages: CoverageChoice,
    pub premium: Premium,
    /// Cancellation day and reason.
    pub cancelled: Option<(NaiveDate, &'static str)>,
    /// Endorsement day and new plate.
    pub endorsed: Option<(NaiveDate, String)>,
    /// The earlier sale (by index) whose policies this one renews.
    pub renews: Option<usize>,
}

impl DemoSale {
    /// How many policy records the sale makes: compulsory and/or commercial.
    pub fn policy_count(&self) -> usize {
        let commercial = self.premium.lines.iter().any(|l| l.coverage != CoverageKind::Compulsory);
        usize::from(self.coverages.compulsory) + usize::from(commercial)
    }
}

const PROVINCE_OF: [(&str, &str); 8] = [
    ("广东", "粤"),
    ("浙江", "浙"),
    ("江苏", "苏"),
    ("四川", "川"),
    ("湖北", "鄂"),
    ("北京", "京"),
    ("上海", "沪"),
    ("山东", "鲁"),
];
const WMI: [&str; 8] = ["LSV", "LFV", "LGB", "LHG", "LVS", "LBV", "LDC", "LS5"];
const VIN_CHARS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ0123456789";
const AREA_CODES: [&str; 8] = ["440305", "440106", "330106", "320102", "510104", "420102", "110105", "310104"];

/// Generates `count` policies' worth of sales across `dealers`, issued over the 13 months before
/// `options.as_of`, priced with `tables`; deterministic for the same seed. Bigger dealers sell more.
pub fn generate_sales(
    options: &DemoOptions,
    dealers: &[PolicyDealer],
    tables: &RatingTables,
    count: usize,
) -> Vec<DemoSale> {
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x5A1E5);
    if dealers.is_empty() {
        return Vec::new();
    }
    let weights: Vec<f64> = dealers.iter().map(|_| 0.3 + rng.random::<f64>() * rng.random::<f64>() * 3.0).collect();
    let total_weight: f64 = weights.iter().sum();
    let mut sales = Vec::with_capacity(count / 2 + 1);
    let mut policies = 0;
    let mut failures = 0;
    // A generator that keeps failing is a bug; stop rather than spin.
    while policies < count && failures < 1_000 {
        let mut pick = rng.random::<f64>() * total_weight;
        let index = weights.iter().position(|w| {
            pick -= w;
            pick <= 0.0
        });
        let dealer = &dealers[index.unwrap_or(dealers.len() - 1)];
        match generate_sale(&mut rng, options.as_of, dealer, tables) {
            Some(sale) => {
                policies += sale.policy_count();
                sales.push(sale);
            }
            None => failures += 1,
        }
    }
    // About three in five policies that come up for renewal within the period are renewed at the
    // same store: the same vehicle and owner, one NCD level down, issued shortly before expiry.
    let count = sales.len();
    for index in 0..count {
        let original = &sales[index];
        let end = original.issue_date + Duration::days(366);
        if original.cancelled.is_some() || end > options.as_of + Duration::days(15) || !rng.random_bool(0.6) {
            continue;
        }
        let mut renewal = original.clone();
        renewal.issue_date = (end - Duration::days(rng.random_range(2..25))).min(options.as_of - Duration::days(1));
        renewal.business_type = BusinessType::Renewal;
        renewal.ncd_level = (original.ncd_level - 1).max(-4);
        renewal.cancelled = None;
        renewal.endorsed = None;
        renewal.renews = Some(index);
        let input = PricingInput {
            vehicle: Vehicle {
                first_registration: renewal.first_registration,
                new_car_price: renewal.new_car_price,
                seats: renewal.seats,
            },
            start_date: end - Duration::days(1),
            accident_history: renewal.accident_history,
            ncd_level: renewal.ncd_level,
            pricing_coefficient: renewal.pricing_coefficient,
            coverages: renewal.coverages.clone(),
        };
        if let Ok(premium) = crate::domain::underwriting::rating::price(tables, &input) {
            renewal.premium = premium;
            sales.push(renewal);
        }
    }
    sales
}

fn generate_sale(
    rng: &mut ChaCha8Rng,
    as_of: NaiveDate,
    dealer: &PolicyDealer,
    tables: &RatingTables,
) -> Option<DemoSale> {
    let issue_date = as_of - Duration::days(rng.random_range(1..=395));
    let business_type = match rng.random_range(0..100) {
        0..=39 => BusinessType::NewCar,
        40..=89 => BusinessType::Renewal,
        _ => BusinessType::TransferIn,
    };
    let first_registration = match business_type {
        BusinessType::NewCar => issue_date - Duration::days(rng.random_range(0..20)),
        _ => issue_date - Duration::days(rng.random_range(300..3_600)),
    };
    let (ncd_level, accident_history) = match business_type {
        BusinessType::NewCar => (0, AccidentHistory::NewOrNoRecord),
        _ => {
            let level = *[-3, -2, -1, -1, -1, 0, 0, 1, 2].choose(rng)?;
            let history = *[
                AccidentHistory::ClaimFree1Year,
                AccidentHistory::ClaimFree2Years,
                AccidentHistory::ClaimFree3YearsOrMore,
                AccidentHistory::OneAtFaultNoDeath,
            ]
            .choose(rng)?;
            (level, history)
        }
    };
    let price_yuan = rng.random_range(80_000..600_000) / 100 * 100;
    let seats = if rng.random_bool(0.12) { 7 } else { 5 };
    let commercial = rng.random_bool(0.88);
    let limits: Vec<Decimal> = tables.commercial.third_party_limits.iter().map(|l| l.limit).collect();
    let seat_limits = &tables.commercial.seat_limits;
    let coverages = CoverageChoice {
        compulsory: true,
        vehicle_damage: commercial && rng.random_bool(0.85),
        third_party_limit: if commercial {
            limits.get(rng.random_range(3..limits.len().max(4))).or(limits.last()).copied()
        } else {
            None
        },
        driver_limit: if commercial && rng.random_bool(0.5) { seat_limits.first().copied() } else { None },
        passenger_limit: if commercial && rng.random_bool(0.4) { seat_limits.first().copied() } else { None },
        riders: if commercial && rng.random_bool(0.15) { vec!["medical_extra".into()] } else { Vec::new() },
        vehicle_damage_sum_insured: None,
    };
    let pricing_coefficient = Decimal::new(rng.random_range(85..=115), 2);
    let input = PricingInput {
        vehicle: Vehicle { first_registration, new_car_price: Decimal::from(price_yuan), seats },
        start_date: issue_date + Duration::days(1),
        accident_history,
        ncd_level,
        pricing_coefficient,
        coverages: coverages.clone(),
    };
    let premium = crate::domain::underwriting::rating::price(tables, &input).ok()?;
    let province = PROVINCE_OF.iter().find(|(p, _)| dealer.region.starts_with(p)).map(|(_, a)| *a).unwrap_or("粤");
    let plate =
        format!("{province}{}{:05}", *[b'A', b'B', b'C', b'E'].choose(rng)? as char, rng.random_range(0..100_000));
    let vin_body: String = (0..13).filter_map(|_| VIN_CHARS.choose(rng).map(|b| *b as char)).collect();
    let raw_vin = format!("{}{}0{}", WMI.choose(rng)?, &vin_body[..5], &vin_body[5..]);
    let vin = identity::with_vin_check_digit(&raw_vin)?;
    let birth =
        NaiveDate::from_ymd_opt(rng.random_range(1960..2004), rng.random_range(1..=12), rng.random_range(1..=28))?;
    let id_body = format!("{}{}{:03}", AREA_CODES.choose(rng)?, birth.format("%Y%m%d"), rng.random_range(0..1000));
    let owner_id_number = identity::with_id_check_character(&id_body)?;
    let owner_phone = format!("1{}{:09}", rng.random_range(3..=9), rng.random_range(0..1_000_000_000u64));
    let start = issue_date + Duration::days(1);
    let days_in_force = (as_of - start).num_days();
    let cancelled = (days_in_force > 2 && rng.random_bool(0.03)).then(|| {
        let day = start + Duration::days(rng.random_range(0..days_in_force.min(364)));
        // Both policies of the sale are cancelled, so only the statutory reasons a compulsory policy may go for.
        (day, *["车辆报废注销", "车辆出口注销", "重复投保", "车辆报废"].choose(rng).unwrap_or(&"车辆报废"))
    });
    let endorsed = (cancelled.is_none() && days_in_force > 2 && rng.random_bool(0.04)).then(|| {
        let day = start + Duration::days(rng.random_range(0..days_in_force.min(364)));
        (day, format!("{province}{}{:05}", 'D', rng.random_range(0..100_000)))
    });
    Some(DemoSale {
        dealer_id: dealer.id,
        seller_id: dealer.seller_id,
        business_type,
        vin,
        plate,
        first_registration,
        new_car_price: Decimal::from(price_yuan),
        seats,
        owner_name: person_name(rng),
        owner_id_number,
        owner_phone,
        accident_history,
        ncd_level,
        pricing_coefficient,
        issue_date,
        coverages,
        premium,
        cancelled,
        endorsed,
        renews: None,
    })
}

/// Generates and stores `count` policies in batches, with a progress bar on a terminal.
pub async fn load_policies(db: &DatabaseConnection, options: &DemoOptions, count: usize) -> anyhow::Result<usize> {
    let dealers = store::demo::policy_dealers(db).await?;
    let rating = store::rating::in_force(db, options.as_of - Duration::days(400))
        .await
        .or(store::rating::in_force(db, options.as_of).await)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let sales = generate_sales(options, &dealers, &rating.document.tables, count);
    let progress = ProgressBar::new(sales.iter().map(DemoSale::policy_count).sum::<usize>() as u64);
    progress.set_style(
        ProgressStyle::with_template("  policies [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let stored = store::demo::insert_sales(db, &sales, rating.id, options.seed, &progress).await?;
    progress.finish();
    Ok(stored)
}

#[cfg(test)]
mod sales_tests {
    use super::*;

    #[test]
    fn generated_sales_price_and_carry_valid_identifiers() {
        let options = DemoOptions { dealers: 3, seed: 9, as_of: NaiveDate::from_ymd_opt(2026, 11, 22).expect("date") };
        let dealers: Vec<PolicyDealer> = (1..=3)
            .map(|id| PolicyDealer { id, region: "广东-深圳".into(), brand: "丰田".into(), seller_id: 10 + id })
            .collect();
        let tables = RatingTables::defaults();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let one = generate_sale(&mut rng, options.as_of, &dealers[0], &tables);
        assert!(one.is_some(), "a sale can be generated");
        let sales = generate_sales(&options, &dealers, &tables, 300);
        let policies: usize = sales.iter().map(DemoSale::policy_count).sum();
        assert!(policies >= 300);
        for sale in &sales {
            assert!(identity::normalize_vin(&sale.vin).is_ok(), "{}", sale.vin);
            assert!(identity::normalize_plate(&sale.plate).is_ok(), "{}", sale.plate);
            assert!(identity::normalize_resident_id(&sale.owner_id_number).is_ok());
            assert!(identity::normalize_mobile(&sale.owner_phone).is_ok());
        }
        let cancelled = sales.iter().filter(|s| s.cancelled.is_some()).count();
        assert!(cancelled > 0 && cancelled * 10 < sales.len(), "a few percent are cancelled");
    }
}

/// Generates and stores claims for the stored policies, walked through their stages up to `now`.
/// `claims_per_vehicle_year` sets the frequency (DOMAIN.md: 10–25% of policies a year).
pub async fn load_claims(
    db: &DatabaseConnection,
    options: &DemoOptions,
    now: chrono::DateTime<chrono::Utc>,
    claims_per_vehicle_year: f64,
) -> anyhow::Result<usize> {
    let vehicles = store::demo::claimable_vehicles(db).await?;
    let adjusters = store::demo::adjusters(db).await?;
    let rating = store::rating::in_force(db, options.as_of).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let table = &rating.document.tables.compulsory;
    let heads = |l: &crate::domain::underwriting::rating::CompulsoryLimits| {
        crate::domain::claims::settlement::CompulsoryHeads {
            death_disability: l.death_disability,
            medical: l.medical,
            property: l.property,
        }
    };
    let limits = (heads(&table.at_fault_limits), heads(&table.not_at_fault_limits));
    let claims = claims::generate(options.seed, now, &vehicles, &adjusters, limits, claims_per_vehicle_year);
    let progress = ProgressBar::new(claims.len() as u64);
    progress.set_style(
        ProgressStyle::with_template("    claims [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let stored = store::demo::insert_claims(db, &claims, options.seed, &progress).await?;
    progress.finish();
    Ok(stored)
}

/// Feedback, visits, complaints and surveys over the demo period. Returns (feedback, visits, complaints, surveys).
pub async fn load_store_side(
    db: &DatabaseConnection,
    options: &DemoOptions,
) -> anyhow::Result<(usize, usize, usize, usize)> {
    let dealers = store::demo::store_dealers(db).await?;
    let side = store_side::generate(&dealers, options.as_of, options.seed);
    store::demo::insert_store_side(db, &side, options.seed).await?;
    Ok((side.feedback.len(), side.visits.len(), side.complaints.len(), side.surveys.len()))
}

/// Agreements for every demo dealer (a few proposed outside the filed range, refused and
/// reported), the demo policies' ledger, and a statement per dealer and closed month.
/// Returns (agreements, refused, ledger entries, statements).
pub async fn load_commission(
    db: &DatabaseConnection,
    options: &DemoOptions,
) -> anyhow::Result<(usize, usize, usize, usize)> {
    use crate::store::commission::{self as commission_store, AgreementRequest};
    let started = std::time::Instant::now();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0xC0111);
    let dealers = store::demo::policy_dealers(db).await?;
    let valid_from = options.as_of - Duration::days(420);
    let actor = Actor::system("demo-data");
    let (mut created, mut refused) = (0, 0);
    let tx = begin_write(db).await?;
    for dealer in &dealers {
        for (product, business_type) in [
            ("compulsory", "new_car"),
            ("compulsory", "renewal"),
            ("compulsory", "transfer_in"),
            ("commercial", "new_car"),
            ("commercial", "renewal"),
            ("commercial", "transfer_in"),
        ] {
            let base_rate = if product == "compulsory" {
                Decimal::new(rng.random_range(30..=40), 3)
            } else if rng.random_bool(0.03) {
                // A proposal above any filing: refused, as the filed-rate rule requires.
                Decimal::new(rng.random_range(26..=30), 2)
            } else {
                Decimal::new(rng.random_range(8..=18), 2)
            };
            let tiers = if product == "commercial" && business_type == "new_car" && rng.random_bool(0.3) {
                vec![crate::domain::commission::Tier {
                    monthly_written_at_least: Decimal::from(rng.random_range(3..=8) * 10_000),
                    rate: (base_rate + Decimal::new(2, 2)).min(Decimal::new(20, 2)),
                }]
            } else {
                Vec::new()
            };
            let terms = crate::domain::commission::Terms {
                product: product.into(),
                business_type: business_type.into(),
                valid_from,
                valid_to: None,
                base_rate,
                tiers,
                loss_ratio_clause: None,
            };
            let request = AgreementRequest { terms, note: "演示协议".into() };
            match commission_store::create_agreement(&tx, &actor, &crate::domain::auth::Scope::All, dealer.id, &request)
                .await
            {
                Ok(_) => created += 1,
                Err(crate::error::AppError::Validation(problems)) => {
                    refused += 1;
                    let reasons: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
                    // About 3% are proposed above the filed range on purpose; the refusal is the expected answer.
                    tracing::debug!(
                        dealer = dealer.id,
                        product,
                        business_type,
                        "demo agreement refused: {}",
                        reasons.join("; ")
                    );
                }
                Err(e) => return Err(anyhow::anyhow!("agreement for dealer {}: {e}", dealer.id)),
            }
        }
    }
    tx.commit().await?;
    let agreed = std::time::Instant::now();
    let progress = ProgressBar::new(0);
    progress.set_style(
        ProgressStyle::with_template(" commission [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let entries = store::demo::book_demo_ledger(db, &progress).await?;
    progress.finish();
    let booked = std::time::Instant::now();
    // Close every month that is over, oldest first.
    let this_month = commission_store::month_of(options.as_of);
    let mut month = commission_store::month_of(options.as_of - Duration::days(400));
    let mut statements = 0;
    while month < this_month {
        let tx = begin_write(db).await?;
        statements +=
            commission_store::close_month(&tx, &actor, month).await.map_err(|e| anyhow::anyhow!("{e}"))?.len();
        tx.commit().await?;
        month = commission_store::next_month(month);
    }
    store::demo::settle_demo_statements(db, commission_store::month_of(this_month - Duration::days(1))).await?;
    let closed = std::time::Instant::now();
    // The loaders insert in bulk, past the writes that keep the monitoring totals: rebuild them before the alerts
    // are judged on them.
    let targets = crate::config::ServeConfig::default().service_targets();
    store::totals::rebuild(db, &targets).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    // This month's alerts, as the daily job would have raised them.
    let tx = begin_write(db).await?;
    store::monitoring::raise_alerts(&tx, &actor, options.as_of, &targets).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    tracing::info!(
        agreements_s = agreed.duration_since(started).as_secs_f64(),
        ledger_s = booked.duration_since(agreed).as_secs_f64(),
        statements_s = closed.duration_since(booked).as_secs_f64(),
        alerts_s = closed.elapsed().as_secs_f64(),
        "demo commission timings"
    );
    Ok((created, refused, entries, statements))
}
