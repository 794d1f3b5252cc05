//! Every user-visible string of the pages, in Simplified Chinese (the
//! default) and English. One table, so a missing translation cannot compile:
//! each entry has both languages by construction. (rust-i18n was considered;
//! its lookups fall back silently when a key or language is missing.)

use std::collections::HashMap;
use std::sync::LazyLock;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    /// `zh`, `zh-CN`, `en`, `en-US`, … in any case.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The supported language the browser prefers most, by `q` weight.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        header
            .split(',')
            .enumerate()
            .filter_map(|(position, entry)| {
                let mut parts = entry.split(';');
                let lang = Lang::from_code(parts.next()?)?;
                let weight =
                    parts.find_map(|p| p.trim().strip_prefix("q=")).and_then(|q| q.parse::<f32>().ok()).unwrap_or(1.0);
                // Ties go to the earlier entry.
                Some((weight, std::cmp::Reverse(position), lang))
            })
            .filter(|(weight, _, _)| *weight > 0.0)
            .max_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
            .map(|(_, _, lang)| lang)
    }
}

/// The translator handed to templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr(pub Lang);

impl Tr {
    /// The text for `key`; an unknown key shows as itself (and the i18n tests fail).
    pub fn t(&self, key: &str) -> &'static str {
        match MESSAGES.get(key) {
            Some((zh, en)) => match self.0 {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => {
                tracing::warn!(key, "missing translation");
                Box::leak(key.to_string().into_boxed_str())
            }
        }
    }

    /// The text of `prefix.value`, for values such as statuses and products.
    pub fn t2(&self, prefix: &str, value: &str) -> &'static str {
        self.t(&format!("{prefix}.{value}"))
    }

    /// The text for `key` if the table has it.
    pub fn try_t(&self, key: &str) -> Option<&'static str> {
        MESSAGES.get(key).map(|(zh, en)| match self.0 {
            Lang::Zh => *zh,
            Lang::En => *en,
        })
    }

    /// A field error in this language: by its code where the table has one, else its own message.
    pub fn field_error<'a>(&self, error: &'a crate::error::FieldError) -> &'a str {
        let key = format!("field_error.{}.{}", error.field.split('[').next().unwrap_or(""), error.code);
        let general = format!("field_error.{}", error.code);
        match MESSAGES.get(key.as_str()).or_else(|| MESSAGES.get(general.as_str())) {
            Some((zh, en)) => match self.0 {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => &error.message,
        }
    }

    pub fn html_lang(&self) -> &'static str {
        match self.0 {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }
}

static MESSAGES: LazyLock<HashMap<&'static str, (&'static str, &'static str)>> =
    LazyLock::new(|| TABLE.iter().map(|(key, zh, en)| (*key, (*zh, *en))).collect());

/// (key, 简体中文, English)
pub const TABLE: &[(&str, &str, &str)] = &[
    ("app.tagline", "车商渠道车险平台", "Dealer-channel auto insurance"),
    ("lang.switch", "English", "中文"),
    ("nav.menu", "菜单", "Menu"),
    ("nav.home", "首页", "Home"),
    ("nav.dealers", "车商", "Dealers"),
    ("nav.my_dealers", "我的门店", "My stores"),
    ("nav.users", "用户", "Users"),
    ("nav.audit", "审计日志", "Audit log"),
    ("nav.api", "接口文档", "API"),
    ("nav.account", "我的账户", "My account"),
    ("nav.logout", "退出", "Sign out"),
    ("role.administrator", "系统管理员", "Administrator"),
    ("role.channel_manager", "渠道经理", "Channel manager"),
    ("role.underwriter", "核保员", "Underwriter"),
    ("role.claims_adjuster", "理赔员", "Claims adjuster"),
    ("role.sales_assistant", "驻店销售助理", "Sales assistant"),
    ("role.dealer_staff", "车商人员", "Dealer staff"),
    ("login.title", "登录", "Sign in"),
    ("login.intro", "请使用您的工作账号登录。", "Sign in with your work account."),
    ("login.username", "用户名", "Username"),
    ("login.password", "密码", "Password"),
    ("login.submit", "登录", "Sign in"),
    ("login.bad_credentials", "用户名或密码错误。", "Wrong username or password."),
    ("login.locked", "尝试次数过多，请在 {minutes} 分钟后再试。", "Too many attempts; try again in {minutes} minutes."),
    ("account.title", "我的账户", "My account"),
    ("account.sessions", "登录会话", "Sessions"),
    (
        "account.sessions_hint",
        "如果手机或电脑丢失，可在此退出所有设备上的登录。",
        "If a phone or computer is lost, sign out on every device here.",
    ),
    ("account.logout_everywhere", "退出所有设备", "Sign out everywhere"),
    ("home.hello", "您好，", "Hello, "),
    ("home.dealers_in_scope", "可查看的车商", "Dealers you can see"),
    ("home.users", "用户", "Users"),
    ("home.audit_records", "审计记录", "Audit records"),
    ("home.your_dealers", "您的车商", "Your dealers"),
    ("home.all_dealers", "查看全部车商", "All dealers"),
    ("dealers.title", "车商", "Dealers"),
    ("dealers.search", "代码、名称或集团", "Code, name or group"),
    ("dealers.all_regions", "全部地区", "All regions"),
    ("dealers.all_statuses", "全部状态", "All statuses"),
    ("dealers.none", "没有符合条件的车商。", "No dealer matches."),
    ("dealers.new", "新建车商", "New dealer"),
    ("dealers.edit", "修改", "Edit"),
    ("dealers.import", "导入车商", "Import dealers"),
    ("dealers.imported", "已导入车商", "Dealers imported"),
    (
        "dealers.import_refused",
        "文件有错误，未导入任何车商。请改正以下各行后重新上传。",
        "The file has errors and nothing was imported. Fix these rows and upload it again.",
    ),
    ("dealers.import_where", "位置", "Where"),
    ("dealers.import_problem", "问题", "Problem"),
    (
        "dealers.import_hint",
        "上传 UTF-8 编码的 CSV 文件，第一行为以下表头：",
        "Upload a UTF-8 CSV file whose first row is this header:",
    ),
    ("dealers.import_file", "CSV 文件", "CSV file"),
    ("dealer.region_hint", "省-市，例如 广东-深圳", "Province-city, e.g. 广东-深圳"),
    ("dealer.brands_hint", "多个品牌用 、 或 | 分隔", "Separate several brands with 、 or |"),
    ("dealer.manager_hint", "渠道经理的用户名", "The channel manager's username"),
    ("qualification.add", "添加资格证书", "Add a certificate"),
    (
        "field_error.code.invalid",
        "代码为 2–32 位大写字母、数字或 -",
        "A code is 2 to 32 capital letters, digits or '-'",
    ),
    ("field_error.code.taken", "已有车商使用此代码", "Another dealer has this code"),
    ("field_error.too_long", "内容过长", "Too long"),
    ("field_error.brands.invalid", "请填写 1–10 个品牌", "Give one to ten brands"),
    ("field_error.unknown_manager", "没有这个用户名的渠道经理", "No channel manager has this username"),
    ("field_error.invalid_date", "日期格式为 YYYY-MM-DD", "Enter a date as YYYY-MM-DD"),
    ("field_error.before_start", "到期日期不能早于生效日期", "A certificate cannot expire before it starts"),
    ("field_error.certificate_no.taken", "该证书编号已登记", "This certificate number is already recorded"),
    ("dealer.code", "代码", "Code"),
    ("dealer.name", "名称", "Name"),
    ("dealer.group", "经销商集团", "Dealer group"),
    ("dealer.region", "地区", "Region"),
    ("dealer.brands", "品牌", "Brands"),
    ("dealer.status", "状态", "Status"),
    ("dealer.repair_shop", "自有维修车间", "Own repair shop"),
    ("dealer.channel_manager", "渠道经理", "Channel manager"),
    ("dealer.status.active", "正常", "Active"),
    ("dealer.status.remediation", "整改中", "Remediation"),
    ("dealer.status.suspended", "暂停合作", "Suspended"),
    ("common.yes", "是", "Yes"),
    ("common.no", "否", "No"),
    ("filter.apply", "筛选", "Filter"),
    ("pager.label", "分页", "Pages"),
    ("pager.prev", "上一页", "Previous"),
    ("pager.next", "下一页", "Next"),
    ("form.save", "保存", "Save"),
    ("form.fix_fields", "请修改下方标出的内容后再保存。", "Please fix the fields marked below and save again."),
    ("users.title", "用户", "Users"),
    ("users.new", "新建用户", "New user"),
    ("users.search", "用户名或姓名", "Username or name"),
    ("users.all_roles", "全部角色", "All roles"),
    ("user.username", "用户名", "Username"),
    ("user.display_name", "姓名", "Name"),
    ("user.role", "角色", "Role"),
    ("user.status", "状态", "Status"),
    ("user.active", "启用", "Active"),
    ("user.disabled", "已停用", "Disabled"),
    ("user.authority_limit", "理赔审批权限", "Settlement authority"),
    ("user.dealers", "所属车商", "Dealers"),
    (
        "user.dealers_hint",
        "车商代码，用逗号分隔（仅驻店助理和车商人员）",
        "Dealer codes separated by commas (sales assistants and dealer staff only)",
    ),
    ("user.new_password", "新密码（不修改请留空）", "New password (leave empty to keep)"),
    ("user.qualifications", "销售从业资格", "Sales qualifications"),
    ("user.history", "变更记录", "Change history"),
    ("qualification.number", "证书编号", "Certificate number"),
    ("qualification.valid_from", "生效日期", "Valid from"),
    ("qualification.valid_to", "到期日期", "Valid to"),
    ("audit.title", "审计日志", "Audit log"),
    ("audit.at", "时间", "Time"),
    ("audit.actor", "操作人", "Actor"),
    ("audit.action", "操作", "Action"),
    ("audit.entity", "对象", "Record"),
    ("audit.entity_id", "对象编号", "Record id"),
    ("audit.change", "变更", "Change"),
    ("audit.before", "变更前", "Before"),
    ("audit.after", "变更后", "After"),
    ("audit.from", "从", "From"),
    ("audit.to", "至", "To"),
    ("audit.verify", "校验哈希链", "Verify the chain"),
    ("audit.chain_ok", "哈希链完整，记录未被篡改", "The chain is intact: no record was changed"),
    ("audit.chain_broken", "哈希链已损坏", "The chain is broken"),
    ("audit.bad_dates", "日期格式应为 YYYY-MM-DD，已忽略。", "Dates must be YYYY-MM-DD; the date filter was ignored."),
    ("api.intro", "接口说明由代码生成：", "The API description is generated from the code:"),
    ("nav.new_quote", "报价", "New quote"),
    ("nav.referrals", "核保队列", "Referrals"),
    ("nav.policies", "保单", "Policies"),
    ("nav.renewals", "续保", "Renewals"),
    ("nav.rating", "费率表", "Rating tables"),
    ("quote.new", "新建报价", "New quote"),
    ("quote.title", "报价", "Quote"),
    ("quote.store", "门店", "Store"),
    ("quote.dealer", "车商", "Dealer"),
    ("quote.business_type", "业务类型", "Business type"),
    ("quote.vehicle", "车辆", "Vehicle"),
    ("quote.vin", "车架号（VIN）", "VIN"),
    ("quote.plate", "车牌号", "Plate"),
    ("quote.first_registration", "初次登记日期", "First registration"),
    ("quote.seats", "座位数", "Seats"),
    ("quote.seats_unit", "座", "seats"),
    ("quote.new_car_price", "新车购置价", "New-car price"),
    ("quote.owner", "车主", "Owner"),
    ("quote.owner_name", "车主姓名", "Owner's name"),
    ("quote.owner_id_number", "身份证号", "Resident ID number"),
    ("quote.owner_phone", "手机号", "Mobile phone"),
    ("quote.history_and_pricing", "出险记录与定价", "History and pricing"),
    ("quote.accident_history", "交强险出险记录", "Compulsory-insurance accident history"),
    ("quote.ncd_level", "无赔款优待等级（NCD）", "NCD level"),
    ("quote.pricing_coefficient", "自主定价系数", "Pricing coefficient"),
    ("quote.coverages", "险种", "Coverages"),
    ("quote.not_chosen", "不投保", "Not chosen"),
    ("quote.price", "计算保费", "Price it"),
    ("quote.status", "状态", "Status"),
    ("quote.start_date", "起保日期", "Cover starts"),
    ("quote.rating_version", "费率版本", "Rating version"),
    ("quote.rules_hit", "触发的核保规则", "Underwriting rules hit"),
    ("quote.review_note", "核保意见", "Underwriter's note"),
    ("quote.breakdown", "保费明细", "Premium breakdown"),
    ("quote.coverage", "险种", "Coverage"),
    ("quote.sum_insured", "保额/限额", "Sum insured / limit"),
    ("quote.base_premium", "基准保费", "Base premium"),
    ("quote.factors", "系数", "Factors"),
    ("quote.premium", "保费", "Premium"),
    ("quote.compulsory_total", "交强险合计", "Compulsory total"),
    ("quote.commercial_total", "商业险合计", "Commercial total"),
    ("quote.total", "保费合计", "Total premium"),
    ("quote.issue", "确认出单", "Issue the policies"),
    ("quote.approve", "同意承保", "Approve"),
    ("quote.decline", "拒绝承保", "Decline"),
    ("quotes.title", "报价单", "Quotes"),
    ("quotes.none", "没有报价单。", "No quotes."),
    ("quote_status.accepted", "可出单", "Accepted"),
    ("quote_status.referred", "待核保", "Referred"),
    ("quote_status.declined", "拒保", "Declined"),
    ("quote_status.approved", "核保通过", "Approved"),
    ("quote_status.rejected", "核保拒绝", "Rejected"),
    ("quote_status.issued", "已出单", "Issued"),
    ("business.new_car", "新车", "New car"),
    ("business.renewal", "续保", "Renewal"),
    ("business.transfer_in", "转保", "Transfer-in"),
    ("history.new_or_no_record", "新车或无记录", "New car or no record"),
    ("history.claim_free_1_year", "上年未出险", "No at-fault accident last year"),
    ("history.claim_free_2_years", "连续两年未出险", "No at-fault accident for 2 years"),
    ("history.claim_free_3_years_or_more", "连续三年及以上未出险", "No at-fault accident for 3 years or more"),
    ("history.one_at_fault_no_death", "上年一次有责事故（无死亡）", "One at-fault accident last year, no death"),
    ("history.two_or_more_at_fault", "上年两次及以上有责事故", "Two or more at-fault accidents last year"),
    ("history.at_fault_with_death", "上年有责死亡事故", "An at-fault accident with a death last year"),
    ("coverage.compulsory", "交强险", "Compulsory traffic insurance"),
    ("coverage.vehicle_damage", "车损险", "Vehicle damage"),
    ("coverage.third_party", "第三者责任险", "Third-party liability"),
    ("coverage.driver", "车上人员险（司机）", "Driver liability"),
    ("coverage.passenger", "车上人员险（乘客）", "Passenger liability"),
    ("coverage.wheel", "车轮单独损失险", "Wheel-only damage"),
    ("coverage.medical_extra", "医保外医疗费用责任险", "Medical costs outside social insurance"),
    ("coverage.repair_period", "修理期间费用补偿险", "Repair-period compensation"),
    ("factor.ncd", "无赔款优待系数", "NCD factor"),
    ("factor.pricing_coefficient", "自主定价系数", "Pricing coefficient"),
    ("factor.floating", "交强险浮动系数", "Floating factor"),
    ("factor.depreciation", "折旧率", "Depreciation"),
    ("product.compulsory", "交强险", "Compulsory"),
    ("product.commercial", "商业险", "Commercial"),
    ("policy.number", "保单号", "Policy number"),
    ("policy.product", "险类", "Product"),
    ("policy.status", "状态", "Status"),
    ("policy.period", "保险期间", "Period of cover"),
    ("policy.cancelled_from", "退保生效日", "Cancelled from"),
    ("policy.refund", "退费", "Refund"),
    ("policy.quote", "报价单", "Quote"),
    ("policy.renews", "续保自", "Renews"),
    ("policy.history", "保单历次版本", "Versions of the policy"),
    ("policy.change", "变更", "Change"),
    ("policy.effective", "生效日期", "Effective"),
    ("policy.premium_after", "变更后保费", "Premium after"),
    ("policy.adjustment", "应收/应退", "Charged / refunded"),
    ("policy.endorse", "批改", "Endorse"),
    ("policy.cancel", "退保", "Cancel the policy"),
    ("policy.cancel_from", "退保生效日（默认今天）", "Cancel from (today if empty)"),
    ("policy.cancel_reason", "退保原因", "Reason"),
    ("policy_status.in_force", "有效", "In force"),
    ("policy_status.cancelled", "已退保", "Cancelled"),
    ("version_kind.issue", "出单", "Issued"),
    ("version_kind.endorse", "批改", "Endorsed"),
    ("version_kind.cancel", "退保", "Cancelled"),
    ("policies.search", "保单号、车牌、车架号或车主", "Policy number, plate, VIN or owner"),
    ("policies.all_products", "全部险类", "All products"),
    ("policies.all_statuses", "全部状态", "All statuses"),
    ("policies.none", "没有符合条件的保单。", "No policy matches."),
    ("renewals.window", "未来到期天数：", "Expiring within days:"),
    ("renewals.none", "近期没有到期的保单。", "No policy is coming up for renewal."),
    ("renewals.ends", "到期日", "Ends"),
    ("renewals.next_ncd", "NCD 等级", "NCD level"),
    ("renewals.quote", "续保报价", "Renewal quote"),
    ("rating.versions", "费率版本", "Versions"),
    ("rating.effective_from", "生效日期", "Effective from"),
    ("rating.note", "说明", "Note"),
    ("rating.new_version", "新建费率版本", "New version"),
    (
        "rating.hint",
        "修改下方的费率表和核保规则（JSON），从生效日期起用于新报价；已有报价保留原版本。",
        "Edit the tables and underwriting rules below (JSON); they price new quotes from the effective date, and earlier quotes keep their version.",
    ),
    ("rating.document", "费率表与核保规则", "Tables and rules"),
    ("rating.save", "保存新版本", "Save as a new version"),
    (
        "field_error.seller_unqualified",
        "您的销售从业资格证书缺失或已过期，不能出单",
        "Your sales qualification is missing or expired: issuing is refused",
    ),
    ("field_error.outside_period", "日期不在保险期间内", "The date is outside the period of cover"),
    ("field_error.nothing_to_change", "请填写要批改的内容", "Give something to change"),
    ("field_error.vin_length", "车架号应为 17 位", "A VIN has 17 characters"),
    (
        "field_error.vin_letters",
        "车架号只含字母和数字，且不含 I、O、Q",
        "A VIN has letters and digits only, never I, O or Q",
    ),
    (
        "field_error.vin_check_digit",
        "车架号校验位不符，请核对是否输错",
        "The VIN's check digit does not match: check for a typo",
    ),
    (
        "field_error.plate_province",
        "车牌应以省份简称开头，如 粤、京",
        "A plate starts with a province abbreviation such as 粤 or 京",
    ),
    (
        "field_error.plate_format",
        "车牌格式不对，例如 粤B12345 或新能源 粤BD12345",
        "The plate should look like 粤B12345, or 粤BD12345 for new energy",
    ),
    ("field_error.id_length", "身份证号应为 18 位", "A resident ID has 18 characters"),
    ("field_error.id_format", "身份证号为 17 位数字加一位数字或 X", "A resident ID is 17 digits and a digit or X"),
    ("field_error.id_birth_date", "身份证号中的出生日期不存在", "The birth date in the ID does not exist"),
    (
        "field_error.id_check_digit",
        "身份证号校验位不符，请核对是否输错",
        "The ID's check character does not match: check for a typo",
    ),
    (
        "field_error.mobile_format",
        "手机号为 11 位数字，以 13–19 开头",
        "A mobile number has 11 digits starting with 13 to 19",
    ),
    (
        "field_error.coefficient_out_of_range",
        "自主定价系数超出允许范围",
        "The pricing coefficient is outside the allowed range",
    ),
    ("field_error.no_coverage", "请至少选择一个险种", "Choose at least one coverage"),
    (
        "field_error.registered_after_start",
        "初次登记日期不能晚于起保日期",
        "The first registration cannot be after the start of cover",
    ),
    ("field_error.rider_needs_coverage", "附加险需要同时投保其主险", "A rider needs its main coverage"),
    ("field_error.required", "此项必填", "This field is required"),
    (
        "field_error.username.invalid",
        "用户名为 2–64 位小写字母、数字或 . _ -",
        "A username is 2 to 64 lowercase letters, digits, '.', '_' or '-'",
    ),
    ("field_error.username.taken", "该用户名已被使用", "This username is already in use"),
    ("field_error.display_name.invalid", "姓名为 1–64 个字符", "The name is 1 to 64 characters"),
    (
        "field_error.dealers.required",
        "驻店助理和车商人员至少属于一家车商",
        "Sales assistants and dealer staff work for at least one dealer",
    ),
    (
        "field_error.dealers.not_allowed",
        "只有驻店助理和车商人员才归属车商",
        "Only sales assistants and dealer staff are tied to dealers",
    ),
    ("field_error.unknown_dealer", "没有这个代码的车商", "No dealer has this code"),
    ("field_error.weak", "密码至少 10 个字符", "A password needs at least 10 characters"),
    (
        "field_error.invalid_amount",
        "请输入金额，例如 50000.00（最多两位小数）",
        "Enter an amount such as 50000.00 (at most 2 decimals)",
    ),
    ("field_error.role.required", "请选择角色", "Choose a role"),
    ("error.back_home", "返回首页", "Back to the start page"),
    ("error.validation", "提交的内容有误", "Some fields are invalid"),
    ("error.bad_request", "请求格式有误", "The request is malformed"),
    ("error.unauthenticated", "请先登录", "Please sign in"),
    ("error.bad_credentials", "用户名或密码错误", "Wrong username or password"),
    ("error.forbidden", "您的角色无权进行此操作", "Your role may not do this"),
    ("error.csrf", "页面已过期，请刷新后重试。", "The page has expired; reload it and try again."),
    ("error.not_found", "找不到该页面或记录", "Page or record not found"),
    ("error.method_not_allowed", "不支持该操作", "This action is not supported here"),
    ("error.conflict", "记录已被他人修改", "The record was changed by someone else"),
    ("error.payload_too_large", "提交的内容过大", "The upload is too large"),
    ("error.unsupported_media_type", "提交的格式不受支持", "This format is not accepted"),
    ("error.too_many_requests", "操作过于频繁，请稍后再试", "Too many attempts; try again later"),
    ("error.internal", "系统出错了，请稍后再试", "Something went wrong; please try again later"),
    ("error.illegal_transition", "当前阶段不能进行该操作", "This step is not allowed at the claim's stage"),
    ("commission.title", "手续费", "Commission"),
    ("commission.agreements", "手续费协议", "Commission agreements"),
    ("commission.no_agreements", "尚无协议：出单不计提手续费。", "No agreements yet: issuing accrues no commission."),
    ("commission.valid", "有效期", "Valid"),
    ("commission.valid_from", "生效日期", "Valid from"),
    ("commission.open_ended", "长期", "open-ended"),
    ("commission.base_rate", "基础费率", "Base rate"),
    ("commission.tiers", "阶梯", "Tiers"),
    ("commission.tier_threshold", "阶梯：月保费达到（元）", "Tier: monthly premium of at least (CNY)"),
    ("commission.tier_rate", "阶梯费率", "Tier rate"),
    ("commission.new_agreement", "新增协议", "New agreement"),
    ("commission.add_agreement", "保存协议", "Save agreement"),
    (
        "commission.filed_help",
        "费率须在保险公司备案的区间内（报行合一）；超出区间会被拒绝并注明区间。新协议生效时，同险种同业务类型的长期协议自动截止。",
        "Rates must lie in the insurer's filed range (报行合一); a rate outside it is refused, naming the range. A new agreement ends the open-ended one before it on its first day.",
    ),
    ("commission.statements", "月度结算单", "Monthly statements"),
    ("commission.no_statements", "尚无结算单。", "No statements yet."),
    ("commission.statement", "结算单", "Statement"),
    ("commission.month", "月份", "Month"),
    ("commission.status", "状态", "Status"),
    ("commission.lines", "明细条数", "Lines"),
    ("commission.total", "合计", "Total"),
    ("commission.download_xlsx", "下载 Excel", "Download Excel"),
    ("commission.download_csv", "下载 CSV", "Download CSV"),
    ("commission.confirm", "确认结算单", "Confirm statement"),
    ("commission.mark_paid", "标记已支付", "Mark as paid"),
    ("commission.booked_on", "记账日期", "Booked on"),
    ("commission.kind", "类型", "Kind"),
    ("commission.basis", "保费基数", "Premium basis"),
    ("commission.rate", "费率", "Rate"),
    ("commission.amount", "手续费", "Commission"),
    ("statement_status.draft", "草稿", "Draft"),
    ("statement_status.confirmed", "已确认", "Confirmed"),
    ("statement_status.paid", "已支付", "Paid"),
    ("entry_kind.accrual", "计提", "Accrual"),
    ("entry_kind.reversal", "退保冲回", "Reversal"),
    ("entry_kind.adjustment", "批改调整", "Adjustment"),
    ("entry_kind.tier_true_up", "阶梯补差", "Tier true-up"),
    ("entry_kind.correction", "更正", "Correction"),
    ("nav.portfolio", "车商监控", "Portfolio"),
    ("dealer.sellers", "驻店销售助理与从业资格", "Sales assistants and their qualifications"),
    ("dealer.no_sellers", "本店尚无驻店销售助理。", "No sales assistants work here yet."),
    ("dealer.qualified", "资格有效", "Qualified"),
    ("dealer.unqualified", "无有效资格（不能出单）", "No valid qualification (cannot issue)"),
    ("dealer.certificate_no", "资格证书号", "Certificate number"),
    ("dealer.valid_from", "有效期起", "Valid from"),
    ("dealer.valid_to", "有效期止", "Valid to"),
    ("dealer.add_certificate", "登记证书", "Record certificate"),
    ("nav.alerts", "预警", "Alerts"),
    ("alerts.show_all", "显示全部（含已处理）", "Show all, including acknowledged"),
    ("alerts.show_open", "只看未处理", "Open only"),
    ("alerts.none", "没有预警", "No alerts"),
    ("alerts.acknowledged", "已处理", "Acknowledged"),
    ("alerts.note", "处理说明", "What was done"),
    ("alerts.acknowledge", "确认处理", "Acknowledge"),
    ("figure.dashboard", "经营看板", "Dashboard"),
    ("figure.cycle_times", "理赔时效", "Claim cycle times"),
    ("figure.closed_in_period", "件本期结案", "closed in the period"),
    ("figure.no_closed_claims", "本期没有结案的案件。", "No claims were closed in the period."),
    ("figure.median_hours", "中位数", "Median"),
    ("figure.p90_hours", "90分位", "90th percentile"),
    ("figure.report_to_close", "报案到结案", "Report to close"),
    ("figure.period", "期间", "Period"),
    ("period.month", "本月", "This month"),
    ("period.quarter", "本季度", "This quarter"),
    ("period.year_to_date", "本年累计", "Year to date"),
    ("period.rolling_12_months", "滚动12个月", "Rolling 12 months"),
    ("figure.written_premium", "签单保费", "Written premium"),
    ("figure.earned_premium", "已赚保费", "Earned premium"),
    ("figure.incurred", "已发生赔款", "Incurred"),
    ("figure.loss_ratio", "赔付率", "Loss ratio"),
    ("figure.commission_ratio", "手续费率", "Commission ratio"),
    ("figure.variable_cost_ratio", "变动成本率", "Variable cost ratio"),
    ("figure.frequency", "出险频度", "Frequency"),
    ("figure.renewal_rate", "续保率", "Renewal rate"),
    ("figure.alerts", "预警", "Alerts"),
    ("figure.trend", "赔付率走势", "Loss ratio trend"),
    ("figure.target", "目标赔付率", "Target"),
    ("figure.claims", "出险件数", "Claims"),
    ("figure.referrals", "送修", "Repair referrals"),
    ("figure.referral_value", "送修金额", "Referred repairs"),
    ("figure.open_overdue", "未结案件 / 超时", "Open claims / overdue"),
    ("figure.upside_down", "倒挂", "Upside down"),
    ("figure.upside_down_help", "送修与赔款超过了保费", "Referred repairs and claims outgrow the premium"),
    ("figure.premium_trend", "保费走势", "Premium by month"),
    ("figure.ratio_trend", "赔付率与手续费率", "Loss ratio and commission ratio"),
    ("figure.claims_by_stage", "各阶段案件", "Claims by stage"),
    ("figure.referrals_vs_premium", "送修与保费", "Repair referrals against premium"),
    ("figure.download_csv", "下载 CSV", "Download CSV"),
    (
        "figure.bands_help",
        "变动成本率 = 赔付率 + 手续费率；≤91% 正常，91–94% 预警，>94% 危险。",
        "Variable cost ratio = loss ratio + commission ratio; ≤ 91% normal, 91–94% warning, > 94% danger.",
    ),
    ("alert.loss_ratio_above_target", "赔付率超目标", "Loss ratio above target"),
    ("alert.variable_cost_warning", "变动成本率预警", "Variable cost ratio: warning"),
    ("alert.variable_cost_danger", "变动成本率危险", "Variable cost ratio: danger"),
    ("alert.upside_down", "倒挂", "Upside down"),
    ("alert.overdue_claims", "超时案件", "Overdue claims"),
    ("alert.loss_ratio_rising", "赔付率连续上升", "Loss ratio rising"),
    ("nav.claims", "理赔", "Claims"),
    ("home.open_claims", "未结案件", "Open claims"),
    ("home.overdue_claims", "超时案件", "Overdue claims"),
    ("home.open_alerts", "待处理预警", "Alerts to act on"),
    ("nav.report_claim", "报案", "Report a claim"),
    ("claims.board", "按阶段", "By stage"),
    ("claims.age", "在本阶段时长", "Time in stage"),
    ("claims.all_dealers", "全部门店", "All stores"),
    ("claims.all_stages", "全部阶段", "All stages"),
    ("claims.open_stages", "未结案件", "Open claims"),
    ("claims.last_30_days", "近30天", "last 30 days"),
    ("claims.any_age", "不限时长", "Any age"),
    ("claims.in_stage", "本阶段已用", "In stage"),
    ("claims.mine", "只看分配给我的", "Assigned to me"),
    ("claims.none", "没有符合条件的案件", "No claims match"),
    ("claims.overdue", "超时", "overdue"),
    ("claims.overdue_only", "只看超时", "Overdue only"),
    ("claims.search", "案件号、车牌或车架号", "Claim no., plate or VIN"),
    ("claim.accident", "出险经过", "The accident"),
    ("claim.accident_at", "出险时间", "Accident time"),
    ("claim.add_item", "添加定损项目", "Add loss item"),
    ("claim.amount", "金额", "Amount"),
    (
        "claim.approval_help",
        "该理算金额超出提交人的权限，需由权限足够的另一位理赔员审批。",
        "This settlement is above the proposer's authority: another adjuster with enough authority approves it.",
    ),
    ("claim.approve", "审批理算", "Approve settlement"),
    (
        "claim.awaiting_other_approver",
        "理算金额超出您的权限，已提交给权限足够的其他理赔员审批。",
        "The settlement is above your authority and waits for another adjuster with enough authority.",
    ),
    ("claim.assessed", "定损金额", "Assessed"),
    ("claim.assessed_default", "默认 数量×单价", "quantity × unit price"),
    ("claim.at_fault_limits", "交强险有责限额", "Compulsory at-fault limits"),
    ("claim.not_at_fault_limits", "交强险无责限额", "Compulsory not-at-fault limits"),
    ("claim.attach", "上传照片或单证", "Attach photo or document"),
    ("claim.before_limit", "限额前金额", "Before limit"),
    ("claim.calculate", "计算理算", "Calculate settlement"),
    ("claim.category", "损失类别", "Loss category"),
    ("claim.change_reserve", "调整估损", "Change reserve"),
    (
        "claim.close_help",
        "结案后未决估损释放为零，案卷只读，除非重开。",
        "Closing releases the reserves to zero; the file is read-only until reopened.",
    ),
    ("claim.decline_reason", "拒赔原因", "Reason for declining"),
    ("claim.deductible", "免赔额", "Deductible"),
    ("claim.description", "事故经过", "What happened"),
    ("claim.documents", "照片与单证", "Photos and documents"),
    ("claim.handler", "处理人", "Handler"),
    ("claim.item", "项目", "Item"),
    ("claim.kind", "类型", "Kind"),
    ("claim.liability_share", "责任比例", "Liability share"),
    ("claim.liability_share_percent", "被保险人责任比例（%）", "Insured's liability share (%)"),
    ("claim.loss_items", "定损项目", "Loss items"),
    ("claim.me", "我", "Me"),
    ("claim.movements", "估损变动记录", "Reserve movements"),
    ("claim.new_reserve", "新估损金额", "New reserve"),
    ("claim.next_steps", "下一步", "Next steps"),
    ("claim.no_documents", "尚无照片或单证", "No photos or documents yet"),
    ("claim.no_loss_items", "尚无定损项目", "No loss items yet"),
    ("claim.note", "备注", "Note"),
    ("claim.number", "案件号", "Claim no."),
    ("claim.or_policy_no", "或保单号", "or policy number"),
    ("claim.paid", "已赔付", "Paid"),
    ("claim.paid_by_compulsory", "交强险已承担", "Paid by compulsory"),
    ("claim.paid_on", "支付日期", "Paid on"),
    ("claim.pay", "登记支付", "Record payment"),
    ("claim.payable", "应赔金额", "Payable"),
    ("claim.payee", "收款人", "Payee"),
    ("claim.payments", "支付记录", "Payments"),
    ("claim.place", "出险地点", "Place"),
    ("claim.policy", "保单", "Policy"),
    ("claim.possible_duplicate", "疑似重复报案", "Possible duplicate"),
    ("claim.quantity", "数量", "Quantity"),
    (
        "claim.register_help",
        "填写本案涉及的险别及其初始估损金额。",
        "Enter each coverage hit with its initial reserve.",
    ),
    ("claim.remaining_limit", "剩余限额", "Remaining limit"),
    ("claim.remove", "删除", "Remove"),
    ("claim.reopen_reason", "重开原因", "Why reopen"),
    ("claim.repair_at_dealer", "在本店维修（送修）", "Repair at the dealer's shop (referral)"),
    ("claim.repair_elsewhere", "其他修理厂", "Another repair shop"),
    ("claim.repair_referral", "送修", "Repair referral"),
    ("claim.repair_shop", "修理厂", "Repair shop"),
    ("claim.repair_shop_name", "修理厂名称", "Repair shop name"),
    ("claim.report", "提交报案", "Report"),
    ("claim.report_new", "报案", "Report a claim"),
    ("claim.reporter", "报案人", "Reporter"),
    ("claim.reporter_name", "报案人姓名", "Reporter's name"),
    ("claim.reporter_phone", "报案人手机", "Reporter's mobile"),
    ("claim.reserve", "未决估损", "Reserve"),
    ("claim.reserves", "估损", "Reserves"),
    ("claim.same_file_on", "相同文件也出现在", "Same file also on"),
    ("claim.settlement", "理算", "Settlement"),
    ("claim.share", "比例", "Share"),
    ("claim.signals", "风险提示", "Fraud signals"),
    (
        "claim.signals_note",
        "提示仅供参考，不会单独阻止理赔。",
        "Signals are for attention only; they never block a claim by themselves.",
    ),
    ("claim.stage", "阶段", "Stage"),
    ("claim.surveyor", "查勘员", "Surveyor"),
    ("claim.target", "时效", "target"),
    ("claim.timeline", "处理轨迹", "Timeline"),
    ("claim.total_payable", "合计应赔", "Total payable"),
    ("claim.unit_price", "单价", "Unit price"),
    ("claim.which_vehicle", "哪辆车", "Which vehicle"),
    ("claim_stage.reported", "已报案", "Reported"),
    ("claim_stage.registered", "已立案", "Registered"),
    ("claim_stage.surveyed", "已定损", "Surveyed"),
    ("claim_stage.settled", "已理算", "Settled"),
    ("claim_stage.closed", "已结案", "Closed"),
    ("claim_stage.declined", "已拒赔", "Declined"),
    ("claim_stage.withdrawn", "已撤案", "Withdrawn"),
    ("claim_step.report", "报案", "Report"),
    ("claim_step.register", "立案", "Register"),
    ("claim_step.survey", "完成查勘定损", "Finish survey"),
    ("claim_step.settle", "理算", "Settle"),
    ("claim_step.propose_settlement", "提交理算待审批", "Settlement proposed for approval"),
    ("claim_step.approve_settlement", "审批理算", "Settlement approved"),
    ("claim_step.pay", "支付", "Payment"),
    ("claim_step.update", "更新案卷", "File updated"),
    ("claim_step.close", "结案", "Close"),
    ("claim_step.decline", "拒赔", "Decline"),
    ("claim_step.withdraw", "撤案", "Withdraw"),
    ("claim_step.reopen", "重开", "Reopen"),
    ("coverage.compulsory_death_disability", "交强险死亡伤残", "Compulsory: death and disability"),
    ("coverage.compulsory_medical", "交强险医疗费用", "Compulsory: medical"),
    ("coverage.compulsory_property", "交强险财产损失", "Compulsory: property"),
    ("loss_category.own_vehicle", "本车损失", "Own vehicle"),
    ("loss_category.third_party_property", "三者财产", "Third-party property"),
    ("loss_category.third_party_medical", "三者医疗", "Third-party medical"),
    ("loss_category.third_party_death", "三者死亡伤残", "Third-party death/disability"),
    ("loss_category.driver", "司机人伤", "Driver injury"),
    ("loss_category.passenger", "乘客人伤", "Passenger injury"),
    ("loss_kind.part", "配件", "Part"),
    ("loss_kind.labour", "工时", "Labour"),
    ("loss_kind.other", "其他", "Other"),
    ("movement.initial", "立案估损", "Initial"),
    ("movement.adjust", "调整", "Adjusted"),
    ("movement.settle", "理算", "Settled"),
    ("movement.payment", "支付", "Payment"),
    ("movement.release", "释放", "Released"),
    ("movement.reopen", "重开", "Reopened"),
    ("settlement_status.pending_approval", "待审批", "Awaiting approval"),
    ("settlement_status.approved", "已审批", "Approved"),
    ("settlement_status.superseded", "已作废", "Superseded"),
    ("signal.early_report", "起保后短期出险", "Soon after the policy started"),
    ("signal.repeat_vehicle", "同车频繁出险", "Repeated claims on the vehicle"),
    ("signal.duplicate_document", "重复照片/单证", "Same document on another claim"),
    ("signal.part_price", "配件价格偏高", "Part priced above peers"),
    ("lookup.title", "理赔进度查询", "Claim status"),
    (
        "lookup.intro",
        "输入案件号和车牌号（或身份证号）后 6 位，查看理赔进度。",
        "Enter the claim number and the last 6 characters of the plate (or of the ID number) to see where the claim stands.",
    ),
    ("lookup.not_found", "没有找到匹配的案件，请核对后重试。", "No claim matches; check both entries and try again."),
    ("lookup.submit", "查询", "Look up"),
    ("lookup.tail", "车牌号或身份证号后 6 位", "Last 6 characters of the plate or ID"),
    ("lookup.throttled", "查询过于频繁，请 15 分钟后再试。", "Too many look-ups; try again in 15 minutes."),
    ("lookup.awaiting.reported", "已收到报案，等待保险公司立案。", "Reported; waiting for the insurer to register it."),
    ("lookup.awaiting.registered", "已立案，等待查勘定损。", "Registered; waiting for the survey and loss assessment."),
    ("lookup.awaiting.surveyed", "已定损，等待理算核赔。", "Assessed; waiting for the settlement."),
    ("lookup.awaiting.settled", "已理算，等待赔款支付与结案。", "Settled; waiting for payment and closing."),
    ("lookup.awaiting.closed", "已结案，赔款已处理完毕。", "Closed; nothing more is awaited."),
    (
        "lookup.awaiting.declined",
        "本案已拒赔，详情请联系您的销售顾问或保险公司。",
        "Declined; ask your sales assistant or the insurer for details.",
    ),
    ("lookup.awaiting.withdrawn", "本案已撤销。", "Withdrawn."),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique() {
        assert_eq!(MESSAGES.len(), TABLE.len(), "a key appears twice in the table");
    }

    #[test]
    fn every_key_used_in_templates_and_code_is_translated() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let pattern = "t(\"";
        let mut missing = Vec::new();
        for dir in ["templates", "src"] {
            for path in files(&root.join(dir)) {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                for (index, _) in text.match_indices(pattern) {
                    let rest = &text[index + pattern.len()..];
                    let key: String = rest.chars().take_while(|c| *c != '"').collect();
                    let looks_like_key =
                        key.contains('.') && key.chars().all(|c| c.is_ascii_lowercase() || c == '.' || c == '_');
                    if looks_like_key && !MESSAGES.contains_key(key.as_str()) {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
    }

    fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() { found.extend(files(&path)) } else { found.push(path) }
        }
        found
    }

    #[test]
    fn browsers_preference_picks_the_language() {
        assert_eq!(Lang::from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"), Some(Lang::Zh));
        assert_eq!(Lang::from_accept_language("fr-FR,en;q=0.5"), Some(Lang::En));
        assert_eq!(Lang::from_accept_language("fr-FR"), None);
        assert_eq!(Lang::from_accept_language("en;q=0, zh;q=0.1"), Some(Lang::Zh));
    }

    #[test]
    fn both_languages_differ_for_page_titles() {
        assert_eq!(Tr(Lang::Zh).t("login.title"), "登录");
        assert_eq!(Tr(Lang::En).t("login.title"), "Sign in");
    }
}
