// measure/phases: how many latency and burst pods, where they go, what room is left, what bounded a burst, gaps said.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { latencyPlan, latencyPodCount } from "../../../measure/phases/latencyPods";
import { boundOf, freePodSlots, throughputPodCount } from "../../../measure/phases/throughput";
import type { Kube } from "../../../measure/kube";
import { LatencyRecorder } from "../../../measure/metrics/apiLatency";
import { notRun } from "../../../measure/phases/podReport";
import { cl2Spread } from "../../../measure/stats";

describe("how many pods each phase makes", () => {
    const cases: [string, number | undefined, number, number, number][] = [
        ["the lab: one latency pod per hollow Node, CL2's 1000-pod burst", undefined, 10, 10, 1000],
        ["100 Nodes", undefined, 100, 100, 1000],
        ["CL2's 500 latency pods from 500 Nodes; the burst grows with the Nodes", undefined, 5000, 500, 5000],
        ["a count given wins", 7, 5000, 7, 5000],
        ["0 skips the phase", 0, 10, 0, 1000],
    ];
    for (const [name, given, nodes, latency, burst] of cases) {
        it(name, () => {
            assert.equal(latencyPodCount(given, nodes), latency);
            assert.equal(
                throughputPodCount(given === undefined ? undefined : given === 0 ? 0 : undefined, nodes),
                given === 0 ? 0 : burst,
            );
        });
    }
    it("latency Deployments in turn over the namespaces, one every 1/rate s", () => {
        assert.deepEqual(latencyPlan(["a", "b"], 3, 5), [
            { namespace: "a", name: "latency-deployment-0", atMs: 0 },
            { namespace: "b", name: "latency-deployment-1", atMs: 200 },
            { namespace: "a", name: "latency-deployment-2", atMs: 400 },
        ]);
    });
});

describe("room for a burst", () => {
    const node = (name: string, pods: string) => ({ metadata: { name }, status: { allocatable: { pods } } });
    const pod = (nodeName: string, phase = "Running") => ({ spec: { nodeName }, status: { phase } });
    it("allocatable pods less the unfinished pods bound to each Node; a full Node gives none, not less", () => {
        const nodes = [node("a", "110"), node("b", "3")];
        const pods = [pod("a"), pod("a"), pod("a", "Succeeded"), pod("b"), pod("b"), pod("b"), pod("b"), pod("c")];
        assert.equal(freePodSlots(nodes, pods), 108);
    });
});

describe("what bounded a burst", () => {
    it("pods bound within a second of appearing: the pace at which they were made", () => {
        const said = boundOf([20, 21, 19, 20], cl2Spread([0.05, 0.1, 0.2, 0.3]));
        assert.match(said!, /^pod creation, not the scheduler: the burst's pods appeared at most 21\/s/);
        assert.match(said!, /--kube-api-qps, 20 by default/);
    });
    it("pods that queued for the scheduler: the scheduler's own limit", () => {
        assert.match(boundOf([500, 500], cl2Spread([0.5, 2, 4.5]))!, /^the scheduler: pods waited up to 4.5 s \(p99\)/);
    });
    it("nothing to say without samples", () => assert.equal(boundOf([], undefined), undefined));
});

describe("a phase without figures says why", () => {
    it("skipped by its option, or not reached", () => {
        assert.equal(notRun(0, "--latency-pods"), "skipped (--latency-pods 0)");
        assert.equal(notRun(100, "--latency-pods"), "not reached: the run stopped before this phase");
    });
});

describe("API latency when the last scrape gets no answer", () => {
    const doc = (n: number) => `# TYPE apiserver_request_sli_duration_seconds histogram
apiserver_request_sli_duration_seconds_bucket{resource="pods",scope="resource",subresource="",verb="GET",le="1"} ${n}
apiserver_request_sli_duration_seconds_bucket{resource="pods",scope="resource",subresource="",verb="GET",le="+Inf"} ${n}
apiserver_request_sli_duration_seconds_count{resource="pods",scope="resource",subresource="",verb="GET"} ${n}
`;
    it("the figures end at the latest scrape that answered, and say so", async () => {
        const answers = [doc(10), doc(25)];
        const api = {
            server: "https://fake",
            text: async () => {
                const next = answers.shift();
                if (next === undefined) {
                    throw new Error("no answer within 15s");
                }
                return { status: 200, body: next };
            },
        } as unknown as Kube;
        const said: string[] = [];
        const r = new LatencyRecorder(api, Date.now(), (m) => said.push(m));
        await r.start(3_600_000);
        await r.stop();
        assert.equal(r.calls()?.[0].calls, 15, "10 → 25: the tick inside stop answered, the last scrape did not");
        assert.match(
            r.endNote!,
            /^the last scrape failed \(no answer from https:\/\/fake\/metrics: no answer within 15s\)/,
        );
        assert.equal(r.problem, undefined);
        assert.equal(said.length, 1);
    });
});
