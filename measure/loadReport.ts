// The load scenario's report: SLIs beside their SLOs, startup phases, API calls, and the three charts.
import { apiRows, callName } from "./apiLatency";
import { apiLatencySvg, countsOverTimeSvg, latencyDistributionSvg, throughputSvg } from "./charts";
import type { LoadOutcome } from "./load";
import { commonRows, footer, header, RunRecord, sliTable } from "./report";
import { CHURN_LIMIT_PER_SECOND, POD_STARTUP_P99_SECONDS, row, SliRow } from "./slo";
import { round } from "./stats";

export function loadRows(o: LoadOutcome): SliRow[] {
    const e2e = o.startup.e2e;
    const rows: SliRow[] = [
        row("pod startup latency p99 (create → observed Running)", e2e && round(e2e.p99), "s", POD_STARTUP_P99_SECONDS,
            e2e ? `${e2e.count} pods; create is creationTimestamp (whole seconds), observed Running is the run's watch (ms)` : "no pod ran"),
        row("pod startup latency p90", e2e && round(e2e.p90), "s"),
        row("pod startup latency p50", e2e && round(e2e.p50), "s"),
        row("scheduling throughput, average over busy 5 s windows", round(o.throughput.average, 2), "pods/s"),
        row("scheduling throughput, max 5 s window", round(o.throughput.max, 2), "pods/s"),
        row("pods created + deleted per second, max 5 s window", round(o.churn.maxPerSecond, 2), "pods/s", CHURN_LIMIT_PER_SECOND,
            "the SLOs hold only while churn stays within this"),
    ];
    if (o.apiCalls) {
        rows.push(...apiRows(o.apiCalls));
    } else {
        rows.push(row("API call latency", undefined, "s", undefined, `not measured: ${o.apiProblem ?? "no scrapes"}`));
    }
    return [...rows, ...commonRows(o.nodes, o.usage, o.generator, false)];
}

const n = (v: number | undefined) => (v === undefined ? "—" : String(round(v)));

export function loadMarkdown(record: RunRecord, o: LoadOutcome, charts: readonly { file: string; title: string }[]): string[] {
    const lines = [...header(record), "## SLIs against SLOs", "", ...sliTable(record.rows), ""];
    lines.push("## Pod startup, phase by phase", "",
        "Times marked API come from the API server's timestamps, which have whole-second resolution (creationTimestamp, " +
        "the PodScheduled condition, the container's startedAt); times marked watch are this machine's clock when the " +
        "run's pod watch saw the change, in milliseconds. A phase mixing both carries the clocks' difference: " +
        `the least (first seen − creationTimestamp) was ${n(o.startup.clockCheckSeconds)} s (between 0 and 1 with agreeing clocks).`, "",
        "| phase | source | pods | p50 s | p90 s | p99 s | max s |", "|---|---|---|---|---|---|---|");
    for (const p of [{ phase: "create → observed Running (the SLI)", source: "API (s) to watch (ms)", seconds: o.startup.e2e }, ...o.startup.phases]) {
        const s = p.seconds;
        lines.push(`| ${p.phase} | ${p.source} | ${s?.count ?? 0} | ${n(s?.p50)} | ${n(s?.p90)} | ${n(s?.p99)} | ${n(s?.max)} |`);
    }
    lines.push("", `${o.startup.counted} pods ran; ${o.startup.neverRan} were removed (scale-down) or deleted before they ran.`, "");
    lines.push("## Phases", "", "| phase | started s | steps sent s | goal reached s | goal |", "|---|---|---|---|---|",
        ...o.phases.map((p) => `| ${p.phase} | ${p.startSeconds} | ${p.stepsSentSeconds ?? "—"} | ${p.settledSeconds ?? "—"} | ${p.goal} |`), "");
    if (o.apiCalls) {
        lines.push("## API calls during the run", "",
            "From kube-apiserver's `apiserver_request_duration_seconds`, the difference between the scrape before the first " +
            "step and the one after the last (every client of the target counts, as in ClusterLoader2); quantiles " +
            "interpolated inside buckets as Prometheus' histogram_quantile does. WATCH and CONNECT have no SLO.", "",
            "| call | calls | p50 s | p99 s | SLO p99 |", "|---|---|---|---|---|",
            ...o.apiCalls.map((c) => `| ${callName(c)} | ${c.calls} | ${c.p50} | ${c.p99} | ${c.atMost === undefined ? "excluded" : `≤ ${c.atMost} s`} |`), "");
    }
    return [...lines, ...footer(record, charts)];
}

export function loadCharts(o: LoadOutcome): { file: string; title: string; svg: string }[] {
    const charts: { file: string; title: string; svg: string }[] = [];
    const e2e = o.startup.e2e;
    if (e2e) {
        const title = `Pod startup latency, create → observed Running (${e2e.count} pods)`;
        charts.push({ file: "pod-startup-latency.svg", title, svg: latencyDistributionSvg(title, o.startup.samples, [
            { label: "p50", value: e2e.p50, color: "#4e79a7" }, { label: "p99", value: e2e.p99, color: "#f28e2b" },
            { label: "SLO", value: POD_STARTUP_P99_SECONDS, color: "#e15759" }]) });
    }
    const title = "Pods bound and Running over the run";
    const points = o.progress.flatMap((p) => [{ t: p.t, series: "bound (scheduled)", value: p.bound }, { t: p.t, series: "Running", value: p.running }]);
    charts.push({ file: "pods-over-time.svg", title, svg: countsOverTimeSvg(title, points, "pods (cumulative)",
        o.phases.map((p) => ({ t: p.startSeconds, label: p.phase }))) });
    const throughputTitle = "Scheduling throughput per 5 s window";
    charts.push({ file: "scheduling-throughput.svg", title: throughputTitle, svg: throughputSvg(throughputTitle,
        o.throughput.windows.map((w) => ({ t: round((w.startMs - o.throughput.windows[0].startMs) / 1000, 1), perSecond: w.perSecond })),
        o.throughput.average) });
    if (o.latencyOverTime.length > 0) {
        const apiTitle = "API call latency p99 per scrape interval (busiest calls)";
        charts.push({ file: "api-latency.svg", title: apiTitle, svg: apiLatencySvg(apiTitle, o.latencyOverTime, [1, 5]) });
    }
    return charts;
}

/** The JSON: the record plus every figure, the pod samples included; no credentials. */
export function loadJson(record: RunRecord, o: LoadOutcome): unknown {
    return { ...record, load: o };
}
