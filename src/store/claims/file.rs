//! A claim's whole file: transitions, reserves, loss items, documents, settlements, payments and fraud signals.

use super::*;

/// A claim in scope with its whole file.
pub async fn file(db: &impl ConnectionTrait, scope: &Scope, id: i64, settings: &ClaimSettings) -> AppResult<ClaimFile> {
    let row = row(db, scope, id).await?;
    // The reserve and paid per coverage are the sums of the movements and payments read below.
    let movement_rows = claim_reserve_movements::Entity::find()
        .filter(claim_reserve_movements::Column::ClaimId.eq(id))
        .order_by_asc(claim_reserve_movements::Column::Id)
        .all(db)
        .await?;
    let payment_rows = claim_payments::Entity::find()
        .filter(claim_payments::Column::ClaimId.eq(id))
        .order_by_asc(claim_payments::Column::Id)
        .all(db)
        .await?;
    let reserves = by_coverage(movement_rows.iter().map(|m| (m.coverage.clone(), m.amount_fen)));
    let paid = by_coverage(payment_rows.iter().map(|p| (p.coverage.clone(), p.amount_fen)));
    let claim =
        to_claim(&row, from_fen(reserves.values().sum()), from_fen(paid.values().sum()), &settings.targets, now());
    // The file is read after every change, so its reads are few: the policy with its dealer's repair shop in one,
    // the timeline with its actors' names in another. (The claim's dealer is its policy's.)
    let (policy_no, policy_start, dealer_has_repair_shop): (String, NaiveDate, bool) =
        policies::Entity::find_by_id(row.policy_id)
            .select_only()
            .column(policies::Column::PolicyNo)
            .column(policies::Column::StartDate)
            .expr(Expr::cust(
                r#"(SELECT "has_repair_shop" FROM "dealers" WHERE "dealers"."id" = "policies"."dealer_id")"#,
            ))
            .into_tuple()
            .one(db)
            .await?
            .ok_or(AppError::NotFound)?;
    let transitions = claim_transitions::Entity::find()
        .select_only()
        .columns([
            claim_transitions::Column::Transition,
            claim_transitions::Column::FromStage,
            claim_transitions::Column::ToStage,
            claim_transitions::Column::Note,
            claim_transitions::Column::ActorId,
            claim_transitions::Column::At,
        ])
        .expr_as(
            Expr::cust(
                r#"COALESCE((SELECT "display_name" FROM "users" WHERE "users"."id" = "claim_transitions"."actor_id"), '')"#,
            ),
            "actor",
        )
        .filter(claim_transitions::Column::ClaimId.eq(id))
        .order_by_asc(claim_transitions::Column::Id)
        .into_model::<TransitionRecord>()
        .all(db)
        .await?;

    let coverages = settlement::coverages_at_accident(db, &row).await?;
    let mut reserve_lines = Vec::new();
    for coverage in coverages.iter().chain(reserves.keys()).chain(paid.keys()) {
        if reserve_lines.iter().any(|l: &ReserveLine| &l.coverage == coverage) {
            continue;
        }
        reserve_lines.push(ReserveLine {
            coverage: coverage.clone(),
            reserve: from_fen(reserves.get(coverage).copied().unwrap_or(0)),
            paid: from_fen(paid.get(coverage).copied().unwrap_or(0)),
        });
    }
    let reserve_movements = movement_rows
        .into_iter()
        .map(|m| ReserveMovement {
            coverage: m.coverage,
            amount: from_fen(m.amount_fen),
            reason: m.reason,
            note: m.note,
            created_by: m.created_by,
            created_at: m.created_at,
        })
        .collect();
    let loss_rows = claim_loss_items::Entity::find()
        .filter(claim_loss_items::Column::ClaimId.eq(id))
        .order_by_asc(claim_loss_items::Column::Id)
        .all(db)
        .await?;
    let loss_items: Vec<LossItem> = loss_rows.iter().map(to_loss_item).collect();

    let document_rows = claim_documents::Entity::find()
        .filter(claim_documents::Column::ClaimId.eq(id))
        .order_by_asc(claim_documents::Column::Id)
        .all(db)
        .await?;
    let mut documents = Vec::new();
    let mut same_document_claims = Vec::new();
    for d in document_rows {
        let also_on_claims = claims_with_document(db, &d.sha256, id).await?;
        same_document_claims.extend(also_on_claims.iter().cloned());
        documents.push(Document {
            id: d.id,
            file_name: d.file_name,
            content_type: d.content_type,
            size_bytes: d.size_bytes,
            sha256: d.sha256,
            also_on_claims,
            uploaded_by: d.uploaded_by,
            uploaded_at: d.uploaded_at,
        });
    }
    same_document_claims.sort();
    same_document_claims.dedup();

    let settlements = claim_settlements::Entity::find()
        .filter(claim_settlements::Column::ClaimId.eq(id))
        .order_by_asc(claim_settlements::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(to_settlement_record)
        .collect::<AppResult<Vec<_>>>()?;
    let payments = payment_rows
        .into_iter()
        .map(|p| Payment {
            id: p.id,
            settlement_id: p.settlement_id,
            coverage: p.coverage,
            payee: p.payee,
            amount: from_fen(p.amount_fen),
            paid_on: p.paid_on,
            created_by: p.created_by,
            created_at: p.created_at,
        })
        .collect();

    let facts = ClaimFacts {
        policy_start,
        accident_on: row.accident_on,
        reported_on: row.reported_at.with_timezone(&china()).date_naive(),
        other_claims_same_vehicle: repeat_claims(db, &row, settings.signal_rules.repeat_window_days).await?,
        same_document_claims,
        part_prices: part_prices(db, id, &loss_rows).await?,
    };
    let signals = signals::evaluate(&facts, &settings.signal_rules);
    Ok(ClaimFile {
        claim,
        policy_no,
        transitions,
        reserves: reserve_lines,
        reserve_movements,
        loss_items,
        documents,
        settlements,
        payments,
        signals,
        coverages,
        dealer_has_repair_shop,
    })
}

fn to_loss_item(i: &claim_loss_items::Model) -> LossItem {
    LossItem {
        id: i.id,
        category: i.category.clone(),
        kind: i.kind.clone(),
        description: i.description.clone(),
        person: i.person.clone(),
        quantity: rate_from_micros(i.quantity_micros),
        unit_price: from_fen(i.unit_price_fen),
        assessed: from_fen(i.assessed_fen),
        removed: i.removed,
    }
}

fn to_settlement_record(s: claim_settlements::Model) -> AppResult<SettlementRecord> {
    let calculation = serde_json::from_str(&s.calculation_json).map_err(|e| AppError::Internal(e.into()))?;
    Ok(SettlementRecord {
        id: s.id,
        status: s.status,
        total: from_fen(s.total_fen),
        calculation,
        proposed_by: s.proposed_by,
        proposed_at: s.proposed_at,
        approved_by: s.approved_by,
        approved_at: s.approved_at,
        note: s.note,
    })
}

async fn claims_with_document(db: &impl ConnectionTrait, sha256: &str, except_claim: i64) -> AppResult<Vec<String>> {
    let claim_ids: Vec<i64> = claim_documents::Entity::find()
        .select_only()
        .column(claim_documents::Column::ClaimId)
        .filter(claim_documents::Column::Sha256.eq(sha256))
        .filter(claim_documents::Column::ClaimId.ne(except_claim))
        .into_tuple()
        .all(db)
        .await?;
    claim_numbers(db, claim_ids).await
}

async fn claim_numbers(db: &impl ConnectionTrait, ids: Vec<i64>) -> AppResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut numbers: Vec<String> = claims::Entity::find()
        .select_only()
        .column(claims::Column::ClaimNo)
        .filter(claims::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    numbers.sort();
    numbers.dedup();
    Ok(numbers)
}

/// Other claims on the same VIN or plate with accidents within `days` of this one.
async fn repeat_claims(db: &impl ConnectionTrait, row: &claims::Model, days: i64) -> AppResult<Vec<String>> {
    let window = Duration::days(days);
    let mut numbers: Vec<String> = claims::Entity::find()
        .select_only()
        .column(claims::Column::ClaimNo)
        .filter(Condition::any().add(claims::Column::Vin.eq(&row.vin)).add(claims::Column::Plate.eq(&row.plate)))
        .filter(claims::Column::Id.ne(row.id))
        .filter(claims::Column::AccidentOn.gte(row.accident_on - window))
        .filter(claims::Column::AccidentOn.lte(row.accident_on + window))
        .into_tuple()
        .all(db)
        .await?;
    numbers.sort();
    Ok(numbers)
}

/// Parts on this claim with the median unit price other claims gave the same part.
async fn part_prices(
    db: &impl ConnectionTrait,
    claim_id: i64,
    items: &[claim_loss_items::Model],
) -> AppResult<Vec<(String, Decimal, Decimal)>> {
    let mut out = Vec::new();
    for item in items.iter().filter(|i| i.kind == "part" && !i.removed) {
        let mut peers: Vec<i64> = claim_loss_items::Entity::find()
            .select_only()
            .column(claim_loss_items::Column::UnitPriceFen)
            .filter(claim_loss_items::Column::Kind.eq("part"))
            .filter(claim_loss_items::Column::Description.eq(&item.description))
            .filter(claim_loss_items::Column::ClaimId.ne(claim_id))
            .filter(claim_loss_items::Column::Removed.eq(false))
            .order_by_desc(claim_loss_items::Column::Id)
            .limit(201)
            .into_tuple()
            .all(db)
            .await?;
        // Too few peers make a median meaningless.
        if peers.len() < 3 {
            continue;
        }
        peers.sort_unstable();
        let mid = peers.len() / 2;
        let median = if peers.len() % 2 == 1 {
            from_fen(peers[mid])
        } else {
            round_to_fen((from_fen(peers[mid - 1]) + from_fen(peers[mid])) / Decimal::TWO)
        };
        out.push((item.description.clone(), from_fen(item.unit_price_fen), median));
    }
    Ok(out)
}
