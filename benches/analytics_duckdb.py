#!/usr/bin/env python3
"""The dealer figures of analytics/src/figures.rs in DuckDB SQL, timed and checked against polars' output.

    analytics_duckdb.py --dir DIR --now RFC3339 --polars-csv figures.csv --polars-json polars.json [--runs 5]

Each run opens a fresh in-memory DuckDB, loads the 11 Parquet files into tables (the "read", as
Frames::read_parquet loads them into frames) and runs one query computing every figure of every dealer for
the rolling 12 months to today (China time): from = 12 months before tomorrow, to = tomorrow (exclusive), the
same period figures_bench uses. With --direct it also times the query straight over the Parquet files (no
load). The result of the last run is compared with polars' CSV: money, counts and centihours exactly, ratios
to 1e-9 (relative), band and upside_down exactly. Prints a table of both engines and the polars/DuckDB ratio;
exits 1 if the two disagree.

Definitions (all as figures.rs; days are China-local, instants are UTC microseconds):
- written premium: sum of every version's adjustment whose created_at falls on a China day in the period.
- earned premium: per policy, premium segments (issue, then each endorsement from its effective day, the first
  from the start) x days of the segment inside the period and the cover (to the cancellation) / policy days,
  summed exactly per dealer (over the least common multiple of the terms) and rounded half away from zero once;
  the price-normalised premium divides each segment's premium by the coefficient (micros) to the milli-fen.
- exposure: days of the period covered by the union of each (dealer, vehicle)'s cover intervals, / 365.
- paid: payments dated in the period; case reserves: reserve movements before the period's end instant.
- incurred and claim count: claims with accident day in the period: payments dated before `to` plus reserve
  movements before the end instant; claims not declined/withdrawn counted.
- commission, referral count/value: rows dated in the period; expiring: uncancelled policies ending in the
  period; renewed: those some policy renews.
- open claims: claims now in reported/registered/surveyed/settled; overdue: waited more than 24/48/120 h in
  reported/registered/surveyed.
- cycle times: the claim_cycles rows (one per claim closed now, as the service records it at the last closure:
  report->close and the time in each open stage) whose closure (by China day) is in the period; median
  ((lo+hi)/2) and nearest-rank p90,
  in hundredths of an hour rounded half away from zero.
"""

import argparse
import csv
import datetime as dt
import json
import math
import os
import resource
import statistics
import sys
import time

import duckdb

FRAMES = [
    "dealers",
    "policies",
    "policy_versions",
    "coverages",
    "commission_ledger",
    "claims",
    "claim_cycles",
    "reserve_movements",
    "payments",
    "repair_referrals",
    "feedback",
]

MICROS_PER_DAY = 86_400_000_000
CHINA_OFFSET = 8 * 3_600_000_000
MICROS_PER_HOUR = 3_600_000_000
MICROS_PER_CENTIHOUR = MICROS_PER_HOUR // 100
TARGET_HOURS = (24, 48, 120)
WARNING_ABOVE_MICROS = 910_000
DANGER_ABOVE_MICROS = 940_000
OPEN_STAGES = ("reported", "registered", "surveyed", "settled")

INT_COLUMNS = [
    "dealer_id",
    "written_premium_fen",
    "earned_premium_fen",
    "covered_days",
    "paid_fen",
    "case_reserves_fen",
    "incurred_fen",
    "claim_count",
    "commission_fen",
    "closed_claims",
    "report_to_close_median_centihours",
    "report_to_close_p90_centihours",
    "reported_median_centihours",
    "reported_p90_centihours",
    "registered_median_centihours",
    "registered_p90_centihours",
    "surveyed_median_centihours",
    "surveyed_p90_centihours",
    "settled_median_centihours",
    "settled_p90_centihours",
    "referral_count",
    "referral_value_fen",
    "expiring",
    "renewed",
    "open_claims",
    "overdue_claims",
]
FLOAT_COLUMNS = [
    "exposure",
    "loss_ratio",
    "price_normalised_loss_ratio",
    "commission_ratio",
    "variable_cost_ratio",
    "frequency",
    "severity",
    "referral_ratio",
    "renewal_rate",
]
FIGURE_COLUMNS = [
    "dealer_id",
    "written_premium_fen",
    "earned_premium_fen",
    "covered_days",
    "exposure",
    "paid_fen",
    "case_reserves_fen",
    "incurred_fen",
    "claim_count",
    "loss_ratio",
    "price_normalised_loss_ratio",
    "commission_fen",
    "commission_ratio",
    "variable_cost_ratio",
    "band",
    "frequency",
    "severity",
    "closed_claims",
    "report_to_close_median_centihours",
    "report_to_close_p90_centihours",
    "reported_median_centihours",
    "reported_p90_centihours",
    "registered_median_centihours",
    "registered_p90_centihours",
    "surveyed_median_centihours",
    "surveyed_p90_centihours",
    "settled_median_centihours",
    "settled_p90_centihours",
    "referral_count",
    "referral_value_fen",
    "referral_ratio",
    "expiring",
    "renewed",
    "renewal_rate",
    "upside_down",
    "open_claims",
    "overdue_claims",
]

MACROS = f"""
CREATE OR REPLACE MACRO rdiv(n, d) AS
    CASE WHEN n >= 0 THEN (2 * n + d) // (2 * d) ELSE -((-2 * n + d) // (2 * d)) END;
CREATE OR REPLACE MACRO median_ch(xs) AS
    CASE WHEN xs IS NULL OR len(xs) = 0 THEN NULL
         ELSE rdiv(xs[(len(xs) - 1) // 2 + 1] + xs[len(xs) // 2 + 1], {2 * MICROS_PER_CENTIHOUR}) END;
CREATE OR REPLACE MACRO p90_ch(xs) AS
    CASE WHEN xs IS NULL OR len(xs) = 0 THEN NULL
         ELSE rdiv(xs[(9 * len(xs) + 9) // 10], {MICROS_PER_CENTIHOUR}) END;
CREATE OR REPLACE MACRO ratio(n, d) AS
    CASE WHEN d <> 0 THEN n::DOUBLE / d::DOUBLE ELSE NULL END;
"""


def days(day):
    return (day - dt.date(1970, 1, 1)).days


def figures_sql(frm, to, now_us):
    """The query, with the period and now written in as integer constants."""
    from_d, to_d = days(frm), days(to)
    from_us = from_d * MICROS_PER_DAY - CHINA_OFFSET
    end_us = to_d * MICROS_PER_DAY - CHINA_OFFSET
    d = "DATE '1970-01-01'"
    t_reg, t_sur, t_set = (h * MICROS_PER_HOUR for h in TARGET_HOURS)
    open_list = ", ".join(f"'{s}'" for s in OPEN_STAGES)
    stage_lists = ",\n        ".join(
        f"list_sort(list({s}_us) FILTER (WHERE {s}_us IS NOT NULL)) AS {s}_xs" for s in OPEN_STAGES
    )
    stage_stats = ",\n    ".join(
        f"median_ch(o.{s}_xs) AS {s}_median_centihours, p90_ch(o.{s}_xs) AS {s}_p90_centihours"
        for s in OPEN_STAGES
    )
    return f"""
WITH
pol AS (
    SELECT policy_id, vehicle_id, dealer_id,
           (start - {d}) AS start_d,
           ("end" - {d}) AS end_d,
           CASE WHEN cancelled_from IS NULL THEN ("end" - {d})
                ELSE least(cancelled_from - {d}, "end" - {d}) END AS cover_end_d,
           premium_fen, pricing_coefficient_micros, renewal_of_policy_id, cancelled_from
    FROM policies
),
written AS (
    SELECT dealer_id, sum(adjustment_fen) AS written_premium_fen
    FROM policy_versions
    WHERE epoch_us(created_at) >= {from_us} AND epoch_us(created_at) < {end_us}
    GROUP BY dealer_id
),
vseg AS (
    SELECT v.policy_id, v.seq, p.start_d, p.cover_end_d, p.pricing_coefficient_micros AS coefficient,
           greatest(v.effective_on - {d}, p.start_d) AS segment_d,
           v.premium_after_fen AS premium
    FROM policy_versions v JOIN pol p ON p.policy_id = v.policy_id
    WHERE v.kind IN ('issue', 'endorse')
),
seg AS (
    SELECT policy_id, coefficient,
           CASE WHEN lag(seq) OVER w IS NULL THEN start_d ELSE segment_d END AS seg_start,
           CASE WHEN lead(seq) OVER w IS NULL THEN cover_end_d
                ELSE least(lead(segment_d) OVER w, cover_end_d) END AS seg_end,
           premium
    FROM vseg
    WINDOW w AS (PARTITION BY policy_id ORDER BY seq)
    UNION ALL
    SELECT policy_id, pricing_coefficient_micros, start_d, cover_end_d, premium_fen
    FROM pol
    WHERE NOT EXISTS (
        SELECT 1 FROM policy_versions v
        WHERE v.policy_id = pol.policy_id AND v.kind IN ('issue', 'endorse')
    )
),
premium_days AS (
    SELECT policy_id,
           sum(premium * greatest(least(seg_end, {to_d}) - greatest(seg_start, {from_d}), 0)) AS premium_days,
           -- each segment's premium with the pricing coefficient divided out, to the milli-fen
           sum(CASE WHEN coefficient > 0 THEN rdiv(premium * 1000000000, coefficient)
                    * greatest(least(seg_end, {to_d}) - greatest(seg_start, {from_d}), 0) END) AS normalised_days
    FROM seg GROUP BY policy_id
),
term_sums AS (
    SELECT p.dealer_id, p.end_d - p.start_d AS term,
           sum(pd.premium_days) AS premium_days,
           sum(pd.normalised_days) AS normalised_days,
           bool_or(pd.normalised_days IS NULL AND pd.premium_days <> 0) AS unknown
    FROM premium_days pd JOIN pol p ON p.policy_id = pd.policy_id
    WHERE p.end_d > p.start_d AND p.start_d < {to_d} AND p.cover_end_d > {from_d}
    GROUP BY 1, 2
),
common_term AS (
    -- the least common multiple of the terms, so that premium-days over different terms add up exactly
    SELECT list_reduce(list(DISTINCT term), lambda a, b: lcm(a, b))::HUGEINT AS l FROM term_sums
),
earned AS (
    SELECT t.dealer_id,
           rdiv(sum(t.premium_days::HUGEINT * (c.l // t.term)), c.l) AS earned_premium_fen,
           sum(t.normalised_days::DOUBLE / t.term::DOUBLE) / 1000.0 AS normalised_earned_fen,
           bool_or(t.unknown) AS normalisation_unknown
    FROM term_sums t CROSS JOIN common_term c
    GROUP BY t.dealer_id, c.l
),
intervals AS (
    SELECT dealer_id, vehicle_id,
           greatest(start_d, {from_d}) AS f, least(cover_end_d, {to_d}) AS t
    FROM pol
    WHERE least(cover_end_d, {to_d}) > greatest(start_d, {from_d})
),
exposure AS (
    SELECT dealer_id, sum(greatest(t - greatest(coalesce(before, f), f), 0)) AS covered_days
    FROM (
        SELECT dealer_id, f, t,
               max(t) OVER (PARTITION BY dealer_id, vehicle_id ORDER BY f
                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before
        FROM intervals
    )
    GROUP BY dealer_id
),
paid AS (
    SELECT dealer_id, sum(amount_fen) AS paid_fen
    FROM payments
    WHERE paid_on - {d} >= {from_d} AND paid_on - {d} < {to_d}
    GROUP BY dealer_id
),
reserves_at_end AS (
    SELECT claim_id, amount_fen FROM reserve_movements WHERE epoch_us("at") < {end_us}
),
case_reserves AS (
    SELECT c.dealer_id, sum(r.amount_fen) AS case_reserves_fen
    FROM reserves_at_end r JOIN claims c ON c.claim_id = r.claim_id
    GROUP BY c.dealer_id
),
incurred_by_claim AS (
    SELECT claim_id, sum(amount_fen) AS claim_incurred_fen
    FROM (
        SELECT claim_id, amount_fen FROM payments WHERE paid_on - {d} < {to_d}
        UNION ALL
        SELECT claim_id, amount_fen FROM reserves_at_end
    )
    GROUP BY claim_id
),
accident_claims AS (
    SELECT c.dealer_id,
           sum(i.claim_incurred_fen) AS incurred_fen,
           count(*) FILTER (WHERE c.stage NOT IN ('declined', 'withdrawn')) AS claim_count
    FROM claims c LEFT JOIN incurred_by_claim i ON i.claim_id = c.claim_id
    WHERE c.accident_on - {d} >= {from_d} AND c.accident_on - {d} < {to_d}
    GROUP BY c.dealer_id
),
commission AS (
    SELECT dealer_id, sum(amount_fen) AS commission_fen
    FROM commission_ledger
    WHERE booked_on - {d} >= {from_d} AND booked_on - {d} < {to_d}
    GROUP BY dealer_id
),
referrals AS (
    SELECT dealer_id, count(value_fen) AS referral_count, sum(value_fen) AS referral_value_fen
    FROM repair_referrals
    WHERE referred_on - {d} >= {from_d} AND referred_on - {d} < {to_d}
    GROUP BY dealer_id
),
renewed_ids AS (
    SELECT DISTINCT renewal_of_policy_id AS policy_id FROM policies WHERE renewal_of_policy_id IS NOT NULL
),
renewals AS (
    SELECT p.dealer_id, count(p.policy_id) AS expiring, count(r.policy_id) AS renewed
    FROM pol p LEFT JOIN renewed_ids r ON r.policy_id = p.policy_id
    WHERE p.end_d >= {from_d} AND p.end_d < {to_d} AND p.cancelled_from IS NULL
    GROUP BY p.dealer_id
),
open_claims AS (
    SELECT dealer_id,
           count(claim_id) AS open_claims,
           count(*) FILTER (WHERE
               (stage = 'reported' AND {now_us} - epoch_us(stage_since) > {t_reg})
               OR (stage = 'registered' AND {now_us} - epoch_us(stage_since) > {t_sur})
               OR (stage = 'surveyed' AND {now_us} - epoch_us(stage_since) > {t_set})) AS overdue_claims
    FROM claims
    WHERE stage IN ({open_list})
    GROUP BY dealer_id
),
closed AS (
    SELECT * FROM claim_cycles
    WHERE epoch_us(closed_at) >= {from_us} AND epoch_us(closed_at) < {end_us}
),
overall AS (
    SELECT dealer_id, count(claim_id) AS closed_claims,
           list_sort(list(report_to_close_us)) AS rtc_xs,
        {stage_lists}
    FROM closed GROUP BY dealer_id
),
sums AS (
    SELECT d.dealer_id,
        coalesce(w.written_premium_fen, 0)::BIGINT AS written_premium_fen,
        coalesce(e.earned_premium_fen, 0)::BIGINT AS earned_premium_fen,
        e.normalised_earned_fen, e.normalisation_unknown,
        coalesce(x.covered_days, 0)::BIGINT AS covered_days,
        coalesce(pa.paid_fen, 0)::BIGINT AS paid_fen,
        coalesce(cr.case_reserves_fen, 0)::BIGINT AS case_reserves_fen,
        coalesce(ac.incurred_fen, 0)::BIGINT AS incurred_fen,
        coalesce(ac.claim_count, 0)::BIGINT AS claim_count,
        coalesce(co.commission_fen, 0)::BIGINT AS commission_fen,
        coalesce(o.closed_claims, 0)::BIGINT AS closed_claims,
        median_ch(o.rtc_xs) AS report_to_close_median_centihours,
        p90_ch(o.rtc_xs) AS report_to_close_p90_centihours,
        {stage_stats},
        coalesce(rf.referral_count, 0)::BIGINT AS referral_count,
        coalesce(rf.referral_value_fen, 0)::BIGINT AS referral_value_fen,
        coalesce(rn.expiring, 0)::BIGINT AS expiring,
        coalesce(rn.renewed, 0)::BIGINT AS renewed,
        coalesce(oc.open_claims, 0)::BIGINT AS open_claims,
        coalesce(oc.overdue_claims, 0)::BIGINT AS overdue_claims
    FROM dealers d
    LEFT JOIN written w ON w.dealer_id = d.dealer_id
    LEFT JOIN earned e ON e.dealer_id = d.dealer_id
    LEFT JOIN exposure x ON x.dealer_id = d.dealer_id
    LEFT JOIN paid pa ON pa.dealer_id = d.dealer_id
    LEFT JOIN case_reserves cr ON cr.dealer_id = d.dealer_id
    LEFT JOIN accident_claims ac ON ac.dealer_id = d.dealer_id
    LEFT JOIN commission co ON co.dealer_id = d.dealer_id
    LEFT JOIN referrals rf ON rf.dealer_id = d.dealer_id
    LEFT JOIN renewals rn ON rn.dealer_id = d.dealer_id
    LEFT JOIN open_claims oc ON oc.dealer_id = d.dealer_id
    LEFT JOIN overall o ON o.dealer_id = d.dealer_id
),
ratios AS (
    SELECT *,
        ratio(covered_days, 365) AS exposure,
        ratio(incurred_fen, earned_premium_fen) AS loss_ratio,
        CASE WHEN coalesce(normalisation_unknown, false) THEN NULL
             ELSE ratio(incurred_fen, coalesce(normalised_earned_fen, 0.0)) END AS price_normalised_loss_ratio,
        ratio(commission_fen, written_premium_fen) AS commission_ratio,
        ratio(claim_count * 365, covered_days) AS frequency,
        ratio(incurred_fen, claim_count) / 100.0::DOUBLE AS severity,
        ratio(referral_value_fen, written_premium_fen) AS referral_ratio,
        ratio(renewed, expiring) AS renewal_rate,
        (referral_value_fen + incurred_fen > earned_premium_fen
            AND (earned_premium_fen > 0 OR referral_value_fen + incurred_fen > 0)) AS upside_down
    FROM sums
),
banded AS (
    SELECT *, loss_ratio + commission_ratio AS variable_cost_ratio FROM ratios
)
SELECT {", ".join(c for c in FIGURE_COLUMNS if c != "band")},
    CASE WHEN variable_cost_ratio IS NULL THEN NULL
         WHEN round(variable_cost_ratio * 1e12) > {DANGER_ABOVE_MICROS * 1_000_000}.0 THEN 'danger'
         WHEN round(variable_cost_ratio * 1e12) > {WARNING_ABOVE_MICROS * 1_000_000}.0 THEN 'warning'
         ELSE 'normal' END AS band
FROM banded
ORDER BY dealer_id
"""


def cpu_seconds():
    """User + system CPU time of this process (every thread) so far."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def peak_rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def load(con, directory, direct):
    for name in FRAMES:
        path = os.path.join(directory, f"{name}.parquet").replace("'", "''")
        kind = "VIEW" if direct else "TABLE"
        con.execute(f"CREATE OR REPLACE {kind} {name} AS SELECT * FROM read_parquet('{path}')")


def run_duckdb(directory, sql, runs, direct):
    reads, passes, cpus, rows, columns = [], [], [], None, None
    for i in range(runs):
        con = duckdb.connect()
        con.execute(MACROS)
        started = time.perf_counter()
        load(con, directory, direct)
        read = time.perf_counter() - started
        started, cpu_before = time.perf_counter(), cpu_seconds()
        cur = con.execute(sql)
        rows = cur.fetchall()
        columns = [d[0] for d in cur.description]
        figures, cpu = time.perf_counter() - started, cpu_seconds() - cpu_before
        con.close()
        reads.append(read * 1000)
        passes.append(figures * 1000)
        cpus.append(cpu * 1000)
        label = "duckdb (parquet direct)" if direct else "duckdb"
        print(
            f"  {label} run {i + 1}: read {read * 1000:.0f} ms, figures {figures * 1000:.0f} ms (CPU {cpu * 1000:.0f} ms, "
            f"{len(rows)} dealers), peak RSS so far {peak_rss_mib():.0f} MiB",
            file=sys.stderr,
        )
    return reads, passes, cpus, [dict(zip(columns, r)) for r in rows]


def parse_polars_csv(path):
    out = {}
    with open(path, newline="") as f:
        for rec in csv.DictReader(f):
            row = {}
            for c in FIGURE_COLUMNS:
                v = rec[c]
                if v == "":
                    row[c] = None
                elif c in INT_COLUMNS:
                    row[c] = int(v)
                elif c in FLOAT_COLUMNS:
                    row[c] = float(v)
                elif c == "upside_down":
                    row[c] = v == "true"
                else:
                    row[c] = v
            out[row["dealer_id"]] = row
    return out


def compare(polars_rows, duck_rows):
    """Mismatches per column: {column: [(dealer, polars, duckdb), ...]}."""
    mismatches = {}

    def differ(c, a, b):
        if a is None or b is None:
            return a is not None or b is not None
        if c in FLOAT_COLUMNS:
            a, b = float(a), float(b)
            if math.isnan(a) or math.isnan(b):
                return not (math.isnan(a) and math.isnan(b))
            return abs(a - b) > 1e-9 * max(1.0, abs(a), abs(b))
        if c in INT_COLUMNS:
            return int(a) != int(b)
        return a != b

    duck = {int(r["dealer_id"]): r for r in duck_rows}
    for dealer in sorted(set(polars_rows) | set(duck)):
        p, d = polars_rows.get(dealer), duck.get(dealer)
        if p is None or d is None:
            mismatches.setdefault("(dealer row)", []).append((dealer, p is not None, d is not None))
            continue
        for c in FIGURE_COLUMNS:
            if differ(c, p[c], d[c]):
                mismatches.setdefault(c, []).append((dealer, p[c], d[c]))
    return mismatches


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--now", required=True, help="RFC 3339 instant, as given to figures_bench")
    ap.add_argument("--polars-csv", required=True)
    ap.add_argument("--polars-json", required=True)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--direct", action="store_true", help="also time the query straight over the Parquet files")
    ap.add_argument("--out", help="write DuckDB's figures here as CSV")
    ap.add_argument("--print-sql", action="store_true")
    args = ap.parse_args()

    now = dt.datetime.fromisoformat(args.now.replace("Z", "+00:00"))
    now_us = (now - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) // dt.timedelta(microseconds=1)
    today = (now + dt.timedelta(hours=8)).date()
    to = today + dt.timedelta(days=1)
    try:
        frm = to.replace(year=to.year - 1)
    except ValueError:  # 29 February, as chrono's checked_sub_months: the month's last day
        frm = dt.date(to.year - 1, 2, 28)
    with open(args.polars_json) as f:
        pol = json.load(f)
    polars_now = dt.datetime.fromisoformat(pol["now"].replace("Z", "+00:00"))
    if (pol["from"], pol["to"], polars_now) != (frm.isoformat(), to.isoformat(), now):
        print(f"period differs: polars {pol['from']}..{pol['to']} at {pol['now']}, DuckDB {frm}..{to} at {now}",
              file=sys.stderr)
        return 2
    sql = figures_sql(frm, to, now_us)
    if args.print_sql:
        print(MACROS + sql)
        return 0

    con = duckdb.connect()
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.close()
    print(f"duckdb {duckdb.__version__}, {threads} threads, period {frm}..{to} (exclusive)", file=sys.stderr)
    reads, passes, cpus, rows = run_duckdb(args.dir, sql, args.runs, direct=False)
    results = [("duckdb", reads, passes, cpus, peak_rss_mib())]
    if args.direct:
        d_reads, d_passes, d_cpus, d_rows = run_duckdb(args.dir, sql, args.runs, direct=True)
        results.append(("duckdb (parquet direct)", d_reads, d_passes, d_cpus, peak_rss_mib()))
        differ = compare({int(r["dealer_id"]): r for r in rows}, d_rows)
        if differ:
            print(f"DuckDB's direct and loaded results differ in {sorted(differ)}", file=sys.stderr)

    if args.out:
        with open(args.out, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(FIGURE_COLUMNS)
            for r in rows:
                w.writerow(["" if r[c] is None else str(r[c]).lower() if isinstance(r[c], bool) else r[c]
                            for c in FIGURE_COLUMNS])

    mismatches = compare(parse_polars_csv(args.polars_csv), rows)

    def mm(v):
        return min(v), statistics.median(v)

    print()
    print(f"{'engine':<26}{'read ms min/median':>22}{'figures ms min/median':>25}{'figures CPU ms median':>24}"
          f"{'peak RSS MiB':>15}")
    lines = [("polars", pol["read_ms"], pol["figures_ms"], pol.get("figures_cpu_ms") or [math.nan],
              pol["peak_rss_mib"])] + results
    for name, r, p, c, rss in lines:
        (rmin, rmed), (pmin, pmed) = mm(r), mm(p)
        print(f"{name:<26}{rmin:>11.0f} / {rmed:<8.0f}{pmin:>14.0f} / {pmed:<8.0f}{statistics.median(c):>20.0f}"
              f"{rss:>19.0f}")
    if pol.get("peers_ms"):
        peers_min, peers_median = mm(pol["peers_ms"])
        print(f"polars peer comparison on its figures (peers::compare + composite): "
              f"{peers_min:.0f} / {peers_median:.0f} ms min/median (not in DuckDB's query)")
    pr, pp = mm(pol["read_ms"]), mm(pol["figures_ms"])
    dr, dp = mm(reads), mm(passes)
    print()
    print(f"polars/DuckDB figures: {pp[0] / dp[0]:.2f} (min), {pp[1] / dp[1]:.2f} (median)")
    print(f"polars/DuckDB read:    {pr[0] / dr[0]:.2f} (min), {pr[1] / dr[1]:.2f} (median)")
    print(f"polars/DuckDB read+figures (median): {(pr[1] + pp[1]) / (dr[1] + dp[1]):.2f}")
    print()
    if not mismatches:
        print(f"outputs agree: {len(rows)} dealers x {len(FIGURE_COLUMNS)} columns "
              "(money/counts exact, ratios to 1e-9)")
        return 0
    print("outputs DISAGREE:")
    for c, items in mismatches.items():
        print(f"  {c}: {len(items)} dealers, e.g. " +
              "; ".join(f"dealer {d}: polars {a!r} vs duckdb {b!r}" for d, a, b in items[:3]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
