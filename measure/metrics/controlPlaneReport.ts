// Control-plane health in the report: rows for the SLI table and its markdown section, each figure with its metric.
import { row, SliRow } from "../slo";
import { round } from "../stats";
import {
    APF_INQUEUE,
    APF_REJECTED,
    ATTEMPTS,
    BACKEND_COMMIT,
    BACKEND_COMMIT_P99_MAX_SECONDS,
    ComponentName,
    ControlPlaneHealth,
    CPU,
    mib,
    RSS,
    saturation,
    SCHEDULING_SLI,
    START,
    WAL_FSYNC,
    WAL_FSYNC_P99_MAX_SECONDS,
} from "./controlPlaneHealth";

const ms = (s: number | undefined) => (s === undefined ? undefined : round(s * 1000, 2));
const orDash = (v: number | string | undefined, unit = "") => (v === undefined ? "—" : `${v}${unit}`);
const pct = (f: number) => round(100 * f, 1);
const readable = (h: ControlPlaneHealth, c: ComponentName) => h.components.some((x) => x.component === c && x.readable);
const attemptsText = (a: Readonly<Record<string, number>> | undefined) =>
    a === undefined || Object.keys(a).length === 0
        ? "—"
        : Object.entries(a)
              .sort()
              .map(([k, v]) => `${k} ${v}`)
              .join(", ");
const dbSize = (h: ControlPlaneHealth) =>
    h.etcd.dbSizeMaxBytes === undefined ? undefined : mib(h.etcd.dbSizeMaxBytes);

/** Rows for the SLI table: figures without a bound, so without a verdict; an unreadable component is one row, why. */
export function healthRows(h: ControlPlaneHealth): SliRow[] {
    const rows: SliRow[] = [];
    for (const c of h.components) {
        if (!c.readable) {
            rows.push(row(`${c.component} /metrics`, undefined, "", undefined, c.why));
            continue;
        }
        const gaps = c.gaps > 0 ? `; ${c.gaps} read(s) failed, last: ${c.why}` : "";
        rows.push(
            row(
                `${c.component} CPU (mean over the run)`,
                c.cpuCoresMean,
                "cores",
                undefined,
                `busiest interval ${orDash(c.cpuCoresMax, " cores")}; ${c.source}`,
            ),
        );
        rows.push(
            row(
                `${c.component} RSS (max)`,
                c.rssMaxBytes === undefined ? undefined : mib(c.rssMaxBytes),
                "MiB",
                undefined,
                `at the end ${c.rssLastBytes === undefined ? "—" : mib(c.rssLastBytes)} MiB`,
            ),
        );
        rows.push(row(`${c.component} restarts`, c.restarts, "", undefined, `${c.scrapes} reads${gaps}`));
    }
    const e = h.etcd;
    if (readable(h, "etcd")) {
        rows.push(
            row(
                "etcd WAL fsync p99",
                ms(e.walFsyncP99Seconds),
                "ms",
                undefined,
                `${e.walFsyncs ?? 0} fsyncs; etcd's guidance ≤ ${WAL_FSYNC_P99_MAX_SECONDS * 1000} ms`,
            ),
        );
        rows.push(
            row(
                "etcd backend commit p99",
                ms(e.backendCommitP99Seconds),
                "ms",
                undefined,
                `${e.backendCommits ?? 0} commits; etcd's guidance ≤ ${BACKEND_COMMIT_P99_MAX_SECONDS * 1000} ms`,
            ),
        );
    }
    if (e.dbSizeSource !== undefined) {
        rows.push(row("etcd DB size (max)", dbSize(h), "MiB", undefined, e.dbSizeSource));
    }
    const s = h.scheduler;
    if (readable(h, "kube-scheduler")) {
        rows.push(
            row(
                "scheduler pod scheduling SLI p99",
                s.p99Seconds,
                "s",
                undefined,
                `${s.observed ?? 0} pods, p50 ${orDash(s.p50Seconds, " s")}, p90 ${orDash(s.p90Seconds, " s")}; attempts ${attemptsText(s.attempts)}`,
            ),
        );
    }
    if (readable(h, "kube-apiserver")) {
        rows.push(
            row(
                "API priority and fairness: rejected requests",
                h.apf.rejected,
                "requests",
                undefined,
                `most queued at a scrape ${orDash(h.apf.inQueueMax)}`,
            ),
        );
    }
    rows.push(
        h.host.measured
            ? row(
                  "host CPU busy (mean over the run)",
                  pct(h.host.busyMean),
                  "%",
                  undefined,
                  `busiest interval ${pct(h.host.busyMax)} %, ${h.host.cores} CPUs, load average (1 min) max ${h.host.loadavg1Max}`,
              )
            : row("host CPU busy", undefined, "%", undefined, `not measured: ${h.host.why}`),
    );
    return rows;
}

/** The report's "Control-plane health" section, each figure with the metric it came from. */
export function healthMarkdown(h: ControlPlaneHealth): string[] {
    const cell = (s: string) => s.replace(/\|/g, "\\|").replace(/\n/g, " ");
    const status = (c: ControlPlaneHealth["components"][number]) =>
        c.readable
            ? `yes (${cell(c.source)}${c.gaps > 0 ? `; ${c.gaps} failed reads` : ""}${c.note === undefined ? "" : `; ${cell(c.note)}`})`
            : `no: ${cell(c.why ?? "")}`;
    const lines = [
        "## Control-plane health",
        "",
        `Each component's own /metrics, read every scrape over ${h.seconds} s: CPU from the increase of ${CPU}, memory from ${RSS}, ` +
            `a restart where ${START} changed.`,
        "",
        "| component | readable | CPU mean / max cores | RSS max MiB | restarts |",
        "|---|---|---|---|---|",
        ...h.components.map(
            (c) =>
                `| ${c.component} | ${status(c)} | ${orDash(c.cpuCoresMean)} / ${orDash(c.cpuCoresMax)} | ` +
                `${c.rssMaxBytes === undefined ? "—" : mib(c.rssMaxBytes)} | ${c.readable ? c.restarts : "—"} |`,
        ),
        "",
    ];
    const e = h.etcd;
    const db = e.dbSizeSource === undefined ? "DB size not read" : `DB size max ${dbSize(h)} MiB (${e.dbSizeSource})`;
    lines.push(
        readable(h, "etcd")
            ? `- etcd: WAL fsync p99 ${orDash(ms(e.walFsyncP99Seconds), " ms")} (${WAL_FSYNC}, ${e.walFsyncs ?? 0} fsyncs), backend commit p99 ` +
                  `${orDash(ms(e.backendCommitP99Seconds), " ms")} (${BACKEND_COMMIT}, ${e.backendCommits ?? 0} commits); etcd's guidance: ≤ ` +
                  `${WAL_FSYNC_P99_MAX_SECONDS * 1000} ms and ≤ ${BACKEND_COMMIT_P99_MAX_SECONDS * 1000} ms. ${db}.`
            : `- etcd: /metrics not readable, disk latencies not measured; ${db}.`,
    );
    const s = h.scheduler;
    lines.push(
        readable(h, "kube-scheduler")
            ? `- kube-scheduler: ${SCHEDULING_SLI} over ${s.observed ?? 0} pods: p50 ${orDash(s.p50Seconds, " s")}, p90 ${orDash(s.p90Seconds, " s")}, ` +
                  `p99 ${orDash(s.p99Seconds, " s")}; ${ATTEMPTS} increase: ${attemptsText(s.attempts)}.`
            : "- kube-scheduler: /metrics not readable, scheduling latency not measured.",
    );
    lines.push(
        readable(h, "kube-apiserver")
            ? `- API priority and fairness: ${orDash(h.apf.rejected)} requests rejected (${APF_REJECTED}), at most ${orDash(h.apf.inQueueMax)} queued ` +
                  `at a scrape (${APF_INQUEUE}).`
            : "- API priority and fairness: the API server's /metrics not readable, not measured.",
    );
    lines.push(
        h.host.measured
            ? `- This host (the target runs here): CPUs ${pct(h.host.busyMean)} % busy over the run, ${pct(h.host.busyMax)} % in the busiest interval ` +
                  `(/proc/stat), ${h.host.cores} CPUs, load average (1 min) max ${h.host.loadavg1Max}, at the end ${h.host.loadavg1Last}.`
            : `- This host: not measured (${h.host.why}).`,
    );
    const sat = saturation(h);
    return [...lines, ...(sat === undefined ? [] : ["", `**Context, not a finding:** ${sat}.`]), ""];
}
