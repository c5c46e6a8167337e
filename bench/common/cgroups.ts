// What the density bench reads off the lab worker: pod cgroups (v1, cgroupfs driver) and the lab daemons' CPU.
import * as fs from "node:fs";
import * as path from "node:path";

const CGROUP = "/sys/fs/cgroup";
const QOS = ["", "burstable", "besteffort"];
const TICKS_PER_SECOND = 100;

/** The pod's cgroup folder under one controller, or undefined once it is gone. */
function podDir(controller: "cpuacct" | "memory", uid: string): string | undefined {
    return QOS.map((q) => path.join(CGROUP, controller, "kubepods", q, `pod${uid}`)).find((d) => fs.existsSync(d));
}

export interface ContainerRef { readonly name: string; readonly id: string }
export interface PodRef { readonly name: string; readonly uid: string; readonly containers: readonly ContainerRef[] }

/** CPU nanoseconds and RSS bytes of each container of a pod; a container whose cgroup is missing is left out. */
export function readPod(pod: PodRef): Map<string, { cpuNs: number; rssBytes: number }> {
    const cpu = podDir("cpuacct", pod.uid);
    const mem = podDir("memory", pod.uid);
    const out = new Map<string, { cpuNs: number; rssBytes: number }>();
    if (!cpu || !mem) {
        return out;
    }
    for (const c of pod.containers) {
        try {
            const cpuNs = Number(fs.readFileSync(path.join(cpu, c.id, "cpuacct.usage"), "utf8"));
            // total_rss: anonymous memory of the container's processes, what an OOM kill would free.
            const stat = fs.readFileSync(path.join(mem, c.id, "memory.stat"), "utf8");
            const rssBytes = Number(/^total_rss (\d+)$/m.exec(stat)?.[1] ?? 0);
            out.set(c.name, { cpuNs, rssBytes });
        } catch {
            // Restarting or gone between the list and the read: the caller counts what it got.
        }
    }
    return out;
}

/** CPU seconds (user + system) of a process, from /proc; undefined when it is not running. */
export function processCpuSeconds(pid: number): number | undefined {
    try {
        const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
        return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    } catch {
        return undefined;
    }
}

/** CPU seconds of the whole machine (all cores, busy time), from /proc/stat. */
export function machineBusySeconds(): number {
    const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const idle = cpu[3] + cpu[4];
    return (cpu.reduce((a, b) => a + b, 0) - idle) / TICKS_PER_SECOND;
}

/** The lab daemons whose CPU the density run reports, by pid file. */
export function labPids(labDir: string): Record<string, number> {
    const names = ["kube-apiserver-target", "etcd-target", "kube-controller-manager-target", "kube-apiserver-node", "etcd-node",
        "kube-controller-manager-node", "kube-scheduler-node", "kubelet", "containerd"];
    const pids: Record<string, number> = {};
    for (const n of names) {
        const f = path.join(labDir, "run", `${n}.pid`);
        if (fs.existsSync(f)) {
            pids[n] = Number(fs.readFileSync(f, "utf8").trim());
        }
    }
    return pids;
}

export function memAvailableMiB(): number {
    return Number(/^MemAvailable:\s+(\d+) kB$/m.exec(fs.readFileSync("/proc/meminfo", "utf8"))?.[1] ?? 0) / 1024;
}
