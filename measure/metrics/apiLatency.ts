// API call latency as ClusterLoader2's APIResponsivenessPrometheusSimple judges it, from kube-apiserver's /metrics.
import { Histogram, histogramDeltas, histogramQuantile, parseHistograms, sumBy } from "./promtext";
import { CL2_SOURCE, row, SliRow } from "../slo";
import { round } from "../stats";
import type { Kube } from "../kube";

/**
 * The metric the SLO is defined on, newest first: from v1.26 the SLI histogram (no webhook time, no
 * priority-and-fairness queue wait), v1.23–v1.25 its earlier name, before that the full request duration. CL2 picks
 * by the server's version (pkg/measurement/util/metrics.go); here by what the server exposes, which is the same cut.
 */
export const LATENCY_METRICS: readonly string[] = [
    "apiserver_request_sli_duration_seconds",
    "apiserver_request_slo_duration_seconds",
    "apiserver_request_duration_seconds",
];
/** CL2 sums by these, not by API group: `by (resource, subresource, verb, scope, le)`. */
export const CALL_KEYS: readonly string[] = ["resource", "subresource", "verb", "scope"];
/** CL2's filter: `verb!="WATCH", subresource!~"log|exec|portforward|attach|proxy"`. */
const EXCLUDED_SUBRESOURCES = new Set(["log", "exec", "portforward", "attach", "proxy"]);
export const included = (l: Readonly<Record<string, string>>) =>
    l.verb !== "WATCH" && !EXCLUDED_SUBRESOURCES.has(l.subresource ?? "");
/** CL2's defaultSingleResourceThreshold and defaultMultipleResourcesThreshold. */
export const SINGLE_RESOURCE_SECONDS = 1;
export const MULTIPLE_RESOURCES_SECONDS = 30;
/** The latency-over-time plot draws the busiest calls only; more lines would be unreadable. */
export const PLOTTED_CALLS = 8;

/** CL2's threshold: scope `resource` 1 s, every other scope (namespace, cluster) 30 s, any verb. */
export function apiCallThreshold(scope: string): number {
    return scope === "resource" ? SINGLE_RESOURCE_SECONDS : MULTIPLE_RESOURCES_SECONDS;
}

/**
 * The bucket CL2 counts a call as fast in (slowCount = count − that bucket's count): le=1 for calls other than
 * LIST, le=5 for LISTs of a namespace, le=30 for LISTs of the cluster; undefined where CL2 has no filter (proxy).
 */
export function fastBucket(verb: string, scope: string, subresource: string): number | undefined {
    if (verb === "LIST") {
        return scope === "cluster" ? 30 : 5;
    }
    return subresource === "proxy" ? undefined : 1;
}

export interface CallLatency {
    readonly verb: string;
    readonly resource: string;
    readonly subresource: string;
    readonly scope: string;
    readonly calls: number;
    readonly p50: number;
    readonly p90: number;
    readonly p99: number;
    /** Calls over CL2's fast bucket for the kind; undefined when the histogram has no such bound. */
    readonly slow?: number;
    readonly atMost: number;
}

export const callName = (c: { verb: string; resource: string; subresource: string; scope: string }) =>
    `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ""} (${c.scope || "-"})`;

/** p50, p90, p99 and slow calls per call kind of what was observed between two scrapes, busiest first. */
export function callLatencies(before: readonly Histogram[], after: readonly Histogram[]): CallLatency[] {
    return sumBy(
        histogramDeltas(
            before.filter((h) => included(h.labels)),
            after.filter((h) => included(h.labels)),
        ),
        CALL_KEYS,
    )
        .filter((h) => h.count > 0)
        .map((h) => {
            const l = h.labels;
            const fast = fastBucket(l.verb, l.scope, l.subresource);
            const bucket = fast === undefined ? undefined : h.buckets.find((b) => b.le === fast);
            const q = (p: number) => round(histogramQuantile(p, h.buckets), 4);
            return {
                verb: l.verb,
                resource: l.resource,
                subresource: l.subresource,
                scope: l.scope,
                calls: Math.round(h.count),
                p50: q(0.5),
                p90: q(0.9),
                p99: q(0.99),
                slow: bucket === undefined ? undefined : Math.round(h.count - bucket.count),
                atMost: apiCallThreshold(l.scope),
            };
        })
        .sort((a, b) => b.calls - a.calls || callName(a).localeCompare(callName(b)));
}

/** CL2's verdict on a call kind: it fails when any of p50, p90, p99 is over the threshold. */
export const callFails = (c: CallLatency) => [c.p50, c.p90, c.p99].some((v) => v > c.atMost);

/** One SLI row per call kind: the worst of its percentiles against the threshold, as CL2's VerifyThreshold. */
export function apiRows(calls: readonly CallLatency[], metric: string): SliRow[] {
    return calls.map((c) =>
        row(
            `API call latency p99: ${callName(c)}`,
            c.p99,
            "s",
            c.atMost,
            `${c.calls} calls, p50 ${c.p50} s, p90 ${c.p90} s, ${c.slow ?? "?"} slow; ${metric}` +
                `${callFails(c) && c.p99 <= c.atMost ? `; FAIL on p50/p90 over ${c.atMost} s` : ""}`,
            callFails(c) ? "fail" : undefined,
        ),
    );
}

export interface LatencyPoint {
    readonly t: number;
    readonly call: string;
    readonly p99: number;
}

export type Scrape = { ok: true; metric: string; histograms: Histogram[] } | { ok: false; why: string };

/** The histogram of the newest latency metric the server exposes, with its name. */
export function latencyHistograms(text: string): { metric: string; histograms: Histogram[] } | undefined {
    for (const metric of LATENCY_METRICS) {
        const histograms = parseHistograms(text, metric);
        if (histograms.length > 0) {
            return { metric, histograms };
        }
    }
    return undefined;
}

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
            why:
                `the target's kubeconfig may not read ${api.server}/metrics (403: it needs \`get\` on the nonResourceURL /metrics, ` +
                "as system:monitoring or cluster-admin have); API call latency is not measured",
        };
    }
    if (reply.status !== 200) {
        return { ok: false, why: `${api.server}/metrics answered HTTP ${reply.status}: ${reply.body.slice(0, 200)}` };
    }
    try {
        const found = latencyHistograms(reply.body);
        return found
            ? { ok: true, ...found }
            : { ok: false, why: `${api.server}/metrics has none of ${LATENCY_METRICS.join(", ")}` };
    } catch (e) {
        return { ok: false, why: `${api.server}/metrics is not the Prometheus text format: ${(e as Error).message}` };
    }
}

/**
 * Scrapes at the start, every `everyMs` while the run goes on, and at the end: the run's latencies are the
 * difference between the first and the last (CL2's `rate(…[whole test])`, whose ratio of buckets is the same), and
 * each interval's p99 of the busiest calls is a point of the plot. A failed periodic scrape is skipped; only the
 * first and last decide whether latency is reported at all.
 */
export class LatencyRecorder {
    private first?: Histogram[];
    private last?: { atMs: number; histograms: Histogram[] };
    private points: { t: number; calls: CallLatency[] }[] = [];
    private timer?: NodeJS.Timeout;
    private busy = false;
    problem?: string;
    /** Set when the figures end before the run did. */
    endNote?: string;
    final?: Histogram[];
    metric?: string;

    constructor(
        private readonly api: Kube,
        private readonly startMs: number,
        private readonly log: (m: string) => void,
    ) {}

    async start(everyMs: number): Promise<void> {
        const s = await scrape(this.api);
        if (!s.ok) {
            this.problem = s.why;
            this.log(s.why);
            return;
        }
        this.first = s.histograms;
        this.metric = s.metric;
        if (s.metric !== LATENCY_METRICS[0]) {
            this.log(
                `the target has no ${LATENCY_METRICS[0]} (it predates v1.26): API call latency is read from ${s.metric}, ` +
                    `which ${s.metric === "apiserver_request_duration_seconds" ? "includes webhook time and the priority-and-fairness queue wait" : "is its v1.23–v1.25 name"}`,
            );
        }
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
            if (s.ok && s.metric === this.metric) {
                const now = Date.now();
                this.points.push({
                    t: (now - this.startMs) / 1000,
                    calls: callLatencies(this.last.histograms, s.histograms),
                });
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
        if (s.ok && s.metric === this.metric) {
            this.final = s.histograms;
            return;
        }
        const why = s.ok ? `its metric changed to ${s.metric}` : s.why;
        // A saturated API server may not answer the last scrape: the latest one that did still covers most of the run.
        if (this.last && this.last.histograms !== this.first) {
            this.final = this.last.histograms;
            this.endNote =
                `the last scrape failed (${why}): the figures end at the latest scrape that answered, ` +
                `${round((this.last.atMs - this.startMs) / 1000, 1)} s into the run`;
            this.log(this.endNote);
        } else {
            this.problem = `the last scrape failed: ${why}`;
        }
    }

    /** The run's latencies per call kind, or undefined with `problem` saying why. */
    calls(): CallLatency[] | undefined {
        return this.first && this.final ? callLatencies(this.first, this.final) : undefined;
    }

    /** p99 over time of the calls busiest over the run. */
    overTime(): LatencyPoint[] {
        const top = new Set((this.calls() ?? []).slice(0, PLOTTED_CALLS).map(callName));
        return this.points.flatMap((p) =>
            p.calls
                .filter((c) => top.has(callName(c)) && Number.isFinite(c.p99))
                .map((c) => ({ t: round(p.t, 1), call: callName(c), p99: c.p99 })),
        );
    }
}

/** What the report says of the semantics it follows. */
export const API_LATENCY_SEMANTICS =
    `ClusterLoader2's APIResponsivenessPrometheusSimple (${CL2_SOURCE}): ` +
    "histogram_quantile over the run's bucket increase, summed by resource, subresource, verb and scope; WATCH and the " +
    "log/exec/portforward/attach/proxy subresources left out; a call kind fails when its p50, p90 or p99 is over 1 s " +
    "(scope resource) or 30 s (namespace, cluster); slow calls are those over 1 s (not LIST), 5 s (namespace LIST) or 30 s (cluster LIST)";
