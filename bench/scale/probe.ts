// What the bench reads off the API server: its CPU from /proc and its request and response-size counters.
import * as fs from "node:fs";
import { Kube } from "./kube";

const CLK_TCK = 100;

/** The kube-apiserver serving `port`: ControlPlane keeps its process private, so find it by command line. */
export function apiserverPid(port: number): number {
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry)) {
            continue;
        }
        try {
            const cmd = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
            if (cmd[0].endsWith("kube-apiserver") && cmd.includes(`--secure-port=${port}`)) {
                return Number(entry);
            }
        } catch {
            // The process exited while we looked.
        }
    }
    throw new Error(`no kube-apiserver with --secure-port=${port}`);
}

/** utime+stime in seconds. The comm field may hold spaces, so split after its closing parenthesis. */
export function cpuSeconds(pid: number): number {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Fields 14 and 15 of stat(5); index 11 and 12 once pid and comm are dropped.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

export interface Counters { requests: number; listNodeBytes: number; responseBytes: number }

function labels(line: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const m of line.matchAll(/(\w+)="([^"]*)"/g)) {
        out[m[1]] = m[2];
    }
    return out;
}

/** Sums apiserver_request_total over every label, and the response-size sums (all, and LIST nodes alone). */
export async function counters(kube: Kube): Promise<Counters> {
    const r = await kube.request("GET", "/metrics", undefined, "text/plain");
    if (r.status !== 200) {
        throw new Error(`GET /metrics: HTTP ${r.status}`);
    }
    const text = r.body;
    const c: Counters = { requests: 0, listNodeBytes: 0, responseBytes: 0 };
    for (const line of String(text).split("\n")) {
        const value = Number(line.slice(line.lastIndexOf(" ") + 1));
        if (line.startsWith("apiserver_request_total{")) {
            c.requests += value;
        } else if (line.startsWith("apiserver_response_sizes_sum{")) {
            c.responseBytes += value;
            const l = labels(line);
            if (l.verb === "LIST" && l.resource === "nodes") {
                c.listNodeBytes += value;
            }
        }
    }
    return c;
}

export interface Window { wallS: number; requests: number; listNodeMB: number; responseMB: number; cpuS: number }

/**
 * Opens a measurement window; close() returns deltas with the bench's own requests in between subtracted
 * (its pollers, status flips and the /metrics reads themselves), so only the method's traffic is left.
 */
export async function openWindow(kube: Kube, pid: number): Promise<{ close(startMs?: number, endMs?: number): Promise<Window> }> {
    const before = await counters(kube);
    const sentBefore = kube.sent;
    const cpuBefore = cpuSeconds(pid);
    const t0 = Date.now();
    return {
        async close(startMs = t0, endMs = Date.now()) {
            const cpuS = cpuSeconds(pid) - cpuBefore;
            // A /metrics read is counted only after it answered: the opening read shows up in `after`, this one not.
            const ownRequests = kube.sent - sentBefore + 1;
            const after = await counters(kube);
            return {
                wallS: (endMs - startMs) / 1000,
                requests: Math.max(0, after.requests - before.requests - ownRequests),
                listNodeMB: (after.listNodeBytes - before.listNodeBytes) / 1e6,
                responseMB: (after.responseBytes - before.responseBytes) / 1e6,
                cpuS,
            };
        },
    };
}
