// measure/ against ClusterLoader2's own math: the same samples and histograms through our code and CL2's formulas.
/*
 * CL2 lines cited are kubernetes/perf-tests at 4b3415444f4c62406d508539732abee3eadd3aa8 (2026-08-07), under
 * clusterloader2/; k8s.io/component-base at v0.34.0 (CL2's go.mod). The reference functions below transcribe
 * those lines into TypeScript, so that each table row is computed twice, by two routes.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { callLatencies } from "../../../measure/metrics/apiLatency";
import { Bucket, histogramQuantile, parseHistograms } from "../../../measure/metrics/promtext";
import { cl2Startup, PodTimes, PodTracker } from "../../../measure/phases/pods";
import { ThroughputSampler } from "../../../measure/phases/throughput";
import { cl2Spread, nearestRank } from "../../../measure/stats";

/** pkg/measurement/util/latency_metric.go L115-117: `latencies[int(math.Ceil(float64(length*50)/100))-1]`. */
const cl2Percentile = (sorted: readonly number[], p: number) =>
    sorted[Math.trunc(Math.ceil((sorted.length * p) / 100)) - 1];

/**
 * component-base metrics/testutil/metrics.go L301-330 bucketQuantile: rank = q·count; the first bucket whose
 * count reaches it; from 0 in the first bucket, the second-to-last bound in +Inf, linear in between.
 */
function cl2BucketQuantile(q: number, buckets: readonly Bucket[]): number {
    const b = [...buckets].sort((x, y) => x.le - y.le);
    if (b.length < 2) {
        return NaN;
    }
    const rank = q * b[b.length - 1].count;
    let i = 0;
    while (i < b.length - 1 && b[i].count < rank) {
        i++;
    }
    if (i === 0) {
        return b[0].le * (rank / b[0].count);
    }
    if (i === b.length - 1) {
        return b[b.length - 2].le;
    }
    return b[i - 1].le + (b[i].le - b[i - 1].le) * ((rank - b[i - 1].count) / (b[i].count - b[i - 1].count));
}

/** A deterministic sample: no two runs of the test differ. */
const sample = (n: number, seed: number) =>
    Array.from({ length: n }, (_, i) => ((i * 7919 + seed * 104729) % 10007) / 1000);

describe("percentiles: nearest rank as CL2's NewLatencyMetric and scheduling throughput's gather", () => {
    const sizes = [1, 2, 3, 7, 10, 99, 100, 101, 499, 500, 1000, 4801];
    for (const n of sizes) {
        it(`n = ${n}`, () => {
            const values = sample(n, n);
            const sorted = [...values].sort((a, b) => a - b);
            const ours = cl2Spread(values)!;
            for (const p of [50, 90, 99] as const) {
                assert.equal(ours[`p${p}`], cl2Percentile(sorted, p), `p${p}`);
                assert.equal(nearestRank(sorted, p), cl2Percentile(sorted, p));
            }
            assert.equal(ours.max, sorted[n - 1], "scheduling_throughput.go L162: Max = s[length-1]");
        });
    }
    it("the worked indexes: n 100 → 49, 89, 98; n 500 → 249, 449, 494", () => {
        const idx = (n: number, p: number) => Math.ceil((n * p) / 100) - 1;
        assert.deepEqual(
            [50, 90, 99].map((p) => idx(100, p)),
            [49, 89, 98],
        );
        assert.deepEqual(
            [50, 90, 99].map((p) => idx(500, p)),
            [249, 449, 494],
        );
    });
});

describe("histogram quantiles: Prometheus' histogram_quantile (API latency) and CL2's Go bucketQuantile (scheduler)", () => {
    const B = (pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));
    const cases: [string, Bucket[]][] = [
        [
            "apiserver buckets, a quiet run",
            B([
                [0.005, 120],
                [0.025, 180],
                [0.05, 190],
                [0.1, 196],
                [0.25, 199],
                [1, 200],
                [Infinity, 200],
            ]),
        ],
        [
            "a slow tail into +Inf",
            B([
                [0.1, 10],
                [0.5, 60],
                [1, 90],
                [Infinity, 100],
            ]),
        ],
        [
            "everything in the first bucket",
            B([
                [0.5, 40],
                [1, 40],
                [Infinity, 40],
            ]),
        ],
        [
            "scheduler SLI buckets",
            B([
                [0.001, 5],
                [0.002, 50],
                [0.004, 400],
                [0.008, 900],
                [0.016, 990],
                [0.032, 1000],
                [Infinity, 1000],
            ]),
        ],
    ];
    for (const [name, buckets] of cases) {
        for (const q of [0.5, 0.9, 0.99]) {
            it(`${name}, q ${q}`, () => {
                const ours = histogramQuantile(q, buckets);
                const theirs = cl2BucketQuantile(q, buckets);
                assert.ok(Math.abs(ours - theirs) < 1e-12, `ours ${ours}, CL2's ${theirs}`);
            });
        }
    }
});

describe("API call latency: CL2's query and slowCount on the same counts", () => {
    // api_responsiveness_prometheus.go L58 (quantile by resource, subresource, verb, scope), L61-75 (count and fast
    // buckets), L285-295 (thresholds): two series of one call kind (two API groups' worth) summed into one row.
    const doc = (n: number) => `# TYPE apiserver_request_sli_duration_seconds histogram
apiserver_request_sli_duration_seconds_bucket{group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1",le="1"} ${6 * n}
apiserver_request_sli_duration_seconds_bucket{group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1",le="5"} ${9 * n}
apiserver_request_sli_duration_seconds_bucket{group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1",le="+Inf"} ${10 * n}
apiserver_request_sli_duration_seconds_count{group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} ${10 * n}
apiserver_request_sli_duration_seconds_bucket{group="x",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1",le="1"} ${4 * n}
apiserver_request_sli_duration_seconds_bucket{group="x",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1",le="5"} ${4 * n}
apiserver_request_sli_duration_seconds_bucket{group="x",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1",le="+Inf"} ${5 * n}
apiserver_request_sli_duration_seconds_count{group="x",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} ${5 * n}
`;
    const metric = "apiserver_request_sli_duration_seconds";
    it("one row per resource/subresource/verb/scope, quantiles over the increase, slow = count − bucket le=5", () => {
        const [c] = callLatencies(parseHistograms(doc(1), metric), parseHistograms(doc(3), metric));
        const increase = B2([
            [1, 20],
            [5, 26],
            [Infinity, 30],
        ]);
        assert.equal(c.calls, 30);
        assert.equal(c.slow, 30 - 26);
        for (const [q, got] of [
            [0.5, c.p50],
            [0.9, c.p90],
            [0.99, c.p99],
        ] as const) {
            assert.equal(got, Math.round(cl2BucketQuantile(q, increase) * 1e4) / 1e4, `q ${q}`);
        }
        assert.equal(c.atMost, 30, "scope namespace: 30 s, not 5");
    });
    function B2(pairs: [number, number][]): Bucket[] {
        return pairs.map(([le, count]) => ({ le, count }));
    }
});

describe("pod startup: CL2's transitions on its own watch's times (pod_startup_latency.go L303-335)", () => {
    const pod = (name: string, first: number, bound?: number, running?: number): PodTimes => ({
        name,
        firstSeenMs: first,
        scheduledSeenMs: bound,
        runningSeenMs: running,
        group: "latency",
    });
    const pods = [
        pod("a", 1000, 1200, 2500),
        pod("b", 1000, 1100, 1900),
        pod("c", 2000, 2300, 7200),
        pod("d", 3000, 3100),
        pod("e", 5000, 4990, 5600),
    ];
    const s = cl2Startup(pods);
    it("pod_startup: first sight → first Running, pods not yet Running left out (L117-155: a key lacking a phase is skipped)", () => {
        assert.deepEqual(s.samples, [1.5, 0.9, 5.2, 0.6]);
        const sorted = [...s.samples].sort((a, b) => a - b);
        assert.deepEqual(
            [s.podStartup!.p50, s.podStartup!.p90, s.podStartup!.p99],
            [50, 90, 99].map((p) => cl2Percentile(sorted, p)),
        );
    });
    it("a negative lag counts as 0 (phase_latency.go L138-145)", () => assert.equal(s.createToSchedule!.min, 0));
    it("the tracker keeps each pod's first sight of every step: later events never move a time", () => {
        const t = new PodTracker();
        const obj = (phase?: string, node?: string) => ({
            metadata: { uid: "u", name: "p", labels: { "kubemark-pulumi/measure-group": "latency" } },
            spec: { nodeName: node },
            status: { phase },
        });
        t.observe("ADDED", obj("Pending"), 100);
        t.observe("MODIFIED", obj("Pending", "n1"), 150);
        t.observe("MODIFIED", obj("Running", "n1"), 400);
        t.observe("MODIFIED", obj("Running", "n1"), 900);
        assert.deepEqual(cl2Startup(t.pods.values()).samples, [0.3]);
        assert.equal([...t.pods.values()][0].group, "latency");
    });
});

describe("scheduling throughput: CL2's 1 s samples (scheduling_throughput.go L123-144)", () => {
    it("scheduled-and-not-terminating pods now less the last count, over the nominal interval; max is what is judged", () => {
        const t = new PodTracker();
        const sampler = new ThroughputSampler(t, "throughput");
        let uid = 0;
        const bind = (n: number) => {
            for (let i = 0; i < n; i++) {
                t.observe(
                    "ADDED",
                    {
                        metadata: { uid: `u${uid++}`, labels: { "kubemark-pulumi/measure-group": "throughput" } },
                        spec: { nodeName: "n" },
                    },
                    0,
                );
            }
        };
        for (const n of [0, 40, 120, 90, 0]) {
            bind(n);
            sampler.sample();
        }
        assert.deepEqual(sampler.samples, [0, 40, 120, 90, 0]);
        const s = cl2Spread(sampler.samples)!;
        assert.deepEqual([s.p50, s.p90, s.p99, s.max], [40, 120, 120, 120]);
    });
});
