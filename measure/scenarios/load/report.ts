// Scenario load's report: CL2's judged SLIs (latency pods, API calls, scheduler throughput), the plan and its seed.
import { throughputSvg } from "../../charts/charts";
import {
    apiAndCommonRows,
    bulkMarkdown,
    bulkRows,
    churnRow,
    latencyMarkdown,
    latencyRows,
    notRun,
    phasesAndApiMarkdown,
    podCharts,
} from "../../phases/podReport";
import { CL2_MIN_NODES } from "../../phases/latencyPods";
import { poolMarkdown } from "../../phases/poolReport";
import type { RunRecord } from "../../report";
import { row, rowAtLeast, SCHEDULER_THROUGHPUT_MIN, SliRow } from "../../slo";
import { round } from "../../stats";
import type { Chart } from "../scenario";
import type { LoadOutcome } from "./run";

export function throughputRows(o: LoadOutcome): SliRow[] {
    const t = o.throughput;
    if (!t || !t.stats) {
        return [
            row(
                "scheduler throughput (burst), max",
                undefined,
                "pods/s",
                undefined,
                t ? t.notes.join("; ") || "no sample" : notRun(o.planned.throughputPods, "--throughput-pods"),
            ),
        ];
    }
    const small = o.plan.namespaces.length > 0 && t.pods < t.wanted ? `; ${t.notes.join("; ")}` : "";
    return [
        rowAtLeast(
            "scheduler throughput (burst), max",
            round(t.stats.max, 1),
            "pods/s",
            SCHEDULER_THROUGHPUT_MIN,
            `${t.pods} pods at once, ${t.samples.length} samples of 1 s; CL2 judges the max${small}` +
                `${t.boundBy && t.stats.max < SCHEDULER_THROUGHPUT_MIN ? `; bounded by ${t.boundBy}` : ""}`,
        ),
        row(
            "scheduler throughput (burst), p50 / p90 / p99",
            round(t.stats.p99, 1),
            "pods/s",
            undefined,
            `p50 ${round(t.stats.p50, 1)}, p90 ${round(t.stats.p90, 1)}, p99 ${round(t.stats.p99, 1)} (nearest rank)`,
        ),
    ];
}

export function loadRows(o: LoadOutcome): SliRow[] {
    return [
        ...latencyRows(o.latency, notRun(o.planned.latencyPods, "--latency-pods")),
        ...throughputRows(o),
        ...bulkRows(o.startup),
        churnRow(o.churn),
        ...apiAndCommonRows(o),
    ];
}

export function loadMarkdown(record: RunRecord, o: LoadOutcome): string[] {
    const p = o.plan;
    const kinds = Object.entries(p.counts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
    const lines = [
        "## The load (ClusterLoader2's testing/load)",
        "",
        `Seed **${p.seed}** (\`--seed ${p.seed}\` repeats this plan exactly). ${p.totalPods} pods in ${p.namespaces.length} namespace(s) ` +
            `(${p.podsPerNamespace} each), ${p.podsAtFull} at full load plus ${p.daemonSetPods} of the DaemonSet, ${p.podsAfterScale} after the ` +
            `random scale. Objects: ${kinds}. Windows: create ${round(p.windowsMs.create / 1000, 1)} s, scale ${round(p.windowsMs.scale / 1000, 1)} s, ` +
            `delete ${round(p.windowsMs.delete / 1000, 1)} s; each object at a uniform random time in its window, as CL2's RandomizedTimeLimitedLoad.`,
        "",
    ];
    if (p.notes.length > 0) {
        lines.push(...p.notes.map((n) => `- ${n}`), "");
    }
    const t = o.throughput;
    if (t) {
        lines.push(
            "## Scheduler throughput (burst)",
            "",
            `One Deployment of ${t.pods} pods made at once (CL2: max(1000, Nodes) = ${t.wanted}; it skips the burst below ${CL2_MIN_NODES} Nodes); ` +
                "every second, pods bound and not terminating less the last count. CL2's load test fails the run when the max is under " +
                `${SCHEDULER_THROUGHPUT_MIN} pods/s.`,
            "",
            `Bound per second (pods/s): ${t.samples.map((s) => round(s, 1)).join(", ") || "none"}.`,
            "",
            `Appeared per second (pods/s): ${t.appeared.map((s) => round(s, 1)).join(", ") || "none"}.`,
            "",
            ...(t.boundBy ? [`What bounded it: ${t.boundBy}.`, ""] : []),
            ...t.notes.map((n) => `- ${n}`),
            "",
        );
    }
    return [
        ...lines,
        ...latencyMarkdown(o.latency),
        ...poolMarkdown(o.pools, record.options.pools),
        ...bulkMarkdown(o.startup),
        ...phasesAndApiMarkdown(o),
    ];
}

export function loadCharts(o: LoadOutcome): Chart[] {
    const charts = podCharts(o, o.latency);
    const t = o.throughput;
    if (t && t.samples.length > 0) {
        const title = `Scheduler throughput, burst of ${t.pods} pods, per second`;
        charts.push({
            file: "scheduling-throughput.svg",
            title,
            svg: throughputSvg(
                title,
                t.samples.map((perSecond, i) => ({ t: i + 1, perSecond })),
                t.stats?.p50 ?? 0,
            ),
        });
    }
    return charts;
}
