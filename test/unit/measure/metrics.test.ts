// measure/: the Prometheus text parser, bucket deltas, histogram_quantile, sample percentiles and SLO verdicts.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
    apiCallThreshold,
    apiRows,
    callLatencies,
    fastBucket,
    latencyHistograms,
} from "../../../measure/metrics/apiLatency";
import {
    Bucket,
    histogramDeltas,
    histogramQuantile,
    histogramsOf,
    parseHistograms,
    parseSamples,
    parseValue,
    sumBy,
} from "../../../measure/metrics/promtext";
import { judge, overall, row, rowAtLeast } from "../../../measure/slo";
import { parseMicroTime, schedulingThroughput, spread, windows } from "../../../measure/stats";

const B = (pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));
/** Worked by hand: 10 up to 0.1 s, 50 more up to 0.5 s, 30 more up to 1 s, 10 above. */
const HAND = B([
    [0.1, 10],
    [0.5, 60],
    [1, 90],
    [Infinity, 100],
]);

describe("histogramQuantile, as Prometheus' histogram_quantile", () => {
    const cases: [string, number, Bucket[], number][] = [
        ["q 0.05: first bucket, from 0", 0.05, HAND, 0.05],
        ["q 0.5: interpolated inside (0.1, 0.5]", 0.5, HAND, 0.1 + 0.4 * (40 / 50)],
        ["q 0.9: at a bucket's upper bound", 0.9, HAND, 1],
        ["q 0.95: in +Inf answers the highest finite bound", 0.95, HAND, 1],
        ["q 1", 1, HAND, 1],
        ["q 0", 0, HAND, 0],
        ["q below 0", -0.1, HAND, -Infinity],
        ["q above 1", 1.1, HAND, Infinity],
        [
            "a first bound at or below 0 is answered as is",
            0.25,
            B([
                [-1, 5],
                [0, 5],
                [1, 10],
                [Infinity, 10],
            ]),
            -1,
        ],
        [
            "counts that go down are raised to the one before",
            0.5,
            B([
                [0.1, 10],
                [0.5, 8],
                [1, 20],
                [Infinity, 20],
            ]),
            0.1,
        ],
        [
            "buckets out of order are sorted",
            0.5,
            B([
                [Infinity, 100],
                [1, 90],
                [0.1, 10],
                [0.5, 60],
            ]),
            0.42,
        ],
        [
            "equal bounds (summed series) are one bucket",
            0.5,
            B([
                [0.1, 5],
                [0.1, 5],
                [1, 20],
                [Infinity, 20],
            ]),
            0.1,
        ],
    ];
    for (const [name, q, buckets, want] of cases) {
        it(name, () => {
            const got = histogramQuantile(q, buckets);
            assert.ok(got === want || Math.abs(got - want) < 1e-12, `${got} != ${want}`);
        });
    }
    for (const [name, buckets] of [
        [
            "no observations",
            B([
                [1, 0],
                [Infinity, 0],
            ]),
        ],
        [
            "no +Inf bucket",
            B([
                [0.1, 1],
                [1, 2],
            ]),
        ],
        ["a single bucket", B([[Infinity, 3]])],
    ] as const) {
        it(`${name}: NaN`, () => assert.ok(Number.isNaN(histogramQuantile(0.5, buckets as Bucket[]))));
    }
});

const DOC = `# HELP apiserver_request_duration_seconds [STABLE] Response latency distribution in seconds.
# TYPE apiserver_request_duration_seconds histogram
apiserver_request_duration_seconds_bucket{component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1",le="0.1"} 3
apiserver_request_duration_seconds_bucket{component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1",le="1"} 4
apiserver_request_duration_seconds_bucket{component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1",le="+Inf"} 4
apiserver_request_duration_seconds_sum{component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} 0.5
apiserver_request_duration_seconds_count{component="apiserver",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"} 4
apiserver_request_duration_seconds_bucket{component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1",le="0.1"} 10
apiserver_request_duration_seconds_bucket{component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1",le="1"} 10
apiserver_request_duration_seconds_bucket{component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1",le="+Inf"} 10
apiserver_request_duration_seconds_sum{component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 0.2
apiserver_request_duration_seconds_count{component="apiserver",group="",resource="pods",scope="resource",subresource="",verb="POST",version="v1"} 10
# TYPE apiserver_flowcontrol_x gauge
apiserver_flowcontrol_x NaN
apiserver_flowcontrol_y{a="1"} -Inf
weird_total{path="C:\\\\DIR\\\\F.TXT",msg="say \\"hi\\", then, {bye}",n="a\\nb"} 3 1700000000000
`;

describe("the text format", () => {
    it("reads labels with escapes, NaN, -Inf and timestamps", () => {
        const samples = parseSamples(DOC);
        const weird = samples.find((s) => s.name === "weird_total")!;
        assert.deepEqual(weird.labels, { path: "C:\\DIR\\F.TXT", msg: 'say "hi", then, {bye}', n: "a\nb" });
        assert.equal(weird.value, 3);
        assert.ok(Number.isNaN(samples.find((s) => s.name === "apiserver_flowcontrol_x")!.value));
        assert.equal(samples.find((s) => s.name === "apiserver_flowcontrol_y")!.value, -Infinity);
    });
    it("keeps each labelled series of a histogram apart (what parse-prometheus-text-format folds into one)", () => {
        const hs = parseHistograms(DOC, "apiserver_request_duration_seconds");
        assert.equal(hs.length, 2);
        const list = hs.find((h) => h.labels.verb === "LIST")!;
        assert.deepEqual(
            list.buckets,
            B([
                [0.1, 3],
                [1, 4],
                [Infinity, 4],
            ]),
        );
        assert.equal(list.count, 4);
        assert.equal(list.sum, 0.5);
        assert.equal(list.labels.le, undefined);
    });
    it("skips metrics not asked for before reading their labels", () => {
        assert.deepEqual(
            parseSamples("a{broken 1\nb 2\n", (n) => n === "b"),
            [{ name: "b", labels: {}, value: 2 }],
        );
    });
    for (const [text, want] of [
        ["+Inf", Infinity],
        ["-Inf", -Infinity],
        ["1e-05", 1e-5],
        ["42", 42],
    ] as const) {
        it(`value ${text}`, () => assert.equal(parseValue(text), want));
    }
    it("refuses a value that is not a number", () => assert.throws(() => parseValue("abc"), /not a sample value/));
    it("refuses an unterminated label value", () => assert.throws(() => parseSamples('m{a="x} 1'), /unterminated/));
});

describe("bucket deltas between two scrapes", () => {
    const h = (verb: string, pairs: [number, number][]) => ({
        labels: { verb },
        buckets: B(pairs),
        sum: 0,
        count: pairs[pairs.length - 1][1],
    });
    it("subtracts bucket by bucket, leaves out series with nothing new, takes new series whole", () => {
        const before = [
            h("GET", [
                [1, 5],
                [Infinity, 6],
            ]),
            h("LIST", [
                [1, 2],
                [Infinity, 2],
            ]),
        ];
        const after = [
            h("GET", [
                [1, 8],
                [Infinity, 10],
            ]),
            h("LIST", [
                [1, 2],
                [Infinity, 2],
            ]),
            h("POST", [
                [1, 1],
                [Infinity, 1],
            ]),
        ];
        const d = histogramDeltas(before, after);
        assert.deepEqual(
            d.map((x) => [x.labels.verb, x.buckets.map((b) => b.count), x.count]),
            [
                ["GET", [3, 4], 4],
                ["POST", [1, 1], 1],
            ],
        );
    });
    it("a series that went down was reset: its after is what it observed since", () => {
        const d = histogramDeltas(
            [
                h("GET", [
                    [1, 50],
                    [Infinity, 60],
                ]),
            ],
            [
                h("GET", [
                    [1, 3],
                    [Infinity, 4],
                ]),
            ],
        );
        assert.deepEqual(
            d[0].buckets.map((b) => b.count),
            [3, 4],
        );
    });
    it("sums series that agree on the keys asked for", () => {
        const s = sumBy(
            [
                {
                    labels: { verb: "GET", component: "a" },
                    buckets: B([
                        [1, 1],
                        [Infinity, 2],
                    ]),
                    sum: 1,
                    count: 2,
                },
                {
                    labels: { verb: "GET", component: "b" },
                    buckets: B([
                        [1, 3],
                        [Infinity, 3],
                    ]),
                    sum: 2,
                    count: 3,
                },
            ],
            ["verb"],
        );
        assert.deepEqual(s, [
            {
                labels: { verb: "GET" },
                buckets: B([
                    [1, 4],
                    [Infinity, 5],
                ]),
                sum: 3,
                count: 5,
            },
        ]);
    });
    it("per call kind as CL2 groups it: WATCH left out, thresholds by scope, slow calls over CL2's fast bucket", () => {
        const before = histogramsOf([], "x");
        const after = parseHistograms(
            `${DOC}apiserver_request_duration_seconds_bucket{verb="WATCH",scope="cluster",resource="nodes",le="+Inf"} 1
apiserver_request_duration_seconds_count{verb="WATCH",scope="cluster",resource="nodes"} 1
apiserver_request_duration_seconds_bucket{verb="GET",scope="namespace",resource="pods",subresource="log",le="+Inf"} 1
apiserver_request_duration_seconds_count{verb="GET",scope="namespace",resource="pods",subresource="log"} 1
`,
            "apiserver_request_duration_seconds",
        );
        const calls = callLatencies(before, after);
        assert.deepEqual(
            calls.map((c) => [c.verb, c.scope, c.calls, c.atMost, c.slow]),
            [
                ["POST", "resource", 10, 1, 0],
                ["LIST", "namespace", 4, 30, undefined],
            ],
            "no le=5 bucket here: slow unknown",
        );
        assert.equal(calls[1].p50, 0.0667);
        assert.deepEqual(
            apiRows(calls, "apiserver_request_duration_seconds").map((r) => r.verdict),
            ["pass", "pass"],
        );
    });
    it("the SLI histogram first: the full request duration only where a target lacks it", () => {
        const sli = DOC.replace(/apiserver_request_duration_seconds/g, "apiserver_request_sli_duration_seconds");
        assert.equal(latencyHistograms(`${sli}${DOC}`)?.metric, "apiserver_request_sli_duration_seconds");
        assert.equal(latencyHistograms(DOC)?.metric, "apiserver_request_duration_seconds");
        assert.equal(latencyHistograms("# nothing\n"), undefined);
    });
});

describe("CL2's thresholds and fast buckets", () => {
    const thresholds: [string, number][] = [
        ["resource", 1],
        ["namespace", 30],
        ["cluster", 30],
        ["", 30],
    ];
    for (const [scope, want] of thresholds) {
        it(`scope ${scope || "(none)"}: ${want} s for every verb`, () => assert.equal(apiCallThreshold(scope), want));
    }
    const fast: [string, string, string, number | undefined][] = [
        ["GET", "resource", "", 1],
        ["POST", "namespace", "", 1],
        ["LIST", "namespace", "", 5],
        ["LIST", "cluster", "", 30],
        ["GET", "resource", "proxy", undefined],
        ["PATCH", "resource", "status", 1],
    ];
    for (const [verb, scope, sub, want] of fast) {
        it(`${verb} ${scope} ${sub || "-"}: fast up to ${want ?? "(no filter)"}`, () =>
            assert.equal(fastBucket(verb, scope, sub), want));
    }
    for (const [value, bound, want] of [
        [1, 1, "pass"],
        [1.01, 1, "fail"],
        [undefined, 1, "n/a"],
        [3, undefined, "n/a"],
        [NaN, 1, "n/a"],
    ] as const) {
        it(`judge ${value} against ${bound}: ${want}`, () => assert.equal(judge(value, bound), want));
    }
    it("a run fails on any failed row; a broken precondition makes it inconclusive, never a pass", () => {
        assert.equal(overall([row("a", 1, "s", 2), row("b", 3, "s")]), "pass");
        assert.equal(overall([row("a", 1, "s", 2), row("b", 3, "s", 2)]), "fail");
        assert.equal(overall([row("b", 3, "s")]), "n/a");
        assert.equal(overall([row("a", 1, "s", 2)], ["host 97 % busy"]), "inconclusive");
        assert.equal(overall([row("a", 3, "s", 2)], ["host 97 % busy"]), "fail");
        assert.equal(rowAtLeast("t", 99, "pods/s", 100).verdict, "fail");
        assert.equal(rowAtLeast("t", 100, "pods/s", 100).verdict, "pass");
    });
});

describe("sample percentiles and windows", () => {
    it("R-7 (numpy's linear) percentiles", () => {
        const s = spread([10, 1, 9, 2, 8, 3, 7, 4, 6, 5])!;
        assert.deepEqual([s.count, s.min, s.p50, s.max, s.mean], [10, 1, 5.5, 10, 5.5]);
        assert.ok(Math.abs(s.p90 - 9.1) < 1e-9 && Math.abs(s.p99 - 9.91) < 1e-9);
    });
    it("an empty sample has none; non-finite values are left out", () => {
        assert.equal(spread([]), undefined);
        assert.equal(spread([NaN, 2, Infinity])!.count, 1);
    });
    it("windows count events and divide by the whole window, a short last one included", () => {
        assert.deepEqual(
            windows([0, 100, 4999, 5000, 9000], 0, 7000, 5000).map((w) => [w.startMs, w.count, w.perSecond]),
            [
                [0, 3, 0.6],
                [5000, 1, 0.2],
            ],
        );
    });
    it("scheduling throughput averages only windows in which the scheduler had work", () => {
        const pods = [
            { createdMs: 0, scheduledMs: 1000 },
            { createdMs: 0, scheduledMs: 2000 },
            { createdMs: 20_000, scheduledMs: 21_000 },
        ];
        const t = schedulingThroughput(pods, 0, 25_000, 5000);
        assert.equal(t.windows.length, 5);
        assert.equal(t.max, 0.4);
        assert.ok(Math.abs(t.average - 0.3) < 1e-9, `${t.average}: idle windows 5-20 s left out`);
    });
    it("a Lease's renewTime keeps its microseconds", () => {
        const gap = parseMicroTime("2026-11-28T10:00:01.123456Z") - parseMicroTime("2026-11-28T10:00:00.000001Z");
        assert.ok(
            Math.abs(gap - 1123.455) < 1e-3,
            `${gap}: epoch milliseconds as doubles keep a quarter of a microsecond`,
        );
        assert.equal(parseMicroTime("2026-11-28T10:00:00Z"), Date.UTC(2026, 10, 28, 10));
        assert.throws(() => parseMicroTime("yesterday"), /not an RFC 3339 time/);
    });
});
