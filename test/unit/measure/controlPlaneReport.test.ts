// measure/metrics/controlPlaneReport: the saturation said as context, the SLI rows and the report's health section.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ControlPlaneHealth, saturation } from "../../../measure/metrics/controlPlaneHealth";
import { healthMarkdown, healthRows } from "../../../measure/metrics/controlPlaneReport";
import { E1, E2, failed, ok, run, track } from "../../harness/controlPlaneScrapes";

const FINE: ControlPlaneHealth = {
    seconds: 60,
    components: [{ component: "etcd", source: "x", readable: true, scrapes: 7, gaps: 0, restarts: 0 }],
    etcd: { walFsyncP99Seconds: 0.004, backendCommitP99Seconds: 0.01 },
    scheduler: {},
    apf: { rejected: 0, inQueueMax: 0 },
    host: { measured: true, cores: 8, busyMean: 0.5, busyMax: 0.95, loadavg1Max: 4, loadavg1Last: 2, reads: 7 },
    samples: { cpuCores: [], rssMiB: [], hostBusyPercent: [], loadavg1: [] },
};

describe("saturation", () => {
    const cases: [string, Partial<ControlPlaneHealth>, RegExp | undefined][] = [
        ["all fine (a busy interval alone is not)", {}, undefined],
        [
            "host busy 90 % over the run",
            { host: { ...FINE.host, busyMean: 0.9 } as ControlPlaneHealth["host"] },
            /host's CPUs were 90 % busy/,
        ],
        ["host not measured is not saturation", { host: { measured: false, why: "elsewhere" } }, undefined],
        [
            "WAL fsync p99 over 10 ms",
            { etcd: { walFsyncP99Seconds: 0.0151 } },
            /WAL fsync p99 was 15\.1 ms \(> 10 ms\)/,
        ],
        ["WAL fsync p99 at 10 ms is fine", { etcd: { walFsyncP99Seconds: 0.01 } }, undefined],
        [
            "backend commit p99 over 25 ms",
            { etcd: { backendCommitP99Seconds: 0.03 } },
            /backend commit p99 was 30 ms \(> 25 ms\)/,
        ],
        ["APF rejections", { apf: { rejected: 3 } }, /rejected 3 requests/],
        ["a restart", { components: [{ ...FINE.components[0], restarts: 2 }] }, /etcd restarted 2 time/],
    ];
    for (const [name, over, want] of cases) {
        it(name, () => {
            const got = saturation({ ...FINE, ...over });
            if (want === undefined) {
                assert.equal(got, undefined);
            } else {
                assert.match(got ?? "", want);
            }
        });
    }
});

describe("rows and the report section", () => {
    const h = run([
        track("etcd", [ok("etcd", E1, 0), ok("etcd", E2, 20)]),
        track("kube-scheduler", [failed(0, "not readable: refused; pass --scheduler-metrics-url")]),
    ]);
    it("rows carry no bound and no verdict", () => {
        const rows = healthRows(h);
        assert.ok(rows.length > 5);
        assert.ok(rows.every((r) => r.atMost === undefined && r.verdict === "n/a"));
        assert.ok(
            rows.some((r) => r.sli === "kube-scheduler /metrics" && /pass --scheduler-metrics-url/.test(r.note ?? "")),
        );
        assert.equal(rows.find((r) => r.sli === "etcd WAL fsync p99")?.unit, "ms");
    });
    it("the section: a table per component, sources named, the saturation said", () => {
        const md = healthMarkdown(h).join("\n");
        assert.match(md, /^## Control-plane health/);
        assert.match(md, /\| etcd \| yes \(https:\/\/127\.0\.0\.1\/etcd\) \| 0\.\d+ \/ 0\.\d+ \| 300 \| 0 \|/);
        assert.match(md, /\| kube-scheduler \| no: not readable: refused; pass --scheduler-metrics-url \|/);
        assert.match(md, /etcd_disk_wal_fsync_duration_seconds/);
        assert.match(md, /Context, not a finding:.*WAL fsync/);
    });
});
