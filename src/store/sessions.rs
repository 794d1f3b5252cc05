//! Sign-in, sessions and sign-in throttling, all in the database so that
//! several instances can serve one PostgreSQL behind a load balancer.

use std::sync::LazyLock;

use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult,
    JoinType, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use sha2::{Digest, Sha256};

use crate::domain::auth::{Role, Scope, hash_password, verify_password};
use crate::error::{AppError, AppResult};
use crate::store::begin_write;
use entity::{dealers, login_failures, sessions, user_dealers, users};

use super::audit::{self, Actor, Change};
use super::now;

/// Browser sessions carry a cookie and need CSRF tokens; API sessions a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    Web,
    Api,
}

impl SessionKind {
    fn as_str(self) -> &'static str {
        match self {
            SessionKind::Web => "web",
            SessionKind::Api => "api",
        }
    }
}

/// The signed-in user of a request, with the dealers they may see.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub session_id: String,
    pub kind: SessionKind,
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub scope: Scope,
    pub csrf_token: String,
}

impl SessionUser {
    pub fn actor(&self, ip: Option<String>) -> Actor {
        Actor { user_id: Some(self.user_id), name: self.username.clone(), ip }
    }
}

/// Limits on sign-in attempts and how long a session lasts.
#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub max_failures_per_account: u32,
    pub max_failures_per_ip: u32,
    pub lock_window: Duration,
    pub session_ttl: Duration,
}

pub struct LoginAttempt<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub ip: &'a str,
    pub user_agent: Option<&'a str>,
    pub kind: SessionKind,
}

/// A fresh session: the token goes to the client once and is stored only as its hash.
pub struct NewSession {
    pub token: String,
    pub user: SessionUser,
}

/// Checks the password, within the throttling limits, and opens a new session.
/// Unknown users, disabled users and wrong passwords all get the same answer.
pub async fn login(db: &DatabaseConnection, policy: &LoginPolicy, attempt: LoginAttempt<'_>) -> AppResult<NewSession> {
    let username: String = attempt.username.trim().chars().take(64).collect();
    check_throttle(db, policy, &username, attempt.ip).await?;

    let account = super::users::find_by_username(db, &username).await?;
    let stored_hash = account.as_ref().map(|u| u.password_hash.clone());
    let password = attempt.password.to_string();
    // Verify even for unknown users so that timing does not reveal which usernames exist.
    let password_ok = tokio::task::spawn_blocking(move || {
        verify_password(&password, stored_hash.as_deref().unwrap_or(DUMMY_HASH.as_str()))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;

    let ip = attempt.ip.chars().take(64).collect::<String>();
    let tx = begin_write(db).await?;
    let account = match account {
        Some(user) if password_ok && !user.disabled => user,
        _ => {
            login_failures::Entity::insert(login_failures::ActiveModel {
                username: Set(username.clone()),
                ip: Set(ip.clone()),
                at: Set(now()),
                ..Default::default()
            })
            .exec(&tx)
            .await?;
            let actor = Actor { user_id: account.as_ref().map(|u| u.id), name: username.clone(), ip: Some(ip) };
            audit::append(&tx, &actor, Change::new("login_failed", "session", &username)).await?;
            tx.commit().await?;
            return Err(AppError::BadCredentials);
        }
    };

    login_failures::Entity::delete_many().filter(login_failures::Column::Username.eq(&username)).exec(&tx).await?;
    let token = new_token();
    let session_id = token_hash(&token);
    let csrf_token = new_token();
    let at = now();
    sessions::Entity::insert(sessions::ActiveModel {
        id: Set(session_id.clone()),
        user_id: Set(account.id),
        kind: Set(attempt.kind.as_str().to_string()),
        csrf_token: Set(csrf_token.clone()),
        created_at: Set(at),
        expires_at: Set(at + policy.session_ttl),
        last_seen_at: Set(at),
        revoked_at: Set(None),
        ip: Set(Some(ip.clone())),
        user_agent: Set(attempt.user_agent.map(|ua| ua.chars().take(256).collect())),
    })
    .exec_without_returning(&tx)
    .await?;
    let actor = Actor { user_id: Some(account.id), name: account.username.clone(), ip: Some(ip) };
    let change = Change::new("login", "session", &account.username)
        .after(&serde_json::json!({ "kind": attempt.kind.as_str(), "session": &session_id[..12] }));
    audit::append(&tx, &actor, change).await?;
    let role = super::users::parse_role(&account.role)?;
    let scope = scope_of(&tx, account.id, role).await?;
    tx.commit().await?;
    Ok(NewSession {
        token,
        user: SessionUser {
            session_id,
            kind: attempt.kind,
            user_id: account.id,
            username: account.username,
            display_name: account.display_name,
            role,
            scope,
            csrf_token,
        },
    })
}

/// A real hash of a password no one has, to spend the same time on unknown users.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_password("no user has this password").unwrap_or_default());

async fn check_throttle(db: &DatabaseConnection, policy: &LoginPolicy, username: &str, ip: &str) -> AppResult<()> {
    let since = now() - policy.lock_window;
    let checks = [
        (login_failures::Column::Username, username, policy.max_failures_per_account),
        (login_failures::Column::Ip, ip, policy.max_failures_per_ip),
    ];
    for (column, value, limit) in checks {
        let recent =
            login_failures::Entity::find().filter(column.eq(value)).filter(login_failures::Column::At.gte(since));
        let count = recent.clone().count(db).await?;
        if count < u64::from(limit) {
            continue;
        }
        let oldest: Option<DateTime<Utc>> =
            recent.order_by_asc(login_failures::Column::At).one(db).await?.map(|failure| failure.at);
        let unlock_at = oldest.unwrap_or_else(now) + policy.lock_window;
        let retry_after_secs = (unlock_at - now()).num_seconds().max(1) as u64;
        return Err(AppError::TooManyRequests { retry_after_secs });
    }
    Ok(())
}

/// The session behind a token, if it is live and its user still enabled.
/// Activity slides the expiry forward, written at most every few minutes.
pub async fn authenticate(db: &DatabaseConnection, token: &str, ttl: Duration) -> AppResult<Option<SessionUser>> {
    let session_id = token_hash(token);
    // Session, user and the dealers in scope in one round trip: every request passes here.
    let session_user =
        sessions::Entity::belongs_to(users::Entity).from(sessions::Column::UserId).to(users::Column::Id).into();
    let backend = db.get_database_backend();
    let dealer_list = |column: &str, table: &str, owner: &str| {
        let list = match backend {
            DbBackend::Postgres => format!(r#"string_agg(CAST("{column}" AS TEXT), ',')"#),
            _ => format!(r#"group_concat("{column}", ',')"#),
        };
        Expr::cust(format!(r#"(SELECT {list} FROM "{table}" WHERE "{table}"."{owner}" = "sessions"."user_id")"#))
    };
    let query = sessions::Entity::find_by_id(session_id.clone())
        .select_also(users::Entity)
        .join(JoinType::InnerJoin, session_user)
        .expr_as(dealer_list("dealer_id", "user_dealers", "user_id"), "tied_dealers")
        .expr_as(dealer_list("id", "dealers", "channel_manager_id"), "managed_dealers")
        .build(backend);
    let Some(found) = db.query_one_raw(query).await? else {
        return Ok(None);
    };
    let session = sessions::Model::from_query_result(&found, "A_")?;
    let user = users::Model::from_query_result(&found, "B_")?;
    let tied: Option<String> = found.try_get("", "tied_dealers")?;
    let managed: Option<String> = found.try_get("", "managed_dealers")?;
    let at = now();
    if session.revoked_at.is_some() || session.expires_at <= at {
        return Ok(None);
    }
    if user.disabled {
        return Ok(None);
    }
    if at - session.last_seen_at > Duration::minutes(5) {
        sessions::Entity::update_many()
            .col_expr(sessions::Column::LastSeenAt, Expr::value(at))
            .col_expr(sessions::Column::ExpiresAt, Expr::value(at + ttl))
            .filter(sessions::Column::Id.eq(session_id.clone()))
            .exec(db)
            .await?;
    }
    let role = super::users::parse_role(&user.role)?;
    let kind = if session.kind == "api" { SessionKind::Api } else { SessionKind::Web };
    Ok(Some(SessionUser {
        session_id,
        kind,
        user_id: user.id,
        username: user.username,
        display_name: user.display_name,
        role,
        scope: scope_from_lists(role, tied.as_deref(), managed.as_deref())?,
        csrf_token: session.csrf_token,
    }))
}

/// `scope_of` from the comma-separated dealer lists read with the session.
fn scope_from_lists(role: Role, tied: Option<&str>, managed: Option<&str>) -> AppResult<Scope> {
    if role.sees_all_dealers() {
        return Ok(Scope::All);
    }
    let list = if role == Role::ChannelManager { managed } else { tied };
    let mut ids = list
        .unwrap_or_default()
        .split(',')
        .filter(|id| !id.is_empty())
        .map(|id| id.parse::<i64>().map_err(|e| AppError::Internal(anyhow::anyhow!("dealer id {id:?}: {e}"))))
        .collect::<AppResult<Vec<i64>>>()?;
    ids.sort_unstable();
    Ok(Scope::Dealers(ids))
}

/// Ends one session, or with `everywhere` every session of the user.
pub async fn logout(
    db: &DatabaseConnection,
    user: &SessionUser,
    ip: Option<String>,
    everywhere: bool,
) -> AppResult<u64> {
    let tx = begin_write(db).await?;
    let ended = if everywhere {
        super::users::revoke_sessions(&tx, user.user_id).await?
    } else {
        sessions::Entity::update_many()
            .col_expr(sessions::Column::RevokedAt, Expr::value(Some(now())))
            .filter(sessions::Column::Id.eq(user.session_id.clone()))
            .exec(&tx)
            .await?
            .rows_affected
    };
    let action = if everywhere { "logout_everywhere" } else { "logout" };
    let change = Change::new(action, "session", &user.username).after(&serde_json::json!({ "sessions_ended": ended }));
    audit::append(&tx, &user.actor(ip), change).await?;
    tx.commit().await?;
    Ok(ended)
}

/// The dealers a user may see: all for head office, owned ones for channel
/// managers, the tied ones for store staff.
pub async fn scope_of(db: &impl ConnectionTrait, user_id: i64, role: Role) -> AppResult<Scope> {
    if role.sees_all_dealers() {
        return Ok(Scope::All);
    }
    let ids: Vec<i64> = if role == Role::ChannelManager {
        dealers::Entity::find()
            .select_only()
            .column(dealers::Column::Id)
            .filter(dealers::Column::ChannelManagerId.eq(user_id))
            .order_by_asc(dealers::Column::Id)
            .into_tuple()
            .all(db)
            .await?
    } else {
        user_dealers::Entity::find()
            .select_only()
            .column(user_dealers::Column::DealerId)
            .filter(user_dealers::Column::UserId.eq(user_id))
            .order_by_asc(user_dealers::Column::DealerId)
            .into_tuple()
            .all(db)
            .await?
    };
    Ok(Scope::Dealers(ids))
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Sessions are stored under the SHA-256 of their token, so a leaked table signs no one in.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Ends the session behind a token, if any (a browser signing in again).
pub async fn revoke_token(db: &DatabaseConnection, token: &str) -> AppResult<()> {
    sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(Some(now())))
        .filter(sessions::Column::Id.eq(token_hash(token)))
        .filter(sessions::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_comes_from_the_list_the_role_uses() {
        let (tied, managed) = (Some("7,3"), Some("12"));
        assert_eq!(scope_from_lists(Role::Administrator, tied, managed).unwrap(), Scope::All);
        assert_eq!(scope_from_lists(Role::ClaimsAdjuster, None, None).unwrap(), Scope::All);
        assert_eq!(scope_from_lists(Role::ChannelManager, tied, managed).unwrap(), Scope::Dealers(vec![12]));
        assert_eq!(scope_from_lists(Role::SalesAssistant, tied, managed).unwrap(), Scope::Dealers(vec![3, 7]));
        assert_eq!(scope_from_lists(Role::DealerStaff, None, managed).unwrap(), Scope::Dealers(vec![]));
        assert!(scope_from_lists(Role::DealerStaff, Some("1,x"), None).is_err());
    }
}
