// Scenario density's report: CL2's latency pods judged, the density's own pods and throughput beside, API calls.
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
import { poolMarkdown } from "../../phases/poolReport";
import type { RunRecord } from "../../report";
import { row, SliRow } from "../../slo";
import { round } from "../../stats";
import type { Chart } from "../scenario";
import type { DensityOutcome } from "./run";

export function densityRows(o: DensityOutcome): SliRow[] {
    return [
        ...latencyRows(o.latency, notRun(o.plannedLatencyPods, "--latency-pods")),
        ...bulkRows(o.startup),
        row(
            "scheduling throughput of the density's pods, average over busy 5 s windows",
            round(o.throughput.average, 2),
            "pods/s",
            undefined,
            "what the pace offered, not the scheduler's limit: `--scenario load` bursts as CL2",
        ),
        row("scheduling throughput of the density's pods, max 5 s window", round(o.throughput.max, 2), "pods/s"),
        churnRow(o.churn),
        ...apiAndCommonRows(o),
    ];
}

export function densityMarkdown(record: RunRecord, o: DensityOutcome): string[] {
    return [
        ...latencyMarkdown(o.latency),
        ...poolMarkdown(o.pools, record.options.pools),
        ...bulkMarkdown(o.startup),
        ...phasesAndApiMarkdown(o),
    ];
}

export function densityCharts(o: DensityOutcome): Chart[] {
    const charts = podCharts(o, o.latency);
    const title = "Scheduling throughput of the density's pods per 5 s window";
    charts.push({
        file: "scheduling-throughput.svg",
        title,
        svg: throughputSvg(
            title,
            o.throughput.windows.map((w) => ({
                t: round((w.startMs - o.throughput.windows[0].startMs) / 1000, 1),
                perSecond: w.perSecond,
            })),
            o.throughput.average,
        ),
    });
    return charts;
}
