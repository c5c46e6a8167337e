// The report folder: Markdown for people, JSON for machines, SVG charts; common parts of both scenarios.
import * as fs from "node:fs";
import * as path from "node:path";
import type { Options } from "./options";
import { optionsOf } from "./options";
import type { GeneratorUsage, HollowUsage, NodeHealth } from "./observe";
import { overall, row, RunVerdict, SliRow } from "./slo";
import type { StackInfo } from "./stack";

/** Everything a run reports; the stack's kubeconfigs are never part of it. */
export interface RunRecord {
    readonly tool: string;
    readonly stack: string;
    readonly scenario: string;
    readonly startedAt: string;
    readonly endedAt: string;
    readonly target: string;
    readonly nodeCluster: string;
    readonly stackInfo: Omit<StackInfo, "targetKubeconfig" | "nodeKubeconfig">;
    readonly options: Options;
    readonly leftoversRemoved: readonly string[];
    readonly rows: readonly SliRow[];
    /** Why a verdict on this run is context, not a finding (a saturated host, etcd too slow); none: it holds. */
    readonly brokenPreconditions: readonly string[];
    readonly verdict: RunVerdict;
    readonly notes: readonly string[];
    readonly error?: string;
    readonly cancelled: boolean;
    readonly cleanup: string;
}

/** The default report folder: measure-results/<stack>-<scenario>-<UTC time>/ under the current folder. */
export function defaultOutput(stack: string, scenario: string, at: Date): string {
    const stamp = at
        .toISOString()
        .replace(/[-:]/g, "")
        .replace(/\.\d+Z$/, "Z");
    return path.join("measure-results", `${stack.replace(/[^A-Za-z0-9_.-]+/g, "-")}-${scenario}-${stamp}`);
}

export function publicStack(s: StackInfo): RunRecord["stackInfo"] {
    const { targetKubeconfig: _t, nodeKubeconfig: _n, ...rest } = s;
    return rest;
}

/** Rows every scenario reports: the hollow Nodes' readiness, their pods' usage, and the generator's own CPU. */
export function commonRows(
    nodes: NodeHealth,
    usage: HollowUsage | undefined,
    generator: GeneratorUsage | undefined,
    churn: boolean,
): SliRow[] {
    const rows: SliRow[] = [];
    const flapped = nodes.notReady.length;
    rows.push(
        row(
            "hollow Nodes seen NotReady or gone",
            flapped,
            "Nodes",
            churn ? undefined : 0,
            `fewest Ready ${nodes.minReady ?? "?"} of ${nodes.expected}, ${nodes.looks} looks` +
                `${
                    flapped > 0
                        ? `: ${nodes.notReady
                              .slice(0, 5)
                              .map((n) => `${n.name} at ${n.firstSeconds}s`)
                              .join(", ")}`
                        : ""
                }` +
                `${churn ? " (the churn's own kills expected)" : "; a flapping Node makes the other figures suspect"}`,
        ),
    );
    if (usage) {
        const readable = usage.pods > 0;
        rows.push(
            row(
                "hollow pods' CPU (node cluster, all together)",
                readable ? usage.totalCores : undefined,
                "cores",
                undefined,
                readable
                    ? `${usage.pods} pods of ${usage.nodesPerPod} hollow node(s) each; busiest pod ${usage.maxPodCores} cores`
                    : `not readable: ${usage.problems.slice(0, 2).join("; ")}`,
            ),
        );
        rows.push(
            row(
                "hollow pods' memory (working set at the end)",
                readable ? usage.totalMemoryMiB : undefined,
                "MiB",
                undefined,
                readable ? `largest pod ${usage.maxPodMemoryMiB} MiB` : "not readable (as above)",
            ),
        );
    }
    if (generator) {
        rows.push(
            row(
                "load generator's own CPU (this process)",
                generator.cores,
                "cores",
                undefined,
                `over ${generator.seconds}s, peak RSS ${generator.maxRssMiB} MiB; near a full core, the watch sees events late ` +
                    "and the watch-measured phases grow",
            ),
        );
    }
    return rows;
}

const fmt = (v: number | undefined, unit: string) => (v === undefined ? "—" : `${v} ${unit}`);
const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");

const bound = (r: SliRow) =>
    r.atMost !== undefined ? `≤ ${r.atMost} ${r.unit}` : r.atLeast !== undefined ? `≥ ${r.atLeast} ${r.unit}` : "—";

export function sliTable(rows: readonly SliRow[]): string[] {
    return [
        "| SLI | value | SLO / bound | verdict | note |",
        "|---|---|---|---|---|",
        ...rows.map(
            (r) =>
                `| ${cell(r.sli)} | ${fmt(r.value, r.unit)} | ${bound(r)} | ` +
                `${r.verdict === "n/a" ? "—" : r.verdict.toUpperCase()} | ${cell(r.note ?? "")} |`,
        ),
    ];
}

export function header(record: RunRecord): string[] {
    const state = record.cancelled
        ? "INTERRUPTED"
        : record.error
          ? "FAILED"
          : record.verdict === "n/a"
            ? "NO VERDICT"
            : record.verdict.toUpperCase();
    const broken = record.brokenPreconditions;
    return [
        `# ${record.scenario} on stack \`${record.stack}\`: ${state}`,
        "",
        `Started ${record.startedAt}, ended ${record.endedAt}. Target ${record.target}, node cluster ${record.nodeCluster}; ` +
            `${record.stackInfo.replicas} hollow Nodes (${record.stackInfo.selector}), ${record.stackInfo.nodesPerPod} per pod.`,
        ...(record.leftoversRemoved.length > 0
            ? ["", `Removed first, left by an interrupted run: ${record.leftoversRemoved.join(", ")}.`]
            : []),
        ...(record.error ? ["", `**The run stopped early:** ${cell(record.error)}`] : []),
        ...(broken.length > 0
            ? [
                  "",
                  `**Not a finding, context only:** ${broken.map(cell).join("; ")}. ` +
                      "The SLOs presume a control plane sized for the cluster and a host that is not the bottleneck; nothing on this run passes.",
              ]
            : []),
        "",
    ];
}

export function footer(record: RunRecord, charts: readonly { file: string; title: string }[]): string[] {
    return [
        ...(charts.length > 0 ? ["## Charts", "", ...charts.flatMap((c) => [`![${c.title}](${c.file})`, ""])] : []),
        "## Parameters",
        "",
        "| option | value |",
        "|---|---|",
        ...Object.entries(optionsOf(record.options)).map(([k, v]) => `| ${k} | ${cell(String(v))} |`),
        "",
        `Cleanup: ${record.cleanup}`,
        "",
        ...(record.notes.length > 0 ? ["## Notes", "", ...record.notes.map((n) => `- ${n}`), ""] : []),
    ];
}

/** Writes report.md, report.json and the charts into `dir`; returns the folder. */
export function writeReport(
    dir: string,
    markdown: string[],
    json: unknown,
    charts: readonly { file: string; svg: string }[],
): string {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "report.md"), `${markdown.join("\n")}\n`);
    fs.writeFileSync(path.join(dir, "report.json"), `${JSON.stringify(json, null, 2)}\n`);
    for (const c of charts) {
        fs.writeFileSync(path.join(dir, c.file), c.svg);
    }
    return dir;
}

export function verdictOf(rows: readonly SliRow[], brokenPreconditions: readonly string[]): RunVerdict {
    return overall(rows, brokenPreconditions);
}
