// API call latency from kube-apiserver's apiserver_request_duration_seconds, scraped before, during and after a run.
import { Histogram, histogramDeltas, histogramQuantile, parseHistograms, sumBy } from "./promtext";
import { apiCallThreshold, row, SliRow } from "./slo";
import { round } from "./stats";
import type { Kube } from "./kube";

export const REQUEST_DURATION = "apiserver_request_duration_seconds";
/** The SLO is per resource, verb and scope; group and subresource keep calls of different kinds apart. */
export const CALL_KEYS: readonly string[] = ["verb", "group", "resource", "subresource", "scope"];
/** The latency-over-time plot draws the busiest calls only; more lines would be unreadable. */
export const PLOTTED_CALLS = 8;

export interface CallLatency {
    readonly verb: string;
    readonly group: string;
    readonly resource: string;
    readonly subresource: string;
    readonly scope: string;
    readonly calls: number;
    readonly p50: number;
    readonly p99: number;
    /** The SLO's p99 bound; undefined: the SLO leaves the call out (WATCH, CONNECT). */
    readonly atMost?: number;
}

export const callName = (c: { verb: string; group: string; resource: string; subresource: string; scope: string }) =>
    `${c.verb} ${c.group ? `${c.group}/` : ""}${c.resource}${c.subresource ? `/${c.subresource}` : ""} (${c.scope || "-"})`;

/** p50 and p99 per call kind of what was observed between two scrapes, busiest first. */
export function callLatencies(before: readonly Histogram[], after: readonly Histogram[]): CallLatency[] {
    return sumBy(histogramDeltas(before, after), CALL_KEYS)
        .map((h) => {
            const l = h.labels;
            return {
                verb: l.verb, group: l.group, resource: l.resource, subresource: l.subresource, scope: l.scope, calls: h.count,
                p50: round(histogramQuantile(0.5, h.buckets), 4), p99: round(histogramQuantile(0.99, h.buckets), 4),
                atMost: apiCallThreshold(l.verb, l.scope),
            };
        })
        .sort((a, b) => b.calls - a.calls || callName(a).localeCompare(callName(b)));
}

/** One SLI row per call kind the SLO covers. */
export function apiRows(calls: readonly CallLatency[]): SliRow[] {
    return calls.filter((c) => c.atMost !== undefined)
        .map((c) => row(`API call latency p99: ${callName(c)}`, c.p99, "s", c.atMost, `${c.calls} calls, p50 ${c.p50} s`));
}

export interface LatencyPoint { readonly t: number; readonly call: string; readonly p99: number }

export type Scrape = { ok: true; histograms: Histogram[] } | { ok: false; why: string };

/** Reads /metrics; a 403 says the caller may not (RBAC on the nonResourceURL /metrics), which the run survives. */
export async function scrape(api: Kube): Promise<Scrape> {
    let reply: { status: number; body: string };
    try {
        reply = await api.text("/metrics");
    } catch (e) {
        return { ok: false, why: `no answer from ${api.server}/metrics: ${(e as Error).message}` };
    }
    if (reply.status === 403) {
        return {
            ok: false,
            why: `the target's kubeconfig may not read ${api.server}/metrics (403: it needs \`get\` on the nonResourceURL /metrics, ` +
                "as system:monitoring or cluster-admin have); API call latency is not measured",
        };
    }
    if (reply.status !== 200) {
        return { ok: false, why: `${api.server}/metrics answered HTTP ${reply.status}: ${reply.body.slice(0, 200)}` };
    }
    try {
        return { ok: true, histograms: parseHistograms(reply.body, REQUEST_DURATION) };
    } catch (e) {
        return { ok: false, why: `${api.server}/metrics is not the Prometheus text format: ${(e as Error).message}` };
    }
}

/**
 * Scrapes at the start, every `everyMs` while the run goes on, and at the end: the run's latencies are the
 * difference between the first and the last, and each interval's p99 of the busiest calls is a point of the plot.
 * A failed periodic scrape is skipped; only the first and last decide whether latency is reported at all.
 */
export class LatencyRecorder {
    private first?: Histogram[];
    private last?: { atMs: number; histograms: Histogram[] };
    private points: { t: number; calls: CallLatency[] }[] = [];
    private timer?: NodeJS.Timeout;
    private busy = false;
    problem?: string;
    final?: Histogram[];

    constructor(private readonly api: Kube, private readonly startMs: number, private readonly log: (m: string) => void) {}

    async start(everyMs: number): Promise<void> {
        const s = await scrape(this.api);
        if (!s.ok) {
            this.problem = s.why;
            this.log(s.why);
            return;
        }
        this.first = s.histograms;
        this.last = { atMs: Date.now(), histograms: s.histograms };
        this.timer = setInterval(() => void this.tick(), everyMs);
    }

    private async tick(): Promise<void> {
        if (this.busy || !this.last) {
            return;
        }
        this.busy = true;
        try {
            const s = await scrape(this.api);
            if (s.ok) {
                const now = Date.now();
                this.points.push({ t: (now - this.startMs) / 1000, calls: callLatencies(this.last.histograms, s.histograms) });
                this.last = { atMs: now, histograms: s.histograms };
            }
        } finally {
            this.busy = false;
        }
    }

    /** The last scrape; the run's latencies from then on are not counted (cleanup's deletes are not the load's). */
    async stop(): Promise<void> {
        clearInterval(this.timer);
        if (!this.first) {
            return;
        }
        await this.tick();
        const s = await scrape(this.api);
        if (s.ok) {
            this.final = s.histograms;
        } else {
            this.problem = `the last scrape failed: ${s.why}`;
        }
    }

    /** The run's latencies per call kind, or undefined with `problem` saying why. */
    calls(): CallLatency[] | undefined {
        return this.first && this.final ? callLatencies(this.first, this.final) : undefined;
    }

    /** p99 over time of the calls busiest over the run that the SLO covers. */
    overTime(): LatencyPoint[] {
        const top = new Set((this.calls() ?? []).filter((c) => c.atMost !== undefined).slice(0, PLOTTED_CALLS).map(callName));
        return this.points.flatMap((p) => p.calls.filter((c) => top.has(callName(c)) && Number.isFinite(c.p99))
            .map((c) => ({ t: round(p.t, 1), call: callName(c), p99: c.p99 })));
    }
}
