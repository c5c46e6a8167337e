// The report parts every pod scenario shares: the judged latency pods, the load's own pods, API calls, the charts.
import { API_LATENCY_SEMANTICS, apiRows, callName } from "../metrics/apiLatency";
import { apiLatencySvg, countsOverTimeSvg, latencyDistributionSvg } from "../charts/charts";
import { commonRows } from "../report";
import { BULK_POD_STARTUP_SECONDS, CHURN_LIMIT_PER_SECOND, POD_STARTUP_SECONDS, row, SliRow } from "../slo";
import { round, Spread } from "../stats";
import type { Chart } from "../scenarios/scenario";
import type { LatencyPodsOutcome } from "./latencyPods";
import type { PodRunFigures } from "./podRun";
import type { PodStartup } from "./pods";

const n = (v: number | undefined) => (v === undefined ? "—" : String(round(v)));

/** Why a phase has no figures: an option skipped it, or the run stopped before it. */
export const notRun = (planned: number, flag: string) =>
    planned === 0 ? `skipped (${flag} 0)` : "not reached: the run stopped before this phase";

/** The judged rows: the latency pods' pod_startup p50, p90 and p99, each at most 5 s, as CL2 checks them. */
export function latencyRows(latency: LatencyPodsOutcome | undefined, skipped: string): SliRow[] {
    const s = latency?.startup.podStartup;
    if (!latency || !s) {
        return [
            row(
                "pod startup latency (latency pods)",
                undefined,
                "s",
                undefined,
                latency ? "no latency pod ran" : skipped,
            ),
        ];
    }
    const note =
        `${s.count} latency pods made at ${latency.perSecond}/s onto the loaded cluster; first watch sight → watch sees Running ` +
        `(this machine's clock, ms), nearest-rank as CL2${latency.notes.length > 0 ? `; ${latency.notes.join("; ")}` : ""}`;
    return (["p99", "p90", "p50"] as const).map((p) =>
        row(
            `pod startup latency ${p} (latency pods)`,
            round(s[p]),
            "s",
            POD_STARTUP_SECONDS,
            p === "p99" ? note : undefined,
        ),
    );
}

/** The load's own pods: CL2 bounds them by an hour only; the watch figure and the creationTimestamp one beside. */
export function bulkRows(startup: PodStartup): SliRow[] {
    const watched = startup.phases.find((p) => p.phase === "seen created → seen Running")?.seconds;
    return [
        row(
            "load pods' startup p99, watch only (CL2 since 2026-03)",
            watched && round(watched.p99),
            "s",
            BULK_POD_STARTUP_SECONDS,
            `${watched?.count ?? 0} pods; CL2's CreatePhasePodStartupLatency bound is an hour`,
        ),
        row(
            "load pods' startup p99, creationTimestamp → watch (CL2 before 2026-03)",
            startup.e2e && round(startup.e2e.p99),
            "s",
            undefined,
            "whole-second creationTimestamp: over-reads by up to 1 s",
        ),
    ];
}

export function churnRow(churn: { maxPerSecond: number }): SliRow {
    return row(
        "pods created + deleted per second, busiest minute",
        round(churn.maxPerSecond, 2),
        "pods/s",
        CHURN_LIMIT_PER_SECOND,
        "the SLOs hold only while churn stays within this; the scheduler throughput burst is left out",
    );
}

export function apiAndCommonRows(f: PodRunFigures): SliRow[] {
    const api =
        f.apiCalls && f.apiMetric
            ? [
                  ...(f.apiEndNote
                      ? [row("API call latency: where the figures end", undefined, "", undefined, f.apiEndNote)]
                      : []),
                  ...apiRows(f.apiCalls, f.apiMetric),
              ]
            : [row("API call latency", undefined, "s", undefined, `not measured: ${f.apiProblem ?? "no scrapes"}`)];
    return [...api, ...commonRows(f.nodes, f.usage, f.generator, false)];
}

const spreadCells = (s: Spread | undefined) =>
    `${s?.count ?? 0} | ${n(s?.p50)} | ${n(s?.p90)} | ${n(s?.p99)} | ${n(s?.max)}`;

export function latencyMarkdown(latency: LatencyPodsOutcome | undefined): string[] {
    if (!latency) {
        return [];
    }
    const s = latency.startup;
    return [
        "## Latency pods (the judged pod startup)",
        "",
        `${latency.count} Deployments of one pod (${"50m"} CPU, 200M), made at ${latency.perSecond}/s once the load ran, as CL2's ` +
            "pod-startup-latency module; times are the run's own pod watch (first event of the pod, first with a node name, first " +
            "Running), this machine's clock in ms, nearest-rank percentiles; CL2's run_to_watch is 0 and pod_startup equals create_to_run.",
        "",
        "| CL2 transition | pods | p50 s | p90 s | p99 s | max s |",
        "|---|---|---|---|---|---|",
        `| create_to_schedule | ${spreadCells(s.createToSchedule)} |`,
        `| schedule_to_run | ${spreadCells(s.scheduleToRun)} |`,
        `| pod_startup (judged, ≤ ${POD_STARTUP_SECONDS} s each) | ${spreadCells(s.podStartup)} |`,
        "",
        ...latency.notes.map((x) => `- ${x}`),
        ...(latency.notes.length > 0 ? [""] : []),
    ];
}

export function bulkMarkdown(startup: PodStartup): string[] {
    const lines = [
        "## The load's own pods, phase by phase (not judged)",
        "",
        "CL2 holds these to an hour (CreatePhasePodStartupLatency). API times have whole-second resolution (creationTimestamp, " +
            "the PodScheduled condition, the container's startedAt); watch times are this machine's clock in ms. The least " +
            `(first seen − creationTimestamp) was ${n(startup.clockCheckSeconds)} s (between 0 and 1 with agreeing clocks).`,
        "",
        "| phase | source | pods | p50 s | p90 s | p99 s | max s |",
        "|---|---|---|---|---|---|---|",
    ];
    for (const p of [
        {
            phase: "create → observed Running (CL2 before 2026-03)",
            source: "API (s) to watch (ms)",
            seconds: startup.e2e,
        },
        ...startup.phases,
    ]) {
        lines.push(`| ${p.phase} | ${p.source} | ${spreadCells(p.seconds)} |`);
    }
    lines.push(
        "",
        `${startup.counted} pods ran; ${startup.neverRan} were removed or deleted before they ran. Percentiles here are R-7 ` +
            "(linear between order statistics); the judged latency pods' are CL2's nearest rank.",
        "",
    );
    return lines;
}

export function phasesAndApiMarkdown(f: PodRunFigures): string[] {
    const lines = [
        "## Phases",
        "",
        "| phase | started s | steps sent s | goal reached s | goal |",
        "|---|---|---|---|---|",
        ...f.phases.map(
            (p) =>
                `| ${p.phase} | ${p.startSeconds} | ${p.stepsSentSeconds ?? "—"} | ${p.settledSeconds ?? "—"} | ${p.goal} |`,
        ),
        "",
    ];
    if (f.apiCalls) {
        lines.push(
            "## API calls during the run",
            "",
            `From kube-apiserver's \`${f.apiMetric}\`: ${API_LATENCY_SEMANTICS}. ${f.apiEndNote ? `${f.apiEndNote}. ` : ""}Every client ` +
                "of the target counts, as in CL2.",
            "",
            "| call | calls | p50 s | p90 s | p99 s | slow | threshold |",
            "|---|---|---|---|---|---|---|",
            ...f.apiCalls.map(
                (c) =>
                    `| ${callName(c)} | ${c.calls} | ${c.p50} | ${c.p90} | ${c.p99} | ${c.slow ?? "—"} | ${c.atMost} s |`,
            ),
            "",
        );
    }
    return lines;
}

export function podCharts(f: PodRunFigures, latency: LatencyPodsOutcome | undefined): Chart[] {
    const charts: Chart[] = [];
    const s = latency?.startup.podStartup;
    if (latency && s) {
        const title = `Latency pods' startup, first sight → Running (${s.count} pods)`;
        charts.push({
            file: "pod-startup-latency.svg",
            title,
            svg: latencyDistributionSvg(title, latency.startup.samples, [
                { label: "p50", value: s.p50, color: "#4e79a7" },
                { label: "p99", value: s.p99, color: "#f28e2b" },
                { label: "SLO", value: POD_STARTUP_SECONDS, color: "#e15759" },
            ]),
        });
    }
    const title = "Pods bound and Running over the run";
    const points = f.progress.flatMap((p) => [
        { t: p.t, series: "bound (scheduled)", value: p.bound },
        { t: p.t, series: "Running", value: p.running },
    ]);
    charts.push({
        file: "pods-over-time.svg",
        title,
        svg: countsOverTimeSvg(
            title,
            points,
            "pods (cumulative)",
            f.phases.map((p) => ({ t: p.startSeconds, label: p.phase })),
        ),
    });
    if (f.latencyOverTime.length > 0) {
        const apiTitle = "API call latency p99 per scrape interval (busiest calls)";
        charts.push({
            file: "api-latency.svg",
            title: apiTitle,
            svg: apiLatencySvg(apiTitle, f.latencyOverTime, [1, 30]),
        });
    }
    return charts;
}
