// Sample percentiles and per-window rates of the run's own observations.
import { quantileSorted } from "simple-statistics";

export interface Spread {
    readonly count: number;
    readonly min: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    readonly max: number;
    readonly mean: number;
}

/**
 * Percentiles of a sample by linear interpolation between order statistics (R's type 7, numpy's default), what
 * simple-statistics' quantileSorted computes since 7.8.9; undefined for an empty sample.
 */
export function spread(values: readonly number[]): Spread | undefined {
    const finite = values.filter((v) => Number.isFinite(v));
    if (finite.length === 0) {
        return undefined;
    }
    const sorted = [...finite].sort((a, b) => a - b);
    return {
        count: sorted.length,
        min: sorted[0],
        p50: quantileSorted(sorted, 0.5),
        p90: quantileSorted(sorted, 0.9),
        p99: quantileSorted(sorted, 0.99),
        max: sorted[sorted.length - 1],
        mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    };
}

export interface Window {
    readonly startMs: number;
    readonly count: number;
    readonly perSecond: number;
}

/**
 * Events counted in consecutive windows of `windowMs` from `startMs` up to `endMs`; a last window cut short by
 * `endMs` is still divided by the whole length, so a few events at the end do not read as a burst.
 */
export function windows(timesMs: readonly number[], startMs: number, endMs: number, windowMs: number): Window[] {
    const out: Window[] = [];
    for (let s = startMs; s < endMs; s += windowMs) {
        const e = Math.min(s + windowMs, endMs);
        const count = timesMs.filter((t) => t >= s && t < e).length;
        out.push({ startMs: s, count, perSecond: count / (windowMs / 1000) });
    }
    return out;
}

/** A pod as the scheduler saw it: created (first seen), scheduled (first seen bound) if it was. */
export interface Pending {
    readonly createdMs: number;
    readonly scheduledMs?: number;
}

export interface Throughput {
    /** Pods scheduled per second over the windows in which some pod waited for the scheduler or was bound. */
    readonly average: number;
    readonly max: number;
    /** Those windows, for the plot. */
    readonly windows: readonly Window[];
}

/**
 * Scheduling throughput in windows of `windowMs` (5 s, as ClusterLoader2 samples it): only windows in which the
 * scheduler had work count, so the quiet hold between phases does not dilute the average.
 */
export function schedulingThroughput(
    pods: readonly Pending[],
    startMs: number,
    endMs: number,
    windowMs: number,
): Throughput {
    const busy = (s: number, e: number) =>
        pods.some((p) => p.createdMs < e && (p.scheduledMs === undefined || p.scheduledMs >= s));
    const all = windows(
        pods.flatMap((p) => (p.scheduledMs === undefined ? [] : [p.scheduledMs])),
        startMs,
        endMs,
        windowMs,
    );
    const active = all.filter((w) => busy(w.startMs, w.startMs + windowMs));
    return {
        average: active.length === 0 ? 0 : active.reduce((a, w) => a + w.perSecond, 0) / active.length,
        max: active.reduce((a, w) => Math.max(a, w.perSecond), 0),
        windows: all,
    };
}

/**
 * ClusterLoader2's percentile of a sample: nearest rank, the value at index ceil(n·p/100) − 1 of the sorted sample
 * (pkg/measurement/util/latency_metric.go NewLatencyMetric; scheduling_throughput.go gather); undefined when empty.
 */
export function nearestRank(sorted: readonly number[], percent: number): number | undefined {
    return sorted.length === 0 ? undefined : sorted[Math.max(0, Math.ceil((sorted.length * percent) / 100) - 1)];
}

/** p50, p90, p99 and max as CL2 reports them: nearest rank over the sorted sample. */
export function cl2Spread(values: readonly number[]): Spread | undefined {
    const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    if (sorted.length === 0) {
        return undefined;
    }
    return {
        count: sorted.length,
        min: sorted[0],
        p50: nearestRank(sorted, 50) as number,
        p90: nearestRank(sorted, 90) as number,
        p99: nearestRank(sorted, 99) as number,
        max: sorted[sorted.length - 1],
        mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    };
}

/** Rounds for reports: three significant decimals are more than any of these clocks resolves. */
export function round(v: number, digits = 3): number {
    const f = 10 ** digits;
    return Math.round(v * f) / f;
}

/**
 * A Kubernetes MicroTime or Time (`2026-11-28T10:00:00.123456Z`, `...:00Z`) in milliseconds with its fraction
 * kept: Date.parse drops the microseconds a Lease's renewTime carries.
 */
export function parseMicroTime(text: string): number {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
    if (!m) {
        throw new Error(`not an RFC 3339 time: ${JSON.stringify(text)}`);
    }
    const whole = Date.parse(`${m[1]}${m[3]}`);
    const fraction = m[2] ? Number(`0.${m[2]}`) * 1000 : 0;
    return whole + fraction;
}
