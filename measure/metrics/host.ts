// The load of the machine the run is on (/proc/stat, loadavg): context when the target's control plane runs here too.
import * as fs from "node:fs";
import * as os from "node:os";
import { isLoopbackServer } from "../../components/config/kubeconfig";
import { round } from "../stats";

/** One value of a series at `t` seconds into the run, as the charts draw them. */
export interface HealthPoint {
    readonly t: number;
    readonly series: string;
    readonly value: number;
}

/** Clock ticks of all CPUs together: busy, and everything (busy, idle, iowait). */
export interface CpuTimes {
    readonly busy: number;
    readonly total: number;
}

/**
 * The aggregate `cpu` line of /proc/stat: busy is user, nice, system, irq, softirq and steal. Guest time is already
 * inside user and nice (proc(5)), so it is not added again; iowait is idle time waiting on a disk, not CPU work.
 */
export function parseProcStat(text: string): CpuTimes {
    const line = text.split("\n").find((l) => /^cpu\s/.test(l));
    if (line === undefined) {
        throw new Error("/proc/stat has no aggregate cpu line");
    }
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    if (f.length < 4 || f.some((v) => !Number.isFinite(v))) {
        throw new Error(`/proc/stat's cpu line is not numbers: ${line.slice(0, 120)}`);
    }
    const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const busy = user + nice + system + irq + softirq + steal;
    return { busy, total: busy + idle + iowait };
}

/** The busy fraction of all CPUs between two reads; undefined when no tick passed between them. */
export function busyFraction(before: CpuTimes, after: CpuTimes): number | undefined {
    const total = after.total - before.total;
    return total > 0 ? Math.min(1, Math.max(0, (after.busy - before.busy) / total)) : undefined;
}

/** A URL's host as an address: no IPv6 brackets, no zone, lower case. */
export function hostOf(url: string): string | undefined {
    try {
        return new URL(url).hostname
            .replace(/^\[|\]$/g, "")
            .replace(/%.*$/, "")
            .toLowerCase();
    } catch {
        return undefined;
    }
}

/** Every address of this machine's interfaces (in the lab's network namespace, its veth holds the target's). */
export function localAddresses(): string[] {
    return Object.values(os.networkInterfaces()).flatMap((list) =>
        (list ?? []).map((a) => a.address.replace(/%.*$/, "").toLowerCase()),
    );
}

/** True when `server` is reached on this machine: a loopback host or one of `addresses`. */
export function onThisMachine(server: string, addresses: readonly string[]): boolean {
    const host = hostOf(server);
    return host !== undefined && (isLoopbackServer(server) || addresses.includes(host));
}

/** One look at the machine: its CPU ticks (undefined: /proc/stat not readable) and 1-minute load average. */
export interface HostRead {
    readonly atMs: number;
    readonly cpu?: CpuTimes;
    readonly loadavg1: number;
}

export function readHost(atMs: number): HostRead {
    let cpu: CpuTimes | undefined;
    try {
        cpu = parseProcStat(fs.readFileSync("/proc/stat", "utf8"));
    } catch {
        cpu = undefined;
    }
    return { atMs, cpu, loadavg1: round(os.loadavg()[0], 2) };
}

/** The host's reads over the run, or why it is not looked at. */
export type HostTrack = { readonly why: string } | { readonly cores: number; readonly reads: readonly HostRead[] };

export type HostHealth =
    | { readonly measured: false; readonly why: string }
    | {
          readonly measured: true;
          readonly cores: number;
          /** Busy fraction of all CPUs between the first and the last read. */
          readonly busyMean: number;
          /** The busiest interval between two reads. */
          readonly busyMax: number;
          readonly loadavg1Max: number;
          readonly loadavg1Last: number;
          readonly reads: number;
      };

/** The run's host load, and its points (busy % per interval, load average per read) for the charts. */
export function hostHealth(
    track: HostTrack,
    startMs: number,
): { health: HostHealth; busy: HealthPoint[]; load: HealthPoint[] } {
    if ("why" in track) {
        return { health: { measured: false, why: track.why }, busy: [], load: [] };
    }
    const t = (ms: number) => round((ms - startMs) / 1000, 1);
    const withCpu = track.reads.filter((r): r is HostRead & { cpu: CpuTimes } => r.cpu !== undefined);
    const busy: HealthPoint[] = [];
    for (let i = 1; i < withCpu.length; i++) {
        const f = busyFraction(withCpu[i - 1].cpu, withCpu[i].cpu);
        if (f !== undefined) {
            busy.push({ t: t(withCpu[i].atMs), series: "host CPU busy %", value: round(100 * f, 1) });
        }
    }
    const load = track.reads.map((r) => ({ t: t(r.atMs), series: "load average (1 min)", value: r.loadavg1 }));
    const mean = withCpu.length >= 2 ? busyFraction(withCpu[0].cpu, withCpu[withCpu.length - 1].cpu) : undefined;
    if (mean === undefined) {
        const why =
            track.reads.length > 0 && withCpu.length === 0
                ? "/proc/stat not readable"
                : "fewer than two reads of /proc/stat";
        return { health: { measured: false, why }, busy, load };
    }
    return {
        health: {
            measured: true,
            cores: track.cores,
            busyMean: round(mean, 3),
            busyMax: round(Math.max(...busy.map((p) => p.value)) / 100, 3),
            loadavg1Max: Math.max(...track.reads.map((r) => r.loadavg1)),
            loadavg1Last: track.reads[track.reads.length - 1].loadavg1,
            reads: track.reads.length,
        },
        busy,
        load,
    };
}
