// What the control plane's reads over a run add up to: CPU, memory, restarts, etcd's disk, scheduling, APF, host load.
import { round } from "../stats";
import { HealthPoint, HostHealth, hostHealth, HostTrack } from "./host";
import {
    Histogram,
    histogramDeltas,
    histogramQuantile,
    histogramsOf,
    increases,
    maxOf,
    parseSamples,
    Sample,
    sumBy,
    sumByLabel,
    sumOf,
} from "./promtext";

export type { HealthPoint, HostHealth } from "./host";

/** etcd's hardware guidance: WAL fsync p99 above 10 ms means a disk too slow for it, and every write waits on it. */
export const WAL_FSYNC_P99_MAX_SECONDS = 0.01;
/** etcd's guidance for the backend commit p99: above 25 ms the disk, not the API server, bounds write latency. */
export const BACKEND_COMMIT_P99_MAX_SECONDS = 0.025;
/** A host this busy runs the control plane's threads behind the load's own: latencies then measure the machine. */
export const HOST_BUSY_MAX = 0.9;
/** process_start_time_seconds is exact to the clock tick; a move beyond this is another process. */
const START_SLACK_SECONDS = 1;

export type ComponentName = "kube-apiserver" | "etcd" | "kube-scheduler" | "kube-controller-manager";
export const COMPONENTS: readonly ComponentName[] = [
    "kube-apiserver",
    "etcd",
    "kube-scheduler",
    "kube-controller-manager",
];

export const CPU = "process_cpu_seconds_total";
export const RSS = "process_resident_memory_bytes";
export const START = "process_start_time_seconds";
export const WAL_FSYNC = "etcd_disk_wal_fsync_duration_seconds";
export const BACKEND_COMMIT = "etcd_disk_backend_commit_duration_seconds";
/** etcd 3.4+ names the DB size without "debugging"; older ones only with it. */
export const DB_SIZE = ["etcd_mvcc_db_total_size_in_bytes", "etcd_debugging_mvcc_db_total_size_in_bytes"];
export const STORAGE_SIZE = "apiserver_storage_size_bytes";
export const SCHEDULING_SLI = "scheduler_pod_scheduling_sli_duration_seconds";
export const ATTEMPTS = "scheduler_schedule_attempts_total";
export const APF_REJECTED = "apiserver_flowcontrol_rejected_requests_total";
export const APF_INQUEUE = "apiserver_flowcontrol_current_inqueue_requests";

const HISTOGRAMS: Record<ComponentName, readonly string[]> = {
    "kube-apiserver": [],
    etcd: [WAL_FSYNC, BACKEND_COMMIT],
    "kube-scheduler": [SCHEDULING_SLI],
    "kube-controller-manager": [],
};
const VALUES: Record<ComponentName, readonly string[]> = {
    "kube-apiserver": [APF_REJECTED, APF_INQUEUE, STORAGE_SIZE],
    etcd: DB_SIZE,
    "kube-scheduler": [ATTEMPTS],
    "kube-controller-manager": [],
};

/** What one read of a component's /metrics holds that the run needs; the rest of the document is not kept. */
export interface Scrape {
    readonly atMs: number;
    readonly cpuSeconds?: number;
    readonly rssBytes?: number;
    readonly startTime?: number;
    /** The component's counters and gauges of VALUES. */
    readonly samples: readonly Sample[];
    readonly histograms: Readonly<Record<string, readonly Histogram[]>>;
}

export function parseScrape(component: ComponentName, text: string, atMs: number): Scrape {
    const names = HISTOGRAMS[component];
    const wanted = new Set([
        CPU,
        RSS,
        START,
        ...VALUES[component],
        ...names.flatMap((n) => [`${n}_bucket`, `${n}_sum`, `${n}_count`]),
    ]);
    const samples = parseSamples(text, (n) => wanted.has(n));
    return {
        atMs,
        cpuSeconds: sumOf(samples, CPU),
        rssBytes: sumOf(samples, RSS),
        startTime: maxOf(samples, START),
        samples: samples.filter((s) => VALUES[component].includes(s.name)),
        histograms: Object.fromEntries(names.map((n) => [n, histogramsOf(samples, n)])),
    };
}

/** One read of a component: what it held, or why there was nothing. */
export type Attempt =
    { readonly atMs: number; readonly scrape: Scrape } | { readonly atMs: number; readonly why: string };
/** A component's reads over the run; `source` is its URL without credentials, `note` how it was read. */
export interface Track {
    readonly component: ComponentName;
    readonly source: string;
    readonly note?: string;
    readonly attempts: readonly Attempt[];
}

export interface ComponentHealth {
    readonly component: ComponentName;
    readonly source: string;
    readonly readable: boolean;
    /** Unreadable: why; readable with gaps: why the last read failed. */
    readonly why?: string;
    readonly note?: string;
    readonly scrapes: number;
    /** Reads that failed after the first that worked: the component was unreachable in the middle. */
    readonly gaps: number;
    readonly cpuCoresMean?: number;
    /** The busiest interval between two scrapes. */
    readonly cpuCoresMax?: number;
    readonly rssMaxBytes?: number;
    readonly rssLastBytes?: number;
    readonly restarts: number;
}

const scrapesOf = (t: Track) => t.attempts.flatMap((a) => ("scrape" in a ? [a.scrape] : []));
/** Another process answered: its start time moved, or its CPU counter went down (a start time not exported). */
export const restarted = (a: Scrape, b: Scrape) =>
    (a.startTime !== undefined &&
        b.startTime !== undefined &&
        Math.abs(b.startTime - a.startTime) > START_SLACK_SECONDS) ||
    (a.cpuSeconds !== undefined && b.cpuSeconds !== undefined && b.cpuSeconds < a.cpuSeconds);
export const mib = (bytes: number) => round(bytes / 2 ** 20, 1);

/** CPU, memory and restarts of one component, and its points (cores per interval, RSS per scrape) for the charts. */
export function componentHealth(
    track: Track,
    startMs: number,
): { health: ComponentHealth; cpu: HealthPoint[]; rss: HealthPoint[] } {
    const scrapes = scrapesOf(track);
    const firstOk = track.attempts.findIndex((a) => "scrape" in a);
    const failures = track.attempts.filter((a): a is { atMs: number; why: string } => "why" in a);
    const gaps = firstOk < 0 ? 0 : track.attempts.slice(firstOk).filter((a) => "why" in a).length;
    const base = { component: track.component, source: track.source, note: track.note, scrapes: scrapes.length, gaps };
    if (scrapes.length === 0) {
        return {
            health: { ...base, readable: false, why: failures[failures.length - 1]?.why ?? "never read", restarts: 0 },
            cpu: [],
            rss: [],
        };
    }
    const t = (ms: number) => round((ms - startMs) / 1000, 1);
    let restarts = 0;
    let used = 0;
    const cpu: HealthPoint[] = [];
    for (let i = 1; i < scrapes.length; i++) {
        const [a, b] = [scrapes[i - 1], scrapes[i]];
        const again = restarted(a, b);
        restarts += again ? 1 : 0;
        if (a.cpuSeconds !== undefined && b.cpuSeconds !== undefined && b.atMs > a.atMs) {
            // After a restart the counter starts again from 0, within this interval.
            const inc = again ? b.cpuSeconds : b.cpuSeconds - a.cpuSeconds;
            used += inc;
            cpu.push({ t: t(b.atMs), series: track.component, value: round(inc / ((b.atMs - a.atMs) / 1000), 3) });
        }
    }
    const [first, last] = [scrapes[0], scrapes[scrapes.length - 1]];
    const rssValues = scrapes.flatMap((s) => (s.rssBytes === undefined ? [] : [s.rssBytes]));
    return {
        health: {
            ...base,
            readable: true,
            why: gaps > 0 ? failures[failures.length - 1]?.why : undefined,
            restarts,
            cpuCoresMean: cpu.length > 0 ? round(used / ((last.atMs - first.atMs) / 1000), 3) : undefined,
            cpuCoresMax: cpu.length > 0 ? Math.max(...cpu.map((p) => p.value)) : undefined,
            rssMaxBytes: rssValues.length > 0 ? Math.max(...rssValues) : undefined,
            rssLastBytes: last.rssBytes,
        },
        cpu,
        rss: scrapes.flatMap((s) =>
            s.rssBytes === undefined ? [] : [{ t: t(s.atMs), series: track.component, value: mib(s.rssBytes) }],
        ),
    };
}

/** Consecutive scrapes; after a restart, the later one's counters all counted since it, as increase() takes a reset. */
const intervals = (scrapes: readonly Scrape[]) =>
    scrapes.slice(1).map((b, i) => ({ a: restarted(scrapes[i], b) ? undefined : scrapes[i], b }));

/** What all series of a histogram observed over the run, interval by interval, as one histogram; undefined: nothing. */
export function runHistogram(scrapes: readonly Scrape[], name: string): Histogram | undefined {
    const [h] = sumBy(
        intervals(scrapes).flatMap(({ a, b }) => histogramDeltas(a?.histograms[name] ?? [], b.histograms[name] ?? [])),
        [],
    );
    return h !== undefined && h.count > 0 ? h : undefined;
}

/** What each series of the counter `name` counted over the run, interval by interval. */
export function runIncreases(scrapes: readonly Scrape[], name: string): Sample[] {
    return intervals(scrapes).flatMap(({ a, b }) => increases(a?.samples ?? [], b.samples, name));
}

const quantile = (q: number, h: Histogram | undefined) => {
    const v = h === undefined ? NaN : histogramQuantile(q, h.buckets);
    return Number.isFinite(v) ? round(v, 6) : undefined;
};

export interface EtcdHealth {
    readonly walFsyncP99Seconds?: number;
    readonly walFsyncs?: number;
    readonly backendCommitP99Seconds?: number;
    readonly backendCommits?: number;
    readonly dbSizeMaxBytes?: number;
    /** The metric the DB size was read from, and from which component. */
    readonly dbSizeSource?: string;
}
export interface SchedulerHealth {
    /** Pods whose scheduling SLI was observed over the run. */
    readonly observed?: number;
    readonly p50Seconds?: number;
    readonly p90Seconds?: number;
    readonly p99Seconds?: number;
    /** Scheduling attempts over the run by result: scheduled, unschedulable, error. */
    readonly attempts?: Readonly<Record<string, number>>;
}
export interface ApfHealth {
    readonly rejected?: number;
    readonly inQueueMax?: number;
}

export interface ControlPlaneHealth {
    readonly seconds: number;
    readonly components: readonly ComponentHealth[];
    readonly etcd: EtcdHealth;
    readonly scheduler: SchedulerHealth;
    readonly apf: ApfHealth;
    readonly host: HostHealth;
    /** Over time, for the charts: cores per interval and RSS per scrape by component, host busy % and load. */
    readonly samples: {
        readonly cpuCores: readonly HealthPoint[];
        readonly rssMiB: readonly HealthPoint[];
        readonly hostBusyPercent: readonly HealthPoint[];
        readonly loadavg1: readonly HealthPoint[];
    };
}

const scrapesOfOrNone = (t: Track | undefined) => {
    const s = t ? scrapesOf(t) : [];
    return s.length > 0 ? s : undefined;
};
const maxOver = (scrapes: readonly Scrape[], name: string) => {
    const v = scrapes.flatMap((s) => {
        const m = maxOf(s.samples, name);
        return m === undefined ? [] : [m];
    });
    return v.length > 0 ? Math.max(...v) : undefined;
};

/** The run's control-plane health from every component's reads and the host's. */
export function controlPlaneHealth(
    tracks: readonly Track[],
    host: HostTrack,
    startMs: number,
    endMs: number,
): ControlPlaneHealth {
    const parts = tracks.map((t) => componentHealth(t, startMs));
    const of = (c: ComponentName) => scrapesOfOrNone(tracks.find((t) => t.component === c));
    const [api, etcd, sched] = [of("kube-apiserver"), of("etcd"), of("kube-scheduler")];
    const [wal, commit] = [etcd && runHistogram(etcd, WAL_FSYNC), etcd && runHistogram(etcd, BACKEND_COMMIT)];
    const dbName = DB_SIZE.find((n) => etcd !== undefined && maxOver(etcd, n) !== undefined);
    const db =
        etcd && dbName
            ? { bytes: maxOver(etcd, dbName), source: `etcd ${dbName}` }
            : api && maxOver(api, STORAGE_SIZE) !== undefined
              ? {
                    bytes: maxOver(api, STORAGE_SIZE),
                    source: `kube-apiserver ${STORAGE_SIZE}, etcd's /metrics ${etcd ? "holding no DB size" : "not being readable"}`,
                }
              : undefined;
    const sli = sched && runHistogram(sched, SCHEDULING_SLI);
    const inQueue = api
        ? api.flatMap((s) => {
              const v = sumOf(s.samples, APF_INQUEUE);
              return v === undefined ? [] : [v];
          })
        : [];
    const h = hostHealth(host, startMs);
    return {
        seconds: round((endMs - startMs) / 1000, 1),
        components: parts.map((p) => p.health),
        etcd: {
            walFsyncP99Seconds: quantile(0.99, wal),
            walFsyncs: wal?.count,
            backendCommitP99Seconds: quantile(0.99, commit),
            backendCommits: commit?.count,
            dbSizeMaxBytes: db?.bytes,
            dbSizeSource: db?.source,
        },
        scheduler: sched
            ? {
                  observed: sli?.count ?? 0,
                  p50Seconds: quantile(0.5, sli),
                  p90Seconds: quantile(0.9, sli),
                  p99Seconds: quantile(0.99, sli),
                  attempts: sumByLabel(runIncreases(sched, ATTEMPTS), ATTEMPTS, "result"),
              }
            : {},
        // The rejected counter has no series until a first rejection: none read means none happened.
        apf: api
            ? {
                  rejected: sumOf(runIncreases(api, APF_REJECTED), APF_REJECTED) ?? 0,
                  inQueueMax: inQueue.length > 0 ? Math.max(...inQueue) : undefined,
              }
            : {},
        host: h.health,
        samples: {
            cpuCores: parts.flatMap((p) => p.cpu),
            rssMiB: parts.flatMap((p) => p.rss),
            hostBusyPercent: h.busy,
            loadavg1: h.load,
        },
    };
}

/**
 * Why a verdict on this run is context, not a finding: host busy ≥ 90 % over the run, etcd WAL fsync p99 > 10 ms or
 * backend commit p99 > 25 ms (etcd's own guidance), APF rejections > 0, a component restart. Undefined when none.
 */
export function saturation(h: ControlPlaneHealth): string | undefined {
    const why: string[] = [];
    if (h.host.measured && h.host.busyMean >= HOST_BUSY_MAX) {
        why.push(
            `the host's CPUs were ${round(100 * h.host.busyMean, 1)} % busy over the run (≥ ${100 * HOST_BUSY_MAX} %)`,
        );
    }
    if (h.etcd.walFsyncP99Seconds !== undefined && h.etcd.walFsyncP99Seconds > WAL_FSYNC_P99_MAX_SECONDS) {
        why.push(
            `etcd's WAL fsync p99 was ${round(h.etcd.walFsyncP99Seconds * 1000, 1)} ms (> ${WAL_FSYNC_P99_MAX_SECONDS * 1000} ms)`,
        );
    }
    if (
        h.etcd.backendCommitP99Seconds !== undefined &&
        h.etcd.backendCommitP99Seconds > BACKEND_COMMIT_P99_MAX_SECONDS
    ) {
        why.push(
            `etcd's backend commit p99 was ${round(h.etcd.backendCommitP99Seconds * 1000, 1)} ms (> ${BACKEND_COMMIT_P99_MAX_SECONDS * 1000} ms)`,
        );
    }
    if (h.apf.rejected !== undefined && h.apf.rejected > 0) {
        why.push(`the API server's priority and fairness rejected ${h.apf.rejected} requests`);
    }
    for (const c of h.components.filter((x) => x.restarts > 0)) {
        why.push(`${c.component} restarted ${c.restarts} time(s)`);
    }
    return why.length > 0 ? `the control plane was saturated or disturbed: ${why.join("; ")}` : undefined;
}
