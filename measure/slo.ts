// The sig-scalability SLOs the run judges against, and the verdict of each SLI beside its threshold.

/** Stateless pod startup, create to observed Running by a watch, image pulls excluded: p99 at most 5 s. */
export const POD_STARTUP_P99_SECONDS = 5;
/** The SLOs hold only while the cluster's churn stays at most 20 pods created or deleted per second. */
export const CHURN_LIMIT_PER_SECOND = 20;
/** Verbs the API call latency SLO leaves out: long-running by nature. */
export const EXCLUDED_VERBS: readonly string[] = ["WATCH", "WATCHLIST", "CONNECT"];
const READ_VERBS = ["GET", "LIST"];

/**
 * The API call latency SLO's p99 bound for a call, in seconds, or undefined when the SLO leaves it out: mutating
 * calls and reads of one object 1 s, namespace-scoped lists 5 s, cluster-scoped lists 30 s.
 */
export function apiCallThreshold(verb: string, scope: string): number | undefined {
    const v = verb.toUpperCase();
    if (EXCLUDED_VERBS.includes(v)) {
        return undefined;
    }
    if (!READ_VERBS.includes(v)) {
        return 1;
    }
    switch (scope) {
        case "resource": return 1;
        case "namespace": return 5;
        case "cluster": return 30;
        default: return undefined;
    }
}

export type Verdict = "pass" | "fail" | "n/a";

/** At or under the bound passes; no value (nothing measured) or no bound is no verdict. */
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
    readonly verdict: Verdict;
    readonly note?: string;
}

export function row(sli: string, value: number | undefined, unit: string, atMost?: number, note?: string): SliRow {
    return { sli, value, unit, atMost, verdict: judge(value, atMost), note };
}

/** The whole run passes when no row fails; a row without a verdict neither passes nor fails it. */
export function overall(rows: readonly SliRow[]): Verdict {
    if (rows.some((r) => r.verdict === "fail")) {
        return "fail";
    }
    return rows.some((r) => r.verdict === "pass") ? "pass" : "n/a";
}
