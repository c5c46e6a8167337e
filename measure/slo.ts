// The sig-scalability SLOs the run judges against, and the verdict of each SLI beside its threshold.

/** The ClusterLoader2 source whose semantics the run follows: kubernetes/perf-tests at this commit. */
export const CL2_SOURCE = "kubernetes/perf-tests clusterloader2 at 4b3415444f4c (2026-08-07)";
/** Pod startup of the latency pods, CL2's pod_startup transition: p50, p90 and p99 each at most 5 s. */
export const POD_STARTUP_SECONDS = 5;
/** CL2's CreatePhasePodStartupLatency bound on the load's own pods (modules/measurements.yaml): an hour. */
export const BULK_POD_STARTUP_SECONDS = 3600;
/** The SLOs hold only while the cluster's churn stays at most 20 pods created or deleted per second. */
export const CHURN_LIMIT_PER_SECOND = 20;
/** CL2's load test wants the scheduler's busiest second at 100 pods or more (modules/scheduler-throughput). */
export const SCHEDULER_THROUGHPUT_MIN = 100;

export type Verdict = "pass" | "fail" | "n/a";

/** At or under the bound passes (CL2 fails on strictly over); no value (nothing measured) or no bound is no verdict. */
export function judge(value: number | undefined, atMost: number | undefined): Verdict {
    if (value === undefined || atMost === undefined || !Number.isFinite(value)) {
        return "n/a";
    }
    return value <= atMost ? "pass" : "fail";
}

/** One line of the report's table: what was measured, its value, the bound it is held to, and the verdict. */
export interface SliRow {
    readonly sli: string;
    readonly value?: number;
    readonly unit: string;
    /** The SLO's (or the run's validity condition's) bound; undefined when none applies. */
    readonly atMost?: number;
    /** A lower bound instead (scheduler throughput); undefined when none applies. */
    readonly atLeast?: number;
    readonly verdict: Verdict;
    readonly note?: string;
}

/** A row judged against `atMost`, unless `verdict` says otherwise (a judgement on more than the value shown). */
export function row(
    sli: string,
    value: number | undefined,
    unit: string,
    atMost?: number,
    note?: string,
    verdict?: Verdict,
): SliRow {
    return { sli, value, unit, atMost, verdict: verdict ?? judge(value, atMost), note };
}

/** A row judged against a lower bound. */
export function rowAtLeast(
    sli: string,
    value: number | undefined,
    unit: string,
    atLeast: number,
    note?: string,
): SliRow {
    const verdict: Verdict =
        value === undefined || !Number.isFinite(value) ? "n/a" : value >= atLeast ? "pass" : "fail";
    return { sli, value, unit, atLeast, verdict, note };
}

/** The run's verdict; `inconclusive` when nothing failed but a precondition of the measurement did not hold. */
export type RunVerdict = Verdict | "inconclusive";

/**
 * The whole run fails when a row fails; otherwise a broken precondition (a saturated host, a kill that did not
 * take) makes it inconclusive, never a pass; a row without a verdict neither passes nor fails it.
 */
export function overall(rows: readonly SliRow[], brokenPreconditions: readonly string[] = []): RunVerdict {
    if (rows.some((r) => r.verdict === "fail")) {
        return "fail";
    }
    if (brokenPreconditions.length > 0) {
        return "inconclusive";
    }
    return rows.some((r) => r.verdict === "pass") ? "pass" : "n/a";
}
