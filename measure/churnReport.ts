// The churn scenario's report: each killed hollow Node's way down and back, and the stack's Nodes afterwards.
import { countsOverTimeSvg } from "./charts";
import type { ChurnOutcome } from "./churn";
import { commonRows, footer, header, RunRecord, sliTable } from "./report";
import { row, SliRow } from "./slo";
import { spread } from "./stats";

/** v1.31's kube-controller-manager default: how long a silent Node stays Ready. Later releases use 50 s. */
export const NODE_MONITOR_GRACE_SECONDS = 40;

export function churnRows(o: ChurnOutcome): SliRow[] {
    const notReady = spread(o.killed.flatMap((k) => (k.notReadySeconds === undefined ? [] : [k.notReadySeconds])));
    const back = spread(o.killed.flatMap((k) => (k.readySeconds === undefined ? [] : [k.readySeconds])));
    const gaps = spread(o.killed.flatMap((k) => (k.leaseGapSeconds === undefined ? [] : [k.leaseGapSeconds])));
    const notBack = o.killed.filter((k) => k.readySeconds === undefined).map((k) => k.node);
    const sameNames = o.workloadKind === "StatefulSet";
    return [
        row("killed hollow Nodes marked NotReady, slowest", notReady?.max, "s", undefined,
            `${notReady?.count ?? 0} of ${o.killed.length}; the target waits node-monitor-grace-period (${NODE_MONITOR_GRACE_SECONDS} s on v1.31) ` +
            "after the last heartbeat"),
        row("killed hollow Nodes Ready again (or replaced), slowest, after the kill", back?.max, "s", undefined,
            `includes --down-seconds; ${back?.count ?? 0} of ${o.killed.length}`),
        row("killed hollow Nodes not back", notBack.length, "Nodes", 0, notBack.join(", ") || undefined),
        row("Lease renewal gap, longest", gaps?.max, "s", undefined, "renewTime has microsecond resolution"),
        row("Nodes no pod stands behind after the churn", o.final.stale.length, "Nodes", sameNames ? 0 : undefined,
            o.final.sweepAdvice ?? `${o.final.registered} registered, ${o.final.ready} Ready, ${o.final.replicas} expected`),
        row("stack's Nodes Ready behind a pod after the churn", o.final.ready, "Nodes", undefined, `of ${o.final.replicas} replicas`),
        ...commonRows(o.nodes, undefined, undefined, true),
    ];
}

const v = (x: number | undefined) => (x === undefined ? "—" : String(x));

export function churnMarkdown(record: RunRecord, o: ChurnOutcome, charts: readonly { file: string; title: string }[]): string[] {
    const lines = [...header(record), "## Figures", "", ...sliTable(record.rows), ""];
    lines.push("## Each killed hollow Node", "",
        "Seconds after the kill. NotReady is the first look (once a second) that found the Ready condition not True; " +
        "API is that condition's lastTransitionTime, in whole seconds. Taints and evictions are what the target did " +
        "meanwhile; evictions are of a load run's pods on that Node, if one ran at the same time.", "",
        "| Node | pod | killed at s | NotReady (look / API) | taints added | evictions | Lease gap s | back after | outcome |",
        "|---|---|---|---|---|---|---|---|---|",
        ...o.killed.map((k) => `| ${k.node} | ${k.pod} | ${k.killSeconds} | ${v(k.notReadySeconds)} / ${v(k.notReadyApiSeconds)} | ` +
            `${k.taints.map((t) => `${t.key}:${t.effect} at ${t.seconds}`).join("<br>") || "—"} | ` +
            `${k.evictions.length === 0 ? "—" : `${k.evictions.length} (first at ${k.evictions[0].seconds}${k.evictions[0].reason ? `, ${k.evictions[0].reason}` : ""})`} | ` +
            `${v(k.leaseGapSeconds)} | ${v(k.readySeconds)} | ${(k.outcome ?? "").replace(/\|/g, "\\|")} |`), "");
    lines.push(`Replacement pods deleted to keep killed pods down: ${o.replacementsDeleted}${o.gaveUp.length > 0 ? ` (${o.gaveUp.join("; ")})` : ""}.`, "");
    lines.push("## The stack afterwards", "",
        `${o.final.registered} Nodes registered with the stack's label, ${o.final.ready} Ready behind a pod, ${o.final.replicas} replicas.` +
        (o.final.stale.length > 0 ? ` ${o.final.sweepAdvice}.` : " None orphaned."), "");
    return [...lines, ...footer(record, charts)];
}

export function churnCharts(o: ChurnOutcome): { file: string; title: string; svg: string }[] {
    const title = "Ready hollow Nodes over the churn";
    const points = o.nodes.samples.map((s) => ({ t: s.t, series: "Ready", value: s.ready }));
    const events = [...new Map(o.killed.map((k) => [k.pod, { t: k.killSeconds, label: `kill ${k.pod}` }])).values()];
    return points.length === 0 ? [] : [{ file: "ready-nodes.svg", title, svg: countsOverTimeSvg(title, points, "hollow Nodes", events) }];
}
