// The density bench's figures as markdown, kept as their own section of bench/results.md.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RESULTS } from "../common/paths";
import { sectionEnd, writeSection } from "../common/sections";
import type { Usage } from "../common/usage";

export interface LayoutRow { perPod: number; proxy: boolean; load: string; usage: Usage; upSeconds: number }
export interface DensityRun {
    target: number; perPod: number; requests: Record<string, string>; upSeconds: number; upOk: boolean; upError: string;
    readyAtUp: number; holdSeconds: number; minReady: number; flaps: number; flapped: string[]; samples: number;
    /** Ready at the last look of the hold. */
    endReady: number;
    /** From the start of `up` until a look found every Node Ready; undefined if none did. */
    allReadySeconds?: number;
    hollowCpuCores: number; hollowRssGiB: number; machineBusyCores: number; daemons: Record<string, number>;
    memAvailableMiB: number; destroySeconds: number; left: string[];
    /** Whole machine, busy cores on average during up and destroy; the 1-minute load average as up ended. */
    upBusyCores?: number; destroyBusyCores?: number; upLoadAverage?: number;
    /** Looks at the Nodes during the hold that failed even after their retries. */
    missedLooks?: number;
    /** Where up's and destroy's time went (bench/density/timeline.ts), markdown lines. */
    timeline?: string[];
    /** Its up and destroy over time, SVG files linked from bench/results.md (relative to it). */
    charts?: string[];
}

/** What the hollow pods of one run used, summed over their containers. */
export type { Usage };

export const DENSITY_MARKER = "<!-- density: written by npm run bench:density; npm run bench keeps it -->";

const f1 = (n: number) => n.toFixed(1);
const per = (total: number, count: number) => total / Math.max(1, count);

export function densityMarkdown(o: { layouts: LayoutRow[]; densities: readonly DensityRun[]; minutes: number; image: string }): string {
    const lines = [
        DENSITY_MARKER,
        "## Density: hollow nodes on the lab's one real worker",
        "",
        `- date: ${new Date().toISOString()}; run took ${f1(o.minutes)} min; image ${o.image}`,
        `- machine: ${os.cpus().length} cores, ${f1(os.totalmem() / 2 ** 30)} GiB; the worker, both clusters' API servers, etcds and controllers all share it`,
        "- usage: pod cgroups on the worker (cgroup v1): CPU = cpuacct.usage over a 60 s window, RSS = memory.stat total_rss at its end",
        "",
    ];
    if (o.layouts.length > 0) {
        lines.push(
            "| nodes per pod | proxy | load | pods | per pod: CPU m | per pod: RSS MiB | per hollow node: kubelet CPU m | proxy CPU m | kubelet RSS MiB | proxy RSS MiB | up to all Ready s |",
            "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        );
        for (const r of o.layouts) {
            const u = r.usage;
            lines.push(`| ${r.perPod} | ${r.proxy ? "on" : "off"} | ${r.load} | ${u.pods} | ${f1(per(u.kubeletCpuM + u.proxyCpuM, u.pods))} | ` +
                `${f1(per(u.kubeletRssMiB + u.proxyRssMiB, u.pods))} | ${f1(per(u.kubeletCpuM, u.kubelets))} | ${u.proxies ? f1(per(u.proxyCpuM, u.proxies)) : "-"} | ` +
                `${f1(per(u.kubeletRssMiB, u.kubelets))} | ${u.proxies ? f1(per(u.proxyRssMiB, u.proxies)) : "-"} | ${f1(r.upSeconds)} |`);
        }
        lines.push("");
    }
    if (o.densities.length > 1) {
        const d0 = o.densities[0];
        lines.push(
            `### ${d0.target} hollow Nodes by layout`,
            "",
            `run ${new Date().toISOString()}; one run per layout, each held ${Math.round(d0.holdSeconds)} s; details below`,
            "",
            "| nodes per pod | pods | up to all Ready s | whole machine busy during up | pulumi destroy s | left after destroy | hollow pods CPU (hold) | machine busy (hold) |",
            "|---:|---:|---:|---:|---:|---|---:|---:|",
            ...o.densities.map((d) => `| ${d.perPod} | ${Math.ceil(d.target / d.perPod)} | ${d.allReadySeconds === undefined ? "never" : f1(d.allReadySeconds)} | ` +
                `${(d.upBusyCores ?? 0).toFixed(2)} | ${f1(d.destroySeconds)} | ${d.left.length === 0 ? "nothing" : `${d.left.length} things`} | ` +
                `${d.hollowCpuCores.toFixed(2)} | ${d.machineBusyCores.toFixed(2)} |`),
            "",
        );
    }
    for (const d of o.densities) {
        const daemons = Object.entries(d.daemons).filter(([, v]) => v >= 0.005).sort((a, b) => b[1] - a[1])
            .map(([k, v]) => `${k} ${v.toFixed(2)}`).join(", ");
        lines.push(
            `### ${d.target} hollow Nodes at ${d.perPod} per pod, held ${Math.round(d.holdSeconds / 60)} min`,
            "",
            `run ${new Date().toISOString()}`,
            "",
            `requests per hollow node: kubelet ${d.requests.kubeletCpu} / ${d.requests.kubeletMemory}, proxy ${d.requests.proxyCpu} / ${d.requests.proxyMemory}`,
            "",
            "| figure | value |",
            "|---|---|",
            `| pulumi up | ${d.upOk ? "succeeded" : "failed"} after ${f1(d.upSeconds)} s, ${d.readyAtUp} Ready at its end |`,
            `| from the start of up to all ${d.target} Ready | ${d.allReadySeconds === undefined ? "never" : `${f1(d.allReadySeconds)} s`} |`,
            `| Ready during the hold (looks every 10 s) | min ${d.minReady}, last ${d.endReady} of ${d.target} over ${d.samples} looks` +
                `${d.missedLooks ? `; ${d.missedLooks} looks got no answer even after retries` : ""} |`,
            `| Nodes whose Ready condition changed during the hold | ${d.flapped.length}${d.flapped.length ? ` (${d.flapped.slice(0, 5).join(", ")}${d.flapped.length > 5 ? ", ..." : ""})` : ""} |`,
            `| hollow pods: CPU, RSS (60 s window mid-hold) | ${d.hollowCpuCores.toFixed(2)} cores, ${d.hollowRssGiB.toFixed(2)} GiB |`,
            `| whole machine busy (hold average) | ${d.machineBusyCores.toFixed(2)} of ${os.cpus().length} cores: ` +
                `${(os.cpus().length - d.machineBusyCores).toFixed(2)} (${Math.round(100 * (1 - d.machineBusyCores / os.cpus().length))}%) left |`,
            ...(d.upBusyCores === undefined ? [] : [`| whole machine busy during up / destroy | ${d.upBusyCores.toFixed(2)} / ${(d.destroyBusyCores ?? 0).toFixed(2)} of ` +
                `${os.cpus().length} cores; load average ${d.upLoadAverage} as up ended |`]),
            `| lab daemons, cores (hold average) | ${daemons} |`,
            `| memory available at the end of the hold | ${(d.memAvailableMiB / 1024).toFixed(1)} GiB |`,
            `| pulumi destroy | ${f1(d.destroySeconds)} s |`,
            `| left after destroy (Nodes, Leases, CSRs) | ${d.left.length === 0 ? "nothing" : d.left.slice(0, 5).join("; ")} |`,
            "",
        );
        if (d.upError) {
            lines.push("up's last output:", "", "```", d.upError, "```", "");
        }
        lines.push(...(d.charts ?? []).flatMap((c) => [`![${path.basename(c, ".svg")}](${c})`, ""]));
        if (d.timeline) {
            lines.push(...d.timeline);
        }
    }
    return lines.join("\n");
}

/** Replaces the density section of bench/results.md (or appends it), leaving the rest as `npm run bench` wrote it. */
export function writeDensitySection(md: string, file = RESULTS): string {
    return writeSection(DENSITY_MARKER, md, file);
}

/** A density-only run: replaces the `### ` table of the committed section (or appends one), keeping the rows above. */
export function writeDensityRun(md: string, file = RESULTS): string {
    const run = md.slice(md.indexOf("### "));
    const old = fs.readFileSync(file, "utf8");
    const section = old.indexOf(DENSITY_MARKER);
    if (section < 0) {
        return writeDensitySection(md, file);
    }
    const end = sectionEnd(old, section);
    const at = old.indexOf("\n### ", section);
    const keep = at < 0 || at > end ? old.slice(section, end) : old.slice(section, at);
    return writeSection(DENSITY_MARKER, `${keep.trimEnd()}\n\n${run.trimEnd()}\n`, file);
}
