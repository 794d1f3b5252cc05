//! Users, the dealers store staff are tied to, and sales qualifications.

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;

use crate::domain::auth::{Role, username_problem};
use crate::domain::money::{from_fen, to_fen_non_negative};
use crate::error::{AppError, AppResult, FieldError};
use entity::{dealers, sales_qualifications, sessions, user_dealers, users};

use super::audit::{self, Actor, Change};
use super::{Page, PageRequest, now};

/// A dealer named by code and name, as shown beside a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct DealerRef {
    pub id: i64,
    pub code: String,
    pub name: String,
}

/// A sales qualification certificate (销售从业资格).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Qualification {
    pub certificate_no: String,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
}

/// A user as administrators see it; never carries the password hash.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
    /// Claims settlement authority in CNY; none means no authority.
    #[schema(value_type = Option<String>, example = "50000.00")]
    pub authority_limit: Option<Decimal>,
    /// Optimistic-lock version: send it back with a change.
    pub version: i32,
    /// Stores a sales assistant or dealer staff works for.
    pub dealers: Vec<DealerRef>,
    pub qualifications: Vec<Qualification>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A new user; the password is already hashed (hashing is slow and stays out of transactions).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub password_hash: String,
    pub dealer_codes: Vec<String>,
    pub authority_limit: Option<Decimal>,
}

/// A change to a user; fields left `None` stay as they are.
#[derive(Debug, Clone, Default)]
pub struct UserChange {
    pub version: i32,
    pub display_name: Option<String>,
    pub disabled: Option<bool>,
    pub authority_limit: Option<Option<Decimal>>,
    pub dealer_codes: Option<Vec<String>>,
    pub password_hash: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub role: Option<Role>,
    pub search: Option<String>,
}

/// Creates a user inside the caller's transaction, refusing every invalid field at once.
pub async fn create(tx: &impl ConnectionTrait, actor: &Actor, new: NewUser) -> AppResult<User> {
    let mut errors = Vec::new();
    check_username(tx, &new.username, &mut errors).await?;
    check_display_name(&new.display_name, &mut errors);
    let dealer_ids = resolve_dealers(tx, new.role, &new.dealer_codes, &mut errors).await?;
    let authority_fen = authority_fen(new.authority_limit, &mut errors);
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }
    let at = now();
    let inserted = users::Entity::insert(users::ActiveModel {
        username: Set(new.username),
        display_name: Set(new.display_name.trim().to_string()),
        role: Set(new.role.as_str().to_string()),
        password_hash: Set(new.password_hash),
        disabled: Set(false),
        authority_limit_fen: Set(authority_fen),
        version: Set(1),
        created_at: Set(at),
        updated_at: Set(at),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    let id = inserted.last_insert_id;
    link_dealers(tx, id, &dealer_ids).await?;
    let user = get(tx, id).await?;
    audit::append(tx, actor, Change::new("create", "user", id).after(&user)).await?;
    Ok(user)
}

/// Applies a change if `change.version` is still current; a concurrent change makes this one fail with 409.
pub async fn update(tx: &impl ConnectionTrait, actor: &Actor, id: i64, change: UserChange) -> AppResult<User> {
    let before = get(tx, id).await?;
    if before.version != change.version {
        return Err(AppError::stale_version());
    }
    let mut errors = Vec::new();
    if let Some(name) = &change.display_name {
        check_display_name(name, &mut errors);
    }
    let dealer_ids = match &change.dealer_codes {
        Some(codes) => Some(resolve_dealers(tx, before.role, codes, &mut errors).await?),
        None => None,
    };
    let authority = change.authority_limit.map(|limit| authority_fen(limit, &mut errors));
    if !errors.is_empty() {
        return Err(AppError::Validation(errors));
    }

    let mut update = users::Entity::update_many()
        .col_expr(users::Column::Version, Expr::col(users::Column::Version).add(1))
        .col_expr(users::Column::UpdatedAt, Expr::value(now()))
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::Version.eq(change.version));
    if let Some(name) = change.display_name {
        update = update.col_expr(users::Column::DisplayName, Expr::value(name.trim().to_string()));
    }
    if let Some(disabled) = change.disabled {
        update = update.col_expr(users::Column::Disabled, Expr::value(disabled));
    }
    if let Some(fen) = authority {
        update = update.col_expr(users::Column::AuthorityLimitFen, Expr::value(fen));
    }
    if let Some(hash) = change.password_hash {
        update = update.col_expr(users::Column::PasswordHash, Expr::value(hash));
    }
    if update.exec(tx).await?.rows_affected == 0 {
        return Err(AppError::stale_version());
    }
    if let Some(ids) = dealer_ids {
        user_dealers::Entity::delete_many().filter(user_dealers::Column::UserId.eq(id)).exec(tx).await?;
        link_dealers(tx, id, &ids).await?;
    }
    if change.disabled == Some(true) {
        revoke_sessions(tx, id).await?;
    }
    let after = get(tx, id).await?;
    audit::append(tx, actor, Change::new("update", "user", id).before(&before).after(&after)).await?;
    Ok(after)
}

/// Ends every sign-in of a user (disabled account, "sign out everywhere").
pub async fn revoke_sessions(tx: &impl ConnectionTrait, user_id: i64) -> AppResult<u64> {
    let result = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(Some(now())))
        .filter(sessions::Column::UserId.eq(user_id))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(tx)
        .await?;
    Ok(result.rows_affected)
}

/// Records a sales qualification certificate for a user.
pub async fn add_qualification(
    tx: &impl ConnectionTrait,
    actor: &Actor,
    user_id: i64,
    qualification: Qualification,
) -> AppResult<()> {
    if qualification.valid_to < qualification.valid_from {
        return Err(AppError::field("valid_to", "before_start", "a certificate cannot expire before it starts"));
    }
    if qualification.certificate_no.trim().is_empty() {
        return Err(AppError::field("certificate_no", "required", "the certificate number is required"));
    }
    if get(tx, user_id).await?.role != Role::SalesAssistant {
        return Err(AppError::field("user", "not_a_seller", "only sales assistants hold sales qualifications"));
    }
    let taken = sales_qualifications::Entity::find()
        .filter(sales_qualifications::Column::CertificateNo.eq(qualification.certificate_no.as_str()))
        .count(tx)
        .await?;
    if taken > 0 {
        return Err(AppError::field("certificate_no", "taken", "this certificate number is already recorded"));
    }
    sales_qualifications::Entity::insert(sales_qualifications::ActiveModel {
        user_id: Set(user_id),
        certificate_no: Set(qualification.certificate_no.clone()),
        valid_from: Set(qualification.valid_from),
        valid_to: Set(qualification.valid_to),
        created_at: Set(now()),
        ..Default::default()
    })
    .exec(tx)
    .await?;
    audit::append(tx, actor, Change::new("add_qualification", "user", user_id).after(&qualification)).await?;
    Ok(())
}

pub async fn get(db: &impl ConnectionTrait, id: i64) -> AppResult<User> {
    let row = users::Entity::find_by_id(id).one(db).await?.ok_or(AppError::NotFound)?;
    let dealer_ids: Vec<i64> = user_dealers::Entity::find()
        .filter(user_dealers::Column::UserId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|link| link.dealer_id)
        .collect();
    let dealers = dealers::Entity::find()
        .filter(dealers::Column::Id.is_in(dealer_ids))
        .order_by_asc(dealers::Column::Code)
        .all(db)
        .await?
        .into_iter()
        .map(|d| DealerRef { id: d.id, code: d.code, name: d.name })
        .collect();
    let qualifications = sales_qualifications::Entity::find()
        .filter(sales_qualifications::Column::UserId.eq(id))
        .order_by_desc(sales_qualifications::Column::ValidTo)
        .all(db)
        .await?
        .into_iter()
        .map(|q| Qualification { certificate_no: q.certificate_no, valid_from: q.valid_from, valid_to: q.valid_to })
        .collect();
    Ok(User {
        id: row.id,
        role: parse_role(&row.role)?,
        username: row.username,
        display_name: row.display_name,
        disabled: row.disabled,
        authority_limit: row.authority_limit_fen.map(from_fen),
        version: row.version,
        dealers,
        qualifications,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

pub async fn find_by_username(db: &impl ConnectionTrait, username: &str) -> AppResult<Option<users::Model>> {
    Ok(users::Entity::find().filter(users::Column::Username.eq(username)).one(db).await?)
}

/// A user in a list.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub disabled: bool,
}

pub async fn list(db: &DatabaseConnection, filter: &UserFilter, paging: PageRequest) -> AppResult<Page<UserSummary>> {
    let mut query = users::Entity::find();
    if let Some(role) = filter.role {
        query = query.filter(users::Column::Role.eq(role.as_str()));
    }
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = format!("%{}%", search.replace(['%', '_'], ""));
        query = query.filter(
            sea_orm::Condition::any()
                .add(users::Column::Username.like(&pattern))
                .add(users::Column::DisplayName.like(&pattern)),
        );
    }
    let total = query.clone().count(db).await?;
    let rows =
        query.order_by_asc(users::Column::Username).offset(paging.offset()).limit(paging.per_page).all(db).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            Ok(UserSummary {
                id: row.id,
                role: parse_role(&row.role)?,
                username: row.username,
                display_name: row.display_name,
                disabled: row.disabled,
            })
        })
        .collect::<AppResult<Vec<_>>>()?;
    Ok(Page { items, total, page: paging.page, per_page: paging.per_page })
}

pub(crate) fn parse_role(name: &str) -> AppResult<Role> {
    Role::parse(name).ok_or_else(|| AppError::Internal(anyhow::anyhow!("unknown role {name:?} in the database")))
}

/// What `create` would refuse in these fields, for forms that report every problem at once.
pub async fn new_user_problems(
    db: &impl ConnectionTrait,
    username: &str,
    display_name: &str,
    role: Option<Role>,
    dealer_codes: &[String],
) -> AppResult<Vec<FieldError>> {
    let mut errors = Vec::new();
    check_username(db, username, &mut errors).await?;
    check_display_name(display_name, &mut errors);
    if let Some(role) = role {
        resolve_dealers(db, role, dealer_codes, &mut errors).await?;
    }
    Ok(errors)
}

async fn check_username(db: &impl ConnectionTrait, username: &str, errors: &mut Vec<FieldError>) -> AppResult<()> {
    if let Some(problem) = username_problem(username) {
        errors.push(FieldError::new("username", "invalid", problem));
    } else if users::Entity::find().filter(users::Column::Username.eq(username)).count(db).await? > 0 {
        errors.push(FieldError::new("username", "taken", "this username is already in use"));
    }
    Ok(())
}

fn check_display_name(name: &str, errors: &mut Vec<FieldError>) {
    let chars = name.trim().chars().count();
    if chars == 0 || chars > 64 {
        errors.push(FieldError::new("display_name", "invalid", "the display name is 1 to 64 characters"));
    }
}

fn authority_fen(limit: Option<Decimal>, errors: &mut Vec<FieldError>) -> Option<i64> {
    let limit = limit?;
    match to_fen_non_negative(limit) {
        Ok(fen) => Some(fen),
        Err(e) => {
            errors.push(FieldError::new("authority_limit", "invalid_amount", e.to_string()));
            None
        }
    }
}

/// Store staff must be tied to at least one dealer; other roles to none
/// (channel managers own dealers through the dealer record instead).
async fn resolve_dealers(
    db: &impl ConnectionTrait,
    role: Role,
    codes: &[String],
    errors: &mut Vec<FieldError>,
) -> AppResult<Vec<i64>> {
    if role.is_tied_to_dealers() && codes.is_empty() {
        errors.push(FieldError::new(
            "dealers",
            "required",
            "sales assistants and dealer staff work for at least one dealer",
        ));
        return Ok(Vec::new());
    }
    if !role.is_tied_to_dealers() && !codes.is_empty() {
        errors.push(FieldError::new(
            "dealers",
            "not_allowed",
            "only sales assistants and dealer staff are tied to dealers",
        ));
        return Ok(Vec::new());
    }
    let found = dealers::Entity::find().filter(dealers::Column::Code.is_in(codes.iter().cloned())).all(db).await?;
    let mut ids = Vec::with_capacity(codes.len());
    for (i, code) in codes.iter().enumerate() {
        match found.iter().find(|d| &d.code == code) {
            Some(dealer) if !ids.contains(&dealer.id) => ids.push(dealer.id),
            Some(_) => {}
            None => errors.push(FieldError::new(
                format!("dealers[{i}]"),
                "unknown_dealer",
                format!("no dealer has the code {code:?}"),
            )),
        }
    }
    Ok(ids)
}

async fn link_dealers(tx: &impl ConnectionTrait, user_id: i64, dealer_ids: &[i64]) -> AppResult<()> {
    if dealer_ids.is_empty() {
        return Ok(());
    }
    let links = dealer_ids
        .iter()
        .map(|&dealer_id| user_dealers::ActiveModel { user_id: Set(user_id), dealer_id: Set(dealer_id) });
    user_dealers::Entity::insert_many(links).exec_without_returning(tx).await?;
    Ok(())
}

/// A user's role, for a rule that depends on who acts; none for the system or an unknown user.
pub async fn role_of(db: &impl ConnectionTrait, user_id: Option<i64>) -> AppResult<Option<Role>> {
    let Some(id) = user_id else { return Ok(None) };
    let user = users::Entity::find_by_id(id).one(db).await?;
    Ok(user.and_then(|u| Role::parse(&u.role)))
}

/// Active users of a role, by display name: for pickers (handler, surveyor).
pub async fn active_with_role(db: &impl ConnectionTrait, role: Role) -> AppResult<Vec<(i64, String)>> {
    Ok(users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::DisplayName)
        .filter(users::Column::Role.eq(role.as_str()))
        .filter(users::Column::Disabled.eq(false))
        .order_by_asc(users::Column::DisplayName)
        .into_tuple()
        .all(db)
        .await?)
}

/// The sales assistants working at a dealer, with their qualifications.
pub async fn sellers_of(db: &impl ConnectionTrait, dealer_id: i64) -> AppResult<Vec<User>> {
    let ids: Vec<i64> = user_dealers::Entity::find()
        .select_only()
        .column(user_dealers::Column::UserId)
        .filter(user_dealers::Column::DealerId.eq(dealer_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut sellers = Vec::new();
    for id in ids {
        let user = get(db, id).await?;
        if user.role == Role::SalesAssistant {
            sellers.push(user);
        }
    }
    sellers.sort_by(|a, b| a.username.cmp(&b.username));
    Ok(sellers)
}

/// Whether a user works at one of the dealers in `scope` (channel managers maintain only theirs).
pub async fn works_in_scope(
    db: &impl ConnectionTrait,
    user_id: i64,
    scope: &crate::domain::auth::Scope,
) -> AppResult<bool> {
    let dealers: Vec<i64> = user_dealers::Entity::find()
        .select_only()
        .column(user_dealers::Column::DealerId)
        .filter(user_dealers::Column::UserId.eq(user_id))
        .into_tuple()
        .all(db)
        .await?;
    Ok(dealers.iter().any(|d| scope.allows(*d)))
}

/// Display names of users by id (for lists that name who did what).
pub(crate) async fn display_names(
    db: &impl ConnectionTrait,
    ids: &[i64],
) -> AppResult<std::collections::HashMap<i64, String>> {
    if ids.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows: Vec<(i64, String)> = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::DisplayName)
        .filter(users::Column::Id.is_in(ids.to_vec()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}
