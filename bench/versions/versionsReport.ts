// bench:versions' figures: one row per release as markdown in bench/results.md, and as JSON for the README's line.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { BENCH_BUILD, reportsOf, resultsLink } from "../common/paths";
import { writeSection } from "../common/sections";
import type { Usage } from "../common/usage";

/** The shared identity's confining admission policy is served as admissionregistration.k8s.io/v1 from v1.30. */
export const SHARED_FROM_MINOR = 30;
export const VERSIONS_MARKER = "<!-- versions: written by npm run bench:versions; npm run bench keeps it -->";
/** What npm run docs reads to write the README's supported-releases line. */
export const VERSIONS_JSON = path.join(reportsOf("versions"), "versions.json");

export interface Measured { exit: number; passed: number; judged: number; failed: string[] }

export interface ReleaseRow {
    release: string;
    target: string;
    steps: Record<string, { seconds: number; note: string }>;
    image?: { seconds: number; steps: Record<string, number>; tag: string; sizeMiB: number };
    upSeconds?: number;
    idle?: Usage;
    measure?: Measured;
    /** Refusals in the hollow containers' logs: certificate per Node, and shared identity (undefined: n/a). */
    refusals?: number;
    sharedRefusals?: number;
    /** A kubelet looking up a pod after the load deleted it, refused by the Node authorizer: counted, not a refusal. */
    nodeGraphRaces?: number;
    restarts?: number;
    destroySeconds?: number;
    left?: string[];
    error?: string;
    minutes?: number;
}

/** Built, Ready, measured with every judged SLI passing, no refusal or restart, destroyed with nothing left. */
export function rowHolds(r: ReleaseRow): boolean {
    return r.error === undefined && r.upSeconds !== undefined && r.measure !== undefined && r.measure.passed === r.measure.judged &&
        r.refusals === 0 && (r.sharedRefusals ?? 0) === 0 && r.restarts === 0 && r.destroySeconds !== undefined && (r.left ?? []).length === 0;
}

const f1 = (n?: number) => (n === undefined ? "—" : n.toFixed(1));
const per = (total: number, count: number) => (count > 0 ? total / count : undefined);

function cells(r: ReleaseRow): string[] {
    const u = r.idle;
    const patches = r.image?.tag.split("-").slice(1).join(", ") || "none";
    return [
        `**${r.release}**`, r.target,
        r.image ? `${f1(r.image.seconds)} (build ${f1(r.image.steps.build)})` : "—",
        r.image ? f1(r.image.sizeMiB) : "—", r.image ? patches : "—",
        f1(r.upSeconds),
        u ? `${f1(per(u.kubeletCpuM, u.kubelets))}m / ${f1(per(u.kubeletRssMiB, u.kubelets))} MiB` : "—",
        u ? `${f1(per(u.proxyCpuM, u.proxies))}m / ${f1(per(u.proxyRssMiB, u.proxies))} MiB` : "—",
        r.measure ? `${r.measure.passed}/${r.measure.judged}${r.measure.failed.length ? ` (FAIL: ${r.measure.failed.join("; ")})` : ""}` : "—",
        r.refusals === undefined ? "—" : `${r.refusals}${r.nodeGraphRaces ? ` (+${r.nodeGraphRaces} Node authorizer graph races)` : ""}`,
        r.sharedRefusals === undefined ? (r.error ? "—" : `n/a (target < v1.${SHARED_FROM_MINOR})`) : String(r.sharedRefusals),
        r.restarts === undefined ? "—" : String(r.restarts),
        f1(r.destroySeconds),
        r.left === undefined ? "—" : r.left.length === 0 ? "nothing" : r.left.join(", "),
        r.error ? `error: ${r.error}` : rowHolds(r) ? "holds" : "does not hold",
    ];
}

export function versionsMarkdown(rows: readonly ReleaseRow[], minutes: number,
    o: { replicas: number; sharedReplicas: number; settleS: number; holdS: number }): string {
    const head = ["release", "target", "image s", "image MiB", "patches", `up to ${o.replicas} Ready s`, "idle kubelet CPU / RSS",
        "idle proxy CPU / RSS", "measure: SLIs pass", "refusals, own cert", `refusals, shared (${o.sharedReplicas})`, "restarts",
        "destroy s", "left", "verdict"];
    const held = rows.filter(rowHolds).map((r) => r.release);
    return [
        VERSIONS_MARKER,
        "## Versions: every tested release against a control plane of its own release",
        "",
        `- date: ${new Date().toISOString()}; run took ${minutes.toFixed(1)} min on ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
        `- per release: \`lab/up.sh --target <release>\` (an empty target of that release: its kube-apiserver, controller-manager, ` +
        "scheduler and etcd, built from Go modules), the image built and pushed (Go module source, scratch base; `image s` is this " +
        "run's fetch + patch + build + docker build + push, with the Go caches warm, `build` the go build alone), " +
        `${o.replicas} hollow Nodes (StatefulSet, a certificate each) to Ready, ${o.settleS} s to settle, then CPU and RSS of each hollow ` +
        `kubelet and proxy over ${o.holdS} s from their cgroups, \`npm run measure\` (load, its small defaults: 10 pods per hollow Node), ` +
        "refusals (403, or a resource the target does not serve) in every hollow container's log, a status lookup of a pod the " +
        "load had deleted (which the Node authorizer refuses, as on any cluster) counted apart, container restarts, " +
        `${o.sharedReplicas} more hollow Nodes of a Deployment (the shared identity) to Ready and their logs' refusals, destroy, and what ` +
        "destroy left (Nodes, Leases, CSRs of the stack, its namespace)",
        `- reports of each measure run: ${resultsLink(reportsOf("versions"))}/<release>/report.md`,
        `- holds (built, Ready, every judged SLI passed, no refusal, no restart, nothing left): ${held.join(", ") || "none"}`,
        "",
        `| ${head.join(" | ")} |`,
        `|${head.map(() => "---").join("|")}|`,
        ...rows.map((r) => `| ${cells(r).join(" | ")} |`),
    ].join("\n");
}

/** A full run replaces its section of results.md and the JSON; a partial one goes beside the build. */
export function writeVersions(md: string, rows: readonly ReleaseRow[], full: boolean): string {
    if (!full) {
        const file = path.join(BENCH_BUILD, "results-versions-partial.md");
        fs.writeFileSync(file, md);
        return file;
    }
    fs.mkdirSync(path.dirname(VERSIONS_JSON), { recursive: true });
    fs.writeFileSync(VERSIONS_JSON, `${JSON.stringify(rows.map((r) => ({ ...r, holds: rowHolds(r) })), null, 2)}\n`);
    return writeSection(VERSIONS_MARKER, md);
}
