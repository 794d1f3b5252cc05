//! Foundation schema: users and their dealers, sessions, sign-in throttling,
//! the hash-chained audit trail and idempotency keys.
//!
//! Money is stored as integer fen (BIGINT) everywhere: sea-orm maps `Decimal`
//! to REAL on SQLite, which is a float.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The chain's genesis hash: what the first audit record points back to.
const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(big_pk_auto(Users::Id))
                    .col(string_len_uniq(Users::Username, 64))
                    .col(string_len(Users::DisplayName, 128))
                    .col(string_len(Users::Role, 32))
                    .col(string(Users::PasswordHash))
                    .col(boolean(Users::Disabled).default(false))
                    .col(big_integer_null(Users::AuthorityLimitFen))
                    .col(integer(Users::Version).default(1))
                    .col(timestamp_with_time_zone(Users::CreatedAt))
                    .col(timestamp_with_time_zone(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Dealers::Table)
                    .col(big_pk_auto(Dealers::Id))
                    .col(string_len_uniq(Dealers::Code, 32))
                    .col(string_len(Dealers::Name, 128))
                    .col(string_len(Dealers::DealerGroup, 128))
                    .col(string_len(Dealers::Region, 64))
                    .col(text(Dealers::Brands))
                    .col(boolean(Dealers::HasRepairShop).default(false))
                    .col(string_len(Dealers::Status, 16))
                    .col(big_integer_null(Dealers::ChannelManagerId))
                    .col(integer(Dealers::Version).default(1))
                    .col(timestamp_with_time_zone(Dealers::CreatedAt))
                    .col(timestamp_with_time_zone(Dealers::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_dealers_channel_manager")
                            .from(Dealers::Table, Dealers::ChannelManagerId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, Dealers::Table, "idx_dealers_channel_manager", &[Dealers::ChannelManagerId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(UserDealers::Table)
                    .col(big_integer(UserDealers::UserId))
                    .col(big_integer(UserDealers::DealerId))
                    .primary_key(Index::create().col(UserDealers::UserId).col(UserDealers::DealerId))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_dealers_user")
                            .from(UserDealers::Table, UserDealers::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_dealers_dealer")
                            .from(UserDealers::Table, UserDealers::DealerId)
                            .to(Dealers::Table, Dealers::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, UserDealers::Table, "idx_user_dealers_dealer", &[UserDealers::DealerId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(SalesQualifications::Table)
                    .col(big_pk_auto(SalesQualifications::Id))
                    .col(big_integer(SalesQualifications::UserId))
                    .col(string_len_uniq(SalesQualifications::CertificateNo, 64))
                    .col(date(SalesQualifications::ValidFrom))
                    .col(date(SalesQualifications::ValidTo))
                    .col(timestamp_with_time_zone(SalesQualifications::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sales_qualifications_user")
                            .from(SalesQualifications::Table, SalesQualifications::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, SalesQualifications::Table, "idx_sales_qualifications_user", &[SalesQualifications::UserId])
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Sessions::Table)
                    .col(string_len(Sessions::Id, 64).primary_key())
                    .col(big_integer(Sessions::UserId))
                    .col(string_len(Sessions::Kind, 8))
                    .col(string_len(Sessions::CsrfToken, 64))
                    .col(timestamp_with_time_zone(Sessions::CreatedAt))
                    .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                    .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                    .col(timestamp_with_time_zone_null(Sessions::RevokedAt))
                    .col(string_len_null(Sessions::Ip, 64))
                    .col(string_len_null(Sessions::UserAgent, 256))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_sessions_user")
                            .from(Sessions::Table, Sessions::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        index(manager, Sessions::Table, "idx_sessions_user", &[Sessions::UserId]).await?;

        manager
            .create_table(
                Table::create()
                    .table(LoginFailures::Table)
                    .col(big_pk_auto(LoginFailures::Id))
                    .col(string_len(LoginFailures::Username, 64))
                    .col(string_len(LoginFailures::Ip, 64))
                    .col(timestamp_with_time_zone(LoginFailures::At))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            LoginFailures::Table,
            "idx_login_failures_username",
            &[LoginFailures::Username, LoginFailures::At],
        )
        .await?;
        index(manager, LoginFailures::Table, "idx_login_failures_ip", &[LoginFailures::Ip, LoginFailures::At]).await?;

        // Ids are assigned by the chain head, gapless, so a deleted record shows as a gap.
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(big_integer(AuditLog::Id).primary_key())
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(big_integer_null(AuditLog::ActorId))
                    .col(string_len(AuditLog::Actor, 64))
                    .col(string_len(AuditLog::Action, 64))
                    .col(string_len(AuditLog::Entity, 64))
                    .col(string_len_null(AuditLog::EntityId, 64))
                    // Text, not JSON: the hash covers the exact bytes, and jsonb would reorder keys.
                    .col(text_null(AuditLog::BeforeJson))
                    .col(text_null(AuditLog::AfterJson))
                    .col(string_len_null(AuditLog::Ip, 64))
                    .col(string_len(AuditLog::PrevHash, 64))
                    .col(string_len(AuditLog::Hash, 64))
                    .to_owned(),
            )
            .await?;
        index(manager, AuditLog::Table, "idx_audit_log_entity", &[AuditLog::Entity, AuditLog::EntityId]).await?;
        index(manager, AuditLog::Table, "idx_audit_log_actor", &[AuditLog::ActorId]).await?;
        index(manager, AuditLog::Table, "idx_audit_log_at", &[AuditLog::At]).await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditHead::Table)
                    .col(integer(AuditHead::Id).primary_key())
                    .col(big_integer(AuditHead::LastId))
                    .col(string_len(AuditHead::LastHash, 64))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(AuditHead::Table)
                    .columns([AuditHead::Id, AuditHead::LastId, AuditHead::LastHash])
                    .values_panic([1.into(), 0i64.into(), GENESIS_HASH.into()])
                    .to_owned(),
            )
            .await?;
        append_only_triggers(manager).await?;

        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKeys::Table)
                    .col(big_pk_auto(IdempotencyKeys::Id))
                    .col(big_integer(IdempotencyKeys::UserId))
                    .col(string_len(IdempotencyKeys::IdemKey, 128))
                    .col(string_len(IdempotencyKeys::Fingerprint, 64))
                    .col(integer(IdempotencyKeys::StatusCode))
                    .col(text(IdempotencyKeys::ResponseBody))
                    .col(timestamp_with_time_zone(IdempotencyKeys::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_idempotency_keys_user")
                            .from(IdempotencyKeys::Table, IdempotencyKeys::UserId)
                            .to(Users::Table, Users::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_idempotency_keys_user_key")
                    .table(IdempotencyKeys::Table)
                    .col(IdempotencyKeys::UserId)
                    .col(IdempotencyKeys::IdemKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == sea_orm::DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("DROP FUNCTION IF EXISTS audit_log_append_only() CASCADE")
                .await?;
        }
        for table in [
            IdempotencyKeys::Table.into_iden(),
            AuditHead::Table.into_iden(),
            AuditLog::Table.into_iden(),
            LoginFailures::Table.into_iden(),
            Sessions::Table.into_iden(),
            SalesQualifications::Table.into_iden(),
            UserDealers::Table.into_iden(),
            Dealers::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

async fn index<T, C>(manager: &SchemaManager<'_>, table: T, name: &str, cols: &[C]) -> Result<(), DbErr>
where
    T: IntoIden + Copy + 'static,
    C: IntoIden + Copy + 'static,
{
    let mut stmt = Index::create();
    stmt.name(name).table(table);
    for col in cols {
        stmt.col(*col);
    }
    manager.create_index(stmt.to_owned()).await
}

/// Audit records are evidence: the database itself refuses to change or delete them.
async fn append_only_triggers(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    match manager.get_database_backend() {
        sea_orm::DbBackend::Postgres => {
            db.execute_unprepared(
                "CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$ \
                 BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$ LANGUAGE plpgsql",
            )
            .await?;
            db.execute_unprepared(
                "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log \
                 FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
            )
            .await?;
        }
        _ => {
            db.execute_unprepared(
                "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
                 BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
            )
            .await?;
            db.execute_unprepared(
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log \
                 BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
            )
            .await?;
        }
    }
    Ok(())
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Username,
    DisplayName,
    Role,
    PasswordHash,
    Disabled,
    AuthorityLimitFen,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Dealers {
    Table,
    Id,
    Code,
    Name,
    DealerGroup,
    Region,
    Brands,
    HasRepairShop,
    Status,
    ChannelManagerId,
    Version,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum UserDealers {
    Table,
    UserId,
    DealerId,
}

#[derive(DeriveIden, Clone, Copy)]
enum SalesQualifications {
    Table,
    Id,
    UserId,
    CertificateNo,
    ValidFrom,
    ValidTo,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Sessions {
    Table,
    Id,
    UserId,
    Kind,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
    LastSeenAt,
    RevokedAt,
    Ip,
    UserAgent,
}

#[derive(DeriveIden, Clone, Copy)]
enum LoginFailures {
    Table,
    Id,
    Username,
    Ip,
    At,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditLog {
    Table,
    Id,
    At,
    ActorId,
    Actor,
    Action,
    Entity,
    EntityId,
    BeforeJson,
    AfterJson,
    Ip,
    PrevHash,
    Hash,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditHead {
    Table,
    Id,
    LastId,
    LastHash,
}

#[derive(DeriveIden, Clone, Copy)]
enum IdempotencyKeys {
    Table,
    Id,
    UserId,
    IdemKey,
    Fingerprint,
    StatusCode,
    ResponseBody,
    CreatedAt,
}
