//! Deterministic demo data: the same seed and reference date give the same
//! dealers, staff and certificates. `serve --demo` adds one login per role.

use chrono::{Datelike, Duration, NaiveDate};
use indicatif::{ProgressBar, ProgressStyle};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use sea_orm::DatabaseConnection;

use crate::db::begin_write;
use crate::domain::auth::Role;
use crate::store::audit::Actor;
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
            authority_limit: (role == Role::ClaimsAdjuster).then(|| Decimal::from(50_000)),
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
