// measure/metrics/controlPlaneHealth: a run's CPU, RSS, restarts, etcd, scheduler and APF figures; promtext's counters.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Attempt, componentHealth, saturation } from "../../../measure/metrics/controlPlaneHealth";
import {
    counterIncrease,
    histogramDeltas,
    histogramQuantile,
    increases,
    parseHistograms,
    parseSamples,
    sumBy,
    sumByLabel,
    sumOf,
} from "../../../measure/metrics/promtext";
import {
    A1,
    A2,
    A3,
    COMMIT,
    E1,
    E2,
    failed,
    FSYNC,
    MiB,
    ok,
    proc,
    run,
    S1,
    S2,
    START,
    T0,
    track,
} from "../../harness/controlPlaneScrapes";

describe("one component's CPU, memory and restarts", () => {
    const cases: { name: string; attempts: Attempt[]; want: Record<string, unknown> }[] = [
        {
            name: "steady: mean is the counter's increase over wall time, max the busiest interval",
            attempts: [ok("etcd", proc(100, 500), 0), ok("etcd", proc(115, 600), 10), ok("etcd", proc(118, 550), 20)],
            want: {
                readable: true,
                cpuCoresMean: 0.9,
                cpuCoresMax: 1.5,
                rssMaxBytes: 600 * MiB,
                rssLastBytes: 550 * MiB,
                restarts: 0,
                gaps: 0,
                scrapes: 3,
            },
        },
        {
            name: "start time changed: a restart, and the new counter counts from 0",
            attempts: [
                ok("kube-scheduler", proc(100, 500), 0),
                ok("kube-scheduler", proc(115, 600), 10),
                ok("kube-scheduler", proc(3, 200, START + 15), 20),
            ],
            want: {
                readable: true,
                cpuCoresMean: 0.9,
                cpuCoresMax: 1.5,
                rssMaxBytes: 600 * MiB,
                rssLastBytes: 200 * MiB,
                restarts: 1,
                gaps: 0,
            },
        },
        {
            name: "a start time within the slack is the same process",
            attempts: [ok("etcd", proc(10, 100), 0), ok("etcd", proc(20, 100, START + 0.5), 10)],
            want: { restarts: 0, cpuCoresMean: 1 },
        },
        {
            name: "unreachable in the middle: gaps, still readable, the last failure said",
            attempts: [
                failed(-1, "early"),
                ok("kube-controller-manager", proc(1, 50), 0),
                failed(10, "not readable: refused"),
                ok("kube-controller-manager", proc(5, 60), 20),
            ],
            want: {
                readable: true,
                gaps: 1,
                why: "not readable: refused",
                cpuCoresMean: 0.2,
                cpuCoresMax: 0.2,
                scrapes: 2,
            },
        },
        {
            name: "never read: unreadable with the last why",
            attempts: [failed(0, "not readable: HTTP 403"), failed(10, "not readable: HTTP 401")],
            want: {
                readable: false,
                why: "not readable: HTTP 401",
                restarts: 0,
                gaps: 0,
                cpuCoresMean: undefined,
                scrapes: 0,
            },
        },
        {
            name: "one scrape: memory but no CPU rate",
            attempts: [ok("etcd", proc(10, 100), 0)],
            want: { readable: true, cpuCoresMean: undefined, cpuCoresMax: undefined, rssMaxBytes: 100 * MiB },
        },
    ];
    for (const c of cases) {
        it(c.name, () => {
            const h = componentHealth(track("etcd", c.attempts), T0).health as unknown as Record<string, unknown>;
            for (const [k, v] of Object.entries(c.want)) {
                assert.deepEqual(h[k], v, k);
            }
        });
    }
    it("a CPU counter that went down with no start time exported is a restart", () => {
        const bare = (cpu: number) => `process_cpu_seconds_total ${cpu}\n`;
        assert.equal(
            componentHealth(track("etcd", [ok("etcd", bare(50), 0), ok("etcd", bare(2), 10)]), T0).health.restarts,
            1,
        );
    });
});

describe("the run's figures from two or more scrapes", () => {
    const h = run([
        track("kube-apiserver", [
            ok("kube-apiserver", A1, 0),
            ok("kube-apiserver", A2, 10),
            ok("kube-apiserver", A3, 20),
        ]),
        track("etcd", [ok("etcd", E1, 0), ok("etcd", E2, 20)]),
        track("kube-scheduler", [ok("kube-scheduler", S1, 0), ok("kube-scheduler", S2, 20)]),
    ]);
    const p99OfDelta = (name: string) =>
        histogramQuantile(
            0.99,
            sumBy(histogramDeltas(parseHistograms(E1, name), parseHistograms(E2, name)), [])[0].buckets,
        );
    const near = (got: number | undefined, want: number) =>
        assert.ok(got !== undefined && Math.abs(got - want) < 1e-6, `${got} != ${want}`);
    it("etcd WAL fsync p99 is histogram_quantile of the bucket increase", () => {
        near(h.etcd.walFsyncP99Seconds, p99OfDelta(FSYNC));
        near(h.etcd.walFsyncP99Seconds, 0.008 + (0.008 * (1425.6 - 1390)) / 40);
        assert.equal(h.etcd.walFsyncs, 1440);
    });
    it("etcd backend commit p99 likewise", () => {
        near(h.etcd.backendCommitP99Seconds, p99OfDelta(COMMIT));
        assert.equal(h.etcd.backendCommits, 270);
    });
    it("etcd DB size: the largest read, its metric named", () => {
        assert.equal(h.etcd.dbSizeMaxBytes, 3e7);
        assert.match(h.etcd.dbSizeSource ?? "", /etcd etcd_mvcc_db_total_size_in_bytes/);
    });
    it("scheduler SLI quantiles over every attempts label set together", () => {
        // Increase: [45, 85, 90, 90] + [0, 2, 6, 6] = [45, 87, 96, 96].
        assert.equal(h.scheduler.observed, 96);
        near(h.scheduler.p50Seconds, 0.01 + (0.09 * (48 - 45)) / 42);
        near(h.scheduler.p99Seconds, 0.1 + (0.9 * (95.04 - 87)) / 9);
        near(h.scheduler.p90Seconds, 0.01 + (0.09 * (86.4 - 45)) / 42);
    });
    it("scheduler attempts' increase by result, a result first seen counting whole", () => {
        assert.deepEqual(h.scheduler.attempts, { scheduled: 90, unschedulable: 3, error: 1 });
    });
    it("APF: rejections summed over series and intervals, the most queued at one scrape", () => {
        assert.equal(h.apf.rejected, 8);
        assert.equal(h.apf.inQueueMax, 5);
    });
    it("components without reads are left out, not failed", () => {
        assert.deepEqual(
            h.components.map((c) => c.component),
            ["kube-apiserver", "etcd", "kube-scheduler"],
        );
        assert.equal(h.components[0].cpuCoresMean, 1);
    });
    it("charts get cores per interval and RSS per scrape", () => {
        assert.deepEqual(
            h.samples.cpuCores.filter((p) => p.series === "kube-apiserver").map((p) => [p.t, p.value]),
            [
                [10, 1],
                [20, 1],
            ],
        );
        assert.equal(h.samples.rssMiB.filter((p) => p.series === "etcd").length, 2);
    });
});

describe("figures across a restart or an unreadable etcd", () => {
    it("a restarted API server's counters count whole after it", () => {
        const restarted =
            proc(1, 400, START + 30) +
            'apiserver_flowcontrol_rejected_requests_total{flow_schema="x",priority_level="workload-low",reason="queue-full"} 2\n';
        const h = run([track("kube-apiserver", [ok("kube-apiserver", A2, 0), ok("kube-apiserver", restarted, 10)])]);
        assert.equal(h.apf.rejected, 2);
        assert.equal(h.components[0].restarts, 1);
        assert.match(saturation(h) ?? "", /kube-apiserver restarted 1 time/);
    });
    it("etcd unreadable: the API server's storage size stands in, said so", () => {
        const h = run([
            track("kube-apiserver", [ok("kube-apiserver", A1, 0)]),
            track("etcd", [failed(0, "not readable: refused; pass --etcd-metrics-url")]),
        ]);
        assert.equal(h.etcd.dbSizeMaxBytes, 4.5e7);
        assert.match(h.etcd.dbSizeSource ?? "", /apiserver_storage_size_bytes, etcd's \/metrics not being readable/);
        assert.equal(h.etcd.walFsyncP99Seconds, undefined);
    });
    it("an old etcd's debugging DB size is read when the other is missing", () => {
        const doc = (v: string) => proc(1, 10) + `etcd_debugging_mvcc_db_total_size_in_bytes ${v}\n`;
        const h = run([track("etcd", [ok("etcd", doc("1e6"), 0), ok("etcd", doc("2e6"), 10)])]);
        assert.equal(h.etcd.dbSizeMaxBytes, 2e6);
        assert.match(h.etcd.dbSizeSource ?? "", /etcd_debugging_mvcc_db_total_size_in_bytes/);
    });
});

describe("counters and gauges in promtext", () => {
    const doc = 'a_total{x="1"} 3\na_total{x="2"} 4\na_total{x="3"} NaN\ng{r="p"} 2\ng{r="q"} 5\ng{r="p",z="1"} 1\n';
    const s = parseSamples(doc);
    it("sumOf skips NaN; undefined for a metric not there", () => {
        assert.equal(sumOf(s, "a_total"), 7);
        assert.equal(sumOf(s, "nope"), undefined);
    });
    it("sumByLabel", () => assert.deepEqual(sumByLabel(s, "g", "r"), { p: 3, q: 5 }));
    const cases: [string, number, number, number][] = [
        ["grew", 3, 10, 7],
        ["reset", 10, 3, 3],
        ["same", 5, 5, 0],
    ];
    for (const [name, before, after, want] of cases) {
        it(`counterIncrease: ${name}`, () => assert.equal(counterIncrease(before, after), want));
    }
    it("increases per series, a new series counting whole", () => {
        const after = parseSamples('a_total{x="1"} 5\na_total{x="2"} 1\na_total{x="4"} 9\n');
        assert.deepEqual(
            increases(s, after, "a_total").map((x) => x.value),
            [2, 1, 9],
        );
    });
});
