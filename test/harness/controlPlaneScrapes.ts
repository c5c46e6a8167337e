// The /metrics documents the control-plane tests read, as the components write them, and tracks of their reads.
import {
    Attempt,
    ComponentName,
    controlPlaneHealth,
    parseScrape,
    Track,
} from "../../measure/metrics/controlPlaneHealth";

export const MiB = 2 ** 20;
export const T0 = 1_700_000_000_000;
export const START = 1.70000000012e9;

/** The process collector's lines, as client_golang writes them (exponent notation included). */
export const proc = (
    cpu: number,
    rssMiB: number,
    start = START,
) => `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total ${cpu}
# TYPE process_resident_memory_bytes gauge
process_resident_memory_bytes ${(rssMiB * MiB).toExponential()}
# TYPE process_start_time_seconds gauge
process_start_time_seconds ${start.toExponential()}
go_goroutines 120
`;

/** A histogram's lines; `counts` are cumulative, one per bound of `les` and +Inf last. */
const hist = (name: string, labels: string, les: readonly number[], counts: readonly number[], sum: number) => {
    const l = labels === "" ? "" : `${labels},`;
    return [
        ...les.map((le, i) => `${name}_bucket{${l}le="${le}"} ${counts[i]}`),
        `${name}_bucket{${l}le="+Inf"} ${counts[les.length]}`,
        `${name}_sum${labels === "" ? "" : `{${labels}}`} ${sum}`,
        `${name}_count${labels === "" ? "" : `{${labels}}`} ${counts[les.length]}`,
        "",
    ].join("\n");
};

export const ok = (c: ComponentName, text: string, s: number): Attempt => ({
    atMs: T0 + s * 1000,
    scrape: parseScrape(c, text, T0 + s * 1000),
});
export const failed = (s: number, why: string): Attempt => ({ atMs: T0 + s * 1000, why });
export const track = (component: ComponentName, attempts: Attempt[]): Track => ({
    component,
    source: `https://127.0.0.1/${component}`,
    attempts,
});

export const FSYNC = "etcd_disk_wal_fsync_duration_seconds";
export const COMMIT = "etcd_disk_backend_commit_duration_seconds";
const FSYNC_LES = [0.001, 0.002, 0.004, 0.008, 0.016, 0.032];
const etcdDoc = (fsync: number[], commit: number[], db: string) =>
    proc(fsync[fsync.length - 1] / 100, 300) +
    hist(FSYNC, "", FSYNC_LES, fsync, 1) +
    hist(COMMIT, "", FSYNC_LES, commit, 1) +
    db;
export const E1 = etcdDoc(
    [100, 150, 160, 160, 160, 160, 160],
    [10, 20, 30, 30, 30, 30, 30],
    "etcd_mvcc_db_total_size_in_bytes 2.5e+07\n",
);
export const E2 = etcdDoc(
    [1000, 1400, 1500, 1550, 1590, 1600, 1600],
    [100, 200, 290, 300, 300, 300, 300],
    "etcd_mvcc_db_total_size_in_bytes 3e+07\n",
);

const SLI = "scheduler_pod_scheduling_sli_duration_seconds";
const SLI_LES = [0.01, 0.1, 1];
const schedDoc = (a1: number[], a2: number[], attempts: [string, number][]) =>
    proc(10, 80) +
    hist(SLI, 'attempts="1"', SLI_LES, a1, 1) +
    hist(SLI, 'attempts="2"', SLI_LES, a2, 1) +
    attempts
        .map(([r, v]) => `scheduler_schedule_attempts_total{profile="default-scheduler",result="${r}"} ${v}`)
        .join("\n") +
    "\n";
export const S1 = schedDoc(
    [5, 10, 10, 10],
    [0, 1, 2, 2],
    [
        ["scheduled", 10],
        ["unschedulable", 2],
    ],
);
export const S2 = schedDoc(
    [50, 95, 100, 100],
    [0, 3, 8, 8],
    [
        ["scheduled", 100],
        ["unschedulable", 5],
        ["error", 1],
    ],
);

const apiDoc = (cpu: number, rejected: string, inqueue: [string, number][]) =>
    proc(cpu, 900) +
    rejected +
    inqueue
        .map(([pl, v]) => `apiserver_flowcontrol_current_inqueue_requests{flow_schema="x",priority_level="${pl}"} ${v}`)
        .join("\n") +
    "\n" +
    'apiserver_storage_size_bytes{storage_cluster_id="etcd-0"} 4.5e+07\n' +
    'apiserver_request_duration_seconds_bucket{verb="GET",le="+Inf"} 3\n';
export const A1 = apiDoc(100, "", [
    ["workload-low", 2],
    ["global-default", 1],
]);
export const A2 = apiDoc(
    110,
    'apiserver_flowcontrol_rejected_requests_total{flow_schema="x",priority_level="workload-low",reason="queue-full"} 4\n',
    [
        ["workload-low", 5],
        ["global-default", 0],
    ],
);
export const A3 = apiDoc(
    120,
    'apiserver_flowcontrol_rejected_requests_total{flow_schema="x",priority_level="workload-low",reason="queue-full"} 7\n' +
        'apiserver_flowcontrol_rejected_requests_total{flow_schema="y",priority_level="global-default",reason="time-out"} 1\n',
    [["workload-low", 1]],
);

const NO_HOST = { why: "not here" };
export const run = (tracks: Track[]) => controlPlaneHealth(tracks, NO_HOST, T0, T0 + 20_000);
